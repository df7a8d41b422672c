/**
 * The replenishment planner on a real SQLite file, called directly (not through the spawned CLI, which
 * Stryker cannot see: MUTATION.md): the reminders table row by row after each plan, the merge counts,
 * the fingerprint skip, the states, and the admin's overrides (`remind set/pause/resume/usage`).
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseConfigText } from "../../src/config/load.js";
import type { Config } from "../../src/config/schema.js";
import { DataError, UsageError } from "../../src/errors.js";
import {
  type CustomerRef,
  explainCustomer,
  overridesOf,
  pause,
  resume,
  setReminder,
  setUsage,
} from "../../src/plan/replenishment/admin.js";
import { fingerprint } from "../../src/plan/replenishment/persist.js";
import { startReplenishment, type ReplenishmentReport } from "../../src/plan/replenishment/plan.js";
import type { ReminderRow } from "../../src/plan/replenishment/compute.js";
import { dayNumber, dayString } from "../../src/plan/days.js";
import { openStore, type Db } from "../../src/store/open.js";

function shopConfig(): Config {
  return parseConfigText(
    `timezone: UTC
replenishment:
  learn_from_history: false
  rules:
    - match: { sku: "LNS-30" }
      days_per_unit: 30
    - match: { sku: "DOG-*" }
      days_per_unit: 30
      lead_days: 3
      cycle_days: 10
`,
    { label: "comeback.yaml", env: {}, baseDir: "/" },
  );
}

let db: Db;
let orderId = 0;
beforeEach(() => {
  db = openStore(join(mkdtempSync(join(tmpdir(), "comeback-repl-")), "t.db"));
  orderId = 0;
});
afterEach(() => db.close());

function customer(id: number, usageFactor: number | null = null): CustomerRef {
  db.prepare(
    `INSERT INTO customers (id, identity_key, external_id, email, usage_factor, info_as_of, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, 'x', 'x', 'x')`,
  ).run(id, `id:C${id}`, `C${id}`, `c${id}@example.com`, usageFactor);
  // Only the id is read by the functions under test.
  return { id } as CustomerRef;
}

/** One order of one line; returns its id. */
function order(customerId: number, day: string, sku: string, quantity: number, status = "completed"): number {
  orderId += 1;
  db.prepare(
    `INSERT INTO orders (id, source, external_id, customer_id, placed_at, status_class, currency, created_at, updated_at)
     VALUES (?, 'csv', ?, ?, ?, ?, 'EUR', 'x', 'x')`,
  ).run(orderId, `O${orderId}`, customerId, `${day}T10:00:00Z`, status);
  db.prepare(
    `INSERT INTO order_lines (order_id, line_key, sku, product_name, quantity, unit_price_minor, line_total_minor)
     VALUES (?, '1', ?, ?, ?, 1000, ?)`,
  ).run(orderId, sku, `Product ${sku}`, quantity, 1000 * quantity);
  return orderId;
}

function product(sku: string, group: string | null, daysPerUnit: number | null = null): void {
  db.prepare(
    `INSERT INTO products (sku, name, group_key, days_per_unit, updated_at) VALUES (?, ?, ?, ?, 'x')`,
  ).run(sku, `Product ${sku}`, group, daysPerUnit);
}

async function plan(now: string, config = shopConfig()): Promise<ReplenishmentReport> {
  db.exec("BEGIN IMMEDIATE");
  try {
    const { report } = await startReplenishment(db, config, now, { nested: false }).finish();
    db.exec("COMMIT");
    return report;
  } catch (error) {
    db.exec("ROLLBACK");
    throw error;
  }
}

type Stored = ReminderRow & { fingerprint: string; updated_at: string };
const reminders = (): Stored[] =>
  db.prepare("SELECT * FROM reminders ORDER BY customer_id, group_key").all() as Stored[];
const reminder = (customerId: number, group: string): Stored | undefined =>
  db.prepare("SELECT * FROM reminders WHERE customer_id = ? AND group_key = ?").get(customerId, group) as
    Stored | undefined;

const counts = (report: ReplenishmentReport) => ({
  new: report.new,
  changed: report.changed,
  unchanged: report.unchanged,
  removed: report.removed,
  satisfied: report.satisfied,
  expired: report.expired,
});

