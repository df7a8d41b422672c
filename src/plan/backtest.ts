/**
 * `comeback backtest`: replays the Monday batch over past Mondays on the shop's own database and
 * scores the carts against what the customers really bought (the measure of issue 15):
 * - sent on Monday M: the (customer, group) items of the carts of M's week;
 * - hit: that customer buys that group in [M, M + 28 days); precision = hits / sent;
 * - repurchase event: a day d (first scored Monday … last + 6) on which a customer buys a group they
 *   had bought before d; caught when a cart of that pair went out on a Monday M, d − 28 < M ≤ d;
 *   recall = caught / events; F1 their harmonic mean.
 * The replay starts WARMUP_MONDAYS early, unscored: the first batch holds a backlog.
 *
 * Each Monday runs the very code of `weekly` (the reminders plan, then the week's cart selection)
 * as of 09:00 that day, inside one transaction that is rolled back: nothing is queued or sent, and
 * the database is as it was. Carts already in the database are set aside (inside the transaction)
 * so the replay starts clean.
 */
import type { Config } from "../config/schema.js";
import { assembleCarts } from "../deliver/carts.js";
import { isoWeekOf } from "../deliver/clock.js";
import { UsageError } from "../errors.js";
import type { Db } from "../store/open.js";
import { makeDateParser } from "../time.js";
import { dayNumber, dayString, LocalDays } from "./days.js";
import { planSettings, startReplenishment } from "./replenishment/plan.js";
import { planGroup } from "./replenishment/compute.js";
import { linesByGroup } from "./replenishment/batch.js";
import {
  customerBatches,
  customerRanges,
  customerSettings,
  loadOverrides,
  ProductIndex,
  type CustomerLines,
} from "./replenishment/facts.js";
import { purchasesOf, type PlanLine } from "./replenishment/purchases.js";
import { SupplyRules } from "./replenishment/rules.js";
import { activityOf, fitShop, learnedOf, type Learned, type ShopModel } from "./replenishment/shop-model.js";
import { historyOf } from "./lifecycle/history.js";
import { median } from "./replenishment/rhythm.js";

export const WARMUP_MONDAYS = 4;
/** Mondays scored by default: the last 16 whose 28-day window the data covers. */
export const DEFAULT_SCORED_MONDAYS = 16;
const WINDOW = 28;
/** The thresholds the report compares, besides the configured one. */
export const COMPARED_THRESHOLDS = [0.1, 0.15, 0.2, 0.25, 0.3];

export interface Scores {
  method: string;
  items_per_week: number;
  precision: number;
  recall: number;
  f1: number;
  sent: number;
  hits: number;
  events: number;
  caught: number;
}

export interface BacktestReport {
  /** The first and last scored Mondays, and the warm-up Mondays before them. */
  from: string;
  to: string;
  mondays: number;
  warmup_mondays: number;
  min_probability: number;
  comeback: Scores;
  baselines: Scores[];
  /** comeback at other thresholds (empty unless asked for). */
  thresholds: Scores[];
}

/** Purchases by pair (`customer \t group`): the distinct days, ascending. */
type Buys = Map<string, number[]>;
/** Per Monday (day number), the pairs sent. */
type Sent = Map<number, Set<string>>;

function readBuys(db: Db, zone: string): { buys: Buys; newest: number | null } {
  const days = new LocalDays(zone);
  const buys: Buys = new Map();
  let newest: number | null = null;
  for (const [customer, group, epoch] of db
    .prepare<[], [number, string, number]>(
      `SELECT o.customer_id, coalesce(p.group_key, l.sku, l.product_name, ''), unixepoch(o.placed_at)
         FROM order_lines l JOIN orders o ON o.id = l.order_id LEFT JOIN products p ON p.sku = l.sku
        WHERE l.quantity > 0 AND o.customer_id IS NOT NULL AND o.status_class <> 'cancelled'`,
    )
    .raw()
    .iterate()) {
    const day = days.dayOf(epoch);
    if (newest === null || day > newest) newest = day;
    const key = `${customer}\t${group}`;
    const list = buys.get(key);
    if (list === undefined) buys.set(key, [day]);
    else list.push(day);
  }
  for (const list of buys.values()) {
    list.sort((a, b) => a - b);
    let w = 0;
    for (let i = 0; i < list.length; i++) if (i === 0 || list[i] !== list[w - 1]) list[w++] = list[i]!;
    list.length = w;
  }
  return { buys, newest };
}

