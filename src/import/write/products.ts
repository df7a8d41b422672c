/** Products upsert on sku. A products import is the catalog: it wins over names seen on order lines. */
import type { Db } from "../../store/open.js";
import type { ProductRecord } from "../records.js";

interface StoredProduct {
  name: string | null;
  unit_price_minor: number | null;
  currency: string | null;
  days_per_unit: number | null;
  group_key: string | null;
  variant_id: string | null;
  image_url: string | null;
  from_catalog: number;
}

export interface ProductCounts {
  products_new: number;
  products_updated: number;
  products_unchanged: number;
}

export class ProductWriter {
  private readonly find;
  private readonly insert;
  private readonly update;
  readonly counts: ProductCounts = { products_new: 0, products_updated: 0, products_unchanged: 0 };

  constructor(
    db: Db,
    private readonly now: string,
  ) {
    this.find = db.prepare<[string], StoredProduct>(
      "SELECT name, unit_price_minor, currency, days_per_unit, group_key, variant_id, image_url, from_catalog FROM products WHERE sku = ?",
    );
    this.insert = db.prepare(
      `INSERT INTO products (sku, name, unit_price_minor, currency, days_per_unit, group_key, variant_id, image_url, from_catalog, updated_at)
       VALUES (@sku, @name, @unit_price_minor, @currency, @days_per_unit, @group_key, @variant_id, @image_url, 1, @now)`,
    );
    this.update = db.prepare(
      `UPDATE products SET name = @name, unit_price_minor = @unit_price_minor, currency = @currency,
         days_per_unit = @days_per_unit, group_key = @group_key, variant_id = @variant_id, image_url = @image_url, from_catalog = 1, updated_at = @now
       WHERE sku = @sku`,
    );
  }

  write(product: ProductRecord): void {
    const stored = this.find.get(product.sku);
    // An empty cell never erases a known value.
    const merged = {
      sku: product.sku,
      name: product.name ?? stored?.name ?? null,
      unit_price_minor: product.unitPriceMinor ?? stored?.unit_price_minor ?? null,
      currency: product.unitPriceMinor !== null ? product.currency : (stored?.currency ?? product.currency),
      days_per_unit: product.daysPerUnit ?? stored?.days_per_unit ?? null,
      group_key: product.group ?? stored?.group_key ?? null,
      variant_id: product.variantId ?? stored?.variant_id ?? null,
      image_url: product.imageUrl ?? stored?.image_url ?? null,
      now: this.now,
    };
    if (!stored) {
      this.insert.run(merged);
      this.counts.products_new += 1;
    } else if (
      stored.from_catalog !== 1 ||
      stored.name !== merged.name ||
      stored.unit_price_minor !== merged.unit_price_minor ||
      stored.currency !== merged.currency ||
      stored.days_per_unit !== merged.days_per_unit ||
      stored.group_key !== merged.group_key ||
      stored.variant_id !== merged.variant_id ||
      stored.image_url !== merged.image_url
    ) {
      this.update.run(merged);
      this.counts.products_updated += 1;
    } else {
      this.counts.products_unchanged += 1;
    }
  }
}
