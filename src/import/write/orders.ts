/**
 * Orders upsert on (source, external id) and lines on (order, line key). A row is compared with
 * what is stored and written only when something differs, so re-reading an export changes nothing.
 * A new status adds one history row; an order or a line missing from a later export is kept:
 * exports are windows, not the whole truth.
 */
import { DataError } from "../../errors.js";
import type { Db } from "../../store/open.js";
import { deferIndexesIfEmpty } from "../../store/indexes.js";
import { RowWriter } from "../../store/rows.js";
import { LINE_WIDTH, lineAt, type FlatLines, type OrderRecord } from "../records.js";
import type { CustomerWriter } from "./customers.js";

interface StoredOrder {
  id: number;
  customer_id: number | null;
  placed_at: string;
  status: string | null;
  status_class: string;
  currency: string;
  refunded_minor: number;
  cancelled_at: string | null;
}

interface StoredLine {
  line_key: string;
  sku: string | null;
  product_name: string | null;
  quantity: number;
  unit_price_minor: number | null;
  line_total_minor: number | null;
}

type Outcome = "new" | "updated" | "unchanged";
const OUTCOMES: readonly Outcome[] = ["new", "updated", "unchanged"];

/**
 * What this file has done to one order, packed in one number because a large export has hundreds of
 * thousands of orders: lines numbered so far × 8 + outcome × 2 + guest. It stays a small integer, which
 * V8 keeps in the map itself; adding the file line of the order's first row (to name it when a later
 * part disagrees) made it a boxed number: 3.2 MB more for the 200,000 orders of the 1M-line benchmark.
 */
function pack(lines: number, outcome: Outcome, guest: boolean): number {
  return lines * 8 + OUTCOMES.indexOf(outcome) * 2 + (guest ? 1 : 0);
}
function unpack(packed: number): { lines: number; outcome: Outcome; guest: boolean } {
  return { lines: Math.floor(packed / 8), outcome: OUTCOMES[(packed % 8) >> 1]!, guest: (packed & 1) === 1 };
}

export interface OrderCounts {
  orders_new: number;
  orders_updated: number;
  orders_unchanged: number;
  lines_new: number;
  guest_orders: number;
  status_changes: number;
}

export class OrderWriter {
  /** Each order seen in this file (see pack): an order split across the file is counted once. */
  private readonly seen = new Map<string, number>();
  /** When the source has no orders yet, a first import needn't look each one up. */
  private readonly sourceWasEmpty: boolean;
  /** Orders above this id were created by this import; their first status is recorded in one statement. */
  private readonly lastIdBefore: number;
  private readonly productsSeen = new Set<string>();
  /** Stored orders this file moves to a later time, written at the end (see placedAt). */
  private readonly laterTimes = new Map<string, string>();
  private readonly statements;
  /**
   * New orders and their lines, written several per statement; flushed before anything reads them
   * back. A new order's id is taken from a counter (the import holds the write lock). Its lines wait
   * in linesWaiting until the order is written: a line's foreign key needs its order. (Deferring the
   * foreign keys instead made SQLite scan the orders for each new customer: quadratic.)
   */
  private readonly newOrders: RowWriter;
  private readonly newLines: RowWriter;
  private linesWaiting: (string | number | null)[][] = [];
  private lastId: number;
  /** A shop's first import builds the orders' customer index once, at the end. */
  private readonly rebuildIndexes: () => void;
  linesNew = 0;
  statusChanges = 0;

  constructor(
    db: Db,
    private readonly source: string,
    private readonly now: string,
    private readonly importId: number,
    private readonly customers: CustomerWriter,
    /** The file's name, for messages. */
    private readonly file: string,
  ) {
    this.sourceWasEmpty =
      db.prepare("SELECT 1 FROM orders WHERE source = ? LIMIT 1").get(source) === undefined;
    this.lastIdBefore = (db.prepare("SELECT max(id) FROM orders").pluck().get() as number | null) ?? 0;
    this.lastId = this.lastIdBefore;
    this.statements = {
      firstStatuses: db.prepare(
        `INSERT OR IGNORE INTO order_status_history (order_id, status, status_class, first_seen_at, import_id)
         SELECT id, status, status_class, ?, ? FROM orders WHERE id > ? AND status IS NOT NULL`,
      ),
      find: db.prepare<[string, string], StoredOrder>(
        `SELECT id, customer_id, placed_at, status, status_class, currency, refunded_minor, cancelled_at
         FROM orders WHERE source = ? AND external_id = ?`,
      ),
      moveTime: db.prepare(
        "UPDATE orders SET placed_at = ?, updated_at = ? WHERE source = ? AND external_id = ?",
      ),
      update: db.prepare(
        `UPDATE orders SET customer_id = ?, placed_at = ?, status = ?, status_class = ?, currency = ?,
           refunded_minor = ?, cancelled_at = ?, updated_at = ?
         WHERE id = ?`,
      ),
      history: db.prepare(
        `INSERT OR IGNORE INTO order_status_history (order_id, status, status_class, first_seen_at, import_id)
         VALUES (?, ?, ?, ?, ?)`,
      ),
      lines: db.prepare<[number], StoredLine>(
        `SELECT line_key, sku, product_name, quantity, unit_price_minor, line_total_minor
         FROM order_lines WHERE order_id = ?`,
      ),
      updateLine: db.prepare(
        `UPDATE order_lines SET sku = ?, product_name = ?, quantity = ?, unit_price_minor = ?, line_total_minor = ?
         WHERE order_id = ? AND line_key = ?`,
      ),
      // Order lines name products the catalog may not have yet; a products import later fills them in.
      product: db.prepare(
        `INSERT INTO products (sku, name, unit_price_minor, currency, updated_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (sku) DO UPDATE SET name = excluded.name, updated_at = excluded.updated_at
         WHERE products.name IS NULL AND excluded.name IS NOT NULL`,
      ),
    };
    this.rebuildIndexes = deferIndexesIfEmpty(db, "orders");
    this.newOrders = new RowWriter(
      db,
      `INSERT INTO orders (id, source, external_id, customer_id, placed_at, status, status_class, currency,
                           refunded_minor, cancelled_at, created_at, updated_at)
       VALUES`,
      12,
    );
    this.newLines = new RowWriter(
      db,
      `INSERT INTO order_lines (order_id, line_key, sku, product_name, quantity, unit_price_minor, line_total_minor)
       VALUES`,
      7,
    );
  }

