/** The pooled gaps (pooling.ts), worked out by hand on log gaps that are whole numbers. */
import { describe, expect, it } from "vitest";
import {
  addLog,
  emptySums,
  poolGaps,
  pooledGap,
  pooledOrderGap,
  type LogSums,
} from "../../src/plan/replenishment/pooling.js";

/** Sums of gaps whose logs are the given numbers. */
const logs = (...xs: number[]): LogSums => {
  const s = emptySums();
  for (const x of xs) addLog(s, Math.exp(x));
  return s;
};

describe("addLog", () => {
  it("sums the log gaps and their squares, a gap under a day counting as one", () => {
    const s = emptySums();
    addLog(s, Math.exp(2));
    addLog(s, 0.5);
    expect(s.n).toBe(2);
    expect(s.sum).toBeCloseTo(2, 12);
    expect(s.sumSq).toBeCloseTo(4, 12);
  });
});

describe("poolGaps by hand", () => {
  // Group A: one pair with log gaps 1 and 3, one with 2; group B: one pair with 4 and 4.
  // Customers' log gaps between orders: 1 and 2; 3.
  const prior = poolGaps(
    [
      { group: "A", sums: logs(1, 3) },
      { group: "A", sums: logs(2) },
      { group: "B", sums: logs(4, 4) },
      { group: "C", sums: emptySums() },
    ],
    [logs(1, 2), logs(3), emptySums()],
  );
  // Within pairs: (10 − 16/2) + 0 over 2 = 1. Groups: A (14 − 36/3) + B 0 over 3 = 2/3. Shop mean 14/5.
  // τ² = max(s²g/10, s²g − s²w) = 1/15: the pair weight s²w/τ² = 15.
  // Between groups: 3 × 0.8² + 2 × 1.2² = 4.8, noise 2 × 2/3: τ²G = (4.8 − 4/3)/5; group weight s²g/τ²G.
  const s2g = 2 / 3;
  const groupWeight = s2g / ((4.8 - 4 / 3) / 5);

  it("finds the shop's mean, the weights and the within-pair variance", () => {
    expect(prior.shopMean).toBeCloseTo(2.8, 10);
    expect(prior.pairWeight).toBe(15);
    expect(prior.within).toBe(1);
    expect(prior.groupWeight).toBeCloseTo(groupWeight, 3);
  });

  it("pools each group's mean with the shop's by its gaps", () => {
    expect(prior.groups["A"]![0]).toBeCloseTo((6 + groupWeight * 2.8) / (3 + groupWeight), 10);
    expect(prior.groups["A"]![1]).toBe(3);
    expect(prior.groups["B"]![0]).toBeCloseTo((8 + groupWeight * 2.8) / (2 + groupWeight), 10);
    expect(prior.groups["B"]![1]).toBe(2);
    expect(prior.groups["C"]).toBeUndefined();
  });

  it("pools a customer's rhythm between orders with the shop's", () => {
    // Mean 6/3 = 2; within (5 − 9/2)/1 = 0.5; between 2 × 0.5² + 1 × 1² = 1.5, noise 2 × 0.5:
    // τ²O = 0.5/3, the weight 0.5/τ²O = 3.
    expect(prior.orderMean).toBeCloseTo(2, 10);
    expect(prior.orderWeight).toBe(3);
    expect(pooledOrderGap(prior, logs(1))).toBeCloseTo(Math.exp(0.25 * 1 + 0.75 * 2), 8);
    expect(pooledOrderGap(prior, emptySums())).toBeCloseTo(Math.exp(2), 8);
  });

  it("pools a pair's own gaps with its group's, and says how", () => {
    const a = prior.groups["A"]![0];
    const gap = pooledGap(prior, "A", logs(2));
    expect(gap.ownGaps).toBe(1);
    expect(gap.ownShare).toBeCloseTo(1 / 16, 10);
    expect(gap.days).toBeCloseTo(Math.exp((1 / 16) * 2 + (15 / 16) * a), 8);
    expect(gap.groupDays).toBeCloseTo(Math.exp(a), 8);
    expect(gap.groupGaps).toBe(3);
    expect(gap.spread).toBeCloseTo(Math.sqrt(1 + 1 / 16), 10);
    const none = pooledGap(prior, "Z", emptySums());
    expect(none).toEqual({
      days: Math.exp(2.8),
      ownGaps: 0,
      ownShare: 0,
      groupDays: Math.exp(2.8),
      groupGaps: 0,
      spread: Math.sqrt(1 + 1 / 15),
    });
  });
});

describe("poolGaps on a shop with no repeat purchase", () => {
  it("falls back to a month, with weights that let the first gaps speak", () => {
    const prior = poolGaps([], []);
    expect(prior).toEqual({
      shopMean: Math.log(30),
      groups: {},
      groupWeight: 2,
      pairWeight: 1,
      within: 0.5,
      orderMean: Math.log(30),
      orderWeight: 2,
    });
  });

  it("keeps its weights finite when every gap is the same", () => {
    const prior = poolGaps(
      [
        { group: "A", sums: logs(3, 3) },
        { group: "A", sums: logs(3, 3) },
      ],
      [logs(3, 3)],
    );
    expect(prior.within).toBe(0.01);
    expect(Number.isFinite(prior.pairWeight)).toBe(true);
    expect(Number.isFinite(prior.orderWeight)).toBe(true);
    expect(pooledGap(prior, "A", logs(3)).days).toBeCloseTo(Math.exp(3), 6);
  });
});