describe("a plan's reminders, row by row", () => {
  it("times a rule's product: supply quantity × days per unit, due lead days before it runs out", async () => {
    customer(1);
    const id = order(1, "2024-04-01", "LNS-30", 2);
    const report = await plan("2024-05-01T08:00:00Z");
    const row = reminder(1, "LNS-30");
    // 2 × 30 = 60 days of supply: runs out 2024-05-31, due 7 lead days before.
    expect(row).toMatchObject({
      purchase_order_id: id,
      sku: "LNS-30",
      product_name: "Product LNS-30",
      last_purchase_on: "2024-04-01",
      quantity: 2,
      days_per_unit: 30,
      usage_factor: 1,
      supply_days: 60,
      basis: "rule",
      lead_days: 7,
      cycle_days: 60,
      first_due_on: "2024-05-24",
      due_on: "2024-05-24",
      reminder_number: 1,
      state: "open",
      updated_at: "2024-05-01T08:00:00Z",
    });
    expect(row?.fingerprint).toBe(fingerprint(row as ReminderRow));
    expect(counts(report)).toEqual({
      new: 1,
      changed: 0,
      unchanged: 0,
      removed: 0,
      satisfied: 0,
      expired: 0,
    });
    expect(report).toMatchObject({
      today: "2024-05-01",
      week: "2024-W18",
      due_this_week: 0,
      overdue_this_week: 0,
      reminders: { open: 1, paused: 0, satisfied: 0, expired: 0 },
      unknown_products: [],
      planner_threads: 0,
    });
  });

  it("takes a rule's own lead days and repeats every cycle_days of the rule", async () => {
    customer(1);
    order(1, "2024-04-01", "DOG-12KG", 1);
    await plan("2024-05-01T08:00:00Z");
    // 30 days of supply, 3 lead days: first due 2024-04-28; a reminder every 10 days after.
    expect(reminder(1, "DOG-12KG")).toMatchObject({
      supply_days: 30,
      lead_days: 3,
      cycle_days: 10,
      first_due_on: "2024-04-28",
      due_on: "2024-04-28",
      reminder_number: 1,
      state: "open",
    });
    await plan("2024-05-09T08:00:00Z");
    expect(reminder(1, "DOG-12KG")).toMatchObject({ due_on: "2024-05-08", reminder_number: 2 });
  });

  it("counts the week's due and overdue reminders from the week of now", async () => {
    customer(1);
    customer(2);
    order(1, "2024-04-01", "LNS-30", 2); // due 2024-05-24, before the week of 05-27
    order(2, "2024-04-25", "LNS-30", 1); // 30 days: due 2024-05-18 + … = 2024-05-18
    order(2, "2024-05-02", "DOG-1", 1); // due 2024-05-29, in the week
    const report = await plan("2024-05-27T08:00:00Z");
    expect(report.week).toBe("2024-W22");
    expect(reminders().map((r) => [r.customer_id, r.group_key, r.due_on])).toEqual([
      [1, "LNS-30", "2024-05-24"],
      [2, "DOG-1", "2024-05-29"],
      [2, "LNS-30", "2024-05-18"],
    ]);
    expect([report.due_this_week, report.overdue_this_week]).toEqual([3, 2]);
  });

  it("ignores cancelled orders and orders placed after now", async () => {
    customer(1);
    order(1, "2024-04-01", "LNS-30", 1);
    order(1, "2024-04-20", "LNS-30", 3, "cancelled");
    order(1, "2024-05-10", "LNS-30", 5);
    await plan("2024-05-01T08:00:00Z");
    expect(reminder(1, "LNS-30")).toMatchObject({ last_purchase_on: "2024-04-01", quantity: 1 });
  });

  it("lists the products no rule covers, most ordered first, and plans nothing for them", async () => {
    customer(1);
    customer(2);
    order(1, "2024-04-01", "TSHIRT", 1);
    order(2, "2024-04-02", "MUG", 1);
    order(2, "2024-04-03", "TSHIRT", 1);
    order(2, "2024-04-04", "CAP", 1);
    order(1, "2024-04-05", "CAP", 0); // nothing bought: not an order of it
    const giftCard = order(1, "2024-04-06", "BAG", 1);
    db.prepare("UPDATE order_lines SET sku = NULL, product_name = 'Gift card' WHERE order_id = ?").run(
      giftCard,
    );
    // An order without lines plans nothing and breaks nothing.
    db.prepare(
      `INSERT INTO orders (id, source, external_id, customer_id, placed_at, status_class, currency, created_at, updated_at)
       VALUES (99, 'csv', 'O99', 2, '2024-04-07T10:00:00Z', 'completed', 'EUR', 'x', 'x')`,
    ).run();
    const report = await plan("2024-05-01T08:00:00Z");
    expect(reminders()).toEqual([]);
    // Ties by sku, or by name where there is none.
    expect(report.unknown_products).toEqual([
      { sku: "TSHIRT", name: "Product TSHIRT", orders: 2 },
      { sku: "CAP", name: "Product CAP", orders: 1 },
      { sku: null, name: "Gift card", orders: 1 },
      { sku: "MUG", name: "Product MUG", orders: 1 },
    ]);
  });

  it("multiplies the supply by the customer's imported usage factor", async () => {
    customer(1, 1.5);
    order(1, "2024-04-01", "LNS-30", 2);
    await plan("2024-05-01T08:00:00Z");
    // 2 × 30 × 1.5 = 90 days: runs out 2024-06-30, due 2024-06-23.
    expect(reminder(1, "LNS-30")).toMatchObject({
      usage_factor: 1.5,
      supply_days: 90,
      basis: "rule",
      due_on: "2024-06-23",
    });
  });

  it("learns a customer's own rhythm from three purchases, within half and twice the rule", async () => {
    customer(1);
    order(1, "2024-01-01", "LNS-30", 1);
    order(1, "2024-01-21", "LNS-30", 1);
    order(1, "2024-02-10", "LNS-30", 1);
    await plan("2024-02-15T08:00:00Z", learning());
    // Every 20 days, not the rule's 30: runs out 2024-03-01, due 2024-02-23.
    expect(reminder(1, "LNS-30")).toMatchObject({
      basis: "learned",
      days_per_unit: 20,
      usage_factor: 1,
      supply_days: 20,
      due_on: "2024-02-23",
    });
    await plan("2024-02-15T08:00:00Z");
    expect(reminder(1, "LNS-30")).toMatchObject({ basis: "rule", supply_days: 30, due_on: "2024-03-04" });
  });
});

