/**
 * Whether a group is bought again at all: the chance that a customer who bought it once ever comes
 * back for it, learned from the shop's buyers of each group (empirical Bayes).
 *
 * The evidence of a group is its buyers and how many of them came back for it ("rebuyers"). A buyer
 * who bought it only recently has not had the time to come back: they count for a fraction of a buyer
 * (their days since the purchase over the group's exposure horizon, at most 1); a rebuyer counts 1.
 *
 * Two kinds of groups: some are bought again (coffee, lenses, pet food), some never (a car seat, a
 * stroller, shipping). A share `repeatable` of the groups is of the first kind; within those, a group's
 * rebuy share varies around the shop's `share` as a beta distribution worth `weight` buyers. So:
 * - a group some buyer came back for: its own share shrunk towards the shop's, (r + weight × share) /
 *   (n + weight);
 * - a group nobody came back for: the chance that it is of the repeat kind at all, given that n buyers
 *   did not come back (the beta-binomial chance of 0 of n), times the share it would then have. A
 *   group with enough buyers and no rebuyer is near 0: a one-off never enters a cart on the strength of
 *   the shop's general rhythm. In a shop where everyone rebuys what is rebought (a coffee shop), one
 *   buyer who did not come back is already strong evidence.
 */

/** A group's evidence: exposure-weighted buyers, and those who bought it on a second day. */
export interface GroupBuyers {
  buyers: number;
  rebuyers: number;
}

/** Plain data, handed to planner threads. */
export interface RepeatPrior {
  /** The share of buyers who came back, in groups somebody came back for. */
  share: number;
  /** Buyers the shop's share counts for against a group's own (the beta's α + β). */
  weight: number;
  /** The share of groups that are bought again at all. */
  repeatable: number;
}

/** Shares kept off 0 and 1: a beta needs both sides. */
const MIN_SHARE = 0.01;
const MAX_SHARE = 0.99;
/** The beta's weight: at least one buyer, at most so many that a group's own share still counts. */
const MIN_WEIGHT = 1;
const MAX_WEIGHT = 1000;
/** A shop where nothing was ever bought again: almost no group is of the repeat kind. */
const MIN_REPEATABLE = 0.01;

const clamp = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x));

/** The buyer's weight as evidence: days since their purchase over the horizon, at most 1. */
export function exposure(daysSince: number, horizon: number): number {
  if (!(horizon > 0)) return 1;
  return clamp(daysSince / horizon, 0, 1);
}

/**
 * The shop's prior, by the method of moments. `share`: rebuyers over buyers in the groups somebody came
 * back for. `weight`: from the spread of those groups' shares beyond what their number of buyers
 * explains (binomial noise). `repeatable`: the share of groups with no rebuyer is (1 − repeatable) +
 * repeatable × (their mean chance of 0 rebuyers if they were of the repeat kind).
 */
export function fitRepeat(groups: Iterable<GroupBuyers>): RepeatPrior {
  const list = [...groups].filter((g) => g.buyers > 0);
  const rebought = list.filter((g) => g.rebuyers > 0);
  let buyers = 0;
  let rebuyers = 0;
  for (const g of rebought) {
    buyers += g.buyers;
    rebuyers += g.rebuyers;
  }
  const share = clamp(buyers > 0 ? rebuyers / buyers : 0.5, MIN_SHARE, MAX_SHARE);
  let spread = 0;
  for (const g of rebought) spread += g.buyers * (g.rebuyers / g.buyers - share) ** 2;
  const noise = Math.max(0, rebought.length - 1) * share * (1 - share);
  const tau2 = buyers > 0 ? (spread - noise) / buyers : 0;
  const weight = tau2 > 0 ? clamp((share * (1 - share)) / tau2 - 1, MIN_WEIGHT, MAX_WEIGHT) : MAX_WEIGHT;
  const prior = { share, weight, repeatable: 1 };
  if (list.length === 0) return prior;
  const zeroShare = (list.length - rebought.length) / list.length;
  let zeroIfRepeat = 0;
  for (const g of list) zeroIfRepeat += noneCameBack(prior, g.buyers);
  zeroIfRepeat /= list.length;
  const repeatable =
    zeroIfRepeat < 1 ? clamp((1 - zeroShare) / (1 - zeroIfRepeat), MIN_REPEATABLE, 1) : MIN_REPEATABLE;
  return { share, weight, repeatable };
}

/** The chance that none of `buyers` came back, for a group of the repeat kind (beta-binomial). */
export function noneCameBack(prior: RepeatPrior, buyers: number): number {
  const alpha = prior.weight * prior.share;
  const beta = prior.weight - alpha;
  return Math.exp(
    logGamma(beta + buyers) + logGamma(prior.weight) - logGamma(beta) - logGamma(prior.weight + buyers),
  );
}

/** How a group's chance of being bought again came about, for `remind show`. */
export interface RepeatChance {
  /** The chance that a customer who bought it once comes back for it. */
  chance: number;
  buyers: number;
  rebuyers: number;
  /** The chance that it is bought again at all (1 once somebody came back for it). */
  repeatKind: number;
}

/** The chance that a customer who bought the group once comes back for it. */
export function repeatChance(prior: RepeatPrior, group: GroupBuyers | undefined): RepeatChance {
  const buyers = group?.buyers ?? 0;
  const rebuyers = group?.rebuyers ?? 0;
  const share = (rebuyers + prior.weight * prior.share) / (buyers + prior.weight);
  if (rebuyers > 0) return { chance: share, buyers, rebuyers, repeatKind: 1 };
  const zero = prior.repeatable * noneCameBack(prior, buyers);
  const repeatKind = zero / (zero + 1 - prior.repeatable);
  return { chance: repeatKind * share, buyers, rebuyers, repeatKind };
}

/** ln Γ(x) for x > 0 (Lanczos, g = 7: 15 digits). */
export function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  const y = x - 1;
  let a = c[0] as number;
  const t = y + 7.5;
  for (let i = 1; i < 9; i++) a += (c[i] as number) / (y + i);
  return 0.5 * Math.log(2 * Math.PI) + (y + 0.5) * Math.log(t) - t + Math.log(a);
}
