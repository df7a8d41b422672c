/**
 * `plan` for replenishment: every reminder recomputed from the facts, as of `now`.
 */

import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import type { Config } from "../../config/schema.js";
import type { Db } from "../../store/open.js";
import { planBatches, type BatchResult, type PlanJob } from "./batch.js";
import type { History } from "../lifecycle/history.js";
import type { PlanSettings } from "./compute.js";
import { isoWeekOf } from "./dates.js";
import { countDue } from "./due.js";
import { dayString, localDayOf } from "../days.js";
import { customerRanges, productKey, ProductIndex, type CustomerRange } from "./facts.js";
import { learnShop, loadOffers, type ShopModel } from "./shop-model.js";
import { SupplyRules } from "./rules.js";
import { deferIndexesIfEmpty } from "../../store/indexes.js";
import { ReminderWriter, type MergeCounts } from "./persist.js";
import type { PlannerTask } from "./plan-worker.js";

export interface UnknownProduct {
  sku: string | null;
  name: string | null;
  /** Orders (not cancelled, up to now) of customers it could not be planned for. */
  orders: number;
}

/** The merge counts (new, changed, unchanged, removed, satisfied, expired: see MergeCounts), and: */
export interface ReplenishmentReport extends MergeCounts {
  /** The shop's date of `now`, and its ISO week. */
  today: string;
  week: string;
  /**
   * The reminders the batch of the week of `now` puts in carts, after this plan: open ones due in the
   * week and overdue ones not offered yet (the selection `comeback due` lists: due.ts).
   */
  due_this_week: number;
  /** Of those, the ones due before the week (overdue). */
  overdue_this_week: number;
  /** Open, paused, satisfied and expired reminders after this plan. */
  reminders: { open: number; paused: number; satisfied: number; expired: number };
  /** Products with no rule, no days_per_unit and nothing learnable, most ordered first. */
  unknown_products: UnknownProduct[];
  /** Threads the customers were planned on besides the main one (0 for a shop of one batch). */
  planner_threads: number;
}

export function planSettings(config: Config, nowIso: string, model: ShopModel | null = null): PlanSettings {
  return {
    leadDays: config.replenishment.lead_days,
    maxReminders: config.replenishment.max_reminders,
    learn: config.replenishment.learn_from_history,
    today: localDayOf(nowIso, config.timezone),
    model: config.replenishment.learn_from_history ? model : null,
    minProbability: config.replenishment.min_probability,
    cooldownDays: config.replenishment.cooldown_days,
  };
}

/** The shop's model and offers as of `nowIso` (what every customer's plan is pooled with). */
export function learnFromShop(
  db: Db,
  config: Config,
  nowIso: string,
): { model: ShopModel | null; offers: Map<number, Map<string, number[]>> } {
  const today = localDayOf(nowIso, config.timezone);
  const offers = loadOffers(db, today);
  if (!config.replenishment.learn_from_history) return { model: null, offers };
  const products = new ProductIndex(new SupplyRules(config.replenishment), db);
  products.publish(db);
  try {
    return { model: learnShop(db, products, config.timezone, nowIso, today), offers };
  } finally {
    db.exec("DROP TABLE IF EXISTS temp.plan_products");
  }
}

/** Planner threads at most: the work splits by batches of customers; SQLite takes one writer. */
const MAX_PLANNER_THREADS = 2;
const PLANNER = new URL("./plan-worker.js", import.meta.url);

export interface ReplenishmentRun {
  /**
   * Waits for the planning, writes what changed, and reports, with every customer's purchase
   * history (read on the way, for the lifecycle planner).
   */
  finish(): Promise<{ report: ReplenishmentReport; histories: History[] }>;
}

/**
 * Starts recomputing every reminder as of `nowIso` (UTC ISO). Orders placed after it are ignored,
 * so a past Monday can be replayed. The caller holds the write transaction (BEGIN IMMEDIATE) from
 * before this call until after finish(): a plan that fails leaves the reminders as they were.
 *
 * A shop of more than one batch of customers is planned on planner threads, which read and compare;
 * this thread writes their changes as they come.
 */
export function startReplenishment(
  db: Db,
  config: Config,
  nowIso: string,
  options: { nested: boolean },
): ReplenishmentRun {
  const { model, offers } = learnFromShop(db, config, nowIso);
  const job: PlanJob = {
    replenishment: config.replenishment,
    timezone: config.timezone,
    nowIso,
    settings: planSettings(config, nowIso, model),
    offers,
  };
  const ranges = customerRanges(db);
  const rebuildIndexes = deferIndexesIfEmpty(db, "reminders");
  const writer = new ReminderWriter(db, nowIso);
  const unknown = new Map<string, UnknownProduct>();
  const histories: History[] = [];
  const take = (result: BatchResult) => {
    writer.write(result.changes);
    for (const history of result.histories) histories.push(history);
    for (const [sku, name, orders] of result.unknown) {
      // By the key the planners' product lists use, so the threads count a product as one thread would.
      const key = productKey(sku, name);
      const known = unknown.get(key);
      if (known) known.orders += orders;
      else unknown.set(key, { sku, name, orders });
    }
  };
  const report = (threads: number) => {
    rebuildIndexes();
    return {
      report: summarize(db, job.settings, writer.counts, [...unknown.values()], threads),
      histories,
    };
  };

  const threads = Math.min(MAX_PLANNER_THREADS, ranges.length, availableParallelism());
  if (threads < 2 || !threadsCanRead(db, options.nested)) {
    return {
      finish: async () => {
        planBatches(
          db,
          job,
          ranges,
          ranges.map((_, i) => i),
          take,
        );
        return report(0);
      },
    };
  }
  const planned = planOnThreads(db.name, job, ranges, threads, take);
  return {
    finish: async () => {
      await planned;
      return report(threads);
    },
  };
}

