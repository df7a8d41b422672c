/**
 * How long a one-order customer stays `new`: until the shop's own history says a second order has
 * become unlikely by then. The time from a customer's first purchase day to their second is
 * estimated over every customer with Kaplan-Meier: those who bought again give an event at their
 * gap, those who have not yet are censored at their age (days since their only purchase), so a
 * short export (or many recent first orders) does not make the gaps look shorter than they are.
 * A one-order customer is new while younger than the `quantile` of that time among the customers who
 * do come back: by then that share of the second orders the history shows has happened.
 *
 * Why not the shop's median gap between any two orders (what made a one-order customer warm before):
 * on the Shopify sample a repeat customer's median gap is 27 days, yet a quarter of the second
 * orders came after 150 days; one-order customers were mailed "we miss you" a month after their
 * first order.
 */
import type { History } from "./history.js";

/** With fewer second orders than this, the history can't say when one becomes unlikely: one-order customers stay new. */
export const MIN_SECOND_ORDERS = 10;

export interface SecondOrderEstimate {
  /** Customers who bought on a second day, as of today. */
  second_orders: number;
  /** The age in days under which a one-order customer is new; null: always new (too few second orders). */
  new_until_days: number | null;
}

/**
 * Kaplan-Meier over (gap, event) pairs, then the smallest event time at which the estimated share
 * of second orders reaches `quantile` of the share at the last event time (the share of customers
 * who will ever come back is unknown; what the history shows is the best it can say).
 */
export function secondOrderEstimate(
  histories: readonly History[],
  today: number,
  quantile: number,
): SecondOrderEstimate {
  const times: number[] = [];
  const events: number[] = [];
  for (const h of histories) {
    if (h.days.length >= 2) {
      times.push(h.days[1]! - h.days[0]!);
      events.push(1);
    } else {
      times.push(Math.max(0, today - h.days[0]!));
      events.push(0);
    }
  }
  const secondOrders = events.reduce((a, b) => a + b, 0);
  if (secondOrders < MIN_SECOND_ORDERS) return { second_orders: secondOrders, new_until_days: null };
  const order = times.map((_, i) => i).sort((a, b) => times[a]! - times[b]! || events[b]! - events[a]!);
  // The survival curve S(t) = P(no second order by t) at each distinct event time.
  const curve: { t: number; reordered: number }[] = [];
  let atRisk = order.length;
  let survival = 1;
  for (let k = 0; k < order.length; ) {
    const t = times[order[k]!]!;
    let died = 0;
    let leaving = 0;
    for (; k < order.length && times[order[k]!] === t; k++) {
      died += events[order[k]!]!;
      leaving += 1;
    }
    if (died > 0) {
      survival *= 1 - died / atRisk;
      curve.push({ t, reordered: 1 - survival });
    }
    atRisk -= leaving;
  }
  const total = curve[curve.length - 1]!.reordered;
  const point = curve.find((c) => c.reordered >= quantile * total - 1e-12)!;
  return { second_orders: secondOrders, new_until_days: point.t };
}
