/**
 * The typed facts the reader (a worker thread) hands to the writer (the main thread). They are
 * plain data so they cross the thread boundary by structured clone.
 */
export type StatusClass = "cancelled" | "completed" | "other";

export interface CustomerFields {
  customerId: string | null;
  email: string | null; // trimmed, lower-cased
  emailDisplay: string | null; // as written
  phone: string | null; // digits only
  firstName: string | null;
  lastName: string | null;
  name: string | null;
  acceptsMarketing: boolean | null;
  locale: string | null;
  usageFactor: number | null;
}

export interface LineItem {
  lineKey: string | null; // the file's line id; null: numbered by position by the writer
  sku: string | null;
  productName: string | null;
  quantity: number;
  unitPriceMinor: number | null;
  lineTotalMinor: number | null;
}

/**
 * An order's lines as one flat array, LINE_WIDTH values per line in LineItem's order. A batch crosses
 * to the writer by structured clone, and a million small objects cost the writer more to receive
 * (each property by name) than the same values in arrays.
 */
export type FlatLines = (string | number | null)[];
export const LINE_WIDTH = 6;

export function flattenLines(items: readonly LineItem[]): FlatLines {
  const flat: FlatLines = [];
  for (const item of items)
    flat.push(
      item.lineKey,
      item.sku,
      item.productName,
      item.quantity,
      item.unitPriceMinor,
      item.lineTotalMinor,
    );
  return flat;
}

export function lineAt(lines: FlatLines, index: number): LineItem {
  const at = index * LINE_WIDTH;
  return {
    lineKey: lines[at] as string | null,
    sku: lines[at + 1] as string | null,
    productName: lines[at + 2] as string | null,
    quantity: lines[at + 3] as number,
    unitPriceMinor: lines[at + 4] as number | null,
    lineTotalMinor: lines[at + 5] as number | null,
  };
}

export interface OrderRecord {
  orderId: string;
  line: number; // the file line of its first row
  placedAt: string; // UTC ISO
  /** The UTC offset its time was written with, minutes east of UTC; null: written without one. */
  placedOffset: number | null;
  status: string | null;
  statusClass: StatusClass;
  currency: string;
  cancelledAt: string | null;
  refundedMinor: number;
  customer: CustomerFields | null; // null: a guest order
  lines: FlatLines;
  /** Cells the order could do without that did not parse and were read as empty; absent when none. */
  warnings?: RowProblem[];
}

export interface ProductRecord {
  line: number;
  sku: string;
  name: string | null;
  unitPriceMinor: number | null;
  currency: string | null;
  daysPerUnit: number | null;
  group: string | null;
  variantId: string | null;
  /** An http(s) URL of the product's picture; null when none (or not http(s)). */
  imageUrl: string | null;
}

export interface CustomerRecord {
  line: number;
  customer: CustomerFields;
  /** As OrderRecord's. */
  warnings?: RowProblem[];
}

export interface CallRecord {
  line: number;
  phone: string; // digits only
  startedAt: string; // UTC ISO
  durationSeconds: number;
  direction: string | null;
  agent: string | null;
}

export type FactRecord = OrderRecord | ProductRecord | CustomerRecord | CallRecord;

/**
 * One thing wrong with one row: `column` is the file's header (null for a whole-row problem). A
 * problem rejects the row; a warning (a cell the row can do without) only empties that field.
 */
export interface RowProblem {
  line: number;
  column: string | null;
  message: string;
}

/** A row that was not imported, with the cells as read so it can be written to FILE.rejected.csv. */
export interface RejectedRow {
  line: number;
  reason: string;
  cells: string[];
}

/** Messages from the reader worker to the writer. */
export type ReaderMessage =
  | { type: "header"; headers: string[] }
  | {
      type: "batch";
      records: FactRecord[];
      rejected: RejectedRow[];
      problems: RowProblem[];
      bytesRead: number;
      /** Lines of its segment the reader has parsed so far (not rows or orders: a quoted cell may span lines). */
      linesRead: number;
    }
  | { type: "done"; rows: number }
  /** The order being read spans more than LARGE_ORDER_BYTES of the file: if the reader runs out of memory, that is why. */
  | { type: "large-order"; line: number }
  | { type: "fatal"; message: string; exitCode: number; stack?: string };

/** Message from the writer to the reader: one batch has been written, send more. */
export type WriterMessage = { type: "ack" };
