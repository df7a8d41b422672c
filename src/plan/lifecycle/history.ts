/**
 * Reads each customer's purchases as of `now`: the distinct days of the shop's calendar they
 * bought on. Orders after `now` are ignored (so any date can be backtested), cancelled orders are
 * not purchases and neither are documents that only return goods (every quantity ≤ 0, like the UK
 * retailer's "C…" invoices), guest orders belong to nobody. One pass over the (customer, placed_at) index;
 * memory grows with customers, not orders.
 */
import type { Db } from "../../store/open.js";
import { makeDayOf } from "../days.js";

export interface History {
  customerId: number;
  /** Distinct purchase days, ascending (day numbers). */
  days: number[];
  /** Orders that count as purchases (several on one day count separately here). */
  orders: number;
  lastOrderId: number;
}

/**
 * A customer's history from their order lines as the replenishment planner reads them (orders in
 * time order, an order's lines together, cancelled and later orders already left out): the same
 * as readHistories gives, so a plan reads the orders once for both planners.
 */
export function historyOf(
  customerId: number,
  lines: readonly { orderId: number; day: number; quantity: number }[],
): History | null {
  let history: History | null = null;
  for (let i = 0; i < lines.length;) {
    const { orderId, day } = lines[i]!;
    let bought = false;
    for (; i < lines.length && lines[i]!.orderId === orderId; i++) if (lines[i]!.quantity > 0) bought = true;
    if (!bought) continue;
    if (history === null) history = { customerId, days: [day], orders: 1, lastOrderId: orderId };
    else {
      history.orders += 1;
      history.lastOrderId = orderId;
      if (history.days[history.days.length - 1] !== day) history.days.push(day);
    }
  }
  return history;
}

export function readHistories(db: Db, zone: string, now: string): History[] {
  const dayOf = makeDayOf(zone);
  // A plain scan of the orders table, grouped here: reading it in (customer, time) index order
  // costs a random table lookup per order for its status, which measured slower than sorting in JS.
  // Times as unix seconds (placed_at is stored to the second): numbers cost less to hand over and
  // to compare than the text.
  const rows = db
    .prepare<[string], [number, number, number]>(
      `SELECT o.customer_id, o.id, unixepoch(o.placed_at) FROM orders o NOT INDEXED
       WHERE o.customer_id IS NOT NULL AND o.placed_at <= ? AND o.status_class <> 'cancelled'
         AND EXISTS (SELECT 1 FROM order_lines l WHERE l.order_id = o.id AND l.quantity > 0)`,
    )
    .raw()
    .iterate(now);
  const byCustomer = new Map<number, { history: History; lastPlacedAt: number }>();
  for (const [customerId, orderId, placedAt] of rows) {
    const day = dayOf(placedAt * 1000);
    const entry = byCustomer.get(customerId);
    if (entry === undefined) {
      byCustomer.set(customerId, {
        history: { customerId, days: [day], orders: 1, lastOrderId: orderId },
        lastPlacedAt: placedAt,
      });
      continue;
    }
    const h = entry.history;
    h.orders += 1;
    h.days.push(day);
    // The latest order; between two at the same second, the later id (as the index order gave).
    if (placedAt > entry.lastPlacedAt || (placedAt === entry.lastPlacedAt && orderId > h.lastOrderId)) {
      entry.lastPlacedAt = placedAt;
      h.lastOrderId = orderId;
    }
  }
  const histories: History[] = [];
  for (const { history } of byCustomer.values()) {
    const days = history.days;
    if (days.length > 1) {
      days.sort((x, y) => x - y);
      let kept = 1;
      for (let i = 1; i < days.length; i++) if (days[i] !== days[kept - 1]) days[kept++] = days[i]!;
      days.length = kept;
    }
    histories.push(history);
  }
  // In customer order, so every plan visits (and writes) customers in the same order.
  return histories.sort((x, y) => x.customerId - y.customerId);
}

/** The median gap in days between consecutive purchase days over all customers, or null if nobody bought twice. */
export function shopMedianGap(histories: readonly History[]): number | null {
  const gaps: number[] = [];
  for (const h of histories) for (let i = 1; i < h.days.length; i++) gaps.push(h.days[i]! - h.days[i - 1]!);
  if (gaps.length === 0) return null;
  const sorted = Float64Array.from(gaps).sort();
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