/** The measure over the scored Mondays. */
export function score(
  method: string,
  sent: Sent,
  mondays: readonly number[],
  scored: readonly number[],
  buys: Buys,
): Scores {
  let total = 0;
  let hits = 0;
  for (const monday of scored) {
    for (const pair of sent.get(monday) ?? []) {
      total++;
      if ((buys.get(pair) ?? []).some((d) => d >= monday && d < monday + WINDOW)) hits++;
    }
  }
  const first = scored[0] as number;
  const end = (scored.at(-1) as number) + 6;
  let events = 0;
  let caught = 0;
  for (const [pair, days] of buys) {
    for (let i = 1; i < days.length; i++) {
      const d = days[i] as number;
      if (d < first || d > end) continue;
      events++;
      if (mondays.some((m) => d - WINDOW < m && m <= d && sent.get(m)?.has(pair))) caught++;
    }
  }
  const precision = total ? hits / total : 0;
  const recall = events ? caught / events : 0;
  const r3 = (x: number) => Math.round(x * 1000) / 1000;
  return {
    method,
    items_per_week: Math.round((total / scored.length) * 10) / 10,
    precision: r3(precision),
    recall: r3(recall),
    f1: r3(precision + recall ? (2 * precision * recall) / (precision + recall) : 0),
    sent: total,
    hits,
    events,
    caught,
  };
}

/**
 * A simple method in its reminder-per-pair form: each pair's latest purchase (before Monday M) is
 * reminded once, on the first Monday whose week holds its due day (overdue included).
 */
function simpleMethod(
  buys: Buys,
  mondays: readonly number[],
  dueAfter: (customer: string, last: number, monday: number) => number | null,
): Sent {
  const sent: Sent = new Map();
  const pairs = [...buys].map(([pair, days]) => ({
    pair,
    customer: pair.slice(0, pair.indexOf("\t")),
    days,
    k: 0,
    reminded: Number.NaN,
  }));
  for (const monday of mondays) {
    const week = new Set<string>();
    for (const p of pairs) {
      while (p.k < p.days.length && (p.days[p.k] as number) < monday) p.k++;
      if (p.k === 0) continue;
      const last = p.days[p.k - 1] as number;
      if (p.reminded === last) continue;
      const gap = dueAfter(p.customer, last, monday);
      if (gap === null || last + Math.floor(gap) > monday + 6) continue;
      week.add(p.pair);
      p.reminded = last;
    }
    sent.set(monday, week);
  }
  return sent;
}

function baselines(buys: Buys, mondays: readonly number[], scored: readonly number[]): Scores[] {
  // The shop's mean gap between two purchases of a group by one customer, as of each Monday.
  const shopMean = (monday: number) => {
    let sum = 0;
    let n = 0;
    for (const days of buys.values())
      for (let i = 1; i < days.length && (days[i] as number) < monday; i++) {
        sum += (days[i] as number) - (days[i - 1] as number);
        n++;
      }
    return n ? sum / n : null;
  };
  const means = new Map(mondays.map((m) => [m, shopMean(m)]));
  const orderDays = new Map<string, number[]>();
  for (const [pair, days] of buys) {
    const customer = pair.slice(0, pair.indexOf("\t"));
    const list = orderDays.get(customer);
    if (list === undefined) orderDays.set(customer, [...days]);
    else list.push(...days);
  }
  for (const [customer, list] of orderDays)
    orderDays.set(
      customer,
      [...new Set(list)].sort((a, b) => a - b),
    );
  // Asked pair by pair, Monday after Monday: each customer's median is kept for the Monday it was asked for.
  const medians = new Map<string, { monday: number; value: number | null }>();
  const customerMedian = (customer: string, monday: number) => {
    const known = medians.get(customer);
    if (known?.monday === monday) return known.value;
    const all = orderDays.get(customer) ?? [];
    let n = 0;
    while (n < all.length && (all[n] as number) < monday) n++;
    const days = all.slice(0, n);
    const gaps = days.slice(1).map((d, i) => d - (days[i] as number));
    const value = gaps.length ? median(gaps) : null;
    medians.set(customer, { monday, value });
    return value;
  };
  return [
    score(
      "the shop's mean gap",
      simpleMethod(buys, mondays, (_c, _l, m) => means.get(m) ?? null),
      mondays,
      scored,
      buys,
    ),
    score(
      "the customer's median gap between orders",
      simpleMethod(buys, mondays, (c, _l, m) => customerMedian(c, m)),
      mondays,
      scored,
      buys,
    ),
  ];
}

