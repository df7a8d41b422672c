/**
 * `plan` for replenishment: every reminder recomputed from the facts, as of `now`.
 */
import type { Config } from "../../config/schema.js";
import type { Db } from "../../store/open.js";
import { planGroup, type PlanSettings } from "./compute.js";
import { dayString, isoWeekOf, localDayOf } from "./dates.js";
import {
  customerBatches,
  customerSettings,
  loadOverrides,
  ProductIndex,
  type CustomerLines,
  type Overrides,
} from "./facts.js";
import { ReminderWriter } from "./persist.js";
import type { GroupOutcome } from "./compute.js";
import { purchasesOf, type PlanLine, type Purchase } from "./purchases.js";
import { SupplyRules } from "./rules.js";

export interface UnknownProduct {
  sku: string | null;
  name: string | null;
  /** Orders (not cancelled, up to now) of customers it could not be planned for. */
  orders: number;
}

export interface ReplenishmentReport {
  /** The shop's date of `now`, and its ISO week. */
  today: string;
  week: string;
  new: number;
  changed: number;
  unchanged: number;
  /** Reminders deleted because nothing derives them any more (a cancelled purchase, an earlier --now). */
  removed: number;
  satisfied: number;
  expired: number;
  /** Open reminders due in the week of `now`, after this plan. */
  due_this_week: number;
  /** Open, paused, satisfied and expired reminders after this plan. */
  reminders: { open: number; paused: number; satisfied: number; expired: number };
  /** Products with no rule, no days_per_unit and nothing learnable, most ordered first. */
  unknown_products: UnknownProduct[];
}

export function planSettings(config: Config, nowIso: string): PlanSettings {
  return {
    leadDays: config.replenishment.lead_days,
    maxReminders: config.replenishment.max_reminders,
    learn: config.replenishment.learn_from_history,
    today: localDayOf(nowIso, config.timezone),
  };
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
 * Recomputes every reminder as of `nowIso` (UTC ISO). Orders placed after it are ignored, so a
 * past Monday can be replayed. One transaction: a plan that fails leaves the reminders as they were.
 */
export function planReplenishment(db: Db, config: Config, nowIso: string): ReplenishmentReport {
  const settings = planSettings(config, nowIso);
  const run = db.transaction((): ReplenishmentReport => {
    const products = new ProductIndex(new SupplyRules(config.replenishment), db);
    products.publish(db);
    const overrides: Overrides = loadOverrides(db);
    const writer = new ReminderWriter(db, nowIso);
    const unknownOrders = new Map<number, number>();

    for (const { from, to, customers } of customerBatches(db, products, config.timezone, nowIso)) {
      const outcomes: GroupOutcome[] = [];
      for (const customer of customers) {
        for (const [groupKey, lines] of linesByGroup(customer, products)) {
          const purchases: Purchase[] = purchasesOf(lines);
          const outcome = planGroup(
            groupKey,
            purchases,
            products.list,
            customerSettings(customer.customerId, groupKey, customer.usageFactor, overrides),
            settings,
          );
          outcomes.push(outcome);
          if (!outcome.learnedWithoutRule) {
            for (const line of lines) {
              if (line.quantity > 0 && products.list[line.pid]?.rule === null) {
                unknownOrders.set(line.pid, (unknownOrders.get(line.pid) ?? 0) + 1);
              }
            }
          }
        }
      }
      writer.sync(from, to, outcomes);
    }

    const counts = writer.counts;
    db.exec("DROP TABLE IF EXISTS temp.plan_products");
    const week = isoWeekOf(settings.today);
    const dueThisWeek = db
      .prepare("SELECT count(*) FROM reminders WHERE state = 'open' AND due_on BETWEEN ? AND ?")
      .pluck()
      .get(dayString(week.monday), dayString(week.sunday)) as number;
    const states = { open: 0, paused: 0, satisfied: 0, expired: 0 };
    for (const row of db
      .prepare<[], { state: keyof typeof states; n: number }>(
        "SELECT state, count(*) AS n FROM reminders GROUP BY state",
      )
      .all()) {
      states[row.state] = row.n;
    }
    const unknown = [...unknownOrders]
      .map(([pid, orders]) => {
        const product = products.list[pid] as { sku: string | null; name: string | null };
        return { sku: product.sku, name: product.name, orders };
      })
      .sort((a, b) => b.orders - a.orders || (a.sku ?? a.name ?? "").localeCompare(b.sku ?? b.name ?? ""));
    return {
      today: dayString(settings.today),
      week: week.label,
      ...counts,
      due_this_week: dueThisWeek,
      reminders: states,
      unknown_products: unknown,
    };
  });
  return run.immediate();
}