function learning(): Config {
  const config = shopConfig();
  return { ...config, replenishment: { ...config.replenishment, learn_from_history: true } };
}

describe("a shop of several batches of customers", () => {
  it("plans each customer once, in batches of 1,000 ids, and adds up their unknown products", async () => {
    for (const id of [1, 1000, 1001, 2500]) {
      customer(id);
      order(id, "2024-04-01", "TSHIRT", 1);
      if (id === 1000 || id === 1001) order(id, "2024-04-02", "LNS-30", 1);
    }
    const report = await plan("2024-05-01T08:00:00Z");
    expect(reminders().map((r) => [r.customer_id, r.group_key])).toEqual([
      [1000, "LNS-30"],
      [1001, "LNS-30"],
    ]);
    expect(counts(report)).toMatchObject({ new: 2, unchanged: 0, removed: 0 });
    expect(report.unknown_products).toEqual([{ sku: "TSHIRT", name: "Product TSHIRT", orders: 4 }]);
    expect(counts(await plan("2024-05-01T08:00:00Z"))).toMatchObject({ new: 0, unchanged: 2, removed: 0 });
  });
});

describe("the merge with the stored reminders", () => {
  it("never rewrites an unchanged row: its updated_at stays that of the plan that wrote it", async () => {
    customer(1);
    order(1, "2024-04-01", "LNS-30", 2);
    await plan("2024-05-01T08:00:00Z");
    const before = reminder(1, "LNS-30");
    const report = await plan("2024-05-02T08:00:00Z");
    expect(counts(report)).toEqual({
      new: 0,
      changed: 0,
      unchanged: 1,
      removed: 0,
      satisfied: 0,
      expired: 0,
    });
    expect(reminder(1, "LNS-30")).toEqual(before);
    expect(before?.updated_at).toBe("2024-05-01T08:00:00Z");
  });

  it("rewrites a row whose reminder moved on, stamped with the new plan's now", async () => {
    customer(1);
    order(1, "2024-04-01", "DOG-1", 1);
    await plan("2024-05-01T08:00:00Z");
    const report = await plan("2024-05-09T08:00:00Z");
    expect(counts(report)).toEqual({
      new: 0,
      changed: 1,
      unchanged: 0,
      removed: 0,
      satisfied: 0,
      expired: 0,
    });
    const row = reminder(1, "DOG-1");
    expect(row).toMatchObject({ reminder_number: 2, updated_at: "2024-05-09T08:00:00Z" });
    expect(row?.fingerprint).toBe(fingerprint(row as ReminderRow));
  });

  it("starts over from a new purchase of the group and counts the open reminder satisfied", async () => {
    customer(1);
    order(1, "2024-04-01", "LNS-30", 2);
    await plan("2024-05-01T08:00:00Z");
    const again = order(1, "2024-05-10", "LNS-30", 1);
    const report = await plan("2024-05-15T08:00:00Z");
    expect(counts(report)).toEqual({
      new: 0,
      changed: 1,
      unchanged: 0,
      removed: 0,
      satisfied: 1,
      expired: 0,
    });
    expect(reminder(1, "LNS-30")).toMatchObject({
      purchase_order_id: again,
      last_purchase_on: "2024-05-10",
      quantity: 1,
      supply_days: 30,
      due_on: "2024-06-02",
      state: "open",
    });
  });

  it("marks a reminder satisfied when a product of its group with no rule is bought after it", async () => {
    product("LNS-30", "LENS");
    product("LNS-TRIAL", "LENS");
    customer(1);
    order(1, "2024-04-01", "LNS-30", 2);
    await plan("2024-05-01T08:00:00Z");
    expect(reminder(1, "LENS")).toMatchObject({ state: "open", sku: "LNS-30" });
    order(1, "2024-05-10", "LNS-TRIAL", 1);
    const report = await plan("2024-05-15T08:00:00Z");
    expect(counts(report)).toMatchObject({ changed: 1, satisfied: 1 });
    expect(reminder(1, "LENS")).toMatchObject({ state: "satisfied", last_purchase_on: "2024-04-01" });
    expect(report.reminders).toEqual({ open: 0, paused: 0, satisfied: 1, expired: 0 });
    // Bought again later, nothing more is satisfied: the reminder was already answered.
    const next = await plan("2024-05-16T08:00:00Z");
    expect(counts(next)).toMatchObject({ unchanged: 1, satisfied: 0 });
  });

  it("expires a reminder after max_reminders cycles, keeps it 28 days, then deletes it", async () => {
    customer(1);
    order(1, "2024-04-01", "DOG-1", 1);
    await plan("2024-05-01T08:00:00Z");
    // Due 04-28, 05-08, 05-18; expires 05-28.
    const last = await plan("2024-05-27T08:00:00Z");
    expect(reminder(1, "DOG-1")).toMatchObject({ state: "open", reminder_number: 3, due_on: "2024-05-18" });
    expect(last.expired).toBe(0);
    const expired = await plan("2024-05-28T08:00:00Z");
    expect(counts(expired)).toEqual({
      new: 0,
      changed: 1,
      unchanged: 0,
      removed: 0,
      satisfied: 0,
      expired: 1,
    });
    expect(reminder(1, "DOG-1")).toMatchObject({ state: "expired", reminder_number: 3 });
    expect(expired.reminders).toEqual({ open: 0, paused: 0, satisfied: 0, expired: 1 });
    // Still there 28 days after it expired, gone the day after.
    expect(counts(await plan("2024-06-25T08:00:00Z"))).toMatchObject({ unchanged: 1, expired: 0 });
    const gone = await plan("2024-06-26T08:00:00Z");
    expect(counts(gone)).toEqual({ new: 0, changed: 0, unchanged: 0, removed: 1, satisfied: 0, expired: 0 });
    expect(reminders()).toEqual([]);
  });

  it("counts a live reminder that is over and too old to keep as expired, and deletes it", async () => {
    customer(1);
    order(1, "2024-04-01", "DOG-1", 1);
    await plan("2024-05-01T08:00:00Z");
    const report = await plan("2024-08-01T08:00:00Z");
    expect(counts(report)).toEqual({
      new: 0,
      changed: 0,
      unchanged: 0,
      removed: 1,
      satisfied: 0,
      expired: 1,
    });
    expect(reminders()).toEqual([]);
  });

  it("stores a new reminder that is already expired (but recent) and counts it new and expired", async () => {
    customer(1);
    order(1, "2024-04-01", "DOG-1", 1);
    const report = await plan("2024-06-01T08:00:00Z");
    expect(counts(report)).toEqual({
      new: 1,
      changed: 0,
      unchanged: 0,
      removed: 0,
      satisfied: 0,
      expired: 1,
    });
    expect(reminder(1, "DOG-1")).toMatchObject({ state: "expired" });
  });

  it("counts an expired reminder expired again when a new purchase expires too", async () => {
    customer(1);
    order(1, "2024-04-01", "DOG-1", 1);
    await plan("2024-06-01T08:00:00Z");
    order(1, "2024-04-20", "DOG-1", 1);
    // A later purchase, whose reminders (due 05-17, 05-27, 06-06) expired on 06-16.
    const report = await plan("2024-06-20T08:00:00Z");
    expect(counts(report)).toEqual({
      new: 0,
      changed: 1,
      unchanged: 0,
      removed: 0,
      satisfied: 0,
      expired: 1,
    });
    expect(reminder(1, "DOG-1")).toMatchObject({ state: "expired", last_purchase_on: "2024-04-20" });
  });

  it("counts a paused reminder that is over as expired", async () => {
    const c = customer(1);
    order(1, "2024-04-01", "DOG-1", 1);
    pause(db, c, "DOG-1", "2024-04-30T00:00:00Z");
    await plan("2024-05-01T08:00:00Z");
    expect(reminder(1, "DOG-1")?.state).toBe("paused");
    const report = await plan("2024-08-01T08:00:00Z");
    expect(counts(report)).toEqual({
      new: 0,
      changed: 0,
      unchanged: 0,
      removed: 1,
      satisfied: 0,
      expired: 1,
    });
  });

  it("does not count an expired reminder expired again when only its figures change", async () => {
    customer(1);
    order(1, "2024-04-01", "DOG-1", 1);
    await plan("2024-06-01T08:00:00Z");
    const config = shopConfig();
    const fewer = { ...config, replenishment: { ...config.replenishment, max_reminders: 2 } };
    const report = await plan("2024-06-01T08:00:00Z", fewer);
    expect(counts(report)).toEqual({
      new: 0,
      changed: 1,
      unchanged: 0,
      removed: 0,
      satisfied: 0,
      expired: 0,
    });
    expect(reminder(1, "DOG-1")).toMatchObject({ state: "expired", reminder_number: 2 });
  });

  it("deletes the reminder of a purchase that no longer counts (an earlier now)", async () => {
    customer(1);
    customer(2);
    order(1, "2024-04-01", "LNS-30", 1);
    order(2, "2024-05-05", "LNS-30", 1);
    await plan("2024-05-10T08:00:00Z");
    expect(reminders().map((r) => r.customer_id)).toEqual([1, 2]);
    const report = await plan("2024-05-01T08:00:00Z");
    expect(counts(report)).toEqual({
      new: 0,
      changed: 0,
      unchanged: 1,
      removed: 1,
      satisfied: 0,
      expired: 0,
    });
    expect(reminders().map((r) => r.customer_id)).toEqual([1]);
  });
});

