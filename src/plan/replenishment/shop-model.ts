/**
 * What a plan learns from the whole shop before it plans any customer: the pooled gaps (pooling.ts)
 * and the life table of repurchase chances (survival.ts), from every customer's purchases as of now;
 * and when each pair was last offered (the carts of earlier weeks), for the cooldown.
 */
import type { Db } from "../../store/open.js";
import { historyOf } from "../lifecycle/history.js";
import { isoWeekOf } from "./dates.js";
import { dayNumber } from "../days.js";
import { customerBatches, customerRanges, type CustomerLines, type ProductIndex } from "./facts.js";
import { linesByGroup } from "./batch.js";
import {
  addLog,
  emptySums,
  poolGaps,
  pooledGap,
  pooledOrderGap,
  type GapPrior,
  type LogSums,
} from "./pooling.js";
import { purchasesOf } from "./purchases.js";
import { LifeTableCounter, REFERENCE_DATES, WINDOW_DAYS, type LifeTable } from "./survival.js";
import {
  exposure,
  fitRepeat,
  repeatChance,
  type GroupBuyers,
  type RepeatChance,
  type RepeatPrior,
} from "./repeat.js";

export interface ShopModel {
  prior: GapPrior;
  table: LifeTable;
  /** Whether each group is bought again at all, as of today (repeat.ts). */
  repeat: RepeatModel;
}

/** Plain data, handed to planner threads. */
export interface RepeatModel {
  prior: RepeatPrior;
  groups: Record<string, GroupBuyers>;
}

/**
 * How long a buyer must have had to count as a whole buyer who did not come back: twice the group's
 * typical gap (by then most of those who come back have).
 */
const EXPOSURE_GAPS = 2;

/**
 * A reference date of the life table counts only with this much of the shop's history before it. On a
 * UK five-week export the one date it had (a week into the export) made 316 cart emails on the first
 * Monday: it had seen only fresh pairs, so every open pair looked fresh.
 */
export const MIN_HISTORY_DAYS = 3 * WINDOW_DAYS;

/** The days a buyer of each group must have had to count as a whole buyer, by group (cached). */
function horizons(prior: GapPrior): (group: string) => number {
  const cache = new Map<string, number>();
  return (group) => {
    let horizon = cache.get(group);
    if (horizon === undefined)
      cache.set(group, (horizon = EXPOSURE_GAPS * Math.exp(prior.groups[group]?.[0] ?? prior.shopMean)));
    return horizon;
  };
}

/**
 * Each group's buyers and rebuyers among the purchases before `day`, and the shop's prior from them: a
 * customer who bought the group on a second day before `day` is a rebuyer (and a whole buyer), one who
 * did not counts for their exposure.
 */
export function repeatAsOf(
  customers: readonly Learned[],
  prior: GapPrior,
  day: number,
  horizonOf = horizons(prior),
): RepeatModel {
  const groups: Record<string, GroupBuyers> = {};
  for (const c of customers) {
    for (const { group, days } of c.groups) {
      const first = days[0] as number;
      if (!(first < day)) continue;
      let g = groups[group];
      if (g === undefined) groups[group] = g = { buyers: 0, rebuyers: 0 };
      if (days.length >= 2 && (days[1] as number) < day) {
        g.buyers++;
        g.rebuyers++;
      } else g.buyers += exposure(day - first, horizonOf(group));
    }
  }
  return { prior: fitRepeat(Object.values(groups)), groups };
}

/** A pair bought once: the chance that it is bought again at all, from its group's buyers. */
export function repeatOf(model: RepeatModel, group: string, purchases: number): RepeatChance | null {
  return purchases >= 2 ? null : repeatChance(model.prior, model.groups[group]);
}

/**
 * A pair's chance of being bought again at all: for one purchase, its group's; once the customer came
 * back for it, 1, and the life table's purchases classes say how likely they stay. Measured on the UK
 * retailer (BENCHMARKS.md): a shop-wide chance of continuing after k purchases instead of 1 gave F1
 * 0.297 at 2,150 items a week against 0.302 at 2,033; the customer's habit of coming back for their
 * other groups as a factor on the group's chance moved along the same frontier (0.305 at 2,406).
 */
export function repeatChanceOf(model: RepeatModel, group: string, purchases: number): number {
  return purchases >= 2 ? 1 : repeatChance(model.prior, model.groups[group]).chance;
}

/** One customer's activity, as far as the timing of their reminders needs it. */
export interface CustomerActivity {
  /** Sums of the log gaps between their order days, their order days, and the last of them. */
  orderSums: LogSums;
  orderDays: readonly number[];
  lastOrderDay: number;
  /** Each group's offers: the Mondays of the weeks it was in a cart, ascending. */
  offers: Map<string, number[]> | undefined;
}

/** A customer's activity: their order days, and their offers. */
export function activityOf(
  history: { days: number[] } | null,
  offers: Map<string, number[]> | undefined,
): CustomerActivity | undefined {
  if (history === null) return undefined;
  return {
    orderSums: orderSums(history.days),
    orderDays: history.days,
    lastOrderDay: history.days.at(-1) as number,
    offers,
  };
}

export function orderSums(days: readonly number[], before = Number.POSITIVE_INFINITY): LogSums {
  const sums = emptySums();
  for (let i = 1; i < days.length && (days[i] as number) < before; i++)
    addLog(sums, (days[i] as number) - (days[i - 1] as number));
  return sums;
}

/** Sums of the log gaps between purchase days (all of them, or those before `before`). */
export function gapSums(days: readonly number[], before = Number.POSITIVE_INFINITY): LogSums {
  return orderSums(days, before);
}

