/**
 * The orders' writer keeps every fact an export gives it: a re-import that changes one fact writes
 * that fact and counts the order as updated; one that changes nothing writes nothing. Checked on the
 * writer itself, so Stryker (which counts only tests that import the mutated code) sees it.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  flattenLines,
  type CallRecord,
  type LineItem,
  type OrderRecord,
  type ProductRecord,
} from "../../src/import/records.js";
import { CallWriter } from "../../src/import/write/calls.js";
import { CustomerWriter } from "../../src/import/write/customers.js";
import { OrderWriter, type OrderCounts } from "../../src/import/write/orders.js";
import { ProductWriter } from "../../src/import/write/products.js";
import { openStore, type Db } from "../../src/store/open.js";

let db: Db;
beforeEach(() => {
  db = openStore(join(mkdtempSync(join(tmpdir(), "comeback-orders-")), "o.db"));
});
afterEach(() => db.close());

const LINE: LineItem = {
  lineKey: null,
  sku: "TEA-1",
  productName: "Tea",
  quantity: 2,
  unitPriceMinor: 500,
  lineTotalMinor: 1000,
};

function order(fields: Partial<OrderRecord> = {}, lines: LineItem[] = [LINE]): OrderRecord {
  return {
    orderId: "1001",
    line: 2,
    placedAt: "2025-09-01T10:00:00Z",
    placedOffset: null,
    status: "paid",
    statusClass: "completed",
    currency: "EUR",
    cancelledAt: null,
    refundedMinor: 0,
    customer: {
      customerId: "C1",
      email: "ann@example.com",
      emailDisplay: "ann@example.com",
      phone: null,
      firstName: null,
      lastName: null,
      name: "Ann",
      acceptsMarketing: null,
      locale: null,
      usageFactor: null,
    },
    lines: flattenLines(lines),
    ...fields,
  };
}

let imports = 0;
/** One import of `orders` through the writer, as importFile does it: one transaction, then finish. */
function importOrders(...orders: OrderRecord[]): OrderCounts {
  const now = `2026-01-0${++imports}T00:00:00Z`;
  return db.transaction(() => {
    const importId = Number(
      db
        .prepare(
          `INSERT INTO imports (file, sha256, kind, profile, encoding, rows, report, started_at, finished_at)
           VALUES ('o.csv', ?, 'orders', 'generic', 'utf-8', 1, '{}', ?, ?)`,
        )
        .run(`sha-${imports}`, now, now).lastInsertRowid,
    );
    const customers = new CustomerWriter(db, now);
    const writer = new OrderWriter(db, "shop", now, importId, customers, "o.csv");
    for (const o of orders) writer.write(o);
    customers.finish();
    return writer.finish();
  })();
}

const stored = () =>
  db
    .prepare("SELECT status, status_class, refunded_minor, cancelled_at, placed_at, currency FROM orders")
    .get() as Record<string, unknown>;
const history = () =>
  db.prepare("SELECT status FROM order_status_history ORDER BY first_seen_at").pluck().all();

