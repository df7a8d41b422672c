/**
 * One reminder from one customer's purchases of one group: the pure heart of replenishment.
 * Everything it needs comes in as arguments, so `plan` and `remind show` run the very same code.
 */
import { currentReminder, firstDueDay, roundDays, supplyDays } from "./arithmetic.js";
import { dayString } from "../days.js";
import type { Purchase } from "./purchases.js";
import { learnedRate, MIN_PURCHASES_TO_LEARN, type LearnedRate } from "./rhythm.js";
import type { ProductFacts, SupplyRule } from "./rules.js";

export type Basis = "rule" | "learned" | "manual";
export type ReminderState = "open" | "paused" | "satisfied" | "expired";

/** A product as planning sees it: its facts and the rule that applies to it, resolved once. */
export interface PlanProduct extends ProductFacts {
  rule: SupplyRule | null;
}

/** The admin's facts about one customer and group (or all their groups). */
export interface ReminderOverride {
  /** A due date (day number) set for one purchase, and that purchase's order id. */
  dueDay: number | null;
  duePurchaseOrderId: number | null;
  cycleDays: number | null;
  paused: boolean;
}

export interface CustomerSettings {
  customerId: number;
  /** From a customers import. */
  importedUsageFactor: number | null;
  /** Set by `remind usage`: wins over the imported one and over the learned rhythm. */
  manualUsageFactor: number | null;
  /** For this group, and for all the customer's groups (`*`). */
  override: ReminderOverride | undefined;
  overrideAll: ReminderOverride | undefined;
}

export interface PlanSettings {
  leadDays: number;
  maxReminders: number;
  learn: boolean;
  /** Day number of `now` in the shop's timezone. */
  today: number;
}

/** A row of the `reminders` table (without updated_at). */
export interface ReminderRow {
  customer_id: number;
  group_key: string;
  purchase_order_id: number;
  sku: string | null;
  product_name: string | null;
  last_purchase_on: string;
  quantity: number;
  days_per_unit: number;
  usage_factor: number;
  supply_days: number;
  basis: Basis;
  lead_days: number;
  cycle_days: number;
  first_due_on: string;
  due_on: string;
  reminder_number: number;
  state: ReminderState;
}

/**
 * An expired reminder stays in the table this many days after it expired, so the admin sees recent
 * outcomes; older ones are history (remind show still explains them). Without this a shop's whole
 * past would sit in the table: three quarters of the benchmark's reminders expired long ago.
 */
export const EXPIRED_KEPT_DAYS = 28;

export interface GroupOutcome {
  customerId: number;
  groupKey: string;
  /** False when nothing could be planned (no rule, nothing learnable): no reminder at all. */
  planned: boolean;
  /**
   * The reminder; null when nothing was planned, and when it is not kept (unless explaining):
   * three quarters of a shop's groups expired long ago, and building their rows was a fifth of a plan.
   */
  row: ReminderRow | null;
  /** False for a reminder that expired more than EXPIRED_KEPT_DAYS ago: it is not stored. */
  keep: boolean;
  /** The customer's own rhythm was what made this group plannable (no rule for the product). */
  learnedWithoutRule: boolean;
  /** Human lines saying how the row came about, when asked for. */
  notes: string[];
}

const fmt = (n: number) => String(Number(n.toFixed(4)));

/** The days-per-unit observations between consecutive purchases (see learnedRate). */
function observations(
  purchases: readonly Purchase[],
  products: readonly PlanProduct[],
  relative: boolean,
): number[] {
  const values: number[] = [];
  for (let i = 0; i + 1 < purchases.length; i++) {
    const purchase = purchases[i] as Purchase;
    const gap = (purchases[i + 1] as Purchase).day - purchase.day;
    const perUnit = gap / purchase.quantity;
    if (!relative) values.push(perUnit);
    else {
      const rule = (products[purchase.pid] as PlanProduct).rule;
      if (rule !== null) values.push(perUnit / rule.daysPerUnit);
    }
  }
  return values;
}

