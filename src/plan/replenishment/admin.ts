/**
 * The admin's facts about reminders (`comeback remind …`): kept in their own tables, which no plan
 * or import writes, and read by every plan.
 */
import type { Config } from "../../config/schema.js";
import { DataError, UsageError } from "../../errors.js";
import type { Db } from "../../store/open.js";
import { planGroup, type ReminderRow } from "./compute.js";
import { dayNumber, dayString } from "../days.js";
import { customerBatches, customerSettings, loadOverrides, ProductIndex } from "./facts.js";
import { linesByGroup } from "./batch.js";
import { learnFromShop, planSettings } from "./plan.js";
import { historyOf } from "../lifecycle/history.js";
import { activityOf } from "./shop-model.js";
import { purchasesOf, type Purchase } from "./purchases.js";
import { SupplyRules } from "./rules.js";

// One resolver for every --customer (src/store/customers.ts).
export { resolveCustomer, type CustomerRef } from "../../store/customers.js";
import type { CustomerRef } from "../../store/customers.js";

export interface GroupExplanation {
  group: string;
  purchases: { order_id: string; date: string; sku: string | null; quantity: number }[];
  notes: string[];
  /** What plan would store as of now; null when the group is not replenished. */
  reminder: ReminderRow | null;
}

/** Every group the customer bought as of `nowIso`, with what plan would make of it and why. */
export function explainCustomer(
  db: Db,
  config: Config,
  customerId: number,
  nowIso: string,
): GroupExplanation[] {
  const products = new ProductIndex(new SupplyRules(config.replenishment), db);
  products.publish(db);
  const overrides = loadOverrides(db);
  const { model, offers } = learnFromShop(db, config, nowIso);
  products.publish(db);
  const settings = planSettings(config, nowIso, model);
  const orderIds = db.prepare<[number], string>("SELECT external_id FROM orders WHERE id = ?").pluck();
  const result: GroupExplanation[] = [];
  for (const { customers } of customerBatches(db, products, config.timezone, nowIso, [
    [customerId, customerId],
  ])) {
    for (const customer of customers) {
      const history = historyOf(customerId, customer.lines);
      const activity = activityOf(history, offers.get(customerId));
      for (const [group, lines] of linesByGroup(customer, products)) {
        const purchases = purchasesOf(lines);
        const outcome = planGroup(
          group,
          purchases,
          products.list,
          { ...customerSettings(customerId, group, customer.usageFactor, overrides), activity },
          settings,
          true,
        );
        result.push({
          group,
          purchases: purchases.map((p: Purchase) => ({
            order_id: orderIds.get(p.orderId) ?? String(p.orderId),
            date: dayString(p.day),
            sku: products.list[p.pid]?.sku ?? null,
            quantity: p.quantity,
          })),
          notes: outcome.notes,
          reminder: outcome.row,
        });
      }
    }
  }
  db.exec("DROP TABLE IF EXISTS temp.plan_products");
  return result;
}

function latestPurchase(db: Db, config: Config, customerId: number, group: string, nowIso: string): Purchase {
  const products = new ProductIndex(new SupplyRules(config.replenishment), db);
  products.publish(db);
  const groups: string[] = [];
  let found: Purchase | undefined;
  for (const { customers } of customerBatches(db, products, config.timezone, nowIso, [
    [customerId, customerId],
  ])) {
    for (const customer of customers) {
      for (const [key, lines] of linesByGroup(customer, products)) {
        groups.push(key);
        if (key === group) found = purchasesOf(lines).at(-1);
      }
    }
  }
  db.exec("DROP TABLE IF EXISTS temp.plan_products");
  if (found === undefined) {
    throw new DataError(
      `the customer has no purchase of group "${group}" to set a due date for` +
        (groups.length ? ` (their groups: ${groups.join(", ")})` : " (no purchases at all)"),
    );
  }
  return found;
}

export interface SetReminder {
  group: string;
  due?: string;
  cycleDays?: number;
}

/**
 * `remind set`: a due date for the customer's current purchase of the group (a later purchase plans
 * as usual again), and/or how often to repeat the group's reminders.
 */
