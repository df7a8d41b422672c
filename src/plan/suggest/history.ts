/**
 * Reading the order history for `rules suggest`, aggregated in SQLite: one row per product for what
 * the lines say, and one row per (product or group, customer, order) for the gaps, streamed in that
 * order so only one product's gaps are in memory at a time (the UK retailer's 397,000 such rows are
 * never all held; reading them takes about 1.5 s there).
 */
import type { Db } from "../../store/open.js";
import { LocalDays } from "../days.js";
import { productKey } from "../replenishment/facts.js";
import { purchasesOf, type PlanLine } from "../replenishment/purchases.js";
import { gapStats, type Gap, type GapStats } from "./stats.js";
import type { LineFacts } from "./one-offs.js";

export interface ProductRow extends LineFacts {
  key: string;
  catalogGroup: string | null;
  daysPerUnit: number | null;
  buyers: number;
}

/** Orders that count: a customer's, not cancelled, placed by `now`. Guest orders have no one to remind. */
export const COUNTED = "o.customer_id IS NOT NULL AND o.status_class <> 'cancelled' AND o.placed_at <= ?";

/** The customers whose orders count, and how many of them ordered on two days or more. */
export function countedCustomers(
  db: Db,
  zone: string,
  nowIso: string,
): { customers: number; returning: number } {
  const days = new LocalDays(zone);
  let customers = 0;
  let returning = 0;
  const rows = db
    .prepare<[string], [number, number]>(
      `SELECT min(unixepoch(o.placed_at)), max(unixepoch(o.placed_at)) FROM orders o WHERE ${COUNTED} GROUP BY o.customer_id`,
    )
    .raw();
  for (const [first, last] of rows.iterate(nowIso)) {
    customers += 1;
    if (days.dayOf(last) > days.dayOf(first)) returning += 1;
  }
  return { customers, returning };
}

/** The catalog's facts of a sku: what a products import said (or an order import first saw). */
export interface CatalogRow {
  name: string | null;
  group_key: string | null;
  days_per_unit: number | null;
}

/** The whole catalog, by sku: one row per product, small beside the order lines. */
export function catalog(db: Db): Map<string, CatalogRow> {
  const rows = db
    .prepare<[], CatalogRow & { sku: string }>("SELECT sku, name, group_key, days_per_unit FROM products")
    .all();
  return new Map(rows.map((row) => [row.sku, row]));
}

/**
 * Every product the counted orders hold, with the catalog's name, group and days_per_unit. Joining
 * the catalog and sorting in JavaScript rather than in the query took it from 1.7 s to 1.0 s on the
 * UK retailer.
 */