export function planGroup(
  groupKey: string,
  purchases: readonly Purchase[],
  products: readonly PlanProduct[],
  customer: CustomerSettings,
  settings: PlanSettings,
  explain = false,
): GroupOutcome {
  const notes: string[] = [];
  // Explanations are built only when asked for: formatting them for every row would double a plan's time.
  const note = (make: () => string) => {
    if (explain) notes.push(make());
  };
  const { customerId } = customer;
  const none = {
    customerId,
    groupKey,
    planned: false,
    row: null,
    keep: false,
    learnedWithoutRule: false,
    notes,
  };
  if (purchases.length === 0) return none;

  // The customer's own rhythm, learned over all their purchases of the group.
  let learned: LearnedRate | null = null;
  const latest = purchases.at(-1) as Purchase;
  const latestRule = (products[latest.pid] as PlanProduct).rule;
  if (settings.learn && purchases.length >= MIN_PURCHASES_TO_LEARN) {
    const obs = observations(purchases, products, latestRule !== null);
    const rate = learnedRate(obs, latestRule?.daysPerUnit ?? null);
    learned = rate;
    if (rate !== null) {
      note(
        () =>
          `learned from ${rate.observations} gaps between purchases: median ${fmt(rate.unclamped)} days per unit` +
          (latestRule !== null && rate.unclamped !== rate.daysPerUnit
            ? `, kept within ½–2 × the rule: ${fmt(rate.daysPerUnit)}`
            : ""),
      );
    }
  }

  // The purchase the reminder is about: the latest whose supply we can tell. A later purchase we
  // can't plan still answered it: that reminder is satisfied.
  let index = purchases.length - 1;
  if (latestRule === null && learned === null) {
    while (index >= 0 && (products[(purchases[index] as Purchase).pid] as PlanProduct).rule === null) index--;
    if (index < 0) {
      note(() => "no rule, no days_per_unit and too few purchases to learn from: not replenished");
      return none;
    }
  }
  const purchase = purchases[index] as Purchase;
  const product = products[purchase.pid] as PlanProduct;
  const rule = product.rule;
  const answered = index < purchases.length - 1;

  let basis: Basis;
  let daysPerUnit: number;
  let usageFactor: number;
  if (customer.manualUsageFactor !== null) {
    basis = "manual";
    daysPerUnit = rule?.daysPerUnit ?? (learned as { daysPerUnit: number }).daysPerUnit;
    usageFactor = customer.manualUsageFactor;
    note(
      () =>
        `usage factor ${fmt(usageFactor)} set by the admin (remind usage), on ${rule ? rule.source : "the learned rate"}`,
    );
  } else if (learned !== null && !answered) {
    basis = "learned";
    daysPerUnit = learned.daysPerUnit;
    // The customer's own rhythm already shows how fast they use it: a usage factor on top would count it twice.
    usageFactor = 1;
  } else {
    basis = "rule";
    daysPerUnit = (rule as SupplyRule).daysPerUnit;
    usageFactor = customer.importedUsageFactor ?? 1;
    note(() => `${fmt(daysPerUnit)} days per unit from ${(rule as SupplyRule).source}`);
  }
  daysPerUnit = Number(daysPerUnit.toFixed(4));

  const supply = supplyDays(purchase.quantity, daysPerUnit, usageFactor);
  const leadDays = rule?.leadDays ?? settings.leadDays;
  const override = customer.override;
  const cycleDays = Math.max(
    1,
    roundDays(override?.cycleDays ?? customer.overrideAll?.cycleDays ?? rule?.cycleDays ?? supply),
  );
  let firstDue = firstDueDay(purchase.day, supply, leadDays);
  note(
    () =>
      `supply ${fmt(purchase.quantity)} × ${fmt(daysPerUnit)} × ${fmt(usageFactor)} = ${fmt(supply)} days; ` +
      `due ${dayString(purchase.day)} + ${Math.floor(supply)} − ${leadDays} lead days = ${dayString(firstDue)}`,
  );
  if (override?.dueDay != null && override.duePurchaseOrderId === purchase.orderId) {
    basis = "manual";
    firstDue = override.dueDay;
    note(() => `due date ${dayString(firstDue)} set by the admin (remind set --due) for this purchase`);
  }
  const current = currentReminder(firstDue, cycleDays, settings.maxReminders, settings.today);
  note(
    () =>
      `repeats every ${fmt(cycleDays)} days, at most ${settings.maxReminders} times; on ${dayString(settings.today)} ` +
      `reminder ${current.number} is current, due ${dayString(current.dueDay)}`,
  );

  let state: ReminderState;
  if (answered) {
    state = "satisfied";
    note(() => "satisfied: bought again later (a product with no supply rule, so no new reminder starts)");
  } else if (current.expired) {
    state = "expired";
    note(() => `expired: no purchase within ${settings.maxReminders} reminders`);
  } else if (override?.paused || customer.overrideAll?.paused) {
    state = "paused";
    note(() => `paused by the admin (remind pause${override?.paused ? " --group" : ""})`);
  } else state = "open";

  const keep = !(state === "expired" && current.expiresOn < settings.today - EXPIRED_KEPT_DAYS);
  const learnedWithoutRule = rule === null && basis !== "rule";
  if (!keep && !explain)
    return { customerId, groupKey, planned: true, row: null, keep, learnedWithoutRule, notes };
  return {
    customerId,
    groupKey,
    planned: true,
    row: {
      customer_id: customerId,
      group_key: groupKey,
      purchase_order_id: purchase.orderId,
      sku: product.sku,
      product_name: product.name,
      last_purchase_on: dayString(purchase.day),
      quantity: purchase.quantity,
      days_per_unit: daysPerUnit,
      usage_factor: usageFactor,
      supply_days: supply,
      basis,
      lead_days: leadDays,
      cycle_days: cycleDays,
      first_due_on: dayString(firstDue),
      due_on: dayString(current.dueDay),
      reminder_number: current.number,
      state,
    },
    keep,
    learnedWithoutRule,
    notes,
  };
}
