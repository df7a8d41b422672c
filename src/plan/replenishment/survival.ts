/**
 * Sending in the right week, with a probability: the chance that a customer buys a group within the
 * next WINDOW_DAYS, given how long the gap since their last purchase of it is open already.
 *
 * Estimated from the shop's own history as a life table: on each of the last REFERENCE_DATES
 * four-weekly dates before today, every pair then open is one observation (did the customer buy the
 * group in the WINDOW_DAYS after?), counted in the cell of what was known then:
 * - how many purchases of the group the customer had made (1, 2, 3, 4–5, 6+);
 * - the open gap as a multiple of the pair's expected gap (pooling.ts);
 * - the days since the customer's last order of anything, as a multiple of their rhythm between
 *   orders: the chance that they are still a customer at all.
 * Only windows that ended before today are counted, so the still-open gaps are never taken as "no".
 * Sparse cells are pooled with coarser ones (CELL_PRIOR pseudo-observations of the cell above).
 */

/** The window a reminder is judged on: the measure, and a month of a customer's time. */
export const WINDOW_DAYS = 28;
/** Four-weekly dates before today that the table is counted on: half a year of history. */
export const REFERENCE_DATES = 6;
/** Pseudo-observations of the coarser cell a cell's estimate starts from. */
const CELL_PRIOR = 20;

/** Purchases of the group: 1, 2, 3, 4–5, 6+. */
export function purchasesBucket(n: number): number {
  return n <= 3 ? Math.max(0, n - 1) : n <= 5 ? 3 : 4;
}
export const PURCHASES_LABELS = ["1", "2", "3", "4–5", "6+"];
/** The open gap over the expected gap. */
export const GAP_EDGES = [0.25, 0.5, 0.75, 1, 1.25, 1.5, 2, 3, 5];
/** Days since any order over the customer's typical gap between orders. */
export const RECENCY_EDGES = [0.5, 1, 1.5, 2.5, 4];

const N_BUCKETS = 5;
const G_BUCKETS = GAP_EDGES.length + 1;
const R_BUCKETS = RECENCY_EDGES.length + 1;

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
}

function cellOf(t: PairTiming, day: number): number {
  const n = purchasesBucket(t.purchases);
  const g = bucket((day - t.lastPurchaseDay) / t.expectedGap, GAP_EDGES);
  const r = bucket((day - t.lastOrderDay) / t.orderGap, RECENCY_EDGES);
  return (n * G_BUCKETS + g) * R_BUCKETS + r;
}

/** Counts observations; `finish` turns them into the table. */
export class LifeTableCounter {
  private readonly seen = new Float64Array(N_BUCKETS * G_BUCKETS * R_BUCKETS);
  private readonly bought = new Float64Array(N_BUCKETS * G_BUCKETS * R_BUCKETS);

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
    // With no history at all, a chance no threshold passes: nothing is known yet.
    const base = allSeen > 0 ? allBought / allSeen : 0;
    const probability: number[] = new Array<number>(seen.length).fill(0);
    const shrink = (b: number, s: number, prior: number) => (b + CELL_PRIOR * prior) / (s + CELL_PRIOR);
    for (let g = 0; g < G_BUCKETS; g++) {
      let gs = 0;
      let gb = 0;
      for (let n = 0; n < N_BUCKETS; n++)
        for (let r = 0; r < R_BUCKETS; r++) {
          const i = (n * G_BUCKETS + g) * R_BUCKETS + r;
          gs += seen[i]!;
          gb += bought[i]!;
        }
      const pg = shrink(gb, gs, base);
      for (let n = 0; n < N_BUCKETS; n++) {
        let ns = 0;
        let nb = 0;
        for (let r = 0; r < R_BUCKETS; r++) {
          const i = (n * G_BUCKETS + g) * R_BUCKETS + r;
          ns += seen[i]!;
          nb += bought[i]!;
        }
        const png = shrink(nb, ns, pg);
        for (let r = 0; r < R_BUCKETS; r++) {
          const i = (n * G_BUCKETS + g) * R_BUCKETS + r;
          probability[i] = Math.round(shrink(bought[i]!, seen[i]!, png) * 1e4) / 1e4;
        }
      }
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

/** The days from `start` on where the probability can change, in order. */
function changeDays(t: PairTiming, start: number): number[] {
  const days = [start];
  for (const edge of GAP_EDGES) days.push(Math.ceil(t.lastPurchaseDay + edge * t.expectedGap));
  for (const edge of RECENCY_EDGES) days.push(Math.ceil(t.lastOrderDay + edge * t.orderGap));
  return [...new Set(days.filter((d) => d >= start))].sort((a, b) => a - b);
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
