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

export function readHistories(db: Db, zone: string, now: string): History[] {
  const dayOf = makeDayOf(zone);
  const rows = db
    .prepare<[string], [number, number, string]>(
      `SELECT o.customer_id, o.id, o.placed_at FROM orders o INDEXED BY orders_customer
       WHERE o.customer_id IS NOT NULL AND o.placed_at <= ? AND o.status_class <> 'cancelled'
         AND EXISTS (SELECT 1 FROM order_lines l WHERE l.order_id = o.id AND l.quantity > 0)
       ORDER BY o.customer_id, o.placed_at, o.id`,
    )
    .raw()
    .iterate(now);
  const histories: History[] = [];
  let current: History | null = null;
  for (const [customerId, orderId, placedAt] of rows) {
    const day = dayOf(placedAt);
    if (current === null || current.customerId !== customerId) {
      current = { customerId, days: [day], orders: 1, lastOrderId: orderId };
      histories.push(current);
      continue;
    }
    current.orders += 1;
    current.lastOrderId = orderId;
    if (current.days[current.days.length - 1] !== day) current.days.push(day);
  }
  return histories;
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
