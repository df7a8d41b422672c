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

export interface ShopModel {
  prior: GapPrior;
  table: LifeTable;
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
  for (let j = 1; j <= REFERENCE_DATES; j++) {
    const day = today - WINDOW_DAYS * j;
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
        const timing = {
          purchases: k,
          lastPurchaseDay,
          expectedGap: pooledGap(prior, group, gapSums(days, day)).days,
          lastOrderDay,
          orderGap,
          ordersSince: since,
          share: k / ordersFrom(c.orderDays, days[0] as number, m),
        };
        counter.add(timing, day, k < days.length && (days[k] as number) < day + WINDOW_DAYS);
      }
    }
  }
  return { prior, table: counter.finish() };
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
