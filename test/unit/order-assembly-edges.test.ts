/**
 * The edges of combining an order's rows (src/import/normalize/orders.ts): which row's time and
 * offset an order keeps, what lines that only look different still agree on, each odd cell listed
 * once, and an amount too large to store refused at its line.
 */
import { describe, expect, it } from "vitest";
import { assembleOrder, readOrderRow, type OrderRow } from "../../src/import/normalize/orders.js";
import { RowReader } from "../../src/import/normalize/row.js";
import { indexColumns, profilesFor } from "../../src/import/profiles.js";
import type { OrderRecord, RowProblem } from "../../src/import/records.js";

const HEADERS = [
  "order_id",
  "ordered_at",
  "sku",
  "customer_id",
  "email",
  "phone",
  "currency",
  "unit_price",
  "quantity",
];
const generic = profilesFor("orders", {}, { timezone: "UTC", currency: "EUR" }).find(
  (p) => p.name === "generic",
)!;

function rowsOf(cells: string[][]): OrderRow[] {
  const reader = new RowReader(generic, indexColumns(generic, HEADERS), HEADERS);
  return cells.map((c, i) => {
    reader.start(c, i + 2);
    const row = readOrderRow(reader);
    expect(reader.problems).toEqual([]);
    return row!;
  });
}

const assemble = (cells: string[][], file?: string) =>
  assembleOrder(rowsOf(cells), {
    defaultCurrency: "EUR",
    classify: () => "other",
    ...(file !== undefined && { file }),
  });

/** A row of order 1 (cells in HEADERS order; the rest empty). */
const r = (at: string, sku: string, more: Partial<Record<(typeof HEADERS)[number], string>> = {}) =>
  HEADERS.map((h) => ({ order_id: "1", ordered_at: at, sku, ...more })[h] ?? "");

describe("an order's time", () => {
  it("is the earliest of its rows even when a later row is later, with that row's offset", () => {
    const order = assemble([
      r("2024-01-01T10:00:00+01:00", "A"),
      r("2024-01-01T10:05:00+02:00", "B"),
      r("2024-01-01T12:00:00+03:00", "C"),
    ]) as OrderRecord;
    expect(order.placedAt).toBe("2024-01-01T08:05:00Z");
    expect(order.placedOffset).toBe(120);
  });

  it("keeps no offset when its time was written without one", () => {
    expect((assemble([r("2024-01-01T10:00:00", "A")]) as OrderRecord).placedOffset).toBeNull();
    expect((assemble([r("2024-01-01T10:00:00-05:30", "A")]) as OrderRecord).placedOffset).toBe(-330);
  });
});

describe("lines that look different", () => {
  it("agree when they name the same currency, one of them with a customer the other leaves out", () => {
    const order = assemble([
      r("2024-01-01", "A", { customer_id: "C1", currency: "USD" }),
      r("2024-01-01", "B", { currency: "USD" }),
    ]) as OrderRecord;
    expect(order).toMatchObject({ currency: "USD", customer: { customerId: "C1" } });
  });

  it("that disagree are named by line when the file has no name", () => {
    expect(
      assemble([
        r("2024-01-01", "A", { email: "ann@example.com" }),
        r("2024-01-01", "B", { email: "bob@example.com" }),
      ]),
    ).toEqual({
      line: 3,
      column: "email",
      message:
        'order "1" names another email here than on line 2 (column "email"); the lines of one order must name one customer',
    });
  });

  it("that name another email are named with the file and line of the first", () => {
    expect(
      assemble(
        [
          r("2024-01-01", "A", { email: "ann@example.com" }),
          r("2024-01-01", "B", { email: "bob@example.com" }),
        ],
        "o.csv",
      ),
    ).toMatchObject({
      message:
        'order "1" names another email here than on o.csv:2 (column "email"); the lines of one order must name one customer',
    });
  });
});

describe("an order's warnings", () => {
  it("lists each odd cell once, and two odd values of one column both", () => {
    const order = assemble([
      r("2024-01-01", "A", { customer_id: "C1", phone: "662" }),
      r("2024-01-01", "B", { customer_id: "C1", phone: "6620" }),
      r("2024-01-01", "C", { customer_id: "C1", phone: "662", email: "not-an-email" }),
    ]) as OrderRecord;
    expect(order.warnings).toEqual([
      { line: 2, column: "phone", message: "3 digits, not a phone number: read as empty" },
      { line: 3, column: "phone", message: "4 digits, not a phone number: read as empty" },
      { line: 4, column: "email", message: "text of 12 characters, not an email address: read as empty" },
    ]);
  });

  it("are left out of an order that has none", () => {
    const order = assemble([r("2024-01-01", "A", { customer_id: "C1" })]) as OrderRecord;
    expect("warnings" in order).toBe(false);
  });
});

describe("an amount too large to store exactly", () => {
  it("refuses the order at the line that has it", () => {
    const problem = assemble([
      r("2024-01-01", "A", { unit_price: "1.00", quantity: "1" }),
      r("2024-01-01", "B", { unit_price: "99999999999999", quantity: "1000" }),
    ]) as RowProblem;
    expect(problem).toMatchObject({ line: 3, column: null });
    expect(problem.message).toMatch(/\S/);
    expect("lines" in problem).toBe(false);
  });
});