describe("re-importing an order", () => {
  it("the same order again is unchanged: nothing written, no status change", () => {
    expect(importOrders(order())).toMatchObject({ orders_new: 1, lines_new: 1 });
    expect(importOrders(order())).toMatchObject({
      orders_new: 0,
      orders_updated: 0,
      orders_unchanged: 1,
      lines_new: 0,
      status_changes: 0,
    });
    expect(history()).toEqual(["paid"]);
  });

  it("a change of the refunded amount alone is seen and stored", () => {
    importOrders(order());
    expect(importOrders(order({ refundedMinor: 250 }))).toMatchObject({
      orders_updated: 1,
      status_changes: 0,
    });
    expect(stored()).toMatchObject({ refunded_minor: 250, status: "paid" });
  });

  it.each([
    ["cancelled_at", { cancelledAt: "2025-09-02T00:00:00Z" }, { cancelled_at: "2025-09-02T00:00:00Z" }],
    ["currency", { currency: "USD" }, { currency: "USD" }],
    ["status class", { statusClass: "cancelled" as const }, { status_class: "cancelled" }],
  ])("a change of the %s alone is seen and stored", (_what, change, expected) => {
    importOrders(order());
    expect(importOrders(order(change))).toMatchObject({ orders_updated: 1 });
    expect(stored()).toMatchObject(expected);
  });

  it("a guest order that a later export credits to a customer is updated to that customer", () => {
    importOrders(order({ customer: null }));
    expect(importOrders(order())).toMatchObject({ orders_updated: 1, guest_orders: 0 });
    expect(db.prepare("SELECT customer_id FROM orders").pluck().get()).not.toBeNull();
  });

  it("a new status is one status change and one history row; the same or no status is none", () => {
    importOrders(order());
    expect(importOrders(order({ status: "refunded" }))).toMatchObject({
      orders_updated: 1,
      status_changes: 1,
    });
    expect(history()).toEqual(["paid", "refunded"]);
    // Forced again with the same status: no change. With no status cell: no change either.
    expect(importOrders(order({ status: "refunded" }))).toMatchObject({
      orders_unchanged: 1,
      status_changes: 0,
    });
    expect(importOrders(order({ status: null }))).toMatchObject({ status_changes: 0 });
    expect(history()).toEqual(["paid", "refunded"]);
  });

  it.each([
    ["sku", { sku: "TEA-2" }],
    ["product name", { productName: "Green tea" }],
    ["quantity", { quantity: 3 }],
    ["unit price", { unitPriceMinor: 450 }],
    ["line total", { lineTotalMinor: 900 }],
  ])("a change of a line's %s alone is seen and stored", (_what, change) => {
    importOrders(order());
    expect(importOrders(order({}, [{ ...LINE, ...change }]))).toMatchObject({
      orders_updated: 1,
      lines_new: 0,
    });
    const line = db
      .prepare(
        "SELECT line_key AS lineKey, sku, product_name AS productName, quantity, unit_price_minor AS unitPriceMinor, line_total_minor AS lineTotalMinor FROM order_lines",
      )
      .all();
    expect(line).toEqual([{ ...LINE, lineKey: "1", ...change }]);
  });

  it("a line the stored order lacks is added, and the lines it had are kept", () => {
    importOrders(order());
    const second = { ...LINE, sku: "MUG", productName: "Mug" };
    expect(importOrders(order({}, [LINE, second]))).toMatchObject({ orders_updated: 1, lines_new: 1 });
    expect(importOrders(order({}, [LINE]))).toMatchObject({ orders_unchanged: 1, lines_new: 0 });
    expect(db.prepare("SELECT sku FROM order_lines ORDER BY line_key").pluck().all()).toEqual([
      "TEA-1",
      "MUG",
    ]);
  });
});

describe("the products' writer (the catalog)", () => {
  const product = (fields: Partial<ProductRecord> = {}): ProductRecord => ({
    line: 2,
    sku: "TEA-1",
    name: "Tea",
    unitPriceMinor: 500,
    currency: "EUR",
    daysPerUnit: 30,
    group: "TEA",
    variantId: "4001",
    imageUrl: "https://img.shop.example/tea.jpg",
    ...fields,
  });
  const write = (...products: ProductRecord[]) => {
    const writer = new ProductWriter(db, "2026-01-01T00:00:00Z");
    for (const p of products) writer.write(p);
    return writer.counts;
  };
  const storedProduct = () =>
    db
      .prepare(
        "SELECT name, unit_price_minor, currency, days_per_unit, group_key, variant_id, image_url, from_catalog FROM products",
      )
      .get();

  it("adds a product, then counts the same row again as unchanged", () => {
    expect(write(product())).toEqual({ products_new: 1, products_updated: 0, products_unchanged: 0 });
    expect(write(product())).toEqual({ products_new: 0, products_updated: 0, products_unchanged: 1 });
    expect(storedProduct()).toEqual({
      name: "Tea",
      unit_price_minor: 500,
      currency: "EUR",
      days_per_unit: 30,
      group_key: "TEA",
      variant_id: "4001",
      image_url: "https://img.shop.example/tea.jpg",
      from_catalog: 1,
    });
  });

  it.each([
    ["name", { name: "Green tea" }, { name: "Green tea" }],
    ["price", { unitPriceMinor: 450 }, { unit_price_minor: 450 }],
    ["currency with its price", { currency: "USD" }, { currency: "USD" }],
    ["days per unit", { daysPerUnit: 20 }, { days_per_unit: 20 }],
    ["group", { group: "DRINKS" }, { group_key: "DRINKS" }],
    ["variant", { variantId: "4002" }, { variant_id: "4002" }],
    [
      "picture",
      { imageUrl: "https://img.shop.example/tea2.jpg" },
      { image_url: "https://img.shop.example/tea2.jpg" },
    ],
  ])("a change of the %s alone is seen and stored", (_what, change, expected) => {
    write(product());
    expect(write(product(change))).toEqual({ products_new: 0, products_updated: 1, products_unchanged: 0 });
    expect(storedProduct()).toMatchObject(expected);
  });

  it("a new product may come with nothing but its sku", () => {
    const bare = product({
      name: null,
      unitPriceMinor: null,
      currency: null,
      daysPerUnit: null,
      group: null,
      variantId: null,
      imageUrl: null,
    });
    expect(write(bare)).toEqual({ products_new: 1, products_updated: 0, products_unchanged: 0 });
    expect(storedProduct()).toEqual({
      name: null,
      unit_price_minor: null,
      currency: null,
      days_per_unit: null,
      group_key: null,
      variant_id: null,
      image_url: null,
      from_catalog: 1,
    });
  });

  it("an empty cell never erases a known value, and a currency without a price keeps the stored one", () => {
    write(product());
    const empty = product({
      name: null,
      unitPriceMinor: null,
      currency: "USD",
      daysPerUnit: null,
      group: null,
      variantId: null,
      imageUrl: null,
    });
    expect(write(empty)).toEqual({ products_new: 0, products_updated: 0, products_unchanged: 1 });
    expect(storedProduct()).toMatchObject({
      name: "Tea",
      unit_price_minor: 500,
      currency: "EUR",
      days_per_unit: 30,
    });
  });

  it("a product first seen on an order line becomes the catalog's when the products import names it", () => {
    db.prepare("INSERT INTO products (sku, name, updated_at) VALUES ('TEA-1', 'Tea', 'x')").run();
    expect(
      write(
        product({
          name: "Tea",
          unitPriceMinor: null,
          daysPerUnit: null,
          group: null,
          variantId: null,
          imageUrl: null,
          currency: null,
        }),
      ),
    ).toEqual({
      products_new: 0,
      products_updated: 1,
      products_unchanged: 0,
    });
    expect(storedProduct()).toMatchObject({ from_catalog: 1 });
  });
});

