import { describe, expect, it } from "vitest";
import { currentReminder, firstDueDay, supplyDays } from "../../src/plan/replenishment/arithmetic.js";
import { isoWeekOf, parseIsoWeek } from "../../src/plan/replenishment/dates.js";
import { dayNumber, dayString, LocalDays } from "../../src/plan/days.js";
import { planGroup, type PlanProduct } from "../../src/plan/replenishment/compute.js";
import { purchasesOf } from "../../src/plan/replenishment/purchases.js";
import { learnedRate, median } from "../../src/plan/replenishment/rhythm.js";
import { SupplyRules, skuGlob } from "../../src/plan/replenishment/rules.js";
import { replenishmentSchema } from "../../src/config/replenishment.js";

const d = dayNumber;

describe("due arithmetic", () => {
  it("keeps supply days to 0.01 so 2 × 30 × 1.9 is 114, not 113.999…", () => {
    expect(supplyDays(2, 30, 1.9)).toBe(114);
    expect(supplyDays(1, 45, 1.5)).toBe(67.5);
  });

  it("drops the fraction of a day, subtracts the lead days, and never goes before the purchase", () => {
    expect(dayString(firstDueDay(d("2026-01-10"), 67.5, 10))).toBe("2026-03-08");
    expect(dayString(firstDueDay(d("2026-01-05"), 60, 7))).toBe("2026-02-27");
    expect(dayString(firstDueDay(d("2026-01-05"), 3, 7))).toBe("2026-01-05");
  });

  it("advances a reminder a whole cycle after its due date, and expires after the last one", () => {
    const first = d("2025-11-12");
    expect(currentReminder(first, 30, 3, d("2025-11-01"))).toMatchObject({ number: 1, expired: false });
    expect(currentReminder(first, 30, 3, d("2025-12-11"))).toMatchObject({ number: 1 });
    const second = currentReminder(first, 30, 3, d("2025-12-12"));
    expect([second.number, dayString(second.dueDay)]).toEqual([2, "2025-12-12"]);
    const last = currentReminder(first, 30, 3, d("2026-02-09"));
    expect([last.number, dayString(last.dueDay), last.expired]).toEqual([3, "2026-01-11", false]);
    const expired = currentReminder(first, 30, 3, d("2026-02-10"));
    expect([expired.number, dayString(expired.dueDay), expired.expired]).toEqual([3, "2026-01-11", true]);
    expect(dayString(expired.expiresOn)).toBe("2026-02-10");
  });

  it("handles fractional cycles by flooring each reminder's offset", () => {
    const now = currentReminder(0, 2.5, 10, 5);
    expect([now.number, now.dueDay]).toEqual([3, 5]);
    expect(currentReminder(0, 2.5, 10, 4)).toMatchObject({ number: 2, dueDay: 2 });
  });
});

describe("a reminder's cycle", () => {
  const product = (cycleDays: number | null): PlanProduct => ({
    sku: "DOG-12KG",
    name: "Dog food 12 kg",
    groupKey: "DOG",
    daysPerUnit: null,
    rule: { daysPerUnit: 30, leadDays: 0, cycleDays, source: "rule 1" },
  });
  const plan = (cycleDays: number | null) =>
    planGroup(
      "DOG",
      [{ orderId: 1, day: d("2026-01-01"), pid: 0, quantity: 1 }],
      [product(cycleDays)],
      {
        customerId: 1,
        importedUsageFactor: null,
        manualUsageFactor: null,
        override: undefined,
        overrideAll: undefined,
      },
      {
        leadDays: 3,
        maxReminders: 3,
        learn: true,
        today: d("2026-02-05"),
        model: null,
        minProbability: 0.2,
        cooldownDays: 28,
      },
    ).row!;

  it("repeats every cycle_days of its rule, not every supply period", () => {
    // Supply 30 days: first due 2026-01-31; with cycle_days 10 the second reminder is due 02-10.
    expect(plan(10)).toMatchObject({ cycle_days: 10, first_due_on: "2026-01-31", due_on: "2026-01-31" });
    expect(plan(4)).toMatchObject({ cycle_days: 4, due_on: "2026-02-04", reminder_number: 2 });
  });

  it("repeats every supply period when the rule names no cycle", () => {
    expect(plan(null)).toMatchObject({ cycle_days: 30, due_on: "2026-01-31", reminder_number: 1 });
  });
});

describe("dates", () => {
  it("rejects impossible dates and finds ISO weeks", () => {
    expect(dayNumber("2026-02-31")).toBeNaN();
    expect(isoWeekOf(d("2026-03-08"))).toEqual({
      label: "2026-W10",
      monday: d("2026-03-02"),
      sunday: d("2026-03-08"),
    });
    expect(parseIsoWeek("2026-W10").monday).toBe(d("2026-03-02"));
    expect(isoWeekOf(d("2027-01-01")).label).toBe("2026-W53");
    expect(() => parseIsoWeek("2026-W54")).toThrow(/ISO week/);
  });

  it("puts an instant on the shop's calendar day, across daylight saving changes", () => {
    const berlin = new LocalDays("Europe/Berlin");
    const at = (iso: string) => dayString(berlin.dayOf(Date.parse(iso) / 1000));
    expect(at("2026-03-01T23:30:00Z")).toBe("2026-03-02");
    expect(at("2026-07-01T21:59:59Z")).toBe("2026-07-01");
    expect(at("2026-07-01T22:00:00Z")).toBe("2026-07-02");
    expect(at("2026-03-29T00:59:59Z")).toBe("2026-03-29");
  });
});

