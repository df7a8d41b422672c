/**
 * `comeback plan`: every planner, one after the other, each in its own transaction, as of the same
 * `now`. A new planner (lifecycle of lost customers, tasks) adds its report here.
 */
import type { Config } from "../config/schema.js";
import type { Db } from "../store/open.js";
import { planReplenishment, type ReplenishmentReport } from "./replenishment/plan.js";

export interface PlanReport {
  replenishment: ReplenishmentReport;
}

export function runPlan(db: Db, config: Config, nowIso: string): PlanReport {
  return { replenishment: planReplenishment(db, config, nowIso) };
}