/**
 * Replays comeback's own Mondays in memory (the default): the orders are read once; each Monday, every
 * customer's orders placed by 09:00 go through the very functions a `plan` runs (fitShop for the shop's
 * model, planGroup for each reminder), and the week's carts take what `weekly`'s cart selection takes
 * (src/deliver/carts.ts): the open reminders due by the week's Sunday, but not one already in an earlier
 * week's cart with the same due date and number. `--in-transaction` runs the database path instead, and
 * the CLI test checks that both give the same carts. The models are kept by Monday, so replaying at
 * other thresholds does not fit them again.
 */
function replayInMemory(
  db: Db,
  config: Config,
  mondays: readonly number[],
  models: Map<number, ShopModel | null>,
): Sent {
  const products = new ProductIndex(new SupplyRules(config.replenishment), db);
  const overrides = loadOverrides(db);
  const parse = makeDateParser("iso", config.timezone);
  const cutoffs = mondays.map((m) => parse(`${dayString(m)}T09:00`) as string);
  const all: CustomerLines[] = [];
  products.publish(db);
  try {
    for (const { customers } of customerBatches(
      db,
      products,
      config.timezone,
      cutoffs.at(-1) as string,
      customerRanges(db),
      true,
    ))
      all.push(...customers);
  } finally {
    db.exec("DROP TABLE IF EXISTS temp.plan_products");
  }
  const offers = new Map<number, Map<string, number[]>>();
  const offered = new Set<string>();
  const sent: Sent = new Map();
  const taken = new Int32Array(all.length);
  /** Each customer's orders up to the current Monday, and what is derived from them alone (kept while no order is added). */
  interface Prefix {
    customer: CustomerLines;
    learned: Learned | null;
    history: ReturnType<typeof historyOf>;
    groups: [group: string, purchases: ReturnType<typeof purchasesOf>][];
  }
  const prefixes: (Prefix | null)[] = all.map(() => null);
  mondays.forEach((monday, w) => {
    const cutoff = Date.parse(cutoffs[w] as string) / 1000;
    const current: Prefix[] = [];
    all.forEach((customer, i) => {
      let n = taken[i] as number;
      const times = customer.times as Map<number, number>;
      while (
        n < customer.lines.length &&
        (times.get((customer.lines[n] as PlanLine).orderId) as number) <= cutoff
      )
        n++;
      if (n === 0) return;
      if (n !== taken[i] || prefixes[i] === null) {
        taken[i] = n;
        const lines: CustomerLines = {
          customerId: customer.customerId,
          usageFactor: customer.usageFactor,
          lines: customer.lines.slice(0, n),
        };
        prefixes[i] = {
          customer: lines,
          learned: learnedOf(lines, products),
          history: historyOf(lines.customerId, lines.lines),
          groups: [...linesByGroup(lines, products)].map(([group, groupLines]) => [
            group,
            purchasesOf(groupLines),
          ]),
        };
      }
      current.push(prefixes[i] as Prefix);
    });
    let model = models.get(monday);
    if (model === undefined) {
      model = config.replenishment.learn_from_history
        ? fitShop(
            current.map((c) => c.learned).filter((l): l is Learned => l !== null),
            monday,
          )
        : null;
      models.set(monday, model);
    }
    const settings = planSettings(config, cutoffs[w] as string, model);
    const sunday = dayString(monday + 6);
    const week = new Set<string>();
    const keys: string[] = [];
    for (const { customer, history, groups } of current) {
      const activity = activityOf(history, offers.get(customer.customerId));
      for (const [group, purchases] of groups) {
        const outcome = planGroup(
          group,
          purchases,
          products.list,
          { ...customerSettings(customer.customerId, group, customer.usageFactor, overrides), activity },
          settings,
        );
        const row = outcome.row;
        if (!outcome.keep || row === null || row.state !== "open" || row.due_on > sunday) continue;
        const key = `${customer.customerId}\t${group}\t${row.due_on}\t${row.reminder_number}`;
        if (offered.has(key)) continue;
        keys.push(key);
        week.add(`${customer.customerId}\t${group}`);
        let groups = offers.get(customer.customerId);
        if (groups === undefined) offers.set(customer.customerId, (groups = new Map()));
        const list = groups.get(group);
        if (list === undefined) groups.set(group, [monday]);
        else list.push(monday);
      }
    }
    for (const key of keys) offered.add(key);
    sent.set(monday, week);
  });
  return sent;
}

