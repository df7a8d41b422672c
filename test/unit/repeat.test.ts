/**
 * Whether a group is bought again at all (repeat.ts), and what it does to the gate: a one-off product
 * never enters a cart on the strength of the shop's general rhythm (the car-seat case of issue 15).
 */
import { describe, expect, it } from "vitest";
import {
  exposure,
  fitRepeat,
  logGamma,
  noneCameBack,
  repeatChance,
  type GroupBuyers,
} from "../../src/plan/replenishment/repeat.js";
import {
  activityOf,
  fitShop,
  MIN_HISTORY_DAYS,
  repeatAsOf,
  repeatChanceOf,
  type Learned,
} from "../../src/plan/replenishment/shop-model.js";
import { addLog, emptySums, poolGaps } from "../../src/plan/replenishment/pooling.js";
import {
  chance,
  mondayOnOrAfter,
  probabilityOn,
  type PairTiming,
} from "../../src/plan/replenishment/survival.js";

describe("logGamma", () => {
  it("is ln((x − 1)!) on whole numbers and ln √π at ½", () => {
    expect(logGamma(1)).toBeCloseTo(0, 10);
    expect(logGamma(2)).toBeCloseTo(0, 10);
    expect(logGamma(5)).toBeCloseTo(Math.log(24), 10);
    expect(logGamma(11)).toBeCloseTo(Math.log(3628800), 8);
    expect(logGamma(0.5)).toBeCloseTo(Math.log(Math.sqrt(Math.PI)), 10);
    expect(logGamma(0.25)).toBeCloseTo(1.2880225246980774, 10);
  });
});

describe("exposure", () => {
  it("counts a buyer by the share of the horizon they had, at most one", () => {
    expect(exposure(15, 60)).toBe(0.25);
    expect(exposure(60, 60)).toBe(1);
    expect(exposure(120, 60)).toBe(1);
    expect(exposure(-3, 60)).toBe(0);
    expect(exposure(5, 0)).toBe(1);
  });
});

describe("the repeat prior", () => {
  it("is the beta-binomial chance of nobody coming back", () => {
    const prior = { share: 0.3, weight: 10, repeatable: 1 };
    expect(noneCameBack(prior, 0)).toBeCloseTo(1, 10);
    // One buyer: 1 − share.
    expect(noneCameBack(prior, 1)).toBeCloseTo(0.7, 10);
    // Two: β/(α+β) × (β+1)/(α+β+1) = 0.7 × 8/11.
    expect(noneCameBack(prior, 2)).toBeCloseTo((0.7 * 8) / 11, 10);
  });

  it("learns the share from the groups somebody came back for, and the share of one-off groups", () => {
    const groups: GroupBuyers[] = [
      { buyers: 100, rebuyers: 30 },
      { buyers: 100, rebuyers: 30 },
      { buyers: 100, rebuyers: 30 },
      { buyers: 100, rebuyers: 0 },
      { buyers: 100, rebuyers: 0 },
    ];
    const prior = fitRepeat(groups);
    expect(prior.share).toBeCloseTo(0.3, 10);
    // All alike: no spread beyond the binomial noise, the largest weight.
    expect(prior.weight).toBe(1000);
    // Two groups of five have no rebuyer with 100 buyers each, which a repeat group almost never shows.
    expect(prior.repeatable).toBeCloseTo(0.6, 3);
  });

  it("weighs the shop's share less when groups differ more than their buyers explain", () => {
    const even = fitRepeat([
      { buyers: 50, rebuyers: 15 },
      { buyers: 50, rebuyers: 16 },
    ]);
    const spread = fitRepeat([
      { buyers: 50, rebuyers: 5 },
      { buyers: 50, rebuyers: 45 },
    ]);
    expect(spread.weight).toBeLessThan(even.weight);
    // τ² = (Σ n (p − share)² − (groups − 1) share (1 − share)) / Σ n = (16 − 0.25) / 100; the weight
    // share (1 − share) / τ² − 1 = 0.59, kept at one buyer at least.
    expect(spread.weight).toBe(1);
    const some = fitRepeat([
      { buyers: 100, rebuyers: 20 },
      { buyers: 100, rebuyers: 40 },
    ]);
    expect(some.weight).toBeCloseTo((0.3 * 0.7) / ((100 * 0.01 * 2 - 0.21) / 200) - 1, 6);
  });

  it("keeps its shares off 0 and 1, and knows almost nothing is bought again in a shop where nothing was", () => {
    expect(fitRepeat([{ buyers: 10, rebuyers: 10 }]).share).toBe(0.99);
    const none = fitRepeat([
      { buyers: 10, rebuyers: 0 },
      { buyers: 3, rebuyers: 0 },
    ]);
    expect(none.repeatable).toBe(0.01);
    expect(fitRepeat([]).repeatable).toBe(1);
    expect(fitRepeat([{ buyers: 0, rebuyers: 0 }])).toEqual({ share: 0.5, weight: 1000, repeatable: 1 });
  });
});

