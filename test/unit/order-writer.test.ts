/**
 * The orders' writer keeps every fact an export gives it: a re-import that changes one fact writes
 * that fact and counts the order as updated; one that changes nothing writes nothing. Checked on the
 * writer itself, so Stryker (which counts only tests that import the mutated code) sees it.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { flattenLines, type LineItem, type OrderRecord } from "../../src/import/records.js";
import { CustomerWriter } from "../../src/import/write/customers.js";
import { OrderWriter, type OrderCounts } from "../../src/import/write/orders.js";
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
