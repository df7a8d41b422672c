/**
 * Sending in the right week, with a probability: the chance that a customer buys a group within the
 * next WINDOW_DAYS, given how long the gap since their last purchase of it is open already.
 *
 * Estimated from the shop's own history as a life table: on each of the last REFERENCE_DATES
 * four-weekly dates before today, every pair then open is one observation (did the customer buy the
 * group in the WINDOW_DAYS after?), counted in the cell of what was known then:
 * - how many purchases of the group the customer had made (1, 2, 3, 4–5, 6+);
 * - how often the customer orders anything: their typical gap between orders (pooling.ts) as orders
 *   per 28 days (under ½, ½–1, 1–2, 2–4, 4+): a customer who orders weekly has four chances a month;
 * - the open gap as a multiple of the pair's expected gap (pooling.ts);
 * - the days since the customer's last order of anything, as a multiple of their rhythm between
 *   orders: the chance that they are still a customer at all;
 * - how many orders they placed since they last bought the group without it (0, 1, 2, 3+): a
 *   customer who keeps ordering but skips it has moved on from it.
 * Only windows that ended before today are counted, so the still-open gaps are never taken as "no".
 * Sparse cells are pooled with coarser ones (CELL_PRIOR pseudo-observations of the cell above).
 */

/** The window a reminder is judged on: the measure, and a month of a customer's time. */
export const WINDOW_DAYS = 28;
/** Four-weekly dates before today that the table is counted on: most of a year of history. */
export const REFERENCE_DATES = 12;
/** The shop-wide chance assumed before any history, and how many observations it counts for. */
const BASE_RATE = 0.05;
const BASE_PRIOR = 100;
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
  private readonly bought = new Float64Array(CELLS);

  add(t: PairTiming, day: number, boughtInWindow: boolean): void {
    const cell = cellOf(t, day);
    this.seen[cell]!++;
    if (boughtInWindow) this.bought[cell]!++;
  }

  finish(): LifeTable {
    const { seen, bought } = this;
    let allSeen = 0;
    let allBought = 0;
    for (let i = 0; i < seen.length; i++) {
      allSeen += seen[i]!;
      allBought += bought[i]!;
    }
    // The shop's base rate starts from BASE_PRIOR observations at BASE_RATE: a shop with little history
    // (or none) must not send on the word of a handful of pairs (two purchases of a gift card made it
    // 100 % before). On the UK retailer's 700,000 observations it changes nothing.
    const base = (allBought + BASE_PRIOR * BASE_RATE) / (allSeen + BASE_PRIOR);
    const probability: number[] = new Array<number>(seen.length).fill(0);
    const shrink = (b: number, s: number, prior: number) => (b + CELL_PRIOR * prior) / (s + CELL_PRIOR);
    // Sums over the cells whose index, divided by `span`, is `i`: the coarser levels of the table.
    const level = (span: number) => {
      const s2 = new Float64Array(CELLS / span);
      const b2 = new Float64Array(CELLS / span);
      for (let i = 0; i < CELLS; i++) {
        s2[Math.floor(i / span)]! += seen[i]!;
        b2[Math.floor(i / span)]! += bought[i]!;
      }
      return { s: s2, b: b2 };
    };
    // From the coarsest to the finest: purchases, how often they order, then open gap, then recency,
    // then orders since.
    const byP = level(SUB * G_BUCKETS * R_BUCKETS * SKIPS_BUCKETS);
    const pP = Array.from(byP.s, (s2, i) => shrink(byP.b[i]!, s2, base));
    const byS = level((FREQUENCY_EDGES.length + 1) * G_BUCKETS * R_BUCKETS * SKIPS_BUCKETS);
    const pS = Array.from(byS.s, (s2, i) =>
      shrink(byS.b[i]!, s2, pP[Math.floor(i / (SHARE_EDGES.length + 1))]!),
    );
    const byN = level(G_BUCKETS * R_BUCKETS * SKIPS_BUCKETS);
    const byG = level(R_BUCKETS * SKIPS_BUCKETS);
    const byR = level(SKIPS_BUCKETS);
    const pN = Array.from(byN.s, (s2, i) =>
      shrink(byN.b[i]!, s2, pS[Math.floor(i / (FREQUENCY_EDGES.length + 1))]!),
    );
    const pG = Array.from(byG.s, (s2, i) => shrink(byG.b[i]!, s2, pN[Math.floor(i / G_BUCKETS)]!));
    const pR = Array.from(byR.s, (s2, i) => shrink(byR.b[i]!, s2, pG[Math.floor(i / R_BUCKETS)]!));
    for (let i = 0; i < CELLS; i++) {
      probability[i] =
        Math.round(shrink(bought[i]!, seen[i]!, pR[Math.floor(i / SKIPS_BUCKETS)]!) * 1e4) / 1e4;
    }
    return { probability, observations: allSeen };
  }
}

/** Plain data, handed to planner threads. */
export interface LifeTable {
  probability: number[];
  observations: number;
}

/** P(the customer buys the group in [day, day + WINDOW_DAYS)), nothing bought between now and `day`. */
export function probabilityOn(table: LifeTable, t: PairTiming, day: number): number {
  return table.probability[cellOf(t, day)] as number;
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
function changeDays(t: PairTiming, start: number): number[] {
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
  return days;
}

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
  const days = changeDays(t, start);
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
