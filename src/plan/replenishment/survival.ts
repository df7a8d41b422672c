/**
 * Sending in the right week, with a probability: the chance that a customer buys a group within the
 * next WINDOW_DAYS, given how long the gap since their last purchase of it is open already.
 *
 * Two parts, multiplied:
 * - a parametric survival model of the pair (`chance`): the next gap is log-normal around the pair's
 *   expected gap (pooling.ts), and with the chance `repeat` the customer buys it again at all (a "cure"
 *   model: for a group bought once, repeat.ts; for a group they already bought again, 1). The open gap
 *   is censored: the longer it stays open past the expected gap, the likelier the customer is one who
 *   will not come back, and the chance falls. A pair whose window passed long ago is unlikely, a one-off
 *   never likely, whatever the shop's rhythm.
 * - a calibration by the shop's own history (the life table): on each of the last REFERENCE_DATES
 *   four-weekly dates before today, every pair then open is one observation (did the customer buy the
 *   group in the WINDOW_DAYS after?), counted in the cell of what was known then, beside the model's
 *   chance for it. A cell's factor is its purchases over the model's expected purchases:
 *   - how many purchases of the group the customer had made (1, 2, 3, 4–5, 6+);
 *   - the share of their orders since they first bought the group that held it;
 *   - how often the customer orders anything: their typical gap between orders (pooling.ts) as orders
 *     per 28 days (under ½, ½–1, 1–2, 2–4, 4+): a customer who orders weekly has four chances a month;
 *   - the open gap as a multiple of the pair's expected gap (pooling.ts);
 *   - the days since the customer's last order of anything, as a multiple of their rhythm between
 *     orders: the chance that they are still a customer at all;
 *   - how many orders they placed since they last bought the group without it (0, 1, 2, 3+): a
 *     customer who keeps ordering but skips it has moved on from it.
 *   Only windows that ended before today are counted, so the still-open gaps are never taken as "no".
 *   Sparse cells are pooled with coarser ones (CELL_PRIOR pseudo-observations of the cell above), and
 *   a cell with no observation at all keeps the coarser factor: where the history says nothing (a shop
 *   with five weeks of orders has seen no gap open for two months), the model's own chance speaks.
 */

/** The window a reminder is judged on: the measure, and a month of a customer's time. */
export const WINDOW_DAYS = 28;
/** Four-weekly dates before today that the table is counted on: most of a year of history. */
export const REFERENCE_DATES = 12;
/**
 * The model must earn its trust on the shop's own history: the shop-wide factor starts from 0, worth
 * this many expected purchases. A shop whose history cannot check the model yet (no reference date with
 * enough history before it, shop-model.ts) gets no reminder from it; on the UK retailer's thousands of
 * expected purchases it changes nothing. With a factor of 1 instead, the UK five-week export made 189
 * cart emails on its first Monday from rhythms it had seen for five weeks.
 */
const BASE_PRIOR = 5;
/** The narrowest spread of a next log gap: ±10 %, however regular the shop's gaps were. */
const MIN_SPREAD = 0.1;
/** No chance is certain. */
const MAX_CHANCE = 0.99;
/**
 * Pseudo-observations of the coarser cell a cell's estimate starts from. Measured on the UK retailer
 * (F1 at min_probability 0.2): 20 → 0.295, 100 → 0.298, 400 → 0.302, 1,000 → 0.298. The finer the
 * cell, the noisier, and a reminder goes out on the first Monday its chance passes the threshold, so a
 * noisy cell that happens to pass sends too early.
 */
const CELL_PRIOR = 400;

/** Purchases of the group: 1, 2, 3, 4–5, 6+. */
export function purchasesBucket(n: number): number {
  return n <= 3 ? Math.max(0, n - 1) : n <= 5 ? 3 : 4;
}
export const PURCHASES_LABELS = ["1", "2", "3", "4–5", "6+"];
/** The open gap over the expected gap. */
export const GAP_EDGES = [0.25, 0.5, 0.75, 1, 1.25, 1.5, 2, 3, 5];
/** Days since any order over the customer's typical gap between orders. */
export const RECENCY_EDGES = [0.5, 1, 1.5, 2.5, 4];

/** Orders since the last purchase of the group: 0, 1, 2, 3+. */
export const SKIPS_BUCKETS = 4;

/** Orders per 28 days, from the customer's typical gap between orders. */
export const FREQUENCY_EDGES = [0.5, 1, 2, 4];

/** The share of the customer's orders since they first bought the group that held it. */
export const SHARE_EDGES = [1 / 3, 2 / 3];
const SUB = (FREQUENCY_EDGES.length + 1) * (SHARE_EDGES.length + 1);
const N_BUCKETS = 5 * SUB;
const G_BUCKETS = GAP_EDGES.length + 1;
const R_BUCKETS = RECENCY_EDGES.length + 1;
const CELLS = N_BUCKETS * G_BUCKETS * R_BUCKETS * SKIPS_BUCKETS;