describe("a group's chance of being bought again", () => {
  const prior = { share: 0.3, weight: 10, repeatable: 0.8 };

  it("pools a group somebody came back for with the shop's share, by its buyers", () => {
    expect(repeatChance(prior, { buyers: 10, rebuyers: 5 })).toEqual({
      chance: (5 + 3) / 20,
      buyers: 10,
      rebuyers: 5,
      repeatKind: 1,
    });
    const big = repeatChance(prior, { buyers: 1000, rebuyers: 500 }).chance;
    expect(big).toBeCloseTo(503 / 1010, 10);
  });

  it("gives an unknown group the shop's chance for a group nobody could come back for yet", () => {
    const unknown = repeatChance(prior, undefined);
    expect(unknown.repeatKind).toBeCloseTo(0.8, 10);
    expect(unknown.chance).toBeCloseTo(0.8 * 0.3, 10);
  });

  it("is near 0 for a product with enough buyers and no rebuyer", () => {
    const few = repeatChance(prior, { buyers: 2, rebuyers: 0 }).chance;
    const many = repeatChance(prior, { buyers: 40, rebuyers: 0 });
    expect(few).toBeLessThan(0.8 * 0.3);
    expect(many.chance).toBeLessThan(few);
    expect(many.chance).toBeLessThan(0.002);
    expect(many.repeatKind).toBeLessThan(0.02);
  });

  it("is near 0 after one buyer who did not come back, where everybody comes back for what is rebought", () => {
    // A coffee shop: the beans and the tip bought again by all of their 60 buyers, the car seat by none.
    const shop = fitRepeat([
      { buyers: 60, rebuyers: 60 },
      { buyers: 60, rebuyers: 60 },
      { buyers: 1, rebuyers: 0 },
    ]);
    expect(repeatChance(shop, { buyers: 1, rebuyers: 0 }).chance).toBeLessThan(0.03);
    expect(repeatChance(shop, { buyers: 2, rebuyers: 0 }).chance).toBeLessThan(0.001);
    expect(repeatChance(shop, { buyers: 60, rebuyers: 60 }).chance).toBeGreaterThan(0.9);
  });
});

describe("the gate on a shop's own history (the car-seat case)", () => {
  // 60 regulars buy espresso beans (and leave a tip) every 30 days for a year; four of them also
  // bought a car safety seat once, long ago. Nobody ever bought a seat twice.
  const today = 400;
  const customers: Learned[] = Array.from({ length: 60 }, (_, i) => {
    const days = Array.from({ length: 12 }, (_, k) => 20 + (i % 25) + 30 * k).filter((d) => d < today);
    const groups = [
      { group: "COF", days },
      { group: "TIP", days },
    ];
    if (i < 4) groups.push({ group: "SEAT", days: [days[2] as number] });
    return { orderDays: days, groups };
  });
  const model = fitShop(customers, today);
  const regular = customers[0]!;
  const last = regular.orderDays.at(-1) as number;
  const timing = (group: string, purchases: number, days: number[]): PairTiming => ({
    purchases,
    lastPurchaseDay: days.at(-1) as number,
    expectedGap: 30,
    spread: 0.2,
    lastOrderDay: last,
    orderGap: 30,
    ordersSince: group === "SEAT" ? 3 : 0,
    share: group === "SEAT" ? 0.1 : 1,
    repeat: repeatChanceOf(model.repeat, group, purchases),
  });

  it("learns from reference dates with enough history before them", () => {
    expect(MIN_HISTORY_DAYS).toBe(84);
    expect(model.table.observations).toBeGreaterThan(0);
  });

  it("never lets a product nobody came back for into a cart", () => {
    const seat = timing("SEAT", 1, [regular.groups[2]!.days[0]!]);
    expect(seat.repeat).toBeLessThan(0.01);
    const monday = mondayOnOrAfter(today);
    expect(probabilityOn(model.table, seat, monday)).toBeLessThan(0.01);
  });

  it("still sends the beans when they are due", () => {
    const beans = timing("COF", regular.groups[0]!.days.length, regular.groups[0]!.days);
    expect(beans.repeat).toBe(1);
    // Due 30 days after the last purchase: the Monday on or after last + 25.
    expect(probabilityOn(model.table, beans, mondayOnOrAfter(last + 25))).toBeGreaterThan(0.5);
  });

  it("sends nothing from a history too short to check the model on", () => {
    const young = customers.map((c) => ({
      orderDays: c.orderDays.filter((d) => d < 80),
      groups: c.groups.map((g) => ({ group: g.group, days: g.days.filter((d) => d < 80) })),
    }));
    const thin = fitShop(young, 80);
    expect(thin.table.observations).toBe(0);
    const beans: PairTiming = { ...timing("COF", 2, [30, 60]), lastOrderDay: 60, repeat: 1 };
    expect(chance(beans, 88)).toBeGreaterThan(0.5);
    expect(probabilityOn(thin.table, beans, 88)).toBe(0);
  });
});