describe("the admin's overrides", () => {
  it("pauses one group, then resumes it", async () => {
    const c = customer(1);
    order(1, "2024-04-01", "LNS-30", 2);
    order(1, "2024-04-01", "DOG-1", 1);
    pause(db, c, "LNS-30", "2024-04-30T00:00:00Z");
    let report = await plan("2024-05-01T08:00:00Z");
    expect(reminder(1, "LNS-30")?.state).toBe("paused");
    expect(reminder(1, "DOG-1")?.state).toBe("open");
    expect(report.reminders).toMatchObject({ open: 1, paused: 1 });
    expect(overridesOf(db, 1).reminders).toEqual([
      { group_key: "LNS-30", due_on: null, cycle_days: null, paused: true },
    ]);
    resume(db, c, "LNS-30", "2024-05-01T09:00:00Z");
    // Nothing else is set for the group: the override row goes.
    expect(overridesOf(db, 1).reminders).toEqual([]);
    report = await plan("2024-05-02T08:00:00Z");
    expect(reminder(1, "LNS-30")?.state).toBe("open");
    expect(report.changed).toBe(1);
  });

  it("resumes only the group named, and says so when all are paused", async () => {
    const c = customer(1);
    order(1, "2024-04-01", "LNS-30", 2);
    order(1, "2024-04-01", "DOG-1", 1);
    pause(db, c, "LNS-30", "2024-04-30T00:00:00Z");
    pause(db, c, "DOG-1", "2024-04-30T00:00:00Z");
    await plan("2024-05-01T08:00:00Z");
    expect(reminders().map((r) => r.state)).toEqual(["paused", "paused"]);
    resume(db, c, "DOG-1", "2024-05-01T09:00:00Z");
    await plan("2024-05-02T08:00:00Z");
    expect(reminders().map((r) => [r.group_key, r.state])).toEqual([
      ["DOG-1", "open"],
      ["LNS-30", "paused"],
    ]);
    pause(db, c, undefined, "2024-05-03T00:00:00Z");
    expect(() => resume(db, c, "LNS-30", "2024-05-03T09:00:00Z")).toThrow(
      "all of this customer's reminders are paused: resume without --group to resume them",
    );
  });

  it("sets a cycle for a group not bought yet, shown as not paused", () => {
    const c = customer(1);
    setReminder(db, shopConfig(), c, { group: "CAT", cycleDays: 20 }, "2024-05-01T00:00:00Z");
    expect(overridesOf(db, 1)).toEqual({
      usage_factor: null,
      reminders: [{ group_key: "CAT", due_on: null, cycle_days: 20, paused: false }],
    });
  });

  it("pauses all of a customer's groups, and resumes only all of them", async () => {
    const c = customer(1);
    customer(2);
    order(1, "2024-04-01", "LNS-30", 2);
    order(1, "2024-04-01", "DOG-1", 1);
    order(2, "2024-04-01", "LNS-30", 2);
    pause(db, c, undefined, "2024-04-30T00:00:00Z");
    await plan("2024-05-01T08:00:00Z");
    expect(reminders().map((r) => [r.customer_id, r.group_key, r.state])).toEqual([
      [1, "DOG-1", "paused"],
      [1, "LNS-30", "paused"],
      [2, "LNS-30", "open"],
    ]);
    expect(() => resume(db, c, "LNS-30", "2024-05-01T09:00:00Z")).toThrow(UsageError);
    resume(db, c, undefined, "2024-05-01T09:00:00Z");
    expect(overridesOf(db, 1).reminders).toEqual([]);
    await plan("2024-05-02T08:00:00Z");
    expect(reminders().every((r) => r.state === "open")).toBe(true);
  });

  it("keeps a pause's first date when paused again", () => {
    const c = customer(1);
    pause(db, c, "LNS-30", "2024-04-30T00:00:00Z");
    pause(db, c, "LNS-30", "2024-05-30T00:00:00Z");
    expect(db.prepare("SELECT updated_at FROM reminder_overrides WHERE customer_id = 1").pluck().get()).toBe(
      "2024-04-30T00:00:00Z",
    );
  });

  it("sets a due date for the current purchase only: basis manual, until the next purchase", async () => {
    const c = customer(1);
    const first = order(1, "2024-04-01", "LNS-30", 2);
    setReminder(db, shopConfig(), c, { group: "LNS-30", due: "2024-06-10" }, "2024-05-01T00:00:00Z");
    expect(
      db.prepare("SELECT due_on, purchase_order_id, cycle_days, paused FROM reminder_overrides").get(),
    ).toEqual({ due_on: "2024-06-10", purchase_order_id: first, cycle_days: null, paused: 0 });
    await plan("2024-05-01T08:00:00Z");
    expect(reminder(1, "LNS-30")).toMatchObject({
      basis: "manual",
      first_due_on: "2024-06-10",
      due_on: "2024-06-10",
      supply_days: 60,
    });
    order(1, "2024-05-10", "LNS-30", 1);
    await plan("2024-05-15T08:00:00Z");
    expect(reminder(1, "LNS-30")).toMatchObject({ basis: "rule", due_on: "2024-06-02" });
  });

  it("sets a cycle for a group and keeps the due date when only the cycle changes", async () => {
    const c = customer(1);
    const first = order(1, "2024-04-01", "LNS-30", 2);
    setReminder(db, shopConfig(), c, { group: "LNS-30", due: "2024-05-20" }, "2024-05-01T00:00:00Z");
    setReminder(db, shopConfig(), c, { group: "LNS-30", cycleDays: 15 }, "2024-05-02T00:00:00Z");
    expect(
      db.prepare("SELECT due_on, purchase_order_id, cycle_days, updated_at FROM reminder_overrides").get(),
    ).toEqual({
      due_on: "2024-05-20",
      purchase_order_id: first,
      cycle_days: 15,
      updated_at: "2024-05-02T00:00:00Z",
    });
    await plan("2024-06-05T08:00:00Z");
    expect(reminder(1, "LNS-30")).toMatchObject({
      cycle_days: 15,
      first_due_on: "2024-05-20",
      due_on: "2024-06-04",
      reminder_number: 2,
    });
  });

  it("takes a cycle set for all groups when the group has none", async () => {
    customer(1);
    order(1, "2024-04-01", "LNS-30", 2);
    db.prepare(
      "INSERT INTO reminder_overrides (customer_id, group_key, cycle_days, paused, updated_at) VALUES (1, '*', 12, 0, 'x')",
    ).run();
    await plan("2024-05-01T08:00:00Z");
    expect(reminder(1, "LNS-30")).toMatchObject({ cycle_days: 12, state: "open" });
  });

  it("refuses a set without due or cycle, a bad date, a cycle that is not positive", () => {
    const c = customer(1);
    order(1, "2024-04-01", "LNS-30", 2);
    const config = shopConfig();
    const now = "2024-05-01T00:00:00Z";
    expect(() => setReminder(db, config, c, { group: "LNS-30" }, now)).toThrow(/--due DATE, --cycle DAYS/);
    expect(() => setReminder(db, config, c, { group: "LNS-30", due: "2024-02-30" }, now)).toThrow(
      /--due "2024-02-30"/,
    );
    expect(() => setReminder(db, config, c, { group: "LNS-30", cycleDays: 0 }, now)).toThrow(UsageError);
    expect(() => setReminder(db, config, c, { group: "LNS-30", cycleDays: -3 }, now)).toThrow(/--cycle/);
    expect(db.prepare("SELECT count(*) FROM reminder_overrides").pluck().get()).toBe(0);
  });

  it("refuses a due date for a group the customer never bought, naming their groups", () => {
    const c = customer(1);
    order(1, "2024-04-01", "LNS-30", 2);
    order(1, "2024-04-02", "DOG-1", 1);
    const config = shopConfig();
    const now = "2024-05-01T00:00:00Z";
    expect(() => setReminder(db, config, c, { group: "CAT", due: "2024-06-01" }, now)).toThrow(
      new DataError(
        'the customer has no purchase of group "CAT" to set a due date for (their groups: LNS-30, DOG-1)',
      ),
    );
    const nobody = customer(2);
    expect(() => setReminder(db, config, nobody, { group: "CAT", due: "2024-06-01" }, now)).toThrow(
      /\(no purchases at all\)/,
    );
    // A purchase after now does not count.
    expect(() =>
      setReminder(db, config, c, { group: "LNS-30", due: "2024-06-01" }, "2024-03-01T00:00:00Z"),
    ).toThrow(DataError);
  });

  it("sets the customer's usage factor, which wins over an imported one, and clears it", async () => {
    const c = customer(1, 1.5);
    order(1, "2024-04-01", "LNS-30", 2);
    setUsage(db, c, 2, "2024-05-01T00:00:00Z");
    expect(overridesOf(db, 1).usage_factor).toBe(2);
    await plan("2024-05-01T08:00:00Z");
    // 2 × 30 × 2 = 120 days: runs out 2024-07-30, due 2024-07-23.
    expect(reminder(1, "LNS-30")).toMatchObject({
      basis: "manual",
      usage_factor: 2,
      supply_days: 120,
      due_on: "2024-07-23",
    });
    setUsage(db, c, 2, "2024-05-02T00:00:00Z");
    expect(
      db.prepare("SELECT updated_at FROM customer_usage_overrides WHERE customer_id = 1").pluck().get(),
    ).toBe("2024-05-01T00:00:00Z");
    setUsage(db, c, 3, "2024-05-03T00:00:00Z");
    expect(overridesOf(db, 1).usage_factor).toBe(3);
    setUsage(db, c, null, "2024-05-04T00:00:00Z");
    expect(overridesOf(db, 1).usage_factor).toBeNull();
    await plan("2024-05-05T08:00:00Z");
    expect(reminder(1, "LNS-30")).toMatchObject({ basis: "rule", usage_factor: 1.5, supply_days: 90 });
  });

  it("refuses a usage factor of 0 or under, or over 100", () => {
    const c = customer(1);
    for (const factor of [0, -1, 100.5]) {
      expect(() => setUsage(db, c, factor, "2024-05-01T00:00:00Z")).toThrow(/--factor/);
    }
    setUsage(db, c, 100, "2024-05-01T00:00:00Z");
    expect(overridesOf(db, 1).usage_factor).toBe(100);
  });

  it("explains each group the customer bought with the row plan would store", async () => {
    customer(1);
    order(1, "2024-04-01", "LNS-30", 2);
    order(1, "2024-04-02", "TSHIRT", 1);
    const explained = explainCustomer(db, shopConfig(), 1, "2024-05-01T08:00:00Z");
    expect(explained.map((e) => [e.group, e.purchases, e.reminder?.due_on ?? null])).toEqual([
      ["LNS-30", [{ order_id: "O1", date: "2024-04-01", sku: "LNS-30", quantity: 2 }], "2024-05-24"],
      ["TSHIRT", [{ order_id: "O2", date: "2024-04-02", sku: "TSHIRT", quantity: 1 }], null],
    ]);
    expect(explained[0]?.notes.join("\n")).toMatch(/30 days per unit/);
    expect(explained[1]?.notes.join("\n")).toMatch(/not replenished/);
    await plan("2024-05-01T08:00:00Z");
    const { fingerprint: _print, updated_at: _at, ...stored } = reminder(1, "LNS-30") as Stored;
    expect(explained[0]?.reminder).toEqual(stored);
  });
});

