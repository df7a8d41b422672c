/**
 * A customer's purchase history reduced to what the lifecycle models need, in whole days of the
 * shop's timezone: the distinct days they bought on (same-day orders are one purchase, as in the
 * literature), as day numbers (days since 1970-01-01).
 */
import type { CustomerSummary } from "./bgnbd.js";

export const DAYS_PER_WEEK = 7;

/** BG/NBD's (x, t_x, T) in weeks from the distinct purchase days (ascending) and the day of `now`. */
export function summaryInWeeks(days: ArrayLike<number>, today: number): CustomerSummary {
  const first = days[0]!;
  const last = days[days.length - 1]!;
  return {
    x: days.length - 1,
    tx: (last - first) / DAYS_PER_WEEK,
    T: (today - first) / DAYS_PER_WEEK,
  };
}

/** The median of a non-empty list (sorted in place). */
export function median(values: number[]): number {
  values.sort((a, b) => a - b);
  const mid = values.length >> 1;
  return values.length % 2 === 1 ? values[mid]! : (values[mid - 1]! + values[mid]!) / 2;
}