  write(order: OrderRecord): void {
    let customerId = order.customer ? this.customers.resolve(order.customer, order.placedAt) : null;
    const values: Omit<StoredOrder, "id"> = {
      customer_id: customerId,
      placed_at: order.placedAt,
      status: order.status,
      status_class: order.statusClass,
      currency: order.currency,
      refunded_minor: order.refundedMinor,
      cancelled_at: order.cancelledAt,
    };
    const previous = this.seen.get(order.orderId);
    const earlier = previous === undefined ? null : unpack(previous);
    const lines = order.lines;
    const count = lines.length / LINE_WIDTH;
    const before = earlier?.lines ?? 0;
    const known = !this.sourceWasEmpty || earlier !== null;
    if (known) this.flush(); // the order and its lines may be compared below
    const stored = known ? this.statements.find.get(this.source, order.orderId) : undefined;
    if (stored && earlier) {
      // Another part of an order whose first part this file wrote a moment ago (its rows are apart in
      // the file): the parts are one order, so they agree as the lines of one part must.
      this.checkParts(order, stored, customerId);
      customerId ??= stored.customer_id;
      values.customer_id = customerId;
    }
    if (stored) values.placed_at = this.placedAt(order.orderId, stored.placed_at, values.placed_at, earlier);
    let outcome: Outcome;
    if (!stored) {
      const orderId = ++this.lastId;
      for (let i = 0; i < count; i++) this.insertLine(orderId, lineKey(lines, before, i), lines, i);
      const row = [orderId, this.source, order.orderId, ...orderColumns(values), this.now, this.now];
      if (this.newOrders.add(row)) this.releaseLines();
      outcome = "new";
    } else {
      const orderChanged = differs(stored, values);
      if (orderChanged) {
        this.statements.update.run(...orderColumns(values), this.now, stored.id);
      }
      if (stored.status !== order.status && order.status !== null) {
        this.statements.history.run(stored.id, order.status, order.statusClass, this.now, this.importId);
        this.statusChanges += 1;
      }
      const linesChanged = this.mergeLines(stored.id, lines, before);
      outcome = orderChanged || linesChanged ? "updated" : "unchanged";
    }
    for (let at = 0; at < lines.length; at += LINE_WIDTH) this.rememberProduct(lines, at, order.currency);
    // An order met again later in the same file keeps its first outcome unless it was "unchanged".
    if (earlier && earlier.outcome !== "unchanged") outcome = earlier.outcome;
    this.seen.set(order.orderId, pack(before + count, outcome, customerId === null));
  }

  /**
   * The time to store now for an order already stored: the earliest of its parts in this file (see
   * assembleOrder), the same on every import. Written as the parts come when it is no later than the
   * stored time; a later one waits in laterTimes until the file's end, since a part still to come may
   * bring an earlier time back (the UK retailer's invoice 542806 re-read would otherwise be updated to
   * 11:20 and back to 11:19, and counted as updated).
   */
  private placedAt(
    orderId: string,
    storedTime: string,
    partTime: string,
    earlier: { outcome: Outcome } | null,
  ): string {
    const held = this.laterTimes.get(orderId);
    // The earliest of this file's parts so far: the stored time was written by an earlier part unless one is held.
    const earliest = earlier === null ? partTime : min(held ?? storedTime, partTime);
    if (earliest > storedTime) {
      this.laterTimes.set(orderId, earliest);
      return storedTime;
    }
    if (held !== undefined) this.laterTimes.delete(orderId);
    return earliest;
  }

