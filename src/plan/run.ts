/**
 * `comeback plan`: every planner, one after the other, each in its own transaction, as of the same
 * `now`: replenishment reminders, each customer's lifecycle, then the win-back tasks (which read the
 * lifecycle just written).
 */
import type { Config } from "../config/schema.js";
import type { Db } from "../store/open.js";
import { planLifecycle, type LifecycleReport } from "./lifecycle/plan.js";
import { planReplenishment, type ReplenishmentReport } from "./replenishment/plan.js";
import { planTasks, type TasksReport } from "./winback/tasks.js";

export interface PlanReport {
  replenishment: ReplenishmentReport;
  lifecycle: LifecycleReport;
  tasks: TasksReport;
}

export function runPlan(db: Db, config: Config, nowIso: string): PlanReport {
  const replenishment = planReplenishment(db, config, nowIso);
  const lifecycle = planLifecycle(db, config, nowIso);
  const tasks = planTasks(db, config, nowIso);
  return { replenishment, lifecycle, tasks };
}
