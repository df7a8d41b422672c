/**
 * Hold-out groups (src/deliver/holdout.ts): stable per customer and week, keyed, near the
 * configured share.
 */
import { describe, expect, it } from "vitest";
import { holdoutScore, isHeldOut } from "../../src/deliver/holdout.js";

const SECRET = "0123456789abcdef0123456789abcdef";

describe("the hold-out hash", () => {
  it("gives the same answer for the same customer and week, every time", () => {
    for (let id = 1; id <= 50; id++) {
      expect(holdoutScore(SECRET, id, "2026-W10")).toBe(holdoutScore(SECRET, id, "2026-W10"));
      expect(isHeldOut(SECRET, id, "2026-W10", 0.1)).toBe(isHeldOut(SECRET, id, "2026-W10", 0.1));
    }
  });

  it("holds out about the configured share of customers each week (within 1.5 points on 20,000)", () => {
    for (const week of ["2026-W10", "2026-W11"]) {
      for (const share of [0.1, 0.25]) {
        let held = 0;
        for (let id = 1; id <= 20_000; id++) if (isHeldOut(SECRET, id, week, share)) held++;
        // A binomial's standard deviation here is at most 0.31 points: 1.5 is about five of them.
        expect(Math.abs(held / 20_000 - share)).toBeLessThan(0.015);
      }
    }
  });

  it("is a different draw each week and for each secret, and nobody with share 0", () => {
    const ids = Array.from({ length: 2000 }, (_, i) => i + 1);
    const group = (secret: string, week: string) => ids.filter((id) => isHeldOut(secret, id, week, 0.1));
    const w10 = group(SECRET, "2026-W10");
    const w11 = group(SECRET, "2026-W11");
    const other = group(SECRET.replace("0", "x"), "2026-W10");
    const overlap = (a: number[], b: number[]) => a.filter((id) => b.includes(id)).length / a.length;
    // Independent draws share about 10 % of their members; the same draw would share all of them.
    expect(w10.length).toBeGreaterThan(100);
    expect(overlap(w10, w11)).toBeLessThan(0.3);
    expect(overlap(w10, other)).toBeLessThan(0.3);
    expect(ids.some((id) => isHeldOut(SECRET, id, "2026-W10", 0))).toBe(false);
  });

  it("scores lie in [0, 1)", () => {
    for (let id = 0; id < 1000; id++) {
      const score = holdoutScore(SECRET, id, "2026-W01");
      expect(score).toBeGreaterThanOrEqual(0);
      expect(score).toBeLessThan(1);
    }
  });
});
