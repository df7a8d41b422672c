/**
 * The rules that decide an order from its rows, on the row reader itself: which cells only warn, which
 * header a message names, the earliest time, and lines that disagree.
 */
import { describe, expect, it } from "vitest";
import { assembleOrder, readOrderRow, type OrderRow } from "../../src/import/normalize/orders.js";
import { RowReader } from "../../src/import/normalize/row.js";
import { describeShape } from "../../src/import/normalize/values.js";
import { indexColumns, profilesFor } from "../../src/import/profiles.js";
import { lineAt, type OrderRecord, type RowProblem } from "../../src/import/records.js";

const HEADERS = ["order_id", "ordered_at", "sku", "customer_id", "email", "phone", "currency"];
const generic = profilesFor("orders", {}, { timezone: "UTC", currency: "EUR" }).find(
  (p) => p.name === "generic",
)!;
const context = { defaultCurrency: "EUR", classify: () => "other" as const, file: "o.csv" };

/** Reads rows (cells in HEADERS order) from line 2 on, as the reader thread does. */
function read(rows: string[][]): { rows: OrderRow[]; problems: RowProblem[] } {
  const reader = new RowReader(generic, indexColumns(generic, HEADERS), HEADERS);
  const read: OrderRow[] = [];
  const problems: RowProblem[] = [];
  rows.forEach((cells, i) => {
    reader.start(cells, i + 2);
    const row = readOrderRow(reader);
    if (row) read.push(row);
    problems.push(...reader.problems);
  });
  return { rows: read, problems };
}

function order(rows: string[][]): OrderRecord | RowProblem {
  const result = read(rows);
  expect(result.problems).toEqual([]);
  return assembleOrder(result.rows, context);
}

describe("describeShape", () => {
  it.each([
    ["662", "3 digits"],
    ["'+1 (555) 12", "6 digits"],
    ["7", "1 digit"],
    ["ann at example", "text of 14 characters"],
    ["Ölga", "text of 4 characters"],
    ["-", "text of 1 character"],
  ])("%j is %s", (text, shape) => expect(describeShape(text)).toBe(shape));
});

describe("a row's cells", () => {
  it("an odd email or phone is a warning, and the row is read with them empty", () => {
    const { rows, problems } = read([["1", "2024-01-01", "A", "", "ann at example", "662", ""]]);
    expect(problems).toEqual([]);
    expect(rows[0]!.customer).toBeNull(); // nothing left to name the customer: a guest order
    expect(rows[0]!.warnings).toEqual([
      { line: 2, column: "email", message: "text of 14 characters, not an email address: read as empty" },
      { line: 2, column: "phone", message: "3 digits, not a phone number: read as empty" },
    ]);
  });

  it("what the order cannot be without is a problem, as before", () => {
    const { rows, problems } = read([["1", "2024-02-31", "A", "", "", "", "EURO"]]);
    expect(rows).toEqual([]);
    expect(problems.map((p) => p.column)).toEqual(["ordered_at", "currency"]);
  });
});

describe("assembleOrder", () => {
  it("takes the earliest time of the rows, wherever it is", () => {
    const assembled = order([
      ["1", "2024-01-01T10:05", "A", "", "", "", ""],
      ["1", "2024-01-01T10:00", "B", "", "", "", ""],
      ["1", "", "C", "", "", "", ""],
    ]) as OrderRecord;
    expect(assembled.placedAt).toBe("2024-01-01T10:00:00Z");
  });

  it("refuses lines with another customer id, naming both lines and the columns", () => {
    expect(
      order([
        ["1", "2024-01-01", "A", "C1", "", "", ""],
        ["1", "2024-01-01", "B", "", "", "", ""],
        ["1", "2024-01-01", "C", "C2", "", "", ""],
      ]),
    ).toEqual({
      line: 4,
      column: "customer_id",
      message:
        'order "1" names another customer id here than on o.csv:2 (column "customer_id"); the lines of one order must name one customer',
    });
  });

  it("refuses another email; the same address written differently agrees", () => {
    expect(
      order([
        ["1", "2024-01-01", "A", "", "Ann@Example.com", "", ""],
        ["1", "2024-01-01", "B", "", "ann@example.com", "", ""],
      ]),
    ).toHaveProperty("lines");
    expect(
      order([
        ["1", "2024-01-01", "A", "", "ann@example.com", "", ""],
        ["1", "2024-01-01", "B", "", "bob@example.com", "", ""],
      ]),
    ).toMatchObject({ line: 3, column: "email" });
  });

  it("refuses another currency; empty cells agree with any", () => {
    expect(
      order([
        ["1", "2024-01-01", "A", "", "", "", "EUR"],
        ["1", "2024-01-01", "B", "", "", "", ""],
        ["1", "2024-01-01", "C", "", "", "", "USD"],
      ]),
    ).toMatchObject({
      line: 4,
      column: "currency",
      message: expect.stringContaining("is in USD here but in EUR on o.csv:2"),
    });
    expect(
      order([
        ["1", "2024-01-01", "A", "C1", "", "", "EUR"],
        ["1", "2024-01-01", "B", "", "", "", ""],
      ]),
    ).toMatchObject({ currency: "EUR" });
  });

  it("lists a repeated odd cell once per order", () => {
    const assembled = order([
      ["1", "2024-01-01", "A", "C1", "", "662", ""],
      ["1", "2024-01-01", "B", "C1", "", "662", ""],
    ]) as OrderRecord;
    expect(assembled.warnings).toEqual([
      { line: 2, column: "phone", message: "3 digits, not a phone number: read as empty" },
    ]);
  });
});

