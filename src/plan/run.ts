/**
 * `comeback plan`: every planner as of the same `now`, in one transaction: replenishment
 * reminders, each customer's lifecycle, then the win-back tasks (which read the lifecycle just
 * written). A plan that fails or is killed leaves everything as it was.
 *
 * A large shop's reminders are planned on planner threads (see startReplenishment).
 */
import type { Config } from "../config/schema.js";
import type { Db } from "../store/open.js";
import { planLifecycle, type LifecycleReport } from "./lifecycle/plan.js";
import { startReplenishment, type ReplenishmentReport } from "./replenishment/plan.js";
import { planTasks, type TasksReport } from "./winback/tasks.js";
import { closeFilledReorders } from "../answers/reorders.js";

export interface PlanReport {
  replenishment: ReplenishmentReport;
  lifecycle: LifecycleReport;
  tasks: TasksReport;
  /** Reorder requests (confirmed carts) that an imported order closed in this plan. */
  reorders: { closed_by_orders: number };
}

export async function runPlan(db: Db, config: Config, nowIso: string): Promise<PlanReport> {
  // Inside a caller's transaction (weekly --dry-run), a savepoint; else our own, holding the write
  // lock from the start, so the planner threads read exactly the facts this connection sees.
  const nested = db.inTransaction;
  // The plan reads mostly in order and writes each row once: 8 MiB of page cache is as fast as the
  // 32 MiB an import wants, and a plan's RSS counts it (the planner threads' heaps come on top).
  db.pragma("cache_size = -8192");
  db.exec(nested ? "SAVEPOINT plan" : "BEGIN IMMEDIATE");
  try {
    // The lifecycle comes after the reminders, from the purchase histories the planner read on the
    // way and the reminders it wrote (a supply that still lasts keeps a customer active, see
    // lifecycle/supply.ts; test/unit/lifecycle-agreement.test.ts fails if the order is swapped).
    // Not side by side: its working set on top of the planner threads' took a plan of the
    // benchmark shop from 260 to 330–400 MB RSS.
    const { report: replenishment, histories } = await startReplenishment(db, config, nowIso, {
      nested,
    }).finish();
    const lifecycle = planLifecycle(db, config, nowIso, histories);
    const tasks = planTasks(db, config, nowIso);
    // The one place a confirmed cart's loop closes: every import is followed by a plan (weekly plans first).
    const reorders = { closed_by_orders: closeFilledReorders(db, nowIso) };
    db.exec(nested ? "RELEASE plan" : "COMMIT");
    return { replenishment, lifecycle, tasks, reorders };
  } catch (error) {
    if (db.inTransaction) db.exec(nested ? "ROLLBACK TO plan; RELEASE plan" : "ROLLBACK");
    throw error;
  }
}
