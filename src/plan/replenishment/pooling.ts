/**
 * Learning from the whole shop: a pair's (customer, group) expected gap between purchases, pooled
 * from the customer's own gaps, the group's (across all its customers) and the shop's, each weighted
 * by how much evidence it has (empirical Bayes, a normal model on log days).
 *
 * Gaps are in days per purchase: quantity is ignored here. Only a rule or a products import's
 * days_per_unit says consumption is per unit, and those pairs keep their own arithmetic (compute.ts).
 * Measured on the UK retailer: scaling by quantity was the largest timing error (mean 44 days off
 * against 31 without it).
 */

/** Running sums of log gaps. */
export interface LogSums {
  n: number;
  sum: number;
  sumSq: number;
}

export const emptySums = (): LogSums => ({ n: 0, sum: 0, sumSq: 0 });

export function addLog(sums: LogSums, gapDays: number): void {
  const x = Math.log(Math.max(1, gapDays));
  sums.n++;
  sums.sum += x;
  sums.sumSq += x * x;
}

/** What the shop's gaps teach, as plain data (handed to planner threads). */
export interface GapPrior {
  /** The shop's mean log gap between two purchases of a group by one customer. */
  shopMean: number;
  /** Each group's pooled mean log gap and the gaps behind it, for groups with any. */
  groups: Record<string, [mean: number, gaps: number]>;
  /** Pseudo-gaps the shop's mean counts for, against a group's own gaps. */
  groupWeight: number;
  /** Pseudo-gaps the group's mean counts for, against a customer's own gaps of it. */
  pairWeight: number;
  /** The variance of one pair's log gaps around its own mean (σ²w). */
  within: number;
  /** The same for a customer's gaps between any two orders (their rhythm as a customer). */
  orderMean: number;
  orderWeight: number;
}

/**
 * The least variance of log gaps: ±10 %. A shop whose gaps are all alike (every customer every 31 days)
 * made every variance 0 and every weight 0 / 0 before.
 */
const MIN_VARIANCE = 0.01;

/** When a shop has no repeat purchases at all: a month, and a weight that lets the first gaps speak. */
const FALLBACK_MEAN = Math.log(30);
const FALLBACK_WEIGHT = 2;

/**
 * Pools the evidence. `pairs` is every pair's sums (with its group), `orders` every customer's sums of
 * gaps between their order days.
 *
 * Variance components by the method of moments: σ²w, the spread of one pair's gaps around its own
 * mean; s²g, the spread of a group's gaps around the group's mean (between pairs plus within); the
 * between-pair part τ² = s²g − σ²w. A pair's own mean then weighs k / (k + σ²w/τ²) against the
 * group's, k its gaps; a group's mean weighs n / (n + s²g/τ²G) against the shop's likewise.
 */
