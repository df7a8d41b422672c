/** Products and customers exports: one row is one fact, no grouping. */
import type { CustomerRecord, ProductRecord } from "../records.js";
import type { RowReader } from "./row.js";

export function readProductRow(row: RowReader, defaultCurrency: string): ProductRecord | null {
  const sku = row.requiredText("sku");
  const currency = row.currency("currency") ?? defaultCurrency;
  const record: ProductRecord = {
    line: row.line,
    sku: sku ?? "",
    name: row.optionalText("name"),
    unitPriceMinor: row.money("unit_price", currency),
    currency: row.has("unit_price") ? currency : null,
    daysPerUnit: row.number("days_per_unit", { positive: true }),
    group: row.optionalText("group"),
  };
  return row.problems.length === 0 ? record : null;
}

export function readCustomerRow(row: RowReader): CustomerRecord | null {
  const customer = row.customer();
  if (customer === null && row.problems.length === 0) {
    row.problems.push({ line: row.line, column: null, message: "has no customer id, email or phone" });
  }
  return row.problems.length === 0 && customer !== null ? { line: row.line, customer } : null;
}
