import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  expectedPurchases,
  expectedPurchasesIfAlive,
  fitBgnbd,
  groupSummaries,
  hyp2f1,
  logGamma,
  pAlive,
  type BgnbdParams,
  type CustomerSummary,
} from "../../src/plan/lifecycle/bgnbd.js";
import { summaryInWeeks } from "../../src/plan/lifecycle/summary.js";
import { SHARED_DATA } from "../helpers.js";

const CDNOW_SAMPLE = join(SHARED_DATA, "cdnow", "CDNOW_sample.txt");
const PUBLISHED: BgnbdParams = { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 };

/** Days since 1970-01-01 of a YYYYMMDD date. */
function dayNumber(yyyymmdd: string): number {
  const y = Number(yyyymmdd.slice(0, 4));
  const m = Number(yyyymmdd.slice(4, 6));
  const d = Number(yyyymmdd.slice(6, 8));
  return Date.UTC(y, m - 1, d) / 86_400_000;
}

/** The CDNOW 1/10th sample, calibrated to 1997-09-30: per customer the distinct purchase days. */
function cdnowSummaries(): CustomerSummary[] {
  const end = dayNumber("19970930");
  const days = new Map<string, Set<number>>();
  for (const line of readFileSync(CDNOW_SAMPLE, "utf8").split(/\r?\n/)) {
    const cells = line.trim().split(/\s+/);
    if (cells.length < 5) continue;
    const [, sampleId, date] = cells as [string, string, string];
    const day = dayNumber(date);
    if (!days.has(sampleId)) days.set(sampleId, new Set());
    if (day <= end) days.get(sampleId)!.add(day);
  }
  return [...days.values()].map((set) =>
    summaryInWeeks(
      [...set].sort((a, b) => a - b),
      end,
    ),
  );
}

describe("special functions", () => {
  it("logGamma matches known values", () => {
    expect(logGamma(1)).toBeCloseTo(0, 12);
    expect(logGamma(5)).toBeCloseTo(Math.log(24), 12);
    expect(logGamma(0.5)).toBeCloseTo(0.5 * Math.log(Math.PI), 12);
    expect(logGamma(1e-6)).toBeCloseTo(13.815509980749, 8);
    expect(logGamma(171)).toBeCloseTo(706.5730622457874, 8); // ln(170!)
  });
});

describe("BG/NBD per-customer quantities", () => {
  it("reproduces the paper's worked example (x=2, t_x=30.43, T=38.86, next 39 weeks: 1.226)", () => {
    const c = { x: 2, tx: 30.43, T: 38.86 };
    expect(expectedPurchases(PUBLISHED, c, 39)).toBeCloseTo(1.226, 3);
  });

  it("agrees with the closed form with 2F1 (FHL eq. 10) where that is well conditioned", () => {
    const { r, alpha, a, b } = PUBLISHED;
    for (const c of [
      { x: 0, tx: 0, T: 20 },
      { x: 1, tx: 3, T: 30 },
      { x: 7, tx: 35, T: 38 },
    ]) {
      const t = 52;
      const z = t / (alpha + c.T + t);
      const closed =
        ((a + b + c.x - 1) / (a - 1)) *
        (1 -
          Math.pow((alpha + c.T) / (alpha + c.T + t), r + c.x) *
            hyp2f1(r + c.x, b + c.x, a + b + c.x - 1, z));
      expect(expectedPurchasesIfAlive(PUBLISHED, c, t)).toBeCloseTo(closed, 8);
    }
  });

  it("tends to the NBD when nobody drops out", () => {
    const params = { r: 0.8, alpha: 10, a: 1e-9, b: 1e9 };
    const c = { x: 3, tx: 20, T: 40 };
    expect(pAlive(params, c)).toBeCloseTo(1, 6);
    expect(expectedPurchases(params, c, 13)).toBeCloseTo(((0.8 + 3) / (10 + 40)) * 13, 6);
  });
});

describe.skipIf(!existsSync(CDNOW_SAMPLE))(
  "BG/NBD fit on CDNOW (needs ../shared/data/cdnow: skipped when it is absent)",
  () => {
    it("reproduces r, alpha, a, b within 1% from the raw purchase log", () => {
      const summaries = cdnowSummaries();
      expect(summaries).toHaveLength(2357);
      expect(summaries.reduce((n, s) => n + s.x, 0)).toBe(2457); // repeat transactions (distinct days) in the calibration period
      const fit = fitBgnbd(groupSummaries(summaries));
      expect(fit.degenerate).toBeNull();
      for (const key of ["r", "alpha", "a", "b"] as const) {
        expect(Math.abs(fit.params[key] / PUBLISHED[key] - 1), key).toBeLessThan(0.01);
      }
      expect(fit.logLikelihood).toBeCloseTo(-9582.4, 0);
    });
  },
);