/** Replays comeback's own Mondays with `config` through the database, in a transaction rolled back afterwards. */
async function replay(db: Db, config: Config, mondays: readonly number[]): Promise<Sent> {
  const sent: Sent = new Map();
  const parse = makeDateParser("iso", config.timezone);
  db.exec("BEGIN IMMEDIATE");
  try {
    db.exec("DELETE FROM cart_items; DELETE FROM carts");
    for (const monday of mondays) {
      const now = parse(`${dayString(monday)}T09:00`) as string;
      await startReplenishment(db, config, now, { nested: true }).finish();
      const { created } = assembleCarts(db, isoWeekOf(now, config.timezone), {
        defaultCurrency: config.currency,
        now,
      });
      const week = new Set<string>();
      for (const cart of created)
        for (const item of cart.items) week.add(`${cart.customer_id}\t${item.group_key}`);
      sent.set(monday, week);
    }
  } finally {
    if (db.inTransaction) db.exec("ROLLBACK");
  }
  return sent;
}

const mondayOnOrAfter = (day: number) => day + ((8 - isoWeekday(day)) % 7);
const mondayOnOrBefore = (day: number) => day - (isoWeekday(day) - 1);
/** 1 = Monday … 7 = Sunday; day 0 (1970-01-01) was a Thursday. */
const isoWeekday = (day: number) => ((((day + 3) % 7) + 7) % 7) + 1;

function parseDay(flag: string, text: string): number {
  const day = dayNumber(text.trim());
  if (Number.isNaN(day)) throw new UsageError(`${flag} "${text}": expected a date such as 2026-03-02`);
  return day;
}

export interface BacktestOptions {
  from?: string;
  to?: string;
  /** Also replay at these thresholds. */
  thresholds?: readonly number[];
  /** Replay through the database (plan and carts in a rolled-back transaction) instead of in memory. */
  inTransaction?: boolean;
}

export async function runBacktest(db: Db, config: Config, options: BacktestOptions): Promise<BacktestReport> {
  const { buys, newest } = readBuys(db, config.timezone);
  if (newest === null) throw new UsageError("no purchases to replay: import the orders first");
  // By default the last Mondays whose whole 28-day window the data covers.
  const last =
    options.to !== undefined
      ? mondayOnOrBefore(parseDay("--to", options.to))
      : mondayOnOrBefore(newest + 1 - WINDOW);
  const first =
    options.from !== undefined
      ? mondayOnOrAfter(parseDay("--from", options.from))
      : last - 7 * (DEFAULT_SCORED_MONDAYS - 1);
  if (first > last) throw new UsageError(`--from ${dayString(first)} is after --to ${dayString(last)}`);
  const mondays: number[] = [];
  for (let m = first - 7 * WARMUP_MONDAYS; m <= last; m += 7) mondays.push(m);
  const scored = mondays.filter((m) => m >= first);
  const threshold = config.replenishment.min_probability;
  const models = new Map<number, ShopModel | null>();
  const replayWith = async (at: Config) =>
    options.inTransaction ? await replay(db, at, mondays) : replayInMemory(db, at, mondays, models);
  const comeback = score(
    `comeback (min_probability ${threshold})`,
    await replayWith(config),
    mondays,
    scored,
    buys,
  );
  const thresholds: Scores[] = [];
  for (const t of options.thresholds ?? []) {
    if (t === threshold) continue;
    const at = { ...config, replenishment: { ...config.replenishment, min_probability: t } };
    thresholds.push(score(`comeback (min_probability ${t})`, await replayWith(at), mondays, scored, buys));
  }
  return {
    from: dayString(first),
    to: dayString(last),
    mondays: scored.length,
    warmup_mondays: WARMUP_MONDAYS,
    min_probability: threshold,
    comeback,
    baselines: baselines(buys, mondays, scored),
    thresholds,
  };
}