/**
 * Whether planner threads on connections of their own would read exactly the facts this connection
 * sees, and let it write meanwhile. Not for a plan inside a caller's transaction (their uncommitted
 * writes would be invisible to the threads), an in-memory database, or one that is not in WAL mode
 * (where `PRAGMA journal_mode = WAL` did not take, e.g. on some network filesystems): there a reader's
 * lock keeps the writer from spilling its cache to the file, and planners waiting for their batches
 * to be written would wait forever. Nor when run from the TypeScript sources (the tests), where there
 * is no built planner thread beside this module.
 */
function threadsCanRead(db: Db, nested: boolean): boolean {
  return (
    !nested &&
    !db.memory &&
    db.pragma("journal_mode", { simple: true }) === "wal" &&
    existsSync(fileURLToPath(PLANNER))
  );
}

/**
 * Runs the planner threads, batches dealt out in turn, and hands their results to `take` in batch
 * order (so a plan writes the same rows in the same order however the threads interleave). A
 * planner waits (before posting) while UNWRITTEN_LIMIT of its batches are not written yet; the one
 * it holds back is always a later one than those, so the writer's next batch is never held back.
 */
function planOnThreads(
  dbPath: string,
  job: PlanJob,
  ranges: CustomerRange[],
  threads: number,
  take: (result: BatchResult) => void,
): Promise<void> {
  const pending = new Map<number, BatchResult>();
  let next = 0;
  const unwritten = new Int32Array(new SharedArrayBuffer(4 * threads));
  const workers: Worker[] = [];
  for (let thread = 0; thread < threads; thread++) {
    const indexes = ranges.map((_, i) => i).filter((i) => i % threads === thread);
    const task: PlannerTask = {
      dbPath,
      job,
      ranges: indexes.map((i) => ranges[i]!),
      indexes,
      unwritten,
      thread,
    };
    // A planner holds one batch at a time: a young generation of 24 MB (V8's default is larger) keeps
    // the two threads from adding 100 MB to a plan's RSS (measured 240 MB for a replan of the
    // benchmark shop instead of 345), for 0.2 s; the old-generation limit is only a safety net.
    const resourceLimits = { maxYoungGenerationSizeMb: 24, maxOldGenerationSizeMb: 1024 };
    try {
      workers.push(new Worker(PLANNER, { workerData: task, resourceLimits }));
    } catch (error) {
      // A planner already started would wait forever for its batches to be written.
      for (const worker of workers) void worker.terminate();
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }
  return new Promise<void>((resolve, reject) => {
    let running = workers.length;
    let failed = false;
    const fail = (error: unknown) => {
      if (failed) return;
      failed = true;
      for (const worker of workers) void worker.terminate();
      reject(error instanceof Error ? error : new Error(String(error)));
    };
    for (const worker of workers) {
      worker.on("message", (result: BatchResult) => {
        if (failed) return;
        pending.set(result.index, result);
        try {
          for (let ready = pending.get(next); ready !== undefined; ready = pending.get(next)) {
            pending.delete(next);
            take(ready);
            const thread = next++ % threads;
            Atomics.sub(unwritten, thread, 1);
            Atomics.notify(unwritten, thread);
          }
        } catch (error) {
          fail(error);
        }
      });
      worker.on("error", fail);
      // A batch that can't be received is a batch lost: the plan must not commit without it.
      worker.on("messageerror", fail);
      worker.on("exit", (code) => {
        if (failed) return;
        if (code !== 0) return fail(new Error(`a planner thread stopped unexpectedly (exit ${code})`));
        if (--running === 0) {
          if (next === ranges.length) resolve();
          else fail(new Error(`the planner threads planned ${next} of ${ranges.length} batches`));
        }
      });
    }
  });
}

function summarize(
  db: Db,
  settings: PlanSettings,
  counts: MergeCounts,
  unknownProducts: UnknownProduct[],
  threads: number,
): ReplenishmentReport {
  const week = isoWeekOf(settings.today);
  const due = countDue(db, {
    label: week.label,
    monday: dayString(week.monday),
    sunday: dayString(week.sunday),
  });
  const states = { open: 0, paused: 0, satisfied: 0, expired: 0 };
  for (const row of db
    .prepare<[], { state: keyof typeof states; n: number }>(
      "SELECT state, count(*) AS n FROM reminders GROUP BY state",
    )
    .all()) {
    states[row.state] = row.n;
  }
  const unknown = unknownProducts.sort(
    (a, b) => b.orders - a.orders || (a.sku ?? a.name ?? "").localeCompare(b.sku ?? b.name ?? ""),
  );
  return {
    today: dayString(settings.today),
    week: week.label,
    ...counts,
    due_this_week: due.due,
    overdue_this_week: due.overdue,
    reminders: states,
    unknown_products: unknown,
    planner_threads: threads,
  };
}