  /**
   * The reader refuses an order whose lines disagree on the customer or the currency; the parts of an
   * order apart in the file meet only here, after the first part was written, so a disagreement fails
   * the file (it is rolled back) even with --skip-bad-rows: no export we know splits an order so.
   */
  private checkParts(order: OrderRecord, stored: StoredOrder, customerId: number | null): void {
    const what =
      stored.currency !== order.currency
        ? `is in ${order.currency} here but in ${stored.currency} on its lines earlier in the file`
        : customerId !== null && stored.customer_id !== null && customerId !== stored.customer_id
          ? "names another customer (customer id or email) here than on its lines earlier in the file"
          : null;
    if (what === null) return;
    throw new DataError(
      `${this.file}:${order.line}: order "${order.orderId}" ${what}; the lines of one order must agree ` +
        "on its customer and currency. Nothing was written: correct the export and import it again.",
    );
  }

  /** Queues line `index` of an order's flat lines: the order's row id, its key, then its values. */
  private insertLine(orderId: number, key: string, lines: FlatLines, index: number): void {
    const at = index * LINE_WIDTH;
    this.linesWaiting.push([
      orderId,
      key,
      lines[at + 1]!,
      lines[at + 2]!,
      lines[at + 3]!,
      lines[at + 4]!,
      lines[at + 5]!,
    ]);
    this.linesNew += 1;
  }

  /** Inserts new lines and rewrites changed ones; true when anything was written. */
  private mergeLines(orderId: number, lines: FlatLines, before: number): boolean {
    const stored = new Map(this.statements.lines.all(orderId).map((line) => [line.line_key, line]));
    let changed = false;
    for (let i = 0; i < lines.length / LINE_WIDTH; i++) {
      const item = lineAt(lines, i);
      const key = lineKey(lines, before, i);
      const line = stored.get(key);
      if (!line) {
        this.insertLine(orderId, key, lines, i);
        changed = true;
      } else if (
        line.sku !== item.sku ||
        line.product_name !== item.productName ||
        line.quantity !== item.quantity ||
        line.unit_price_minor !== item.unitPriceMinor ||
        line.line_total_minor !== item.lineTotalMinor
      ) {
        this.statements.updateLine.run(
          item.sku,
          item.productName,
          item.quantity,
          item.unitPriceMinor,
          item.lineTotalMinor,
          orderId,
          key,
        );
        changed = true;
      }
    }
    return changed;
  }

  /** Adds the sku of the line at `at` to the catalog, the first time this file names it. */
  private rememberProduct(lines: FlatLines, at: number, currency: string): void {
    const sku = lines[at + 1] as string | null;
    if (sku === null || this.productsSeen.has(sku)) return;
    this.productsSeen.add(sku);
    this.statements.product.run(sku, lines[at + 2]!, lines[at + 4]!, currency, this.now);
  }

  /** Hands the lines of the orders now written to the lines' writer. */
  private releaseLines(): void {
    for (const line of this.linesWaiting) this.newLines.add(line);
    this.linesWaiting = [];
  }

  /** Writes the new orders and lines still queued. */
  private flush(): void {
    this.newOrders.flush();
    this.releaseLines();
    this.newLines.flush();
  }

  /** Records the first status of the orders this import created, and counts what happened. */
  finish(): OrderCounts {
    this.flush();
    for (const [orderId, placedAt] of this.laterTimes) {
      this.statements.moveTime.run(placedAt, this.now, this.source, orderId);
      const { lines, outcome, guest } = unpack(this.seen.get(orderId)!);
      if (outcome === "unchanged") this.seen.set(orderId, pack(lines, "updated", guest));
    }
    this.rebuildIndexes();
    this.statements.firstStatuses.run(this.now, this.importId, this.lastIdBefore);
    const counts: OrderCounts = {
      orders_new: 0,
      orders_updated: 0,
      orders_unchanged: 0,
      lines_new: this.linesNew,
      guest_orders: 0,
      status_changes: this.statusChanges,
    };
    for (const packed of this.seen.values()) {
      const { outcome, guest } = unpack(packed);
      counts[`orders_${outcome}`] += 1;
      if (guest) counts.guest_orders += 1;
    }
    return counts;
  }
}

function min(a: string, b: string): string {
  return a < b ? a : b;
}

/** Lines without a line id are keyed by their position within the order in this file. */
function lineKey(lines: FlatLines, before: number, index: number): string {
  return (lines[index * LINE_WIDTH] as string | null) ?? String(before + index + 1);
}

/** The order's columns in the order both the insert and the update name them. */
function orderColumns(values: Omit<StoredOrder, "id">): (string | number | null)[] {
  return [
    values.customer_id,
    values.placed_at,
    values.status,
    values.status_class,
    values.currency,
    values.refunded_minor,
    values.cancelled_at,
  ];
}

function differs(stored: StoredOrder, values: Omit<StoredOrder, "id">): boolean {
  return (
    stored.customer_id !== values.customer_id ||
    stored.placed_at !== values.placed_at ||
    stored.status !== values.status ||
    stored.status_class !== values.status_class ||
    stored.currency !== values.currency ||
    stored.refunded_minor !== values.refunded_minor ||
    stored.cancelled_at !== values.cancelled_at
  );
}
