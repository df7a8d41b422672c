/**
 * Sorting one customer into a lifecycle status as of a day: `rhythm` (their own typical gap between
 * purchases) or `bgnbd` (the fitted model's P(alive), or, when the fit degenerated, how surprising
 * their silence is at their own past rate). Pure: a history, a day and the settings in, a status out.
 */
import type { LifecycleConfig } from "../../config/lifecycle.js";
import {
  expectedPurchases,
  activityRatio,
  followsRhythm,
  pAlive,
  type BgnbdFit,
  type BgnbdParams,
  type CustomerSummary,
} from "./bgnbd.js";
import { DAYS_PER_WEEK, median, summaryInWeeks } from "./summary.js";

export const STATUSES = ["new", "active", "warm", "cold", "lost", "won_back"] as const;
export type LifecycleStatus = (typeof STATUSES)[number];
export type OverdueStatus = "warm" | "cold" | "lost";

/** The horizon of `expected_purchases_90d`. */
export const EXPECTED_HORIZON_DAYS = 90;

/** Used as the shop's typical gap when nobody has bought twice yet: the warm floor's own scale. */
export const FALLBACK_GAP_DAYS = 30;

export interface Classification {
  status: LifecycleStatus;
  sinceDay: number;
  typicalGapDays: number;
  daysSinceLast: number;
  pAlive: number | null;
  expected90: number | null;
  score: number | null;
  wonBackFrom: OverdueStatus | null;
  /** Warm, cold or lost: the day they first became overdue since their last purchase; else null. */
  lapsedDay: number | null;
  /** The day their longest-lasting supply runs out, when that is after today (see supply.ts); else null. */
  supplyUntil: number | null;
  /** True when they would be warm, cold or lost but for that supply. */
  heldBySupply: boolean;
}

export interface ClassifyContext {
  config: LifecycleConfig;
  /** The shop's median gap in days (for one-order customers). */
  shopGap: number;
  /** Under bgnbd: the fit to use. */
  fit: BgnbdFit | null;
  /**
   * A one-order customer is `new` until this many days after their purchase (the shop's estimate of
   * when a second order has become unlikely, see second-order.ts); null: the history can't say, so
   * they stay new. Omitted: no such floor.
   */
  newUntilDays?: number | null;
}

/** The median of the gaps between consecutive days[from..to] (inclusive), or the shop's gap with fewer than two days. */
function typicalGap(days: readonly number[], to: number, shopGap: number): number {
  if (to < 1) return shopGap;
  const gaps: number[] = [];
  for (let i = 1; i <= to; i++) gaps.push(days[i]! - days[i - 1]!);
  return median(gaps);
}

interface Thresholds {
  warm: number;
  cold: number;
  lost: number;
}

function rhythmThresholds(gap: number, config: LifecycleConfig): Thresholds {
  return {
    warm: Math.max(config.warm_after * gap, config.min_days.warm),
    cold: Math.max(config.cold_after * gap, config.min_days.cold),
    lost: Math.max(config.lost_after * gap, config.min_days.lost),
  };
}

function overdueByDays(daysSince: number, t: Thresholds): OverdueStatus | null {
  if (daysSince >= t.lost) return "lost";
  if (daysSince >= t.cold) return "cold";
  if (daysSince >= t.warm) return "warm";
  return null;
}

const OVERDUE: readonly OverdueStatus[] = ["warm", "cold", "lost"];

/**
 * The model's status, no further gone than `min_days` allow after `daysSince` days without an order:
 * the same floors as the rhythm rules, so that no model calls a customer who ordered two days ago
 * lost (a fit on a small shop's history can put anyone's P(alive) below any threshold).
 */
function withinFloors(
  overdue: OverdueStatus | null,
  daysSince: number,
  config: LifecycleConfig,
): OverdueStatus | null {
  const allowed = overdueByDays(daysSince, config.min_days);
  if (overdue === null || allowed === null) return null;
  return OVERDUE[Math.min(OVERDUE.indexOf(overdue), OVERDUE.indexOf(allowed))]!;
}

function overdueByScore(score: number, config: LifecycleConfig): OverdueStatus | null {
  if (score < config.lost_below) return "lost";
  if (score < config.cold_below) return "cold";
  if (score < config.warm_below) return "warm";
  return null;
}

/**
 * Under bgnbd, the score the thresholds are applied to: P(alive), or the activity ratio (expected
 * purchases relative to the customer's own past rate) when the fit's dropout part degenerated or
 * the customer has bought once (BG/NBD lets nobody drop out before their first repeat purchase, so
 * P(alive) is 1 for every one-order customer however long ago they bought).
 */
function usesRatio(fit: BgnbdFit, s: CustomerSummary): boolean {
  return fit.degenerate !== null || s.x === 0;
}

function bgnbdScore(fit: BgnbdFit, s: CustomerSummary): number {
  const horizon = EXPECTED_HORIZON_DAYS / DAYS_PER_WEEK;
  return usesRatio(fit, s) ? activityRatio(fit.params, s, horizon) : pAlive(fit.params, s);
}

/**
 * The age T (weeks) at which the customer's score first fell below `threshold`, for `since`:
 * exact for P(alive); for the activity ratio, its no-dropout form (α+t_x)/(α+T), which is what it
 * is when the fit degenerated.
 */