describe("the calls' writer", () => {
  it("writes a call once, keyed on the last 9 digits, and counts the same call again as known", () => {
    const writer = new CallWriter(db, null as unknown as number);
    const call: CallRecord = {
      line: 2,
      phone: "491701234567",
      startedAt: "2026-03-03T10:00:00Z",
      durationSeconds: 75,
      direction: "out",
      agent: "Eva",
    };
    writer.write(call);
    writer.write(call);
    writer.write({ ...call, startedAt: "2026-03-04T10:00:00Z" });
    expect(writer.counts).toEqual({ calls_new: 2, calls_known: 1 });
    expect(
      db
        .prepare(
          "SELECT phone, phone_key, started_at, duration_seconds, direction, agent FROM calls ORDER BY started_at",
        )
        .all(),
    ).toEqual([
      {
        phone: "491701234567",
        phone_key: "701234567",
        started_at: "2026-03-03T10:00:00Z",
        duration_seconds: 75,
        direction: "out",
        agent: "Eva",
      },
      {
        phone: "491701234567",
        phone_key: "701234567",
        started_at: "2026-03-04T10:00:00Z",
        duration_seconds: 75,
        direction: "out",
        agent: "Eva",
      },
    ]);
  });
});

describe("an order split across a file", () => {
  const MUG: LineItem = { ...LINE, sku: "MUG", productName: "Mug", quantity: 1 };

  it("is one order, its lines numbered on across the parts, counted once", () => {
    const counts = importOrders(order({}, [LINE]), order({ orderId: "1002" }), order({ line: 9 }, [MUG]));
    expect(counts).toMatchObject({ orders_new: 2, lines_new: 3, orders_updated: 0 });
    expect(
      db
        .prepare(
          "SELECT o.external_id, l.line_key, l.sku FROM order_lines l JOIN orders o ON o.id = l.order_id ORDER BY 1, 2",
        )
        .raw()
        .all(),
    ).toEqual([
      ["1001", "1", "TEA-1"],
      ["1001", "2", "MUG"],
      ["1002", "1", "TEA-1"],
    ]);
    // Read again, the same parts change nothing.
    expect(
      importOrders(order({}, [LINE]), order({ orderId: "1002" }), order({ line: 9 }, [MUG])),
    ).toMatchObject({
      orders_new: 0,
      orders_unchanged: 2,
      orders_updated: 0,
      lines_new: 0,
    });
  });

  it("fails the file when its parts disagree on the currency or the customer, naming the line", () => {
    expect(() =>
      importOrders(order(), order({ orderId: "1002" }), order({ line: 9, currency: "USD" }, [LINE])),
    ).toThrow(
      'o.csv:9: order "1001" is in USD here but in EUR on its lines earlier in the file; the lines of one order must agree ' +
        "on its customer and currency. Nothing was written: correct the export and import it again.",
    );
    const bob = { ...order().customer!, customerId: "C2", email: "bob@example.com" };
    expect(() =>
      importOrders(order(), order({ orderId: "1002" }), order({ line: 7, customer: bob })),
    ).toThrow(
      'o.csv:7: order "1001" names another customer (customer id or email) here than on its lines earlier in the file',
    );
    expect(db.prepare("SELECT count(*) FROM orders").pluck().get()).toBe(0);
  });

  it("a later part without a customer keeps the customer of the first", () => {
    const counts = importOrders(
      order(),
      order({ orderId: "1002" }),
      order({ line: 9, customer: null }, [MUG]),
    );
    expect(counts).toMatchObject({ guest_orders: 0 });
    expect(
      db
        .prepare("SELECT count(DISTINCT customer_id) FROM orders WHERE customer_id IS NOT NULL")
        .pluck()
        .get(),
    ).toBe(1);
  });

  it("stores the earliest time of its parts, and a re-read does not move it back and forth", () => {
    importOrders(
      order({ placedAt: "2025-09-01T11:20:00Z" }),
      order({ orderId: "1002" }),
      order({ placedAt: "2025-09-01T11:19:00Z" }, [MUG]),
    );
    expect(db.prepare("SELECT placed_at FROM orders WHERE external_id = '1001'").pluck().get()).toBe(
      "2025-09-01T11:19:00Z",
    );
    expect(
      importOrders(
        order({ placedAt: "2025-09-01T11:20:00Z" }),
        order({ orderId: "1002" }),
        order({ placedAt: "2025-09-01T11:19:00Z" }, [MUG]),
      ),
    ).toMatchObject({ orders_unchanged: 2, orders_updated: 0 });
  });

  it("moves a stored order to a later time when every part of a new export says so, counted as updated", () => {
    importOrders(order({ placedAt: "2025-09-01T10:00:00Z" }));
    expect(importOrders(order({ placedAt: "2025-09-01T12:00:00Z" }))).toMatchObject({ orders_updated: 1 });
    expect(db.prepare("SELECT placed_at FROM orders").pluck().get()).toBe("2025-09-01T12:00:00Z");
    expect(importOrders(order({ placedAt: "2025-09-01T09:00:00Z" }))).toMatchObject({ orders_updated: 1 });
    expect(db.prepare("SELECT placed_at FROM orders").pluck().get()).toBe("2025-09-01T09:00:00Z");
  });
});