function bucket(value: number, edges: readonly number[]): number {
  let i = 0;
  while (i < edges.length && value >= (edges[i] as number)) i++;
  return i;
}

/** What is known of a pair on a day: its purchases, expected gap, and the customer's rhythm. */
export interface PairTiming {
  purchases: number;
  lastPurchaseDay: number;
  expectedGap: number;
  lastOrderDay: number;
  orderGap: number;
  /** The customer's order days after the last purchase of the group. */
  ordersSince: number;
  /** Purchases of the group over the customer's order days since the first of them. */
  share: number;
  /** The chance that the customer buys the group again at all (repeat.ts; 1 once they did). */
  repeat: number;
  /** The standard deviation of the next log gap (pooling.ts). */
  spread: number;
}

/** The standard normal distribution function (Abramowitz–Stegun 7.1.26 on erf: 1.5e-7). */
export function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const erf =
    1 -
    ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) *
      t *
      Math.exp(-x * x);
  return z >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
}

/**
 * The model's chance that the pair is bought in [day, day + WINDOW_DAYS), nothing bought since its
 * last purchase: repeat × (F(d + W) − F(d)) / (1 − repeat × F(d)), F the log-normal distribution of
 * the next gap, d the open gap on `day`.
 */
export function chance(t: PairTiming, day: number): number {
  const open = Math.max(0, day - t.lastPurchaseDay);
  const mu = Math.log(Math.max(1, t.expectedGap));
  const sigma = Math.max(MIN_SPREAD, t.spread);
  const cdf = (x: number) => (x < 1 ? 0 : normalCdf((Math.log(x) - mu) / sigma));
  const before = cdf(open);
  const rest = 1 - t.repeat * before;
  if (!(rest > 0)) return 0;
  return (t.repeat * (cdf(open + WINDOW_DAYS) - before)) / rest;
}

function cellOf(t: PairTiming, day: number): number {
  const n =
    (purchasesBucket(t.purchases) * (SHARE_EDGES.length + 1) + bucket(t.share, SHARE_EDGES)) *
      (FREQUENCY_EDGES.length + 1) +
    bucket(WINDOW_DAYS / t.orderGap, FREQUENCY_EDGES);
  const g = bucket((day - t.lastPurchaseDay) / t.expectedGap, GAP_EDGES);
  const r = bucket((day - t.lastOrderDay) / t.orderGap, RECENCY_EDGES);
  return ((n * G_BUCKETS + g) * R_BUCKETS + r) * SKIPS_BUCKETS + Math.min(t.ordersSince, SKIPS_BUCKETS - 1);
}

/** Counts observations; `finish` turns them into the table. */
export class LifeTableCounter {
  private readonly seen = new Float64Array(CELLS);
  private readonly expected = new Float64Array(CELLS);
  private readonly bought = new Float64Array(CELLS);

  add(t: PairTiming, day: number, boughtInWindow: boolean): void {
    const cell = cellOf(t, day);
    this.seen[cell]!++;
    this.expected[cell]! += chance(t, day);
    if (boughtInWindow) this.bought[cell]!++;
  }

  finish(): LifeTable {
    const { seen, expected, bought } = this;
    let allExpected = 0;
    let allBought = 0;
    let allSeen = 0;
    for (let i = 0; i < seen.length; i++) {
      allSeen += seen[i]!;
      allExpected += expected[i]!;
      allBought += bought[i]!;
    }
    const base = allBought / (allExpected + BASE_PRIOR);
    // A cell's factor: its purchases over the model's expected ones, with CELL_PRIOR observations' worth
    // (at the cell's mean chance) of the coarser cell's factor. A cell never observed keeps the coarser one.
    const shrink = (b: number, e: number, s: number, prior: number) => {
      if (s === 0) return prior;
      const w = (CELL_PRIOR * e) / s;
      return e + w > 0 ? (b + w * prior) / (e + w) : prior;
    };
    // Sums over the cells whose index, divided by `span`, is `i`: the coarser levels of the table.
    const level = (span: number, parent: (i: number) => number) => {
      const s2 = new Float64Array(CELLS / span);
      const e2 = new Float64Array(CELLS / span);
      const b2 = new Float64Array(CELLS / span);
      for (let i = 0; i < CELLS; i++) {
        const j = Math.floor(i / span);
        s2[j]! += seen[i]!;
        e2[j]! += expected[i]!;
        b2[j]! += bought[i]!;
      }
      return Array.from(s2, (s, i) => shrink(b2[i]!, e2[i]!, s, parent(i)));
    };
    // From the coarsest to the finest: purchases, share, how often they order, then open gap, then
    // recency, then orders since.
    const fP = level(SUB * G_BUCKETS * R_BUCKETS * SKIPS_BUCKETS, () => base);
    const fS = level((FREQUENCY_EDGES.length + 1) * G_BUCKETS * R_BUCKETS * SKIPS_BUCKETS, (i) => {
      return fP[Math.floor(i / (SHARE_EDGES.length + 1))]!;
    });
    const fN = level(
      G_BUCKETS * R_BUCKETS * SKIPS_BUCKETS,
      (i) => fS[Math.floor(i / (FREQUENCY_EDGES.length + 1))]!,
    );
    const fG = level(R_BUCKETS * SKIPS_BUCKETS, (i) => fN[Math.floor(i / G_BUCKETS)]!);
    const fR = level(SKIPS_BUCKETS, (i) => fG[Math.floor(i / R_BUCKETS)]!);
    const factor = level(1, (i) => fR[Math.floor(i / SKIPS_BUCKETS)]!).map((f) => Math.round(f * 1e4) / 1e4);
    return { factor, maxFactor: factor.reduce((a, b) => Math.max(a, b), 0), observations: allSeen };
  }
}

