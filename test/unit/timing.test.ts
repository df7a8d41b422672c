/** The pooled gap, the probability gate and the cooldown of reminders no rule times (issue 15). */
import { describe, expect, it } from "vitest";
import { planGroup, type PlanProduct, type PlanSettings } from "../../src/plan/replenishment/compute.js";
import { dayNumber, dayString } from "../../src/plan/days.js";
import {
  addLog,
  emptySums,
  poolGaps,
  pooledGap,
  type LogSums,
} from "../../src/plan/replenishment/pooling.js";
import { orderSums } from "../../src/plan/replenishment/shop-model.js";
import {
  LifeTableCounter,
  nextWindow,
  type LifeTable,
  type PairTiming,
} from "../../src/plan/replenishment/survival.js";

const sums = (...gaps: number[]): LogSums => {
  const s = emptySums();
  for (const g of gaps) addLog(s, g);
  return s;
};

describe("pooling the gaps", () => {
  // A group of many customers buying about every 30 days, each with some noise of their own.
  const pairs = Array.from({ length: 40 }, (_, i) => ({
    group: "TEA",
    sums: sums(30 + (i % 5) - 2, 30 - (i % 3), 31 + (i % 4)),
  }));
  pairs.push({ group: "RARE", sums: sums(200) });
  const prior = poolGaps(pairs, [sums(20, 25, 30)]);

  it("gives a customer with no gap of their own the group's typical gap", () => {
    const gap = pooledGap(prior, "TEA", emptySums());
    expect(gap.ownShare).toBe(0);
    expect(gap.days).toBeGreaterThan(28);
    expect(gap.days).toBeLessThan(33);
  });

  it("weighs a customer's own gaps more, the more of them there are", () => {
    const one = pooledGap(prior, "TEA", sums(60));
    const five = pooledGap(prior, "TEA", sums(60, 60, 60, 60, 60));
    expect(five.ownShare).toBeGreaterThan(one.ownShare);
    expect(five.days).toBeGreaterThan(one.days);
    expect(one.days).toBeGreaterThan(30);
    expect(five.days).toBeLessThan(60);
  });

  it("pulls a group with one gap toward the shop's mean, and uses the shop's for an unknown group", () => {
    const rare = pooledGap(prior, "RARE", emptySums());
    expect(rare.days).toBeLessThan(200);
    expect(rare.days).toBeGreaterThan(30);
    expect(pooledGap(prior, "NEW", emptySums()).days).toBeCloseTo(Math.exp(prior.shopMean), 6);
  });
});

/** A table where the chance is `high` once the open gap reaches the expected gap, else `low`. */
function table(low: number, high: number): LifeTable {
  const counter = new LifeTableCounter();
  const t: PairTiming = {
    purchases: 3,
    lastPurchaseDay: 0,
    expectedGap: 10,
    lastOrderDay: 0,
    orderGap: 10,
    ordersSince: 0,
    share: 1,
    repeat: 1,
    spread: 0.5,
  };
  for (let day = 1; day < 60; day++) {
    const p = day >= 10 && day < 20 ? high : low;
    for (let i = 0; i < 1000; i++) counter.add(t, day, i < p * 1000);
  }
  return counter.finish();
}

describe("the probability gate", () => {
  const t: PairTiming = {
    purchases: 3,
    lastPurchaseDay: 0,
    expectedGap: 10,
    lastOrderDay: 0,
    orderGap: 10,
    ordersSince: 0,
    share: 1,
    repeat: 1,
    spread: 0.5,
  };
  const tbl = table(0.05, 0.4);

  // Day 0 (1970-01-01) was a Thursday: the Mondays are days 4, 11, 18, 25…
  it("is due on the first Monday the chance reaches the threshold", () => {
    expect(nextWindow(tbl, t, 1, 1, 0.15)).toMatchObject({ kind: "due", from: 11 });
  });

  it("stays due (overdue) while the chance holds, and expires once it has fallen", () => {
    expect(nextWindow(tbl, t, 1, 14, 0.15)).toMatchObject({ kind: "due", from: 11 });
    expect(nextWindow(tbl, t, 1, 40, 0.15)).toEqual({ kind: "passed", endedOn: 25 });
  });

  it("never sends when the chance never reaches the threshold", () => {
    expect(nextWindow(tbl, t, 1, 1, 0.5)).toEqual({ kind: "never" });
    // A pair nobody comes back for: its bound (the repeat chance × the largest factor) is under it.
    expect(nextWindow(tbl, { ...t, repeat: 0.15 / tbl.maxFactor - 1e-9 }, 1, 14, 0.15)).toEqual({
      kind: "never",
    });
    expect(nextWindow({ ...tbl, maxFactor: 0 }, t, 1, 14, 0.15)).toEqual({ kind: "never" });
  });
});

