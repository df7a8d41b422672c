/**
 * One reminder from one customer's purchases of one group: the pure heart of replenishment.
 * Everything it needs comes in as arguments, so `plan` and `remind show` run the very same code.
 */
import { currentReminder, firstDueDay, roundDays, supplyDays } from "./arithmetic.js";
import { dayString } from "../days.js";
import type { Purchase } from "./purchases.js";
import { learnedRate, MIN_PURCHASES_TO_LEARN, type LearnedRate } from "./rhythm.js";
import type { ProductFacts, SupplyRule } from "./rules.js";
import { pooledGap, pooledOrderGap } from "./pooling.js";
import type { CustomerActivity, ShopModel } from "./shop-model.js";
import { gapSums, ordersFrom, repeatOf } from "./shop-model.js";
import {
  chance,
  factorOn,
  mondayOnOrAfter,
  nextWindow,
  probabilityOn,
  WINDOW_DAYS,
  type PairTiming,
} from "./survival.js";

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
  /** Their orders and offers, for groups timed by the shop's gaps (absent: those are not planned). */
  activity?: CustomerActivity;
}

export interface PlanSettings {
  leadDays: number;
  maxReminders: number;
  learn: boolean;
  /** Day number of `now` in the shop's timezone. */
  today: number;
  /** What the whole shop teaches (null: learn_from_history is off). */
  model: ShopModel | null;
  /** A group without a rule goes in a cart once P(bought within 28 days) reaches this. */
  minProbability: number;
  /** …and not again within this many days of its last offer. */
  cooldownDays: number;
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

