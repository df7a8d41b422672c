/**
 * The gap statistics behind a suggested rule: how long customers wait between consecutive purchases
 * of a product (or group), on two bases, and whether that wait is regular enough to make a rule of.
 */

/**
 * The q-quantile of sorted values, interpolated between the two nearest ranks (the "type 7" rule of
 * R and NumPy), so the quartiles of [40, 40, 100] read the same everywhere the admin checks them.
 */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const position = (sorted.length - 1) * q;
  const low = Math.floor(position);
  const high = Math.ceil(position);
  const a = sorted[low] as number;
  const b = sorted[high] as number;
  return a + (b - a) * (position - low);
}

export interface Spread {
  q1: number;
  median: number;
  q3: number;
  /**
   * The quartile coefficient of dispersion (Q3 − Q1) / (Q3 + Q1): 0 when every gap is the same, 1 at
   * most. It is the coefficient of variation's robust sibling: scale-free (days and days per unit
   * compare), and one customer's 300-day gap after a holiday moves it little, where it would swamp
   * the standard deviation of a few dozen gaps.
   */
  dispersion: number;
  n: number;
}

export function spreadOf(values: readonly number[]): Spread {
  const sorted = [...values].sort((a, b) => a - b);
  const q1 = quantile(sorted, 0.25);
  const q3 = quantile(sorted, 0.75);
  return {
    q1,
    median: quantile(sorted, 0.5),
    q3,
    dispersion: q3 + q1 > 0 ? (q3 - q1) / (q3 + q1) : 0,
    n: sorted.length,
  };
}

/**
 * Gaps as regular as this or more make a rhythm. Random timing with no rhythm at all (a memoryless,
 * exponential wait) has Q3 = 4.8 × Q1, a dispersion of 0.66; 0.5 asks for Q3 ≤ 3 × Q1: clearly more
 * regular than chance, while leaving room for customers who use the product at different speeds
 * (the rule is the shop-wide starting point; each customer's own rhythm takes over with history).
 * Measured: the lenses of fixtures/replenishment 0.27; on the UK retailer, whose wholesale customers
 * restock on their own schedule, products with 6 gaps or more have deciles 0.38 … 0.59 (median) … 0.76.
 */
export const MAX_REGULAR_DISPERSION = 0.5;

/**
 * The least evidence a rule is made from: gaps from at least 3 different customers (so no single
 * household's habit becomes the shop's rule), 2 of whom bought it 3 times or more (one repurchase is
 * not yet a rhythm: the planner, too, learns a customer's own rhythm from 3 purchases), and at least
 * 6 gaps, the fewest for which the range of the observed gaps is a 95 % confidence interval for the
 * median whatever their distribution (1 − 2 × 0.5⁶ = 0.97; with 5 it is 0.94).
 */
export const MIN_REPEAT_CUSTOMERS = 3;
export const MIN_RHYTHM_CUSTOMERS = 2;
export const MIN_GAPS = 6;

/**
 * Something that runs out is bought again by most of its buyers who come back to the shop at all;
 * something bought now and then (a second pullover, another mug) by a minority, who came back for
 * other things. A rule needs the majority. Measured: on the UK retailer 9 products in 10 stay below
 * 0.39 (its best restocked lines, the jumbo bags, reach 0.5–0.6); lenses and pet food sit near 1.
 */
export const MIN_REPURCHASE_SHARE = 0.5;

/** One customer's consecutive purchases of a product: the days between them, and what was bought first. */
export interface Gap {
  days: number;
  /** The quantity of the earlier purchase: what had to last until the later one. */
  quantity: number;
}

export type Basis = "per_purchase" | "per_unit";

export interface GapStats {
  /** Days between purchases, whatever the quantity. */
  perPurchase: Spread;
  /** Days between purchases divided by the quantity bought at the first. */
  perUnit: Spread;
  /** The steadier of the two: per unit only when dividing by quantity really lowers the dispersion. */
  basis: Basis;
  /** The median quantity of a purchase that was followed by another. */
  typicalQuantity: number;
}

/**
 * Per unit wins only when it is steadier than per purchase by more than this: with every quantity 1
 * the two are equal, and a hair's difference on a few gaps is noise, not evidence that customers who
 * buy two wait twice as long. (The issue measured quantity as the largest source of timing error on
 * the UK retailer: the per-purchase basis is the safer default.)
 */
export const PER_UNIT_MARGIN = 0.05;

export function gapStats(gaps: readonly Gap[]): GapStats {
  const perPurchase = spreadOf(gaps.map((gap) => gap.days));
  const perUnit = spreadOf(gaps.map((gap) => gap.days / gap.quantity));
  const quantities = [...gaps.map((gap) => gap.quantity)].sort((a, b) => a - b);
  return {
    perPurchase,
    perUnit,
    basis: perUnit.dispersion < perPurchase.dispersion - PER_UNIT_MARGIN ? "per_unit" : "per_purchase",
    typicalQuantity: quantile(quantities, 0.5),
  };
}

/** The spread on the chosen basis. */
export function chosen(stats: GapStats): Spread {
  return stats.basis === "per_unit" ? stats.perUnit : stats.perPurchase;
}

/**
 * The `days_per_unit` of the rule. A rule's supply is always quantity × days_per_unit, so a
 * per-purchase rhythm is written as the median gap over the typical quantity: the typical purchase
 * then lasts the median gap.
 */
export function daysPerUnitOf(stats: GapStats): number {
  return roundDays(rawDaysPerUnit(stats));
}

/** The same, unrounded: what a pack of several units is multiplied by. */
export function rawDaysPerUnit(stats: GapStats): number {
  return stats.basis === "per_unit" ? stats.perUnit.median : stats.perPurchase.median / stats.typicalQuantity;
}

/** Whole days from 10 up, one decimal below (a 0.5-day unit of a 60-piece box is real). */
export function roundDays(days: number): number {
  return days >= 10 ? Math.round(days) : Math.max(0.1, Math.round(days * 10) / 10);
}