describe("the model's chance (a cure-rate survival model)", () => {
  const base: PairTiming = {
    purchases: 1,
    lastPurchaseDay: 0,
    expectedGap: 30,
    spread: 0.5,
    lastOrderDay: 0,
    orderGap: 30,
    ordersSince: 0,
    share: 1,
    repeat: 1,
  };

  it("is the log-normal chance of the next 28 days for a pair sure to come back", () => {
    // Open 16 days, expected 30: F(44) − F(16) over 1 − F(16).
    const F = (x: number) => {
      const z = Math.log(x / 30) / 0.5;
      return 0.5 * (1 + erf(z / Math.SQRT2));
    };
    expect(chance(base, 16)).toBeCloseTo((F(44) - F(16)) / (1 - F(16)), 5);
  });

  it("scales with the chance of coming back at all, and falls as the gap stays open past its time", () => {
    const half = { ...base, repeat: 0.5 };
    expect(chance(half, 10)).toBeLessThan(chance(base, 10));
    expect(chance(half, 10)).toBeGreaterThan(0.4 * chance(base, 10));
    // Open a year with an expected month: whoever would come back has.
    expect(chance(half, 20)).toBeGreaterThan(0.3);
    expect(chance(half, 365)).toBeLessThan(0.01);
    expect(chance({ ...half, repeat: 0 }, 20)).toBe(0);
  });

  it("counts no gap shorter than a day, and keeps a spread of at least 10 %", () => {
    // σ 0.1: open 10 days, the 30th day falls in the window almost surely.
    expect(chance({ ...base, spread: 0 }, 10)).toBeGreaterThan(0.98);
    expect(chance({ ...base, spread: 0, repeat: 0.5 }, 40)).toBeLessThan(0.01);
    expect(chance({ ...base, expectedGap: 0.2 }, 0)).toBeGreaterThan(0.99);
    expect(chance({ ...base, lastPurchaseDay: 50 }, 40)).toBe(chance(base, 0));
  });
});

/** erf, for the test's own arithmetic (a series: exact enough for |x| < 3). */
function erf(x: number): number {
  let sum = 0;
  let term = x;
  for (let n = 0; n < 60; n++) {
    sum += term / (2 * n + 1);
    term *= (-x * x) / (n + 1);
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
}

describe("a group's buyers as of a day", () => {
  const prior = poolGaps([{ group: "TEA", sums: logSums(30) }], []);
  // TEA's typical gap is 30 days: a buyer counts whole after 60 days.
  const customers: Learned[] = [
    { orderDays: [10, 40], groups: [{ group: "TEA", days: [10, 40] }] },
    { orderDays: [70], groups: [{ group: "TEA", days: [70] }] },
    {
      orderDays: [100],
      groups: [
        { group: "TEA", days: [100] },
        { group: "MUG", days: [100] },
      ],
    },
  ];

  it("counts a rebuyer whole and a buyer by the time they had, purchases on or after the day unseen", () => {
    const at100 = repeatAsOf(customers, prior, 100);
    expect(at100.groups["TEA"]!.rebuyers).toBe(1);
    // 1 (the rebuyer) + 30/60 (bought on day 70); the purchases of day 100 are not before it.
    expect(at100.groups["TEA"]!.buyers).toBeCloseTo(1.5, 3);
    expect(at100.groups["MUG"]).toBeUndefined();
    const at40 = repeatAsOf(customers, prior, 40);
    // On day 40 the first customer's second purchase is not yet seen: 30 of 60 days.
    expect(at40.groups["TEA"]).toEqual({ buyers: expect.closeTo(0.5, 3) as number, rebuyers: 0 });
  });

  it("gives each customer's activity from their order days", () => {
    expect(activityOf(null, undefined)).toBeUndefined();
    const offers = new Map([["TEA", [35]]]);
    expect(activityOf({ days: [10, 40] }, offers)).toEqual({
      orderSums: logSums(30),
      orderDays: [10, 40],
      lastOrderDay: 40,
      offers,
    });
  });
});

function logSums(...gaps: number[]) {
  const s = emptySums();
  for (const g of gaps) addLog(s, g);
  return s;
}