describe("the cooldown", () => {
  const products: PlanProduct[] = [
    { sku: "TEA", name: "Tea", groupKey: "TEA", daysPerUnit: null, rule: null },
  ];
  const d = dayNumber;
  const purchases = [10, 40, 70].map((day, i) => ({
    orderId: i + 1,
    day: d("2026-01-01") + day,
    pid: 0,
    quantity: 1,
  }));
  const prior = poolGaps([{ group: "TEA", sums: sums(30, 30, 30, 30) }], [sums(30, 30)]);
  // Every pair buys within 28 days: the chance is 1 on every day.
  const always: LifeTable = { factor: new Array<number>(20000).fill(1000), maxFactor: 1000, observations: 1 };
  const settings = (today: string): PlanSettings => ({
    leadDays: 7,
    maxReminders: 3,
    learn: true,
    today: d(today),
    model: {
      prior,
      table: always,
      repeat: { prior: { share: 0.5, weight: 2, repeatable: 1 }, groups: {} },
    },
    minProbability: 0.15,
    cooldownDays: 28,
  });
  const plan = (today: string, offers: string[]) =>
    planGroup(
      "TEA",
      purchases,
      products,
      {
        customerId: 1,
        importedUsageFactor: null,
        manualUsageFactor: null,
        override: undefined,
        overrideAll: undefined,
        activity: {
          orderSums: orderSums(purchases.map((p) => p.day)),
          orderDays: purchases.map((p) => p.day),
          lastOrderDay: purchases[2]!.day,
          offers: new Map([["TEA", offers.map(d)]]),
        },
      },
      settings(today),
    ).row;

  it("is due the Monday after the purchase when nothing was offered", () => {
    // Bought Thursday 2026-03-12; the chance is 1 from the next Monday on.
    expect(plan("2026-03-16", [])).toMatchObject({ due_on: "2026-03-16", state: "open", reminder_number: 1 });
  });

  it("offers a pair again no sooner than 28 days after its last offer, purchase or not", () => {
    // Offered 2026-03-09, bought 03-12: a new purchase (reminder 1 again), but no offer before 04-06.
    expect(plan("2026-03-16", ["2026-03-09"])).toMatchObject({ due_on: "2026-04-06", reminder_number: 1 });
    expect(plan("2026-03-16", ["2026-02-23"])).toMatchObject({ due_on: "2026-03-23", reminder_number: 1 });
  });

  it("expires after max_reminders offers since the purchase", () => {
    const row = plan("2026-06-01", ["2026-03-16", "2026-04-13", "2026-05-11"]);
    expect(row).toMatchObject({ state: "expired", reminder_number: 3 });
    expect(dayString(d(row!.due_on))).toBe("2026-05-11");
  });
});

describe("remind show's words for a group bought once", () => {
  const products: PlanProduct[] = [
    { sku: "SEAT", name: "Car seat", groupKey: "SEAT", daysPerUnit: null, rule: null },
  ];
  const d = dayNumber;
  const bought = d("2026-01-08");
  const prior = poolGaps([{ group: "TEA", sums: sums(30, 30, 30, 30) }], [sums(30, 30)]);
  const explain = (groups: Record<string, { buyers: number; rebuyers: number }>) =>
    planGroup(
      "SEAT",
      [{ orderId: 1, day: bought, pid: 0, quantity: 1 }],
      products,
      {
        customerId: 1,
        importedUsageFactor: null,
        manualUsageFactor: null,
        override: undefined,
        overrideAll: undefined,
        activity: {
          orderSums: orderSums([bought]),
          orderDays: [bought],
          lastOrderDay: bought,
          offers: undefined,
        },
      },
      {
        leadDays: 7,
        maxReminders: 3,
        learn: true,
        today: d("2026-02-02"),
        model: {
          prior,
          table: { factor: new Array<number>(20000).fill(1), maxFactor: 1, observations: 1 },
          repeat: { prior: { share: 0.5, weight: 10, repeatable: 0.5 }, groups },
        },
        minProbability: 0.2,
        cooldownDays: 28,
      },
      true,
    );

  it("says nobody came back for it, and that it is not replenished", () => {
    const outcome = explain({ SEAT: { buyers: 40, rebuyers: 0 } });
    expect(outcome.row).toBeNull();
    const text = outcome.notes.join("\n");
    expect(text).toContain("bought once so far, and nobody in the shop ever came back for it (40 buyer(s)");
    expect(text).toMatch(/the chance that it is bought again at all is 0 %/);
    expect(text).toContain("chance of a purchase within 28 days from Monday 2026-02-02: 0 % = 0 %");
    expect(text).toContain("the chance never reaches the threshold: no reminder");
  });

  it("says how many of its buyers came back, and the pooled chance", () => {
    const outcome = explain({ SEAT: { buyers: 30, rebuyers: 20 } });
    const text = outcome.notes.join("\n");
    // (20 + 10 × 0.5) / (30 + 10) = 62.5 %.
    expect(text).toContain("of 30 buyer(s) of the group across the shop, 20 came back for it");
    expect(text).toContain("the chance that a buyer comes back for it at all is 63 %");
    expect(text).toMatch(/with the 63 % chance that it is bought again at all\) × 1 /);
  });
});
