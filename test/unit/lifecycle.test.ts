import { describe, expect, it } from "vitest";
import { defaultConfig } from "../../src/config/schema.js";
import { dayNumber, dayString, makeDayOf } from "../../src/plan/days.js";
import { parseNow } from "../../src/cli/now.js";
import { classify } from "../../src/plan/lifecycle/classify.js";
import type { BgnbdFit } from "../../src/plan/lifecycle/bgnbd.js";
import { currentSlot, nextSlot } from "../../src/plan/winback/cadence.js";
import { isoWeekDays } from "../../src/plan/winback/due.js";
import { parseDuration } from "../../src/import/normalize/catalog.js";
import { UsageError } from "../../src/errors.js";

const config = defaultConfig("/");
const d = dayNumber;
const rhythm = { config: config.lifecycle, shopGap: 30, fit: null };

describe("rhythm statuses", () => {
  const every30 = [d("2024-01-01"), d("2024-01-31"), d("2024-03-01")];

  it("uses the floors when the gap is short, and multiples when it is long", () => {
    const weekly = [d("2024-01-01"), d("2024-01-08"), d("2024-01-15")];
    // gap 7: 1.5 × 7 = 10.5 < 30, so warm from day 30
    expect(classify(weekly, d("2024-02-13"), rhythm).status).toBe("active"); // 29 days
    expect(classify(weekly, d("2024-02-14"), rhythm)).toMatchObject({
      status: "warm",
      sinceDay: d("2024-02-14"),
    });
    const every100 = [d("2023-01-01"), d("2023-04-11"), d("2023-07-20")];
    expect(classify(every100, d("2023-07-20") + 149, rhythm).status).toBe("active");
    expect(classify(every100, d("2023-07-20") + 150, rhythm).status).toBe("warm");
    expect(classify(every100, d("2023-07-20") + 250, rhythm).status).toBe("cold");
    expect(classify(every100, d("2023-07-20") + 400, rhythm)).toMatchObject({
      status: "lost",
      sinceDay: d("2023-07-20") + 400,
      typicalGapDays: 100,
    });
  });

  it("calls a one-purchase customer new until they are overdue by the shop's gap", () => {
    const once = [d("2024-01-01")];
    expect(classify(once, d("2024-01-30"), rhythm)).toMatchObject({
      status: "new",
      sinceDay: d("2024-01-01"),
    });
    expect(classify(once, d("2024-02-15"), rhythm).status).toBe("warm"); // 45 days = 1.5 × 30
    expect(classify(once, d("2024-01-30"), { ...rhythm, shopGap: 100 }).typicalGapDays).toBe(100);
  });

  it("calls a customer who came back won_back until their typical gap has passed", () => {
    const back = [...every30, d("2024-06-01")]; // 92 days away: they were cold
    expect(classify(back, d("2024-06-10"), rhythm)).toMatchObject({
      status: "won_back",
      wonBackFrom: "cold",
      sinceDay: d("2024-06-01"),
    });
    // gaps 30, 30, 92: median 30, so active again from day 30
    expect(classify(back, d("2024-07-01"), rhythm).status).toBe("active");
    // a customer who was on time is simply active
    expect(classify([...every30, d("2024-03-31")], d("2024-04-02"), rhythm).status).toBe("active");
  });
});

