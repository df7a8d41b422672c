/**
 * Order exports have one row per order line. Rows of one order are grouped while they are
 * consecutive (every export we know writes them so); order-level cells may be on the first row only
 * (Shopify), so each order-level field takes the first non-empty value among its rows, but for the
 * time (the earliest) and the customer and currency, which must agree (see assembleOrder).
 */
import { decimalToMinor, lineTotalMinor, minorDigits } from "../../money.js";
import { DataError } from "../../errors.js";
import { makeOffsetReader } from "../../time.js";
import {
  flattenLines,
  type CustomerFields,
  type LineItem,
  type OrderRecord,
  type RowProblem,
  type StatusClass,
} from "../records.js";
import type { IdentityHeaders, RowReader } from "./row.js";

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
  /** Cells the row could do without that did not parse (null: none, the usual case). */
  warnings: RowProblem[] | null;
  /** The headers the customer's id, email and the currency came from, for a disagreement's message. */
  identityHeaders: IdentityHeaders;
  currencyHeader: string | null;
}

export function readOrderRow(row: RowReader): OrderRow | null {
  const orderId = row.requiredText("order_id");
  const quantity = row.has("quantity") ? row.number("quantity") : null;
  const sku = row.optionalText("sku");
  const productName = row.optionalText("product_name");
  if (sku === null && productName === null) {
    row.problems.push({ line: row.line, column: null, message: "has neither a sku nor a product name" });
  }
  const placedAt = row.date("ordered_at");
  const status = row.optionalText("status");
  const currency = row.currency("currency");
  const currencyHeader = currency === null ? null : row.header("currency");
  const read: OrderRow = {
    line: row.line,
    orderId: orderId ?? "",
    placedAt,
    placedOffset: offsetOf(row, "ordered_at"),
    status,
    currency,
    currencyHeader,
    cancelledAt: row.date("cancelled_at"),
    refunded: row.decimal("refunded_amount"),
    customer: row.customer(),
    lineId: row.optionalText("line_id"),
    sku,
    productName,
    quantity: quantity ?? 1,
    unitPrice: row.decimal("unit_price"),
    lineTotal: row.decimal("line_total"),
    warnings: row.warnings.length > 0 ? row.warnings : null,
    identityHeaders: row.identityHeaders,
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

function lineItemOf(row: OrderRow, currency: string): LineItem | RowProblem {
  try {
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
  } catch (error) {
    if (error instanceof DataError) return { line: row.line, column: null, message: error.message };
    throw error;
  }
}

function toMinor(decimal: string | null, currency: string): number | null {
  return decimal === null ? null : decimalToMinor(decimal, minorDigits(currency));
}

/**
 * The earliest time among the rows. Lines of one order written a minute apart (the UK retailer's
 * invoice 542806: 11:19 and 11:20) are one order placed when it began, and the same rows give the
 * same time whichever comes first in the file. UTC ISO strings of one form sort as their times.
 */
function earliestTime(rows: OrderRow[]): string | null {
  let earliest: string | null = null;
  for (const row of rows) {
    if (row.placedAt !== null && (earliest === null || row.placedAt < earliest)) earliest = row.placedAt;
  }
  return earliest;
}

/**
 * The first row that names another customer (id or email) or another currency than an earlier row of
 * the same order: crediting it to the first row's customer, or storing its amounts in the first row's
 * currency, would misstate it, so the order is refused like one with a bad line. Empty cells agree
 * with anything (Shopify writes some order-level cells on the first row only). Values are not quoted:
 * ids and emails are personal data; the lines and columns find them.
 */
function disagreement(rows: OrderRow[], ctx: OrderAssemblyContext): RowProblem | null {
  let byId: OrderRow | null = null;
  let byEmail: OrderRow | null = null;
  let byCurrency: OrderRow | null = null;
  const at = (row: OrderRow) => (ctx.file === undefined ? `line ${row.line}` : `${ctx.file}:${row.line}`);
  const orderId = rows[0]!.orderId;
  for (const row of rows) {
    const customer = row.customer;
    if (customer !== null) {
      if (customer.customerId !== null) {
        if (byId === null) byId = row;
        else if (byId.customer!.customerId !== customer.customerId)
          return {
            line: row.line,
            column: row.identityHeaders.customerId,
            message: `order "${orderId}" names another customer id here than on ${at(byId)} (column "${byId.identityHeaders.customerId}"); the lines of one order must name one customer`,
          };
      }
      if (customer.email !== null) {
        if (byEmail === null) byEmail = row;
        else if (byEmail.customer!.email !== customer.email)
          return {
            line: row.line,
            column: row.identityHeaders.email,
            message: `order "${orderId}" names another email here than on ${at(byEmail)} (column "${byEmail.identityHeaders.email}"); the lines of one order must name one customer`,
          };
      }
    }
    if (row.currency !== null) {
      if (byCurrency === null) byCurrency = row;
      else if (byCurrency.currency !== row.currency)
        return {
          line: row.line,
          column: row.currencyHeader,
          message: `order "${orderId}" is in ${row.currency} here but in ${byCurrency.currency} on ${at(byCurrency)} (column "${byCurrency.currencyHeader}"); the lines of one order must share its currency`,
        };
    }
  }
  return null;
}

/**
 * Whether the rows agree at a glance: each has the first row's customer and currency, as nearly every
 * order's rows do (rows that repeat the customer's cells share one object, see RowReader.customer).
 * When they do not, disagreement() looks closer: empty cells agree with anything.
 */
function plainlyAgree(rows: OrderRow[]): boolean {
  const { customer, currency } = rows[0]!;
  for (let i = 1; i < rows.length; i++) {
    const row = rows[i]!;
    if (row.customer !== customer || row.currency !== currency) return false;
  }
  return true;
}

/** The rows' warnings, each cell's once per order (a repeated customer repeats its odd cells). */
function orderWarnings(rows: OrderRow[]): RowProblem[] | null {
  let warnings: RowProblem[] | null = null;
  for (const row of rows) {
    if (row.warnings === null) continue;
    warnings ??= [];
    for (const warning of row.warnings) {
      if (!warnings.some((w) => w.column === warning.column && w.message === warning.message))
        warnings.push(warning);
    }
  }
  return warnings;
}

export interface OrderAssemblyContext {
  defaultCurrency: string;
  classify: (status: string | null) => StatusClass;
  /** The file's name, for messages that point at another line of it. */
  file?: string;
}

/** Combines the consecutive rows of one order into an order, or explains why it can't. */
export function assembleOrder(rows: OrderRow[], ctx: OrderAssemblyContext): OrderRecord | RowProblem {
  const first = rows[0]!;
  const placedAt = earliestTime(rows);
  if (placedAt === null) {
    return {
      line: first.line,
      column: null,
      message: `order "${first.orderId}" has no order date on any of its rows`,
    };
  }
  if (rows.length > 1 && !plainlyAgree(rows)) {
    const problem = disagreement(rows, ctx);
    if (problem !== null) return problem;
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
  const items: LineItem[] = [];
  // An amount past 2^53 minor units can't be stored exactly: the row's problem, with its line.
  for (const row of rows) {
    const item = lineItemOf(row, currency);
    if ("message" in item) return item;
    items.push(item);
  }
  const order: OrderRecord = {
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
  const warnings = orderWarnings(rows);
  if (warnings !== null) order.warnings = warnings;
  return order;
}

export type { OrderRow };
