/**
 * The learned rhythm: how fast one customer really goes through a product, from the gaps between
 * their own purchases. Used instead of the rule once there is enough history to trust.
 */

/** Purchases needed before a customer's own rhythm replaces the rule (the issue: at least three). */
export const MIN_PURCHASES_TO_LEARN = 3;
/** The learned rate stays within these multiples of the rule: one odd gap must not derail reminders. */
export const LEARNED_MIN_RATIO = 0.5;
export const LEARNED_MAX_RATIO = 2;

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

export function clamp(value: number, low: number, high: number): number {
  return Math.min(high, Math.max(low, value));
}

export interface LearnedRate {
  /** The customer's own days per unit, after clamping. */
  daysPerUnit: number;
  /** The median before clamping, in days per unit. */
  unclamped: number;
  observations: number;
}

/**
 * `observations` are the customer's days per unit between consecutive purchases, each expressed as
 * a multiple of the rule that applied to that purchase when `ruleDaysPerUnit` is given (so a group
 * that holds a 30-day and a 90-day box learns one speed), or in plain days per unit when there is
 * no rule. Returns null when there are too few observations to learn from.
 */
export function learnedRate(
  observations: readonly number[],
  ruleDaysPerUnit: number | null,
): LearnedRate | null {
  if (observations.length < MIN_PURCHASES_TO_LEARN - 1) return null;
  const middle = median(observations);
  if (ruleDaysPerUnit === null)
    return { daysPerUnit: middle, unclamped: middle, observations: observations.length };
  return {
    daysPerUnit: clamp(middle, LEARNED_MIN_RATIO, LEARNED_MAX_RATIO) * ruleDaysPerUnit,
    unclamped: middle * ruleDaysPerUnit,
    observations: observations.length,
  };
}
