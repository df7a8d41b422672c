/**
 * Real exports: the Shopify sample and the UK retailer's order lines from ../shared/data, and a
 * 3,000-line slice of the latter shipped in fixtures/. Expected figures are computed from the files
 * with an independent reading (csv-parse/sync), not copied from our own output.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "csv-parse/sync";
import { describe, expect, it } from "vitest";
import { SCHEMA_VERSION } from "../../src/store/migrations.js";
import { fixture, query, run, SHARED_DATA, workspace } from "../helpers.js";

const SHOPIFY_ORDERS = join(SHARED_DATA, "shopify-sample", "orders_export.csv");
const SHOPIFY_CUSTOMERS = join(SHARED_DATA, "shopify-sample", "customers_export.csv");
const haveShared = existsSync(SHOPIFY_ORDERS);
if (!haveShared)
  console.warn(`SKIPPED: the Shopify sample tests need ${SHOPIFY_ORDERS} (../shared/data beside the repo)`);

const UK_PROFILE = `
timezone: Europe/London
currency: GBP
profiles:
  uk-retail:
    kind: orders
    columns:
      order_id: InvoiceNo
      sku: StockCode
      product_name: Description
      quantity: Quantity
      ordered_at: InvoiceDate
      unit_price: UnitPrice
      customer_id: CustomerID
`;

function minor(decimal: string): number {
  const [whole, fraction = ""] = decimal.replace("-", "").split(".");
  const value = Number(whole) * 100 + Number((fraction + "00").slice(0, 2));
  return decimal.startsWith("-") ? -value : value;
}

describe("the UK retailer's order lines through a profile in config", () => {
  it("matches the file's invoices, lines, customers, guest invoices and money", async () => {
    const file = fixture("orders", "online-retail-3k.csv");
    const rows = parse(readFileSync(file), { columns: true }) as Record<string, string>[];
    const invoices = new Set(rows.map((r) => r.InvoiceNo));
    const customers = new Set(rows.filter((r) => r.CustomerID).map((r) => r.CustomerID));
    const guests = new Set(rows.filter((r) => !r.CustomerID).map((r) => r.InvoiceNo));
    // Prices here have at most two decimals, so the exact total is the sum of quantity × price in pence.
    const total = rows.reduce((sum, r) => sum + Number(r.Quantity) * minor(r.UnitPrice!), 0);

    const dir = workspace(UK_PROFILE);
    const result = await run(["import", "orders", file, "--json"], { cwd: dir });
    expect(result.code).toBe(0);
    const [report] = JSON.parse(result.stdout) as Record<string, unknown>[];
    expect(report).toMatchObject({
      profile: "uk-retail",
      rows: rows.length,
      orders_new: invoices.size,
      lines_new: rows.length,
      customers_new: customers.size,
      guest_orders: guests.size,
      rejected: 0,
    });
    const db = join(dir, "comeback.db");
    expect(query(db, "SELECT sum(line_total_minor) AS total FROM order_lines")).toEqual([{ total }]);
    // "17850.0" is the spreadsheet's float: the customer id is 17850. Cancellations keep negative quantities.
    expect(query(db, "SELECT count(*) AS n FROM customers WHERE external_id LIKE '%.0'")).toEqual([{ n: 0 }]);
    expect(query(db, "SELECT count(*) AS n FROM order_lines WHERE quantity < 0")[0]!.n).toBe(
      rows.filter((r) => Number(r.Quantity) < 0).length,
    );
    // Local UK time: 2010-12-01 08:26 is GMT in winter.
    expect(query(db, "SELECT placed_at FROM orders WHERE external_id = '536365'")).toEqual([
      { placed_at: "2010-12-01T08:26:00Z" },
    ]);
  });
});

describe.runIf(haveShared)("the real Shopify sample, detected from its header", () => {
  it("imports every order and line with order-level fields from the first row, refunds and cancellations", async () => {
    const rows = parse(readFileSync(SHOPIFY_ORDERS), { columns: true }) as Record<string, string>[];
    const orders = new Set(rows.map((r) => r.Name));
    const byOrder = new Map<string, Record<string, string>>();
    for (const row of rows) if (!byOrder.has(row.Name!)) byOrder.set(row.Name!, row);
    const cancelled = [...byOrder.values()].filter(
      (r) => r["Cancelled at"] || ["refunded", "voided"].includes(r["Financial Status"]!),
    ).length;
    const refunded = [...byOrder.values()].reduce((sum, r) => sum + minor(r["Refunded Amount"] || "0"), 0);
    const lineTotal = rows.reduce(
      (sum, r) => sum + Number(r["Lineitem quantity"]) * minor(r["Lineitem price"]!),
      0,
    );

    const dir = workspace();
    const result = await run(["import", "orders", SHOPIFY_ORDERS, "--json"], { cwd: dir });
    expect(result.code).toBe(0);
    const [report] = JSON.parse(result.stdout) as Record<string, unknown>[];
    expect(report).toMatchObject({
      profile: "shopify",
      rows: rows.length,
      orders_new: orders.size,
      lines_new: rows.length,
      rejected: 0,
    });
    const db = join(dir, "comeback.db");
    expect(query(db, "SELECT count(*) AS n FROM orders WHERE status_class = 'cancelled'")).toEqual([
      { n: cancelled },
    ]);
    expect(query(db, "SELECT sum(refunded_minor) AS n FROM orders")).toEqual([{ n: refunded }]);
    expect(query(db, "SELECT sum(line_total_minor) AS n FROM order_lines")).toEqual([{ n: lineTotal }]);
    expect(query(db, "SELECT DISTINCT source, currency FROM orders")).toEqual([
      { source: "shopify", currency: "USD" },
    ]);
    // '+1 555 235 5407 (apostrophe from the export) is stored as digits; -0500 offsets become UTC.
    expect(query(db, "SELECT placed_at FROM orders WHERE external_id = '#1411'")).toEqual([
      { placed_at: "2022-01-11T09:32:30Z" },
    ]);
    expect(query(db, "SELECT count(*) AS n FROM customers WHERE phone LIKE '%''%'")).toEqual([{ n: 0 }]);

    const customers = await run(["import", "customers", SHOPIFY_CUSTOMERS, "--json"], { cwd: dir });
    expect(customers.code).toBe(0);
    const [customerReport] = JSON.parse(customers.stdout) as Record<string, unknown>[];
    const customerRows = parse(readFileSync(SHOPIFY_CUSTOMERS), { columns: true }) as Record<
      string,
      string
    >[];
    expect(customerReport).toMatchObject({
      profile: "shopify-customers",
      rows: customerRows.length,
      rejected: 0,
    });
    // Customers already known from their orders are matched by email, not created twice.
    const emails = new Set([
      ...customerRows.map((r) => r.Email!.toLowerCase()),
      ...rows.map((r) => r.Email!.toLowerCase()),
    ]);
    emails.delete("");
    expect(query(db, "SELECT count(DISTINCT email) AS n FROM customers")).toEqual([{ n: emails.size }]);
    expect(
      query(
        db,
        "SELECT count(*) AS n FROM (SELECT email FROM customers WHERE email IS NOT NULL GROUP BY email HAVING count(*) > 1)",
      ),
    ).toEqual([{ n: 0 }]);
  });
});

describe("status", () => {
  it("prints counts and the last imports; --json has the documented keys", async () => {
    const dir = workspace();
    for (const kind of ["products", "customers", "orders"]) {
      const imported = await run(["import", kind, fixture("demo", `${kind}.csv`)], { cwd: dir });
      expect(imported.code).toBe(0);
    }
    const result = await run(["status", "--json"], { cwd: dir });
    expect(result.code).toBe(0);
    const status = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(status).toMatchObject({
      customers: 6,
      orders: 15,
      order_lines: 17,
      products: 6,
      guest_orders: 1,
      schema_version: SCHEMA_VERSION,
    });
    expect((status.imports as { kind: string }[]).map((i) => i.kind)).toEqual([
      "orders",
      "customers",
      "products",
    ]);
    const human = await run(["status"], { cwd: dir });
    expect(human.stdout).toMatch(/orders\s+15/);
    expect(human.stdout).toContain("orders.csv");
  });

  it("says where to start when there is no database", async () => {
    const result = await run(["status"], { cwd: workspace() });
    expect(result.code).toBe(66);
    expect(result.stderr).toContain("import an export first");
  });
});