describe("an order's amounts, status and customer", () => {
  const COLUMNS = [
    "order_id",
    "ordered_at",
    "status",
    "cancelled_at",
    "refunded_amount",
    "sku",
    "product_name",
    "quantity",
    "unit_price",
    "line_total",
    "currency",
    "customer_id",
    "email",
    "first_name",
    "line_id",
  ];
  const cells = (values: Partial<Record<(typeof COLUMNS)[number], string>>) =>
    COLUMNS.map((c) => values[c] ?? "");
  const classify = (status: string | null) =>
    status === "paid"
      ? ("completed" as const)
      : status === "voided"
        ? ("cancelled" as const)
        : ("other" as const);
  function assemble(...rows: Partial<Record<string, string>>[]) {
    const reader = new RowReader(generic, indexColumns(generic, COLUMNS), COLUMNS);
    const read: OrderRow[] = [];
    rows.forEach((values, i) => {
      reader.start(cells(values), i + 2);
      const row = readOrderRow(reader);
      expect(reader.problems).toEqual([]);
      read.push(row!);
    });
    return assembleOrder(read, { defaultCurrency: "EUR", classify, file: "o.csv" }) as OrderRecord;
  }
  const base = { order_id: "1", ordered_at: "2024-01-01 10:00" };

  it("turns prices into minor units, takes a given line total, else works it out, else the unit price from it", () => {
    const order = assemble(
      { ...base, sku: "A", quantity: "2", unit_price: "4.95" },
      { ...base, sku: "B", quantity: "3", unit_price: "1.10", line_total: "3.00" },
      { ...base, sku: "C", quantity: "4", line_total: "10.00" },
      { ...base, product_name: "Gift", quantity: "0", line_total: "5.00" },
      { ...base, sku: "D" },
    );
    expect([0, 1, 2, 3, 4].map((i) => lineAt(order.lines, i))).toEqual([
      { lineKey: null, sku: "A", productName: null, quantity: 2, unitPriceMinor: 495, lineTotalMinor: 990 },
      { lineKey: null, sku: "B", productName: null, quantity: 3, unitPriceMinor: 110, lineTotalMinor: 300 },
      { lineKey: null, sku: "C", productName: null, quantity: 4, unitPriceMinor: 250, lineTotalMinor: 1000 },
      {
        lineKey: null,
        sku: null,
        productName: "Gift",
        quantity: 0,
        unitPriceMinor: null,
        lineTotalMinor: 500,
      },
      { lineKey: null, sku: "D", productName: null, quantity: 1, unitPriceMinor: null, lineTotalMinor: null },
    ]);
    expect(order).toMatchObject({ currency: "EUR", refundedMinor: 0, status: null, statusClass: "other" });
  });

  it("takes the first status, refund and currency given on any row, in the currency's minor units", () => {
    const order = assemble(
      { ...base, sku: "A", unit_price: "1200", line_id: "L1" },
      { ...base, sku: "B", status: "paid", refunded_amount: "300", currency: "jpy" },
      { ...base, sku: "C", status: "voided", refunded_amount: "5" },
    );
    expect(order).toMatchObject({
      status: "paid",
      statusClass: "completed",
      currency: "JPY",
      refundedMinor: 300,
    });
    expect(lineAt(order.lines, 0)).toMatchObject({ lineKey: "L1", unitPriceMinor: 1200 });
  });

  it("an order with a cancellation time is cancelled, whatever its payment status says", () => {
    const order = assemble({ ...base, sku: "A", status: "paid", cancelled_at: "2024-01-02 09:00" });
    expect(order).toMatchObject({
      status: "cancelled",
      statusClass: "cancelled",
      cancelledAt: "2024-01-02T09:00:00Z",
    });
    expect(assemble({ ...base, sku: "A", status: "voided", cancelled_at: "2024-01-02 09:00" }).status).toBe(
      "voided",
    );
  });

  it("merges the customer's cells from all rows, the first given winning", () => {
    const order = assemble(
      { ...base, sku: "A", customer_id: "C1" },
      { ...base, sku: "B", email: "Ann@Example.com", first_name: "Ann" },
      { ...base, sku: "C", customer_id: "C1", first_name: "Anna" },
    );
    expect(order.customer).toMatchObject({ customerId: "C1", email: "ann@example.com", firstName: "Ann" });
    expect(assemble({ ...base, sku: "A" }).customer).toBeNull();
  });

  it("refuses an order without a date on any row, and a row with neither sku nor product name", () => {
    const reader = new RowReader(generic, indexColumns(generic, COLUMNS), COLUMNS);
    reader.start(cells({ order_id: "7", sku: "A" }), 2);
    const row = readOrderRow(reader)!;
    expect(assembleOrder([row], { defaultCurrency: "EUR", classify })).toEqual({
      line: 2,
      column: null,
      message: 'order "7" has no order date on any of its rows',
    });
    reader.start(cells({ order_id: "7", ordered_at: "2024-01-01" }), 3);
    expect(readOrderRow(reader)).toBeNull();
    expect(reader.problems).toEqual([
      { line: 3, column: null, message: "has neither a sku nor a product name" },
    ]);
  });
});