/** Plain data, handed to planner threads. */
export interface LifeTable {
  /** Each cell's factor on the model's chance, and the largest of them. */
  factor: number[];
  maxFactor: number;
  observations: number;
}

/** The life table's factor on the model's chance for the pair on `day`. */
export function factorOn(table: LifeTable, t: PairTiming, day: number): number {
  return table.factor[cellOf(t, day)] as number;
}

/** P(the customer buys the group in [day, day + WINDOW_DAYS)), nothing bought between now and `day`. */
export function probabilityOn(table: LifeTable, t: PairTiming, day: number): number {
  return Math.min(MAX_CHANCE, chance(t, day) * (table.factor[cellOf(t, day)] as number));
}

/** The Monday on or after a day (day 0, 1970-01-01, was a Thursday). */
export function mondayOnOrAfter(day: number): number {
  return day + ((((4 - day) % 7) + 7) % 7);
}

/**
 * The Mondays from `start` on where the probability can change, in order. Only Mondays: the batch
 * sends on Mondays, and a reminder is judged on the 28 days from the Monday it goes out (judged from
 * its due day instead, it went out up to six days early).
 */
function changeDays(t: PairTiming, start: number, today: number): number[] {
  // Sorted by insertion, without duplicates: a plan calls this for every open pair, and a Set, a
  // filter and a sort per pair were a tenth of a backtest's time.
  const first = mondayOnOrAfter(start);
  const days = [first];
  const add = (day: number) => {
    if (day <= first) return;
    let i = days.length;
    while (i > 0 && (days[i - 1] as number) > day) i--;
    if (days[i - 1] !== day) days.splice(i, 0, day);
  };
  for (const edge of GAP_EDGES) add(mondayOnOrAfter(Math.ceil(t.lastPurchaseDay + edge * t.expectedGap)));
  for (const edge of RECENCY_EDGES) add(mondayOnOrAfter(Math.ceil(t.lastOrderDay + edge * t.orderGap)));
  // The model's chance moves every day, not only at the table's edges: this week's decision and the
  // next few weeks' are judged on their own Mondays.
  const monday = mondayOnOrAfter(today);
  for (let week = 0; week < LOOKAHEAD_WEEKS; week++) add(monday + 7 * week);
  return days;
}

/** Mondays from this one on at which the chance is judged exactly (beyond them, at the table's edges). */
const LOOKAHEAD_WEEKS = 4;

export type Window =
  /** The probability passes the threshold from `from` on, and still does on or after today. */
  | { kind: "due"; from: number; probability: number }
  /** It passed it only before today, last on the day before `endedOn`. */
  | { kind: "passed"; endedOn: number }
  /** It never passes it. */
  | { kind: "never" };

/**
 * The first stretch of days from `start` on where the probability passes `threshold` and which has
 * not ended before `today` (a stretch that began earlier and still holds is due since it began).
 */
export function nextWindow(
  table: LifeTable,
  t: PairTiming,
  start: number,
  today: number,
  threshold: number,
): Window {
  // The model's chance is never above the chance of coming back at all: a pair whose bound stays under
  // the threshold in every cell never passes it (most pairs bought once: a sixth of a backtest's time).
  if (t.repeat * table.maxFactor < threshold) return { kind: "never" };
  const days = changeDays(t, start, today);
  let from: number | null = null;
  let best = 0;
  let endedOn: number | null = null;
  for (let i = 0; i < days.length; i++) {
    const day = days[i] as number;
    const next = days[i + 1] ?? Number.POSITIVE_INFINITY;
    const p = probabilityOn(table, t, day);
    if (p >= threshold) {
      if (from === null) {
        from = day;
        best = p;
      }
      if (next > today) return { kind: "due", from, probability: Math.max(best, p) };
    } else if (from !== null) {
      endedOn = day;
      from = null;
    }
  }
  return endedOn === null ? { kind: "never" } : { kind: "passed", endedOn };
}