describe("what an order brings along", () => {
  it("counts guest orders, and keys lines by the file's line id when it has one", () => {
    const counts = importOrders(order({ customer: null }, [{ ...LINE, lineKey: "L-77" }]));
    expect(counts).toMatchObject({ orders_new: 1, guest_orders: 1 });
    expect(db.prepare("SELECT line_key FROM order_lines").pluck().all()).toEqual(["L-77"]);
    expect(db.prepare("SELECT customer_id FROM orders").pluck().get()).toBeNull();
  });

  it("adds the products its lines name, with the line's name and price, without overwriting a catalog name", () => {
    db.prepare(
      "INSERT INTO products (sku, name, from_catalog, updated_at) VALUES ('MUG', 'Big mug', 1, 'x')",
    ).run();
    importOrders(
      order({}, [
        LINE,
        { ...LINE, sku: "MUG", productName: "Mug" },
        { ...LINE, sku: null, productName: "Gift" },
      ]),
    );
    expect(
      db.prepare("SELECT sku, name, unit_price_minor, currency FROM products ORDER BY sku").raw().all(),
    ).toEqual([
      ["MUG", "Big mug", null, null],
      ["TEA-1", "Tea", 500, "EUR"],
    ]);
  });

  it("records each new order's first status once, with the import that saw it", () => {
    importOrders(order(), order({ orderId: "1002", status: null }));
    expect(
      db
        .prepare(
          "SELECT o.external_id, h.status, h.import_id FROM order_status_history h JOIN orders o ON o.id = h.order_id",
        )
        .raw()
        .all(),
    ).toEqual([["1001", "paid", 1]]);
  });
});
