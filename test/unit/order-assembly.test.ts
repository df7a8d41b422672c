/**
 * The rules that decide an order from its rows, on the row reader itself: which cells only warn, which
 * header a message names, the earliest time, and lines that disagree.
 */
import { describe, expect, it } from "vitest";
import { assembleOrder, readOrderRow, type OrderRow } from "../../src/import/normalize/orders.js";
import { RowReader } from "../../src/import/normalize/row.js";
import { describeShape } from "../../src/import/normalize/values.js";
import { indexColumns, profilesFor } from "../../src/import/profiles.js";
import type { OrderRecord, RowProblem } from "../../src/import/records.js";

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