describe("groups no rule covers, timed by the shop's gaps (learn_from_history)", () => {
  const timed = (): Config => {
    const config = parseConfigText("timezone: UTC\n", { label: "comeback.yaml", env: {}, baseDir: "/" });
    return config;
  };
  const now = "2024-12-31T08:00:00Z";

  /**
   * 60 regulars buy beans every 30 days through 2024 (customer 1 from 2024-01-21, the last time on
   * 2024-12-16); customers 1–4 also bought a car seat once, in March, and never again.
   */
  beforeEach(() => {
    const base = dayNumber("2024-01-01");
    for (let i = 0; i < 60; i++) {
      customer(i + 1);
      const days = Array.from({ length: 12 }, (_, k) => 20 + (i % 25) + 30 * k).filter((d) => d < 365);
      days.forEach((day, k) => {
        const id = order(i + 1, dayString(base + day), "BEANS", 1);
        if (i < 4 && k === 2) {
          db.prepare(
            `INSERT INTO order_lines (order_id, line_key, sku, product_name, quantity) VALUES (?, '2', 'SEAT', 'Car seat', 1)`,
          ).run(id);
        }
      });
    }
  });

  function cart(customerId: number, week: string, group: string): void {
    const id = db
      .prepare(
        "INSERT INTO carts (customer_id, week, item_count, created_at) VALUES (?, ?, 1, 'x') RETURNING id",
      )
      .pluck()
      .get(customerId, week) as number;
    db.prepare(
      "INSERT INTO cart_items (cart_id, group_key, quantity, due_on, reminder_number) VALUES (?, ?, 1, 'x', 1)",
    ).run(id, group);
  }

  it("is due the first Monday its chance reaches the threshold, learned, with the cooldown as its cycle", async () => {
    const report = await plan(now, timed());
    expect(reminder(1, "BEANS")).toMatchObject({
      last_purchase_on: "2024-12-16",
      days_per_unit: 30,
      usage_factor: 1,
      supply_days: 30,
      basis: "learned",
      lead_days: 0,
      cycle_days: 28,
      first_due_on: "2024-12-23",
      due_on: "2024-12-23",
      reminder_number: 1,
      state: "open",
    });
    // Nobody bought a seat twice: no reminder, and not an unknown product either (it was learned).
    expect(reminder(1, "SEAT")).toBeUndefined();
    expect(report.unknown_products).toEqual([]);
    expect(report.reminders.open).toBe(60);
  });

  it("lists them as unknown products when learning is off", async () => {
    const config = timed();
    const report = await plan(now, {
      ...config,
      replenishment: { ...config.replenishment, learn_from_history: false },
    });
    expect(reminders()).toEqual([]);
    expect(report.unknown_products.map((p) => [p.sku, p.orders])).toEqual([
      ["BEANS", 700],
      ["SEAT", 4],
    ]);
  });

  it("waits the cooldown after the week it was last in a cart, and counts that offer", async () => {
    cart(1, "2024-W52", "BEANS"); // Monday 2024-12-23
    cart(1, "2025-W05", "BEANS"); // a later week: not seen by a plan as of 2024-12-31
    await plan(now, timed());
    const row = reminder(1, "BEANS") as Stored;
    expect(row).toMatchObject({ reminder_number: 2, state: "open", cycle_days: 28 });
    expect(row.due_on >= "2025-01-20").toBe(true);
    expect(reminder(2, "BEANS")).toMatchObject({ due_on: "2024-12-23", reminder_number: 1 });
  });

  it("expires after max_reminders offers since the purchase", async () => {
    cart(1, "2024-W51", "BEANS"); // Monday 2024-12-16, the purchase day: not after it
    cart(1, "2024-W52", "BEANS");
    cart(1, "2025-W01", "BEANS");
    await plan(now, timed());
    // Offered twice since the purchase (the weeks of 12-23 and 12-30): the third reminder.
    expect(reminder(1, "BEANS")).toMatchObject({ reminder_number: 3, state: "open" });
    const config = timed();
    await plan(now, { ...config, replenishment: { ...config.replenishment, max_reminders: 2 } });
    expect(reminder(1, "BEANS")).toMatchObject({
      reminder_number: 2,
      state: "expired",
      first_due_on: "2024-12-30",
    });
  });

  it("takes the admin's usage factor, due date, cycle and pause", async () => {
    setUsage(db, { id: 1 } as CustomerRef, 2, now);
    setReminder(db, timed(), { id: 2 } as CustomerRef, { group: "BEANS", due: "2025-02-03" }, now);
    pause(db, { id: 3 } as CustomerRef, "BEANS", now);
    setReminder(db, timed(), { id: 4 } as CustomerRef, { group: "BEANS", cycleDays: 14 }, now);
    await plan(now, timed());
    expect(reminder(1, "BEANS")).toMatchObject({ basis: "manual", usage_factor: 2, supply_days: 60 });
    expect(reminder(2, "BEANS")).toMatchObject({ basis: "manual", due_on: "2025-02-03", state: "open" });
    expect(reminder(3, "BEANS")).toMatchObject({ basis: "learned", state: "paused" });
    expect(reminder(4, "BEANS")).toMatchObject({ cycle_days: 14, state: "open" });
    expect(reminder(5, "BEANS")).toMatchObject({ basis: "learned", state: "open", cycle_days: 28 });
  });
});