export interface Learned {
  orderDays: number[];
  groups: { group: string; days: number[] }[];
}

/**
 * Reads every customer once. `learnable(pid)` says whether a product is timed by the shop's gaps
 * (no rule and no days_per_unit says how long it lasts).
 */
export function learnShop(
  db: Db,
  products: ProductIndex,
  zone: string,
  nowIso: string,
  today: number,
): ShopModel {
  const customers: Learned[] = [];
  for (const { customers: batch } of customerBatches(db, products, zone, nowIso, customerRanges(db))) {
    for (const customer of batch) {
      const learned = learnedOf(customer, products);
      if (learned !== null) customers.push(learned);
    }
  }
  return fitShop(customers, today);
}

/** What the fit needs of one customer: their order days, and the purchase days of each unruled group. */
export function learnedOf(customer: CustomerLines, products: ProductIndex): Learned | null {
  const history = historyOf(customer.customerId, customer.lines);
  if (history === null) return null;
  const groups: Learned["groups"] = [];
  for (const [group, lines] of linesByGroup(customer, products)) {
    const purchases = purchasesOf(lines);
    const latest = purchases.at(-1);
    if (latest === undefined || products.list[latest.pid]?.rule !== null) continue;
    groups.push({ group, days: purchases.map((p) => p.day) });
  }
  return { orderDays: history.days, groups };
}

/** The pooled gaps and the life table from every customer's purchases, as of `today`. */
export function fitShop(customers: readonly Learned[], today: number): ShopModel {
  const prior = poolGaps(
    (function* () {
      for (const c of customers) for (const g of c.groups) yield { group: g.group, sums: gapSums(g.days) };
    })(),
    customers.map((c) => orderSums(c.orderDays)),
  );
  const counter = new LifeTableCounter();
  const horizonOf = horizons(prior);
  let opened = Number.POSITIVE_INFINITY;
  for (const c of customers) opened = Math.min(opened, c.orderDays[0] ?? opened);
  for (let j = 1; j <= REFERENCE_DATES; j++) {
    const day = today - WINDOW_DAYS * j;
    // Left truncation: in an export's first weeks a "first" purchase is often not the first, and no
    // long gap could be seen yet. Such dates would teach that every pair is fresh and eager.
    if (day - opened < MIN_HISTORY_DAYS) break;
    // As known on that day: the groups' buyers then, not the rebuyers of the window being judged.
    const repeat = repeatAsOf(customers, prior, day, horizonOf);
    for (const c of customers) {
      let m = 0;
      while (m < c.orderDays.length && (c.orderDays[m] as number) < day) m++;
      if (m === 0) continue;
      const lastOrderDay = c.orderDays[m - 1] as number;
      const orderGap = pooledOrderGap(prior, orderSums(c.orderDays, day));
      for (const { group, days } of c.groups) {
        let k = 0;
        while (k < days.length && (days[k] as number) < day) k++;
        if (k === 0) continue;
        const lastPurchaseDay = days[k - 1] as number;
        let since = 0;
        for (let i = m - 1; i >= 0 && (c.orderDays[i] as number) > lastPurchaseDay && since < 3; i--) since++;
        const pooled = pooledGap(prior, group, gapSums(days, day));
        const timing = {
          purchases: k,
          lastPurchaseDay,
          expectedGap: pooled.days,
          spread: pooled.spread,
          repeat: repeatChanceOf(repeat, group, k),
          lastOrderDay,
          orderGap,
          ordersSince: since,
          share: k / ordersFrom(c.orderDays, days[0] as number, m),
        };
        counter.add(timing, day, k < days.length && (days[k] as number) < day + WINDOW_DAYS);
      }
    }
  }
  return { prior, table: counter.finish(), repeat: repeatAsOf(customers, prior, today + 1, horizonOf) };
}

/**
 * When each (customer, group) was offered: the Monday of every earlier week whose cart held it, up to
 * the week of `today` (a replay of an earlier Monday does not see later carts).
 */
export function loadOffers(db: Db, today: number): Map<number, Map<string, number[]>> {
  const offers = new Map<number, Map<string, number[]>>();
  const thisWeek = isoWeekOf(today).monday;
  const mondays = new Map<string, number>();
  for (const [customerId, group, week] of db
    .prepare<[], [number, string, string]>(
      `SELECT c.customer_id, i.group_key, c.week FROM carts c JOIN cart_items i ON i.cart_id = c.id
       ORDER BY c.customer_id, c.week`,
    )
    .raw()
    .iterate()) {
    let monday = mondays.get(week);
    if (monday === undefined) mondays.set(week, (monday = weekMonday(week)));
    if (!(monday <= thisWeek)) continue;
    let groups = offers.get(customerId);
    if (groups === undefined) offers.set(customerId, (groups = new Map()));
    const list = groups.get(group);
    if (list === undefined) groups.set(group, [monday]);
    else if (list.at(-1) !== monday) list.push(monday);
  }
  return offers;
}

/** `2026-W10` → the day number of its Monday. */
function weekMonday(week: string): number {
  const match = /^(\d{4})-W(\d{2})$/.exec(week);
  if (!match) return Number.NaN;
  // ISO week 1 holds January 4th.
  const jan4 = dayNumber(`${match[1]}-01-04`);
  return isoWeekOf(jan4).monday + 7 * (Number(match[2]) - 1);
}

/** The customer's order days from `first` on, among the first `count` of them. */
export function ordersFrom(orderDays: readonly number[], first: number, count = orderDays.length): number {
  let n = 0;
  for (let i = count - 1; i >= 0 && (orderDays[i] as number) >= first; i--) n++;
  return Math.max(1, n);
}