  const latestProduct = products[(purchases.at(-1) as Purchase).pid] as PlanProduct;
  if (latestProduct.rule === null && settings.model !== null && customer.activity !== undefined)
    return planTimed(
      groupKey,
      purchases,
      products,
      customer,
      settings,
      settings.model,
      customer.activity,
      note,
      notes,
    );

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

/** Order days after `day`, counted up to 3 (the table's last class is 3+). */
function ordersAfter(days: readonly number[], day: number): number {
  let n = 0;
  for (let i = days.length - 1; i >= 0 && (days[i] as number) > day && n < 3; i--) n++;
  return n;
}

const pct = (p: number) => `${Math.round(p * 100)} %`;

/**
 * A group no rule times: its expected gap pooled from the customer's, the group's and the shop's
 * gaps; due on the first day from which the chance of a purchase within WINDOW_DAYS reaches the
 * threshold, no sooner than the cooldown after its last offer.
 */
function planTimed(
  groupKey: string,
  purchases: readonly Purchase[],
  products: readonly PlanProduct[],
  customer: CustomerSettings,
  settings: PlanSettings,
  model: ShopModel,
  activity: CustomerActivity,
  note: (make: () => string) => void,
  notes: string[],
): GroupOutcome {
  const { customerId } = customer;
  const purchase = purchases.at(-1) as Purchase;
  const product = products[purchase.pid] as PlanProduct;
  const days = purchases.map((p) => p.day);
  const pooled = pooledGap(model.prior, groupKey, gapSums(days));
  const usage = customer.manualUsageFactor ?? 1;
  const orderGap = pooledOrderGap(model.prior, activity.orderSums);
  const repeat = repeatOf(model.repeat, groupKey, purchases.length);
  const timing: PairTiming = {
    purchases: purchases.length,
    lastPurchaseDay: purchase.day,
    expectedGap: pooled.days * usage,
    spread: pooled.spread,
    repeat: repeat?.chance ?? 1,
    lastOrderDay: activity.lastOrderDay,
    orderGap,
    ordersSince: ordersAfter(activity.orderDays, purchase.day),
    share: purchases.length / ordersFrom(activity.orderDays, (purchases[0] as Purchase).day),
  };
  note(
    () =>
      `expected gap ${fmt(Math.round(pooled.days * 10) / 10)} days: ` +
      (pooled.ownGaps > 0
        ? `the customer's own ${pooled.ownGaps} gap(s) weigh ${pct(pooled.ownShare)}, `
        : "no gap of the customer's own yet, ") +
      `the group's typical ${fmt(Math.round(pooled.groupDays * 10) / 10)} days (from ${pooled.groupGaps} gaps across the shop, pooled with the shop's) ` +
      `${pct(1 - pooled.ownShare)}; quantity does not scale it (no rule says it is used up per unit)` +
      (usage !== 1 ? `; × usage factor ${fmt(usage)} set by the admin` : ""),
  );
  if (repeat !== null)
    note(() =>
      repeat.rebuyers > 0
        ? `bought once so far: of ${fmt(Math.round(repeat.buyers * 10) / 10)} buyer(s) of the group across the shop, ${repeat.rebuyers} came back for it; ` +
          `pooled with the shop's, the chance that a buyer comes back for it at all is ${pct(repeat.chance)}`
        : `bought once so far, and nobody in the shop ever came back for it (${fmt(Math.round(repeat.buyers * 10) / 10)} buyer(s) who had the time to): ` +
          `the chance that it is bought again at all is ${pct(repeat.chance)}`,
    );
  note(
    () =>
      `the customer orders about every ${fmt(Math.round(orderGap * 10) / 10)} days, last on ${dayString(activity.lastOrderDay)}`,
  );
  const offers = activity.offers?.get(groupKey) ?? [];
  let lastOffer: number | null = null;
  let offersSince = 0;
  for (const monday of offers) {
    if (monday > settings.today) break;
    lastOffer = monday;
    if (monday > purchase.day) offersSince++;
  }
  const override = customer.override;
  const cooldown = Math.max(
    1,
    roundDays(override?.cycleDays ?? customer.overrideAll?.cycleDays ?? settings.cooldownDays),
  );
  const start = Math.max(purchase.day + 1, lastOffer === null ? 0 : lastOffer + Math.ceil(cooldown));
  if (lastOffer !== null)
    note(
      () =>
        `last offered in the week of ${dayString(lastOffer)}: not again before ${dayString(start)} (cooldown ${fmt(cooldown)} days)`,
    );
  const from = mondayOnOrAfter(Math.max(settings.today, purchase.day + 1));
  note(
    () =>
      `chance of a purchase within ${WINDOW_DAYS} days from Monday ${dayString(from)}: ${pct(probabilityOn(model.table, timing, from))} = ` +
      `${pct(chance(timing, from))} (the gap open ${from - purchase.day} days against the expected ${fmt(Math.round(timing.expectedGap * 10) / 10)}` +
      (repeat !== null ? `, with the ${pct(timing.repeat)} chance that it is bought again at all` : "") +
      `) × ${fmt(factorOn(model.table, timing, from))} (how pairs like it bought in the shop's own history: ${purchases.length} purchase(s), as far into their expected gap, ` +
      `as long since any order and with ${timing.ordersSince < 3 ? timing.ordersSince : "3 or more"} order(s) without it since); threshold ${pct(settings.minProbability)}`,
  );

  let state: ReminderState = "open";
  let firstDue: number;
  let expiresOn: number;
  const window = nextWindow(model.table, timing, start, settings.today, settings.minProbability);
  let basis: Basis = customer.manualUsageFactor !== null ? "manual" : "learned";
  if (offersSince >= settings.maxReminders) {
    state = "expired";
    firstDue = lastOffer as number;
    expiresOn = start;
    note(() => `expired: offered ${offersSince} times since the purchase, the most max_reminders allows`);
  } else if (window.kind === "due") {
    firstDue = window.from;
    expiresOn = Number.POSITIVE_INFINITY;
    note(
      () =>
        `due ${dayString(firstDue)}: from that Monday on the chance is ${pct(window.probability)}, at or above the threshold (the first such Monday from ${dayString(start)} whose chance still holds now)`,
    );
  } else if (window.kind === "passed") {
    state = "expired";
    firstDue = window.endedOn - 1;
    expiresOn = window.endedOn;
    note(() => `expired: the chance fell below the threshold on ${dayString(window.endedOn)}`);
  } else {
    note(() => "the chance never reaches the threshold: no reminder");
    return { customerId, groupKey, planned: true, row: null, keep: false, learnedWithoutRule: true, notes };
  }
  if (override?.dueDay != null && override.duePurchaseOrderId === purchase.orderId) {
    basis = "manual";
    state = "open";
    firstDue = override.dueDay;
    note(() => `due date ${dayString(firstDue)} set by the admin (remind set --due) for this purchase`);
  }
  if (state === "open" && (override?.paused || customer.overrideAll?.paused)) {
    state = "paused";
    note(() => `paused by the admin (remind pause${override?.paused ? " --group" : ""})`);
  }
  const keep = !(state === "expired" && expiresOn < settings.today - EXPIRED_KEPT_DAYS);
  if (!keep && notes.length === 0)
    return { customerId, groupKey, planned: true, row: null, keep, learnedWithoutRule: true, notes };
  const gap = roundDays(timing.expectedGap);
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
      days_per_unit: gap,
      usage_factor: usage,
      supply_days: gap,
      basis,
      lead_days: 0,
      cycle_days: cooldown,
      first_due_on: dayString(firstDue),
      due_on: dayString(firstDue),
      reminder_number: Math.min(offersSince + 1, settings.maxReminders),
      state,
    },
    keep,
    learnedWithoutRule: true,
    notes,
  };
}