export function setReminder(
  db: Db,
  config: Config,
  customer: CustomerRef,
  set: SetReminder,
  nowIso: string,
): void {
  if (set.due === undefined && set.cycleDays === undefined)
    throw new UsageError("give --due DATE, --cycle DAYS, or both");
  if (set.due !== undefined && Number.isNaN(dayNumber(set.due))) {
    throw new UsageError(`--due "${set.due}": expected a date such as 2026-03-02`);
  }
  if (set.cycleDays !== undefined && !(set.cycleDays > 0))
    throw new UsageError("--cycle: expected a positive number of days");
  db.transaction(() => {
    const purchase =
      set.due !== undefined ? latestPurchase(db, config, customer.id, set.group, nowIso) : null;
    db.prepare(
      `INSERT INTO reminder_overrides (customer_id, group_key, due_on, purchase_order_id, cycle_days, paused, updated_at)
       VALUES (@customer, @group, @due, @order, @cycle, 0, @now)
       ON CONFLICT (customer_id, group_key) DO UPDATE SET
         due_on = coalesce(@due, due_on),
         purchase_order_id = CASE WHEN @due IS NULL THEN purchase_order_id ELSE @order END,
         cycle_days = coalesce(@cycle, cycle_days), updated_at = @now`,
    ).run({
      customer: customer.id,
      group: set.group,
      due: set.due ?? null,
      order: purchase?.orderId ?? null,
      cycle: set.cycleDays ?? null,
      now: nowIso,
    });
  }).immediate();
}

/** `remind usage`: the customer's usage factor, which wins over an imported one and the learned rhythm; null clears it. */
export function setUsage(db: Db, customer: CustomerRef, factor: number | null, nowIso: string): void {
  if (factor === null) {
    db.prepare("DELETE FROM customer_usage_overrides WHERE customer_id = ?").run(customer.id);
    return;
  }
  if (!(factor > 0) || factor > 100)
    throw new UsageError("--factor: expected a positive number such as 1.9 or 0.7");
  db.prepare(
    `INSERT INTO customer_usage_overrides (customer_id, usage_factor, updated_at) VALUES (?, ?, ?)
     ON CONFLICT (customer_id) DO UPDATE SET usage_factor = excluded.usage_factor, updated_at = excluded.updated_at
     WHERE usage_factor IS NOT excluded.usage_factor`,
  ).run(customer.id, factor, nowIso);
}

/** `remind pause`: one group, or (group omitted) all of the customer's groups. */
export function pause(db: Db, customer: CustomerRef, group: string | undefined, nowIso: string): void {
  db.prepare(
    `INSERT INTO reminder_overrides (customer_id, group_key, paused, updated_at) VALUES (?, ?, 1, ?)
     ON CONFLICT (customer_id, group_key) DO UPDATE SET paused = 1, updated_at = excluded.updated_at WHERE paused = 0`,
  ).run(customer.id, group ?? "*", nowIso);
}

/** `remind resume`: one group, or (group omitted) everything paused for the customer. */
export function resume(db: Db, customer: CustomerRef, group: string | undefined, nowIso: string): void {
  db.transaction(() => {
    if (group !== undefined) {
      const all = db
        .prepare("SELECT paused FROM reminder_overrides WHERE customer_id = ? AND group_key = '*'")
        .pluck()
        .get(customer.id);
      if (all === 1) {
        throw new UsageError(
          "all of this customer's reminders are paused: resume without --group to resume them",
        );
      }
    }
    db.prepare(
      `UPDATE reminder_overrides SET paused = 0, updated_at = ? WHERE customer_id = ? AND paused = 1 AND (? IS NULL OR group_key = ?)`,
    ).run(nowIso, customer.id, group ?? null, group ?? null);
    // A row that says nothing any more is clutter.
    db.prepare(
      "DELETE FROM reminder_overrides WHERE customer_id = ? AND paused = 0 AND due_on IS NULL AND cycle_days IS NULL",
    ).run(customer.id);
  }).immediate();
}

/** Used by `remind show` after explaining: the overrides in force, as the admin set them. */
export function overridesOf(db: Db, customerId: number) {
  return {
    usage_factor:
      (db
        .prepare("SELECT usage_factor FROM customer_usage_overrides WHERE customer_id = ?")
        .pluck()
        .get(customerId) as number | undefined) ?? null,
    reminders: db
      .prepare<
        [number],
        { group_key: string; due_on: string | null; cycle_days: number | null; paused: number }
      >(
        "SELECT group_key, due_on, cycle_days, paused FROM reminder_overrides WHERE customer_id = ? ORDER BY group_key",
      )
      .all(customerId)
      .map((row) => ({ ...row, paused: row.paused === 1 })),
  };
}