export function poolGaps(
  pairs: Iterable<{ group: string; sums: LogSums }>,
  orders: Iterable<LogSums>,
): GapPrior {
  const groupSums = new Map<string, LogSums>();
  let withinSs = 0;
  let withinDf = 0;
  for (const { group, sums } of pairs) {
    if (sums.n === 0) continue;
    let g = groupSums.get(group);
    if (g === undefined) groupSums.set(group, (g = emptySums()));
    g.n += sums.n;
    g.sum += sums.sum;
    g.sumSq += sums.sumSq;
    if (sums.n >= 2) {
      withinSs += sums.sumSq - (sums.sum * sums.sum) / sums.n;
      withinDf += sums.n - 1;
    }
  }
  let total = 0;
  let totalSum = 0;
  let groupSs = 0;
  let groupDf = 0;
  for (const g of groupSums.values()) {
    total += g.n;
    totalSum += g.sum;
    groupSs += g.sumSq - (g.sum * g.sum) / g.n;
    groupDf += g.n - 1;
  }
  const shopMean = total > 0 ? totalSum / total : FALLBACK_MEAN;
  const s2g = Math.max(MIN_VARIANCE, groupDf > 0 ? groupSs / groupDf : 1);
  const s2w = Math.max(MIN_VARIANCE, withinDf > 0 ? withinSs / withinDf : s2g / 2);
  // The between-pair variance never below a tenth of the total: a shop of a few regular pairs must
  // still let a customer's own rhythm count.
  const tau2 = Math.max(s2g / 10, s2g - s2w);
  // Between groups: the spread of group means beyond what their sampling error explains.
  let between = 0;
  let noise = 0;
  let weights = 0;
  for (const g of groupSums.values()) {
    if (g.n < 2) continue;
    const d = g.sum / g.n - shopMean;
    between += g.n * d * d;
    noise += s2g;
    weights += g.n;
  }
  const tau2G = weights > 0 ? Math.max(s2g / 20, (between - noise) / weights) : s2g;
  const groupWeight = total > 0 ? s2g / tau2G : FALLBACK_WEIGHT;
  const groups: GapPrior["groups"] = {};
  for (const [key, g] of groupSums) {
    groups[key] = [(g.sum + groupWeight * shopMean) / (g.n + groupWeight), g.n];
  }

  // A customer's rhythm between orders, pooled the same way with the shop's.
  let oN = 0;
  let oSum = 0;
  let oSs = 0;
  let oDf = 0;
  let oBetween = 0;
  const customerMeans: [number, number][] = [];
  for (const sums of orders) {
    if (sums.n === 0) continue;
    oN += sums.n;
    oSum += sums.sum;
    oSs += sums.sumSq - (sums.sum * sums.sum) / sums.n;
    oDf += sums.n - 1;
    customerMeans.push([sums.sum / sums.n, sums.n]);
  }
  const orderMean = oN > 0 ? oSum / oN : FALLBACK_MEAN;
  const s2o = Math.max(MIN_VARIANCE, oDf > 0 ? oSs / oDf : 1);
  let oWeights = 0;
  let oNoise = 0;
  for (const [mean, n] of customerMeans) {
    oBetween += n * (mean - orderMean) ** 2;
    oNoise += s2o;
    oWeights += n;
  }
  const tau2O = oWeights > 0 ? Math.max(s2o / 20, (oBetween - oNoise) / oWeights) : s2o;
  return {
    shopMean,
    groups,
    groupWeight: round(groupWeight),
    pairWeight: round(s2w / tau2),
    within: round(s2w),
    orderMean,
    orderWeight: oN > 0 ? round(s2o / tau2O) : FALLBACK_WEIGHT,
  };
}

const round = (x: number) => Math.round(x * 1000) / 1000;

/** How a pair's expected gap came about, for `remind show`. */
export interface PooledGap {
  /** Expected days between purchases. */
  days: number;
  /** The customer's own gaps of the group, and the share their mean has in the result. */
  ownGaps: number;
  ownShare: number;
  /** The group's typical gap (itself pooled with the shop's), and the gaps it rests on. */
  groupDays: number;
  groupGaps: number;
  /**
   * The spread (standard deviation) of the pair's next log gap: a pair's own scatter σ²w, plus the
   * uncertainty of its mean, σ²w / (own gaps + pairWeight). The survival model's width (survival.ts).
   */
  spread: number;
}

/** The pair's expected gap: its own log gaps pooled with the group's (or the shop's) mean. */
export function pooledGap(prior: GapPrior, group: string, own: LogSums): PooledGap {
  const known = prior.groups[group];
  const groupMean = known?.[0] ?? prior.shopMean;
  const share = own.n / (own.n + prior.pairWeight);
  const mean = own.n > 0 ? share * (own.sum / own.n) + (1 - share) * groupMean : groupMean;
  return {
    days: Math.exp(mean),
    ownGaps: own.n,
    ownShare: own.n > 0 ? share : 0,
    groupDays: Math.exp(groupMean),
    groupGaps: known?.[1] ?? 0,
    spread: Math.sqrt(prior.within * (1 + 1 / (own.n + prior.pairWeight))),
  };
}

/** A customer's typical gap between orders: their own, pooled with the shop's. */
export function pooledOrderGap(prior: GapPrior, own: LogSums): number {
  if (own.n === 0) return Math.exp(prior.orderMean);
  const share = own.n / (own.n + prior.orderWeight);
  return Math.exp(share * (own.sum / own.n) + (1 - share) * prior.orderMean);
}
