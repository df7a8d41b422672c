/**
 * Order exports have one row per order line. Rows of one order are grouped while they are
 * consecutive (every export we know writes them so); order-level cells may be on the first row only
 * (Shopify), so each order-level field takes the first non-empty value among its rows.
 */
import { decimalToMinor, lineTotalMinor, minorDigits } from "../../money.js";
import { makeOffsetReader } from "../../time.js";
import {
  flattenLines,
  type CustomerFields,
  type LineItem,
  type OrderRecord,
  type RowProblem,
  type StatusClass,
} from "../records.js";
import type { RowReader } from "./row.js";

/** One row of an order export, read but not yet combined with the other rows of its order. */
interface OrderRow {
  line: number;
  orderId: string;
  placedAt: string | null;
  placedOffset: number | null;
  status: string | null;
  currency: string | null;
  cancelledAt: string | null;
  refunded: string | null; // decimal, converted once the order's currency is known
  customer: CustomerFields | null;
  lineId: string | null;
  sku: string | null;
  productName: string | null;
  quantity: number;
  unitPrice: string | null;
  lineTotal: string | null;
}

export function readOrderRow(row: RowReader): OrderRow | null {
  const orderId = row.requiredText("order_id");
  const quantity = row.has("quantity") ? row.number("quantity") : null;
  const sku = row.optionalText("sku");
  const productName = row.optionalText("product_name");
  if (sku === null && productName === null) {
    row.problems.push({ line: row.line, column: null, message: "has neither a sku nor a product name" });
  }
  const read: OrderRow = {
    line: row.line,
    orderId: orderId ?? "",
    placedAt: row.date("ordered_at"),
    placedOffset: offsetOf(row, "ordered_at"),
    status: row.optionalText("status"),
    currency: row.currency("currency"),
    cancelledAt: row.date("cancelled_at"),
    refunded: row.decimal("refunded_amount"),
    customer: row.customer(),
    lineId: row.optionalText("line_id"),
    sku,
    productName,
    quantity: quantity ?? 1,
    unitPrice: row.decimal("unit_price"),
    lineTotal: row.decimal("line_total"),
  };
  return row.problems.length === 0 ? read : null;
}

/** One offset reader per date format: the lines of an order repeat its time, which each reader caches. */
const offsetReaders = new Map<string, (text: string) => number | null>();

function offsetOf(row: RowReader, field: string): number | null {
  const format = row.profile.dateFormat;
  let reader = offsetReaders.get(format);
  if (reader === undefined) offsetReaders.set(format, (reader = makeOffsetReader(format)));
  return reader(row.text(field));
}

function firstNonNull<T>(rows: OrderRow[], pick: (row: OrderRow) => T | null): T | null {
  for (const row of rows) {
    const value = pick(row);
    if (value !== null) return value;
  }
  return null;
}

function mergeCustomers(rows: OrderRow[]): CustomerFields | null {
  // Rows that repeat the customer share one object (see RowReader.customer): merge each once.
  const customers = [...new Set(rows.map((row) => row.customer))].filter(
    (c): c is CustomerFields => c !== null,
  );
  if (customers.length === 0) return null;
  const merged = { ...customers[0]! };
  for (const other of customers.slice(1)) {
    for (const key of Object.keys(merged) as (keyof CustomerFields)[]) {
      if (merged[key] === null && other[key] !== null) (merged as Record<string, unknown>)[key] = other[key];
    }
  }
  return merged;
}

function toMinor(decimal: string | null, currency: string): number | null {
  return decimal === null ? null : decimalToMinor(decimal, minorDigits(currency));
}

export interface OrderAssemblyContext {
  defaultCurrency: string;
  classify: (status: string | null) => StatusClass;
}

/** Combines the consecutive rows of one order into an order, or explains why it can't. */
export function assembleOrder(rows: OrderRow[], ctx: OrderAssemblyContext): OrderRecord | RowProblem {
  const first = rows[0]!;
  const placedAt = firstNonNull(rows, (r) => r.placedAt);
  if (placedAt === null) {
    return {
      line: first.line,
      column: null,
      message: `order "${first.orderId}" has no order date on any of its rows`,
    };
  }
  const currency = firstNonNull(rows, (r) => r.currency) ?? ctx.defaultCurrency;
  const cancelledAt = firstNonNull(rows, (r) => r.cancelledAt);
  let status = firstNonNull(rows, (r) => r.status);
  let statusClass = ctx.classify(status);
  // An order with a cancellation time is cancelled, whatever its payment status says.
  if (cancelledAt !== null && statusClass !== "cancelled") {
    status = "cancelled";
    statusClass = "cancelled";
  }
  const items: LineItem[] = rows.map((row) => {
    const unitPriceMinor = toMinor(row.unitPrice, currency);
    let total = toMinor(row.lineTotal, currency);
    if (total === null && row.unitPrice !== null)
      total = lineTotalMinor(row.quantity, row.unitPrice, minorDigits(currency));
    return {
      // Without a line id, the writer numbers lines by position within the order in this file.
      lineKey: row.lineId,
      sku: row.sku,
      productName: row.productName,
      quantity: row.quantity,
      unitPriceMinor:
        unitPriceMinor ?? (total !== null && row.quantity !== 0 ? Math.round(total / row.quantity) : null),
      lineTotalMinor: total,
    };
  });
  return {
    orderId: first.orderId,
    line: first.line,
    placedAt,
    // The offset of the row the time was taken from (see src/import/offsets.ts).
    placedOffset: rows.find((row) => row.placedAt === placedAt)?.placedOffset ?? null,
    status,
    statusClass,
    currency,
    cancelledAt,
    refundedMinor:
      toMinor(
        firstNonNull(rows, (r) => r.refunded),
        currency,
      ) ?? 0,
    customer: mergeCustomers(rows),
    lines: flattenLines(items),
  };
}

export type { OrderRow };