export function productRows(db: Db, nowIso: string, products: ReadonlyMap<string, CatalogRow>): ProductRow[] {
  const rows = db
    .prepare<
      [string],
      {
        sku: string | null;
        line_name: string | null;
        buyers: number;
        priced: number;
        free: number;
        negative: number;
      }
    >(
      `SELECT l.sku, max(l.product_name) AS line_name, count(DISTINCT o.customer_id) AS buyers,
              count(l.unit_price_minor) AS priced, coalesce(sum(l.unit_price_minor = 0), 0) AS free,
              coalesce(sum(l.unit_price_minor < 0), 0) AS negative
       FROM order_lines l JOIN orders o ON o.id = l.order_id
       WHERE ${COUNTED}
       GROUP BY l.sku, CASE WHEN l.sku IS NULL THEN l.product_name END`,
    )
    .all(nowIso);
  return rows
    .map((row) => {
      const known = row.sku === null ? undefined : products.get(row.sku);
      return {
        key: productKey(row.sku, row.sku === null ? row.line_name : null),
        sku: row.sku,
        name: known?.name ?? row.line_name,
        catalogGroup: known?.group_key ?? null,
        daysPerUnit: known?.days_per_unit ?? null,
        buyers: row.buyers,
        pricedLines: row.priced,
        freeLines: row.free,
        negativeLines: row.negative,
      };
    })
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** The repeat purchases of one product or group, summed up. */
export interface UnitHistory {
  buyers: number;
  /** Buyers who ordered anything from the shop on a later day than their first purchase of it. */
  returningBuyers: number;
  /** Customers with two purchases or more (on different days). */
  repeatCustomers: number;
  /** Customers with three or more: a gap seen twice, the least that shows a customer's rhythm. */
  rhythmCustomers: number;
  /** null when there is no gap at all. */
  stats: GapStats | null;
}

/** Where a product is measured: its unit's number, and how many of the group's common measure one of it holds. */
export interface UnitSlot {
  unit: number;
  /** 1, or the pieces (kg, litres) in one unit when the group's members come in different packs. */
  pack: number;
}

/**
 * The history of each unit (a product, or a group of them): `unitOf` maps a product key to the
 * unit's slot, and products it leaves out are not read. Quantities are counted in packs × pieces. Purchases are the planner's own
 * (`purchasesOf`): an order's lines add up, returns net out, a day's orders are one purchase.
 */
export function unitHistories(
  db: Db,
  zone: string,
  nowIso: string,
  unitOf: ReadonlyMap<string, UnitSlot>,
): Map<number, UnitHistory> {
  db.exec(
    "DROP TABLE IF EXISTS temp.suggest_units; CREATE TEMP TABLE suggest_units (product_key TEXT PRIMARY KEY, unit INTEGER NOT NULL, pack REAL NOT NULL) WITHOUT ROWID",
  );
  // Each customer's last counted order, to tell the buyers who came back to the shop from those who never did.
  db.exec(
    "DROP TABLE IF EXISTS temp.suggest_last; CREATE TEMP TABLE suggest_last (customer_id INTEGER PRIMARY KEY, last_epoch INTEGER NOT NULL)",
  );
  db.prepare(
    `INSERT INTO temp.suggest_last (customer_id, last_epoch)
     SELECT o.customer_id, max(unixepoch(o.placed_at)) FROM orders o WHERE ${COUNTED} GROUP BY o.customer_id`,
  ).run(nowIso);
  const insert = db.prepare("INSERT INTO temp.suggest_units (product_key, unit, pack) VALUES (?, ?, ?)");
  db.transaction(() => {
    for (const [key, slot] of unitOf) insert.run(key, slot.unit, slot.pack);
  })();
  const rows = db
    .prepare<[string], [number, number, number, number, number, number]>(
      // The key expression is productKey's: the sku, else a NUL and the name.
      `SELECT u.unit, o.customer_id, o.id, unixepoch(o.placed_at), sum(l.quantity * u.pack), c.last_epoch
       FROM order_lines l JOIN orders o ON o.id = l.order_id
       JOIN temp.suggest_units u ON u.product_key = coalesce(l.sku, char(0) || coalesce(l.product_name, ''))
       JOIN temp.suggest_last c ON c.customer_id = o.customer_id
       WHERE ${COUNTED}
       GROUP BY u.unit, o.customer_id, o.id
       ORDER BY u.unit, o.customer_id, o.placed_at, o.id`,
    )
    .raw();

  const days = new LocalDays(zone);
  const histories = new Map<number, UnitHistory>();
  let unit = -1;
  let customer = -1;
  let lines: PlanLine[] = [];
  let gaps: Gap[] = [];
  let buyers = 0;
  let returning = 0;
  let repeaters = 0;
  let rhythmic = 0;
  let lastDay = 0;

  const endCustomer = (): void => {
    if (lines.length === 0) return;
    const purchases = purchasesOf(lines);
    if (purchases.length > 0) buyers += 1;
    if (purchases.length > 0 && lastDay > (purchases[0] as (typeof purchases)[number]).day) returning += 1;
    if (purchases.length > 1) repeaters += 1;
    if (purchases.length > 2) rhythmic += 1;
    for (let i = 1; i < purchases.length; i++) {
      const before = purchases[i - 1] as (typeof purchases)[number];
      gaps.push({
        days: (purchases[i] as (typeof purchases)[number]).day - before.day,
        quantity: before.quantity,
      });
    }
    lines = [];
  };
  const endUnit = (): void => {
    endCustomer();
    if (unit >= 0)
      histories.set(unit, {
        buyers,
        returningBuyers: returning,
        repeatCustomers: repeaters,
        rhythmCustomers: rhythmic,
        stats: gaps.length === 0 ? null : gapStats(gaps),
      });
    gaps = [];
    buyers = 0;
    returning = 0;
    repeaters = 0;
    rhythmic = 0;
  };

  for (const [u, customerId, orderId, epoch, quantity, lastEpoch] of rows.iterate(nowIso)) {
    if (u !== unit) {
      endUnit();
      unit = u;
      customer = -1;
    }
    if (customerId !== customer) {
      endCustomer();
      customer = customerId;
      lastDay = days.dayOf(lastEpoch);
    }
    lines.push({ orderId, day: days.dayOf(epoch), pid: 0, quantity });
  }
  endUnit();
  db.exec("DROP TABLE temp.suggest_units; DROP TABLE temp.suggest_last");
  return histories;
}
