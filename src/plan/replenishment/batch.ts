/**
 * Planning one batch of customers: read their lines, plan every group, compare with the stored
 * reminders, and pass on each customer's purchase history for the lifecycle. Reads only, so it
 * runs on the writing connection or on a planner thread's own.
 */
import type { ReplenishmentConfig } from "../../config/replenishment.js";
import type { Db } from "../../store/open.js";
import { historyOf, type History } from "../lifecycle/history.js";
import { planGroup, type GroupOutcome, type PlanSettings } from "./compute.js";
import {
  customerBatches,
  customerSettings,
  loadOverrides,
  ProductIndex,
  type CustomerLines,
  type CustomerRange,
  type Overrides,
} from "./facts.js";
import { activityOf, type CustomerActivity } from "./shop-model.js";
import { ReminderDiff, type ReminderChanges } from "./persist.js";
import { purchasesOf, type PlanLine } from "./purchases.js";
import { SupplyRules } from "./rules.js";

/** What planning needs besides the database: plain data, so it can be handed to a thread. */
export interface PlanJob {
  replenishment: ReplenishmentConfig;
  timezone: string;
  nowIso: string;
  settings: PlanSettings;
  /** Each customer's groups' offers (Mondays of the weeks they were in a cart), for the cooldown. */
  offers: Map<number, Map<string, number[]>>;
}

/** A product no rule covers and nothing could be learned for: sku, name, and orders of it. */
export type UnknownCount = [sku: string | null, name: string | null, orders: number];

export interface BatchResult {
  /** The batch's place among all batches: results are written in this order. */
  index: number;
  changes: ReminderChanges;
  unknown: UnknownCount[];
  /** The batch's customers' purchase histories, for the lifecycle (in customer order). */
  histories: History[];
}

/** One customer's groups: each group's lines, in time order, keyed by group. */
export function linesByGroup(customer: CustomerLines, products: ProductIndex): Map<string, PlanLine[]> {
  const groups = new Map<string, PlanLine[]>();
  for (const line of customer.lines) {
    const key = (products.list[line.pid] as { groupKey: string }).groupKey;
    let lines = groups.get(key);
    if (lines === undefined) groups.set(key, (lines = []));
    lines.push(line);
  }
  return groups;
}

/**
 * Plans the batches of `ranges` (whose places among all batches are `indexes`) on one connection,
 * handing each batch's result to `emit`. The products and the admin's overrides are read once.
 */
export function planBatches(
  db: Db,
  job: PlanJob,
  ranges: readonly CustomerRange[],
  indexes: readonly number[],
  emit: (result: BatchResult) => void,
): void {
  const products = new ProductIndex(new SupplyRules(job.replenishment), db);
  products.publish(db);
  const overrides = loadOverrides(db);
  const diff = new ReminderDiff(db);
  let position = 0;
  for (const { from, to, customers } of customerBatches(db, products, job.timezone, job.nowIso, ranges)) {
    const compare = diff.batch(from, to);
    const unknownOrders = new Map<number, number>();
    const histories: History[] = [];
    for (const customer of customers) {
      const history = historyOf(customer.customerId, customer.lines);
      if (history !== null) histories.push(history);
      const activity = activityOf(history, job.offers.get(customer.customerId));
      planCustomer(customer, products, overrides, job.settings, activity, compare.add, unknownOrders);
    }
    const unknown: UnknownCount[] = [...unknownOrders].map(([pid, orders]) => {
      const product = products.list[pid] as { sku: string | null; name: string | null };
      return [product.sku, product.name, orders];
    });
    emit({ index: indexes[position++] as number, changes: compare.finish(), unknown, histories });
  }
  db.exec("DROP TABLE IF EXISTS temp.plan_products");
}

/** Plans each of one customer's groups, handing every outcome to `take`, and counts unknown products. */
function planCustomer(
  customer: CustomerLines,
  products: ProductIndex,
  overrides: Overrides,
  settings: PlanSettings,
  activity: CustomerActivity | undefined,
  take: (outcome: GroupOutcome) => void,
  unknownOrders: Map<number, number>,
): void {
  const { customerId, usageFactor } = customer;
  // Without overrides of their reminders (nearly every customer) all their groups share one settings object.
  const shared = overrides.reminders.has(customerId)
    ? null
    : { ...customerSettings(customerId, "", usageFactor, overrides), activity };
  for (const [groupKey, lines] of linesByGroup(customer, products)) {
    const outcome = planGroup(
      groupKey,
      purchasesOf(lines),
      products.list,
      shared ?? { ...customerSettings(customerId, groupKey, usageFactor, overrides), activity },
      settings,
    );
    take(outcome);
    if (!outcome.learnedWithoutRule) {
      for (const line of lines) {
        if (line.quantity > 0 && products.list[line.pid]?.rule === null) {
          unknownOrders.set(line.pid, (unknownOrders.get(line.pid) ?? 0) + 1);
        }
      }
    }
  }
}