function crossingAge(fit: BgnbdFit, s: CustomerSummary, threshold: number): number {
  const { r, alpha, a, b }: BgnbdParams = fit.params;
  if (usesRatio(fit, s)) return (alpha + s.tx) / threshold - alpha;
  const k = r + s.x;
  return (alpha + s.tx) * Math.pow(((1 - threshold) / threshold) * ((b + s.x - 1) / a), 1 / k) - alpha;
}

/** The thresholds of a one-order customer moved, keeping their spacing, so that warm comes no sooner than `newUntil`. */
function notBeforeNewUntil(t: Thresholds, newUntil: number): Thresholds {
  const delta = Math.max(0, newUntil - t.warm);
  return { warm: t.warm + delta, cold: t.cold + delta, lost: t.lost + delta };
}

/**
 * `supplyEnd`: the day the customer's longest-lasting supply runs out, by their replenishment
 * reminders (supply.ts), or null when they have none. While it lasts they are not overdue, whatever
 * their rhythm or the model says: the reminders and the lifecycle agree that a customer who still has
 * lenses is not missed. Once it ran out, an overdue status counts from that day.
 */
export function classify(
  days: readonly number[],
  today: number,
  ctx: ClassifyContext,
  supplyEnd: number | null = null,
): Classification {
  const { config, shopGap, fit } = ctx;
  const n = days.length;
  const first = days[0]!;
  const last = days[n - 1]!;
  const daysSinceLast = today - last;
  const gap = typicalGap(days, n - 1, shopGap);
  // Only a one-order customer waits for the shop's second-order estimate; null means "always new".
  const newUntilOne = ctx.newUntilDays === undefined ? 0 : (ctx.newUntilDays ?? Infinity);
  const newUntil = n === 1 ? newUntilOne : 0;
  // A second order within that time came from a new customer, not one won back.
  const cameBackNew = n === 2 && last - first < newUntilOne;
  let lapsedDay: number | null = null;

  let overdue: OverdueStatus | null;
  let sinceDay: number;
  let p: number | null = null;
  let expected90: number | null = null;
  let score: number | null = null;
  let wonBackFrom: OverdueStatus | null = null;

  if (fit !== null) {
    const s = summaryInWeeks(days, today);
    p = pAlive(fit.params, s);
    expected90 = expectedPurchases(fit.params, s, EXPECTED_HORIZON_DAYS / DAYS_PER_WEEK);
  }
  if (fit === null || followsRhythm(fit)) {
    const t = notBeforeNewUntil(rhythmThresholds(gap, config), newUntil);
    overdue = overdueByDays(daysSinceLast, t);
    sinceDay = overdue === null ? (n === 1 ? first : last) : last + Math.ceil(t[overdue]);
    if (overdue !== null) lapsedDay = last + Math.ceil(t.warm);
    if (overdue === null && n >= 2 && !cameBackNew) {
      // They were overdue, by the rhythm they had then, on the day they ordered again.
      const rhythmBefore = rhythmThresholds(typicalGap(days, n - 2, shopGap), config);
      const before = n === 2 ? notBeforeNewUntil(rhythmBefore, newUntilOne) : rhythmBefore;
      wonBackFrom = overdueByDays(last - days[n - 2]!, before);
    }
  } else {
    const s = summaryInWeeks(days, today);
    score = bgnbdScore(fit, s);
    overdue =
      daysSinceLast < newUntil ? null : withinFloors(overdueByScore(score, config), daysSinceLast, config);
    if (overdue === null) {
      sinceDay = n === 1 ? first : last;
    } else {
      const crossedDay = (status: OverdueStatus) => {
        const threshold = { warm: config.warm_below, cold: config.cold_below, lost: config.lost_below }[
          status
        ];
        const crossed = first + Math.ceil(crossingAge(fit, s, threshold) * DAYS_PER_WEEK - 1e-9);
        const floor = last + Math.max(Math.ceil(newUntil), config.min_days[status]);
        return Math.min(today, Math.max(floor, crossed));
      };
      sinceDay = crossedDay(overdue);
      lapsedDay = crossedDay("warm");
    }
    if (overdue === null && n >= 2 && !cameBackNew) {
      const before = summaryInWeeks(days.slice(0, n - 1), last);
      wonBackFrom = withinFloors(
        overdueByScore(bgnbdScore(fit, before), config),
        last - days[n - 2]!,
        config,
      );
    }
  }

  const supplyUntil = supplyEnd !== null && supplyEnd > today ? supplyEnd : null;
  const heldBySupply = overdue !== null && supplyUntil !== null;
  if (heldBySupply) {
    overdue = null;
    sinceDay = n === 1 ? first : last;
  } else if (overdue !== null && supplyEnd !== null) {
    // Overdue no sooner than the day the supply ran out.
    sinceDay = Math.max(sinceDay, supplyEnd);
    lapsedDay = Math.max(lapsedDay!, supplyEnd);
  }

  let status: LifecycleStatus;
  if (overdue !== null) {
    status = overdue;
    wonBackFrom = null;
  } else if (wonBackFrom !== null && daysSinceLast < gap) {
    // Won back until their next expected gap has passed; then plainly active.
    status = "won_back";
    sinceDay = last;
  } else {
    status = n === 1 ? "new" : "active";
    wonBackFrom = null;
  }
  return {
    status,
    sinceDay,
    typicalGapDays: gap,
    daysSinceLast,
    pAlive: p,
    expected90,
    score,
    wonBackFrom,
    lapsedDay: overdue === null ? null : lapsedDay,
    supplyUntil,
    heldBySupply,
  };
}