describe("purchases", () => {
  const line = (orderId: number, day: number, quantity: number, pid = 0) => ({ orderId, day, pid, quantity });

  it("nets a return against the latest purchase and drops a purchase returned in full", () => {
    expect(purchasesOf([line(1, 10, 3), line(2, 13, -1)])).toEqual([
      { orderId: 1, day: 10, pid: 0, quantity: 2 },
    ]);
    expect(purchasesOf([line(1, 10, 2), line(2, 40, 1), line(3, 42, -1)])).toEqual([
      { orderId: 1, day: 10, pid: 0, quantity: 2 },
    ]);
    expect(purchasesOf([line(1, 10, 1), line(1, 10, -1)])).toEqual([]);
  });

  it("makes one purchase of several orders on the same day", () => {
    expect(purchasesOf([line(1, 10, 1), line(2, 10, 2, 1)])).toEqual([
      { orderId: 2, day: 10, pid: 1, quantity: 3 },
    ]);
  });
});

describe("learned rhythm", () => {
  it("takes the median and keeps it within half and twice the rule", () => {
    expect(median([3, 1, 2, 10])).toBe(2.5);
    expect(learnedRate([40 / 30, 40 / 30], 30)?.daysPerUnit).toBeCloseTo(40);
    expect(learnedRate([100 / 30, 100 / 30], 30)?.daysPerUnit).toBe(60);
    expect(learnedRate([0.1, 0.1], 30)?.daysPerUnit).toBe(15);
    expect(learnedRate([50], 30)).toBeNull();
    expect(learnedRate([20, 30, 25], null)?.daysPerUnit).toBe(25);
  });
});

describe("rule matching", () => {
  const rules = new SupplyRules(
    replenishmentSchema.parse({
      rules: [
        { match: { sku: "LNS-1D-30" }, days_per_unit: 30 },
        { match: { sku: "DOG-*" }, days_per_unit: 45, lead_days: 10 },
        { match: { name: "(?i)filter" }, days_per_unit: 90, cycle_days: 90 },
        { match: { group: "coffee" }, days_per_unit: 20 },
        { match: { sku: "*" }, days_per_unit: 1 },
      ],
    }),
  );
  const product = (
    sku: string | null,
    name: string | null,
    group?: string,
    daysPerUnit: number | null = null,
  ) => ({
    sku,
    name,
    groupKey: group ?? sku ?? name ?? "",
    daysPerUnit,
  });

  it("takes the first rule that matches: sku, glob, name pattern, group", () => {
    expect(rules.ruleFor(product("lns-1d-30", "Lenses"))?.daysPerUnit).toBe(30);
    expect(rules.ruleFor(product("DOG-12KG", "Dog food"))).toMatchObject({ daysPerUnit: 45, leadDays: 10 });
    expect(rules.ruleFor(product("WF-1", "Water FILTER cartridge"))).toMatchObject({
      daysPerUnit: 90,
      cycleDays: 90,
    });
    expect(rules.ruleFor(product("ESP-1", "Espresso", "Coffee"))?.daysPerUnit).toBe(20);
    expect(rules.ruleFor(product("X", "Anything"))?.source).toMatch(/rule 5/);
    expect(rules.ruleFor(product(null, "no sku, no rule"))).toBeNull();
  });

  it("falls back on the product's days_per_unit when no rule matches", () => {
    const none = new SupplyRules(replenishmentSchema.parse({}));
    expect(none.ruleFor(product("A", "A", undefined, 12))?.daysPerUnit).toBe(12);
    expect(none.ruleFor(product("A", "A"))).toBeNull();
  });

  it("escapes everything in a glob but * and ?", () => {
    expect(skuGlob("A.B?").test("A.BC")).toBe(true);
    expect(skuGlob("A.B?").test("AxBC")).toBe(false);
  });

  it("rejects rules that match by nothing or by two things, and bad patterns", () => {
    expect(replenishmentSchema.safeParse({ rules: [{ match: {}, days_per_unit: 1 }] }).success).toBe(false);
    expect(
      replenishmentSchema.safeParse({ rules: [{ match: { sku: "A", group: "B" }, days_per_unit: 1 }] })
        .success,
    ).toBe(false);
    expect(
      replenishmentSchema.safeParse({ rules: [{ match: { name: "(" }, days_per_unit: 1 }] }).success,
    ).toBe(false);
    expect(
      replenishmentSchema.safeParse({ rules: [{ match: { sku: "A" }, days_per_unit: 0 }] }).success,
    ).toBe(false);
  });
});

describe("due --csv cells", () => {
  it("neutralises cells a spreadsheet would run as formulas, and quotes as RFC 4180 says", async () => {
    const { csvCell, toCsv } = await import("../../src/cli/csv.js");
    expect(["=1+1", "+49 151", "-2", "@SUM(A1)", "\tx"].map(csvCell)).toEqual([
      "'=1+1",
      "'+49 151",
      "'-2",
      "'@SUM(A1)",
      "'\tx",
    ]);
    expect(csvCell('Dog food "Premium", 12 kg')).toBe('"Dog food ""Premium"", 12 kg"');
    expect(csvCell(-2)).toBe("-2");
    expect(toCsv(["a", "b"], [{ a: null, b: "=x" }])).toBe("a,b\r\n,'=x\r\n");
    // Only a first character counts: a name with a dash or an @ inside stays as it is.
    expect(["Jean-Luc", "ann@example.com", "1+1"].map(csvCell)).toEqual([
      "Jean-Luc",
      "ann@example.com",
      "1+1",
    ]);
    expect(csvCell(undefined)).toBe("");
  });
});
