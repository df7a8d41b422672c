/**
 * Issue 14, point 8: lines of one order that disagree. A different customer or currency is a row error
 * naming both lines; different times take the earliest, the same on every import.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { fixture, query, run, SHARED_DATA, workspace } from "../helpers.js";

const UK = join(SHARED_DATA, "online-retail", "online_retail_2010-12_2011-12.csv.gz");

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

async function importJson(dir: string, ...args: string[]): Promise<Record<string, unknown>> {
  const result = await run(["import", "orders", ...args, "--json"], { cwd: dir });
  expect(result.stderr).toBe("");
  expect(result.code).toBe(0);
  return (JSON.parse(result.stdout) as Record<string, unknown>[])[0]!;
}

function placedAt(dir: string, orderId: string): unknown {
  return query(join(dir, "comeback.db"), "SELECT placed_at FROM orders WHERE external_id = ?", orderId)[0];
}

describe("lines of one order at different times", () => {
  it("the UK retailer's invoice 542806 (11:19, two rows of another invoice, 11:20) is placed at 11:19, on every import", async () => {
    // Lines 78086-78128 of the UK file: its lines at 11:19 and at 11:20 are apart, with C542805 between.
    const dir = workspace(UK_PROFILE);
    const file = fixture("orders", "online-retail-542806.csv");
    const first = await importJson(dir, file);
    expect(first).toMatchObject({ orders_new: 3, lines_new: 43 });
    expect(placedAt(dir, "542806")).toEqual({ placed_at: "2011-02-01T11:19:00Z" });
    const again = await importJson(dir, file, "--force");
    expect(again).toMatchObject({ orders_updated: 0, orders_unchanged: 3, lines_new: 0 });
    expect(placedAt(dir, "542806")).toEqual({ placed_at: "2011-02-01T11:19:00Z" });
  });

  it("takes the earliest time whatever the rows' order, together or apart in the file", async () => {
    const dir = workspace();
    writeFileSync(
      join(dir, "o.csv"),
      "order_id,ordered_at,sku\n" +
        "1,2024-01-01 10:05,A\n1,2024-01-01 10:00,B\n1,2024-01-01 10:03,C\n" + // together, the earliest in the middle
        "2,2024-01-02 09:30,A\n3,2024-01-03 08:00,A\n2,2024-01-02 09:00,B\n", // apart, the earliest last
    );
    expect(await importJson(dir, "o.csv")).toMatchObject({ orders_new: 3, lines_new: 6 });
    expect(placedAt(dir, "1")).toEqual({ placed_at: "2024-01-01T10:00:00Z" });
    expect(placedAt(dir, "2")).toEqual({ placed_at: "2024-01-02T09:00:00Z" });
    expect(await importJson(dir, "o.csv", "--force")).toMatchObject({
      orders_updated: 0,
      orders_unchanged: 3,
    });
    // A later export that says an order was placed later (a profile's timezone corrected) still moves it.
    writeFileSync(
      join(dir, "later.csv"),
      "order_id,ordered_at,sku\n2,2024-01-02 11:30,A\n2,2024-01-02 11:00,B\n",
    );
    expect(await importJson(dir, "later.csv")).toMatchObject({ orders_updated: 1, orders_unchanged: 0 });
    expect(placedAt(dir, "2")).toEqual({ placed_at: "2024-01-02T11:00:00Z" });
  });

  it("an order whose parts two readers read (a file over 32 MiB) takes the earliest time too", async () => {
    const dir = workspace();
    const pad = "x".repeat(400); // long rows: few of them fill 32 MiB
    const rows = ["order_id,ordered_at,sku,product_name"];
    rows.push(`X,2024-01-01 10:05,A,${pad}`);
    for (let i = 0; i < 85_000; i++) rows.push(`F${i},2024-01-01 12:00,B,${pad}`);
    rows.push(`X,2024-01-01 10:00,C,${pad}`); // in the second reader's half
    writeFileSync(join(dir, "big.csv"), rows.join("\n") + "\n");
    expect(readFileSync(join(dir, "big.csv")).length).toBeGreaterThan(32 * 1024 * 1024);
    expect(await importJson(dir, "big.csv")).toMatchObject({ orders_new: 85_001, lines_new: 85_002 });
    expect(placedAt(dir, "X")).toEqual({ placed_at: "2024-01-01T10:00:00Z" });
    expect(await importJson(dir, "big.csv", "--force")).toMatchObject({ orders_updated: 0 });
  }, 120_000);
});

describe("lines of one order that disagree on customer or currency", () => {
  it("another customer id on a later line fails the file, naming both lines and the column", async () => {
    const dir = workspace();
    writeFileSync(
      join(dir, "o.csv"),
      "order_id,ordered_at,sku,customer_id\n1,2024-01-01,A,C1\n1,2024-01-01,B,\n1,2024-01-01,C,C2\n2,2024-01-02,A,C1\n",
    );
    const result = await run(["import", "orders", "o.csv"], { cwd: dir });
    expect(result.code).toBe(65);
    expect(result.stderr).toContain(
      'o.csv:4: column "customer_id": order "1" names another customer id here than on o.csv:2 (column "customer_id")',
    );
    expect(result.stderr).not.toContain("C2"); // ids are the shop's customers: not in messages
  });

  it("--skip-bad-rows rejects the whole order over another email, and imports the rest", async () => {
    const dir = workspace();
    writeFileSync(
      join(dir, "o.csv"),
      "order_id,ordered_at,sku,email\n" +
        "1,2024-01-01,A,ann@example.com\n1,2024-01-01,B,\n1,2024-01-01,C,Bob@example.com\n" +
        "2,2024-01-02,A,ANN@example.com\n2,2024-01-02,B,ann@example.com\n", // the same address, written twice
    );
    const report = await importJson(dir, "o.csv", "--skip-bad-rows");
    expect(report).toMatchObject({ orders_new: 1, lines_new: 2, rejected: 3 });
    const rejected = readFileSync(join(dir, "o.rejected.csv"), "utf8").replace(/^\uFEFF/, "");
    expect(rejected).toContain(
      '4,"column ""email"": order ""1"" names another email here than on o.csv:2 (column ""email""); the lines of one order must name one customer"',
    );
    expect(rejected).toContain('2,"rejected with its order ""1"" (see line 4)"');
    expect(query(join(dir, "comeback.db"), "SELECT external_id FROM orders")).toEqual([{ external_id: "2" }]);
  });

  it("another currency on a later line is refused rather than stored in the first line's currency", async () => {
    const dir = workspace();
    writeFileSync(
      join(dir, "o.csv"),
      "order_id,ordered_at,sku,unit_price,currency\n1,2024-01-01,A,2.00,EUR\n1,2024-01-01,B,3.00,USD\n",
    );
    const result = await run(["import", "orders", "o.csv"], { cwd: dir });
    expect(result.code).toBe(65);
    expect(result.stderr).toContain(
      'o.csv:3: column "currency": order "1" is in USD here but in EUR on o.csv:2 (column "currency")',
    );
  });

  it("parts of one order apart in the file that disagree fail the file, also with --skip-bad-rows", async () => {
    const dir = workspace();
    writeFileSync(
      join(dir, "o.csv"),
      "order_id,ordered_at,sku,currency\n1,2024-01-01,A,EUR\n2,2024-01-01,A,EUR\n1,2024-01-01,B,USD\n",
    );
    const result = await run(["import", "orders", "o.csv", "--skip-bad-rows"], { cwd: dir });
    expect(result.code).toBe(65);
    expect(result.stderr).toContain(
      'o.csv:4: order "1" is in USD here but in EUR on its lines earlier in the file',
    );
    expect(query(join(dir, "comeback.db"), "SELECT count(*) AS n FROM orders")).toEqual([{ n: 0 }]);
  });
});

describe.skipIf(!existsSync(UK))(
  `the UK retailer's whole file (needs ${UK}: skipped when it is absent)`,
  () => {
    it("imported again with --force updates no order", async () => {
      const dir = workspace(UK_PROFILE);
      writeFileSync(join(dir, "uk.csv"), gunzipSync(readFileSync(UK)));
      expect(await importJson(dir, "uk.csv")).toMatchObject({ orders_new: 25_900, rejected: 0 });
      expect(await importJson(dir, "uk.csv", "--force")).toMatchObject({
        orders_updated: 0,
        orders_unchanged: 25_900,
      });
    }, 180_000);
  },
);
