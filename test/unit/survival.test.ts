/**
 * The survival model's pieces worked out by hand (survival.ts): the normal distribution, a pair's
 * chance within the next 28 days, the Mondays, the life table's factors and the window a reminder
 * goes out in. Pure functions, so Stryker's mutants of them are reached without a database.
 */
import { describe, expect, it } from "vitest";
import {
  chance,
  factorOn,
  LifeTableCounter,
  mondayOnOrAfter,
  nextWindow,
  normalCdf,
  probabilityOn,
  purchasesBucket,
  type LifeTable,
  type PairTiming,
} from "../../src/plan/replenishment/survival.js";
import { dayNumber } from "../../src/plan/days.js";

/** A regular pair: bought three times, every 30 days, last on day 1000 (a Wednesday, 1972-09-27). */
const pair: PairTiming = {
  purchases: 3,
  lastPurchaseDay: 1000,
  expectedGap: 30,
  lastOrderDay: 1000,
  orderGap: 30,
  ordersSince: 0,
  share: 1,
  repeat: 1,
  spread: 0.1,
};
const F = (days: number) => normalCdf((Math.log(days) - Math.log(30)) / 0.1);

describe("normalCdf", () => {
  it("gives the textbook values of the standard normal distribution", () => {
    expect(normalCdf(0)).toBeCloseTo(0.5, 6);
    expect(normalCdf(1)).toBeCloseTo(0.8413447, 6);
    expect(normalCdf(1.96)).toBeCloseTo(0.9750021, 6);
    expect(normalCdf(-1.96)).toBeCloseTo(0.0249979, 6);
    expect(normalCdf(-1)).toBeCloseTo(0.1586553, 6);
  });
});

describe("a pair's chance within the next 28 days", () => {
  it("is F(28) on the purchase day, the log-normal around the expected gap", () => {
    expect(chance(pair, 1000)).toBeCloseTo(F(28), 10);
    expect(chance(pair, 1000)).toBeCloseTo(0.2451, 4);
  });

  it("is conditional on the gap still open, scaled by the chance of coming back at all", () => {
    expect(chance(pair, 1010)).toBeCloseTo((F(38) - F(10)) / (1 - F(10)), 10);
    const half = { ...pair, repeat: 0.5 };
    expect(chance(half, 1010)).toBeCloseTo((0.5 * (F(38) - F(10))) / (1 - 0.5 * F(10)), 10);
  });

  it("counts a day before the purchase as an open gap of 0, a gap under a day as one day", () => {
    expect(chance(pair, 990)).toBe(chance(pair, 1000));
    expect(chance({ ...pair, expectedGap: 0.5 }, 1000)).toBeCloseTo(normalCdf(Math.log(28) / 0.1), 10);
    expect(chance({ ...pair, expectedGap: 0.5 }, 1000)).toBe(chance({ ...pair, expectedGap: 1 }, 1000));
  });

  it("keeps a spread of at least 10 %", () => {
    expect(chance({ ...pair, spread: 0.01 }, 1010)).toBe(chance(pair, 1010));
    expect(chance({ ...pair, spread: 0.3 }, 1010)).not.toBe(chance(pair, 1010));
  });

  it("is 0 once the gap is open so long that nobody who comes back is left", () => {
    expect(chance(pair, 1100)).toBe(0);
  });
});

describe("buckets and Mondays", () => {
  it("puts purchases in the classes 1, 2, 3, 4–5, 6+", () => {
    expect([0, 1, 2, 3, 4, 5, 6, 20].map(purchasesBucket)).toEqual([0, 0, 1, 2, 3, 3, 4, 4]);
  });

  it("finds the Monday on or after a day", () => {
    expect(mondayOnOrAfter(dayNumber("2024-12-31"))).toBe(dayNumber("2025-01-06"));
    expect(mondayOnOrAfter(dayNumber("2025-01-06"))).toBe(dayNumber("2025-01-06"));
    expect(mondayOnOrAfter(dayNumber("2025-01-05"))).toBe(dayNumber("2025-01-06"));
    expect(mondayOnOrAfter(dayNumber("2025-01-07"))).toBe(dayNumber("2025-01-13"));
    expect(mondayOnOrAfter(0)).toBe(4);
    expect(mondayOnOrAfter(-3)).toBe(-3); // 1969-12-29, a Monday
    expect(mondayOnOrAfter(-4)).toBe(-3);
  });
});

describe("the life table", () => {
  it("is all zeros with no observation: the model has not earned any trust", () => {
    const table = new LifeTableCounter().finish();
    expect(table.observations).toBe(0);
    expect(table.maxFactor).toBe(0);
    expect(table.factor.every((f) => f === 0)).toBe(true);
  });

  it("starts from bought over expected plus 5, and moves observed cells toward their own ratio", () => {
    const counter = new LifeTableCounter();
    counter.add(pair, 1010, true);
    counter.add(pair, 1010, false);
    const once = { ...pair, purchases: 1 };
    counter.add(once, 1010, true);
    const table = counter.finish();
    expect(table.observations).toBe(3);
    const base = 2 / (3 * chance(pair, 1010) + 5);
    // Six purchases: a class never observed keeps the shop-wide factor.
    expect(factorOn(table, { ...pair, purchases: 6 }, 1010)).toBeCloseTo(base, 4);
    const three = factorOn(table, pair, 1010);
    const one = factorOn(table, once, 1010);
    // Three purchases: 1 of 2 bought (ratio ½); one purchase: 1 of 1 (ratio 1); both above the base.
    expect(three).toBeGreaterThan(base);
    expect(one).toBeGreaterThan(three);
    expect(one).toBeLessThan(0.3);
    expect(table.maxFactor).toBe(one);
    expect(probabilityOn(table, pair, 1010)).toBeCloseTo(chance(pair, 1010) * three, 10);
  });
});

describe("the window a reminder goes out in", () => {
  const ones = (): LifeTable => {
    const table = new LifeTableCounter().finish();
    return { factor: table.factor.map(() => 1), maxFactor: 1, observations: 1 };
  };

  it("is due the first Monday from the start whose chance reaches the threshold", () => {
    expect(nextWindow(ones(), pair, 1001, 1001, 0.3)).toEqual({
      kind: "due",
      from: 1005,
      probability: chance(pair, 1005),
    });
  });

  it("stays due while the chance holds, at the best chance since, never above 99 %", () => {
    expect(nextWindow(ones(), pair, 1001, 1040, 0.3)).toEqual({ kind: "due", from: 1005, probability: 0.99 });
  });

  it("has passed once the chance fell below the threshold before today", () => {
    expect(nextWindow(ones(), pair, 1001, 1100, 0.3)).toEqual({ kind: "passed", endedOn: 1075 });
  });

  it("never comes when the chance of coming back at all is under the threshold, or nothing reaches it", () => {
    expect(nextWindow(ones(), { ...pair, repeat: 0.2 }, 1001, 1001, 0.3)).toEqual({ kind: "never" });
    expect(nextWindow(ones(), pair, 1001, 1001, 0.995)).toEqual({ kind: "never" });
    const half = { ...ones(), factor: ones().factor.map(() => 0.5), maxFactor: 0.5 };
    expect(nextWindow(half, pair, 1001, 1001, 0.6)).toEqual({ kind: "never" });
  });
});