describe("bgnbd statuses", () => {
  const fit = (
    degenerate: string | null,
    params = { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 },
  ): BgnbdFit => ({
    params,
    logLikelihood: 0,
    customers: 1,
    evaluations: 0,
    degenerate,
  });

  it("uses P(alive) for repeat customers when the fit is sound", () => {
    const days = [0, 14, 28, 42]; // every 2 weeks
    const soon = classify(days, 45, { config: config.lifecycle, shopGap: 30, fit: fit(null) });
    expect(soon.status).toBe("active");
    expect(soon.pAlive).toBeGreaterThan(0.8);
    const late = classify(days, 42 + 52 * 7, { config: config.lifecycle, shopGap: 30, fit: fit(null) });
    expect(late.status).toBe("lost");
    expect(late.score).toBe(late.pAlive);
    expect(late.sinceDay).toBeGreaterThan(42);
    expect(late.sinceDay).toBeLessThan(42 + 52 * 7);
    expect(late.expected90).toBeLessThan(soon.expected90!);
  });

  it("judges won_back by the model too: warm by P(alive) on the day of the new order", () => {
    // every 10 weeks: with the CDNOW parameters P(alive) is 0.67 just before each order
    const days = [0, 70, 140, 210];
    const c = classify(days, 215, { config: config.lifecycle, shopGap: 30, fit: fit(null) });
    expect(c).toMatchObject({ status: "won_back", wonBackFrom: "warm" });
  });

  it("never calls everyone active when the fit degenerated", () => {
    const degenerate = fit("the dropout part degenerated", { r: 0.72, alpha: 9.5, a: 1e-4, b: 3e4 });
    const ctx = { config: config.lifecycle, shopGap: 30, fit: degenerate };
    const weekly = [0, 7, 14, 21, 28, 35];
    const gone = classify(weekly, 35 + 70, ctx);
    expect(gone.pAlive).toBeGreaterThan(0.999);
    expect(gone.status).not.toBe("active");
    expect(classify(weekly, 38, ctx).status).toBe("active");
  });

  it("follows the rhythm rules when the purchase rates degenerated too (a handful of customers)", () => {
    const flat = fit("degenerated", { r: 9e4, alpha: 1.2e6, a: 1e-6, b: 400 });
    const ctx = { config: config.lifecycle, shopGap: 30, fit: flat };
    const c = classify([0, 30, 60], 60 + 80, ctx);
    expect(c.status).toBe("cold"); // 80 days: cold by rhythm (75), though the ratio is about 1
    expect(c.pAlive).toBeCloseTo(1, 6);
    expect(c.expected90).not.toBeNull();
  });
});

describe("win-back cadence", () => {
  const since = d("2024-05-07");
  it("puts the first contact on the day the status began, then every every_days, up to max_contacts", () => {
    expect(currentSlot("warm", since, since, config.winback)).toEqual({ n: 1, dueDay: since });
    expect(currentSlot("warm", since, since + 13, config.winback)).toEqual({ n: 1, dueDay: since });
    expect(currentSlot("warm", since, since + 14, config.winback)).toEqual({ n: 2, dueDay: since + 14 });
    expect(currentSlot("lost", since, since + 179, config.winback)).toEqual({ n: 3, dueDay: since + 120 });
    expect(currentSlot("lost", since, since + 180, config.winback)).toBeNull();
    expect(nextSlot({ n: 3, dueDay: since + 120 }, "lost", since, config.winback)).toBeNull();
    expect(currentSlot("active", since, since, config.winback)).toBeNull();
  });

  it("finds the ISO week", () => {
    const { monday, sunday } = isoWeekDays(d("2024-06-01"));
    expect([dayString(monday), dayString(sunday)]).toEqual(["2024-05-27", "2024-06-02"]);
    expect(dayString(isoWeekDays(d("2024-06-03")).monday)).toBe("2024-06-03");
  });
});

describe("days and now", () => {
  it("counts days in the shop's timezone, across daylight saving changes", () => {
    const berlin = makeDayOf("Europe/Berlin");
    expect(dayString(berlin("2024-03-30T23:30:00Z"))).toBe("2024-03-31"); // 00:30 CET
    expect(dayString(berlin("2024-03-31T21:59:00Z"))).toBe("2024-03-31"); // 23:59 CEST
    expect(dayString(berlin("2024-03-31T22:00:00Z"))).toBe("2024-04-01");
    expect(dayString(makeDayOf("UTC")("2024-03-31T23:59:59Z"))).toBe("2024-03-31");
  });

  it("reads --now as the start of a day in the shop's timezone, or a date-time", () => {
    expect(parseNow("2024-06-01", "Europe/Berlin")).toBe("2024-05-31T22:00:00Z");
    expect(parseNow("2024-06-01T08:00:00+01:00", "UTC")).toBe("2024-06-01T07:00:00Z");
    expect(() => parseNow("next monday", "UTC")).toThrow(UsageError);
  });
});

describe("call durations", () => {
  it("reads seconds and clock formats", () => {
    expect(parseDuration("25")).toBe(25);
    expect(parseDuration("24.6")).toBe(25);
    expect(parseDuration("1:25")).toBe(85);
    expect(parseDuration("0:01:25")).toBe(85);
    expect(parseDuration("1:75")).toBeNull();
    expect(parseDuration("long")).toBeNull();
  });
});
