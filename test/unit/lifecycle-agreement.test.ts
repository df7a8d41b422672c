/**
 * Issue 15: the lifecycle and the reminders agree (a customer whose supply still lasts is not
 * missed: no warm, cold or lost, no call task, no win-back email), and a BG/NBD fit that ran to a
 * boundary is flagged and falls back, so that a customer who ordered two days ago is never lost.
 * On real SQLite through runPlan (reminders, then the lifecycle, then the tasks, as `plan` runs
 * them), and on classify itself.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseConfigText } from "../../src/config/load.js";
import { defaultConfig } from "../../src/config/schema.js";
import { dayNumber, dayString } from "../../src/plan/days.js";
import { classify } from "../../src/plan/lifecycle/classify.js";
import {
  degeneracy,
  dropoutCertain,
  followsRhythm,
  type BgnbdFit,
  type BgnbdParams,
} from "../../src/plan/lifecycle/bgnbd.js";
import { readSupplyEnds, runsOutOn } from "../../src/plan/lifecycle/supply.js";
import { listLost, lifecycleState } from "../../src/plan/lifecycle/lost.js";
import { fitModel } from "../../src/plan/lifecycle/plan.js";
import { runPlan } from "../../src/plan/run.js";
import { dueWinbackEmails } from "../../src/plan/winback/due.js";
import { openStore, type Db } from "../../src/store/open.js";

const d = dayNumber;
const config = defaultConfig("/");
const rhythm = { config: config.lifecycle, shopGap: 30, fit: null };

describe("classify with a supply that lasts", () => {
  // Every 20 to 25 days: warm after 33.75 days (1.5 × 22.5), cold after 60, lost after 120.
  const days = [d("2024-03-01"), d("2024-03-21"), d("2024-04-15")];
  const today = d("2024-06-01"); // 47 days after the last order

  it("is warm without a supply, active while one lasts, with the day it runs out", () => {
    expect(classify(days, today, rhythm).status).toBe("warm");
    const held = classify(days, today, rhythm, d("2024-07-14"));
    expect(held).toMatchObject({
      status: "active",
      sinceDay: d("2024-04-15"),
      lapsedDay: null,
      supplyUntil: d("2024-07-14"),
      heldBySupply: true,
    });
  });

  it("holds on the last day of the supply, not on the day it runs out", () => {
    expect(classify(days, d("2024-07-13"), rhythm, d("2024-07-14")).status).toBe("active");
    const ran = classify(days, d("2024-07-14"), rhythm, d("2024-07-14"));
    // Cold by the rhythm (90 days), since the day the supply ran out, not since day 60.
    expect(ran).toMatchObject({ status: "cold", supplyUntil: null, heldBySupply: false });
    expect(dayString(ran.sinceDay)).toBe("2024-07-14");
    expect(dayString(ran.lapsedDay!)).toBe("2024-07-14");
  });

  it("says so without holding anyone who is active anyway, and ignores a supply that ran out long ago", () => {
    const active = classify(days, d("2024-05-01"), rhythm, d("2024-07-14"));
    expect(active).toMatchObject({ status: "active", supplyUntil: d("2024-07-14"), heldBySupply: false });
    const lost = classify(days, d("2024-09-01"), rhythm, d("2024-05-01"));
    expect(lost.status).toBe("lost");
    expect(dayString(lost.sinceDay)).toBe("2024-08-13"); // 120 days after the last order
  });

  it("keeps a one-order customer new, and holds under bgnbd as under rhythm", () => {
    const once = classify([d("2024-01-01")], d("2024-06-01"), rhythm, d("2024-07-01"));
    expect(once).toMatchObject({ status: "new", heldBySupply: true, sinceDay: d("2024-01-01") });
    const fit: BgnbdFit = {
      params: { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 },
      logLikelihood: 0,
      customers: 1,
      evaluations: 0,
      degenerate: null,
    };
    const weekly = [0, 7, 14, 21, 28];
    const ctx = { config: config.lifecycle, shopGap: 30, fit };
    expect(classify(weekly, 28 + 200, ctx).status).toBe("lost");
    expect(classify(weekly, 28 + 200, ctx, 28 + 201)).toMatchObject({ status: "active", heldBySupply: true });
  });

  it("counts whole supply days, as due_on does", () => {
    expect(runsOutOn(d("2024-04-15"), 90.9)).toBe(d("2024-07-14"));
  });
});

describe("a BG/NBD fit that ran to a boundary", () => {
  const fitOf = (params: BgnbdParams): BgnbdFit => ({
    params,
    logLikelihood: 0,
    customers: 44,
    evaluations: 0,
    degenerate: degeneracy(params),
  });
  // The Shopify sample's 100 oldest customers as of 2020-11-15 (58 buyers); issue 15's a = 25,328, b = 0.0003 alike.
  const toOne = { r: 0.0228, alpha: 1.297, a: 5170.85, b: 1.024e-5 };

  it("is flagged when dropout ran to 1, and bgnbd then follows the rhythm rules", () => {
    expect(dropoutCertain(toOne)).toBe(true);
    expect(degeneracy(toOne)).toMatch(
      /^the dropout part of the fit degenerated \(b = 0\.0000102 ran to 0; the mean chance of dropping out after a purchase, a\/\(a\+b\) = 1\.00000, is about 1\): P\(alive\) is about 0 for every customer who bought twice, however recently, so the bgnbd lifecycle follows the rhythm rules$/,
    );
    expect(degeneracy({ ...toOne, a: 25_328, b: 0.0003 })).toMatch(
      /\(a = 2\.53e\+4 ran to infinity; b = 0\.000300 ran to 0; the mean chance of dropping out after a purchase, a\/\(a\+b\) = 1\.00000, is about 1\)/,
    );
    expect(followsRhythm(fitOf(toOne))).toBe(true);
    // Just inside: a/(a+b) = 0.998 is a fit, not a boundary.
    expect(dropoutCertain({ ...toOne, a: 998, b: 2 })).toBe(false);
    expect(degeneracy({ ...toOne, a: 998, b: 2 })).toBeNull();
  });

  it("never calls a customer who ordered twice, the last time two days ago, lost", () => {
    const fit = fitOf(toOne);
    const ctx = { config: config.lifecycle, shopGap: 30, fit };
    const c = classify([0, 30], 32, ctx);
    expect(c.pAlive).toBeLessThan(1e-6); // what the fit says
    expect(c.status).toBe("active");
    // By the rhythm rules: warm after 45 days (1.5 × 30), cold after 75, lost after 120.
    expect(classify([0, 30], 30 + 45, ctx).status).toBe("warm");
    expect(classify([0, 30], 30 + 120, ctx).status).toBe("lost");
  });

  it("keeps the activity ratio when dropout ran to 0 and the rates have a spread", () => {
    const toZero = fitOf({ r: 2.948, alpha: 60.29, a: 8.3e-7, b: 371.9 }); // the Shopify sample's 44 newest customers, as of 2022-01-12
    expect(toZero.degenerate).toMatch(/a = 8\.30e-7 ran to 0/);
    expect(followsRhythm(toZero)).toBe(false);
    expect(followsRhythm({ ...toZero, degenerate: null })).toBe(false);
    expect(followsRhythm({ params: toOne, degenerate: null })).toBe(false);
  });

  it("holds even a sound fit to the min_days floors: no one is warm within 30 days of an order", () => {
    // p fixed near 0.85 for everyone (a, b → ∞ together, the Shopify sample's 200 oldest, as of 2022-01-12):
    // P(alive) right after a second order is 0.15.
    const fixed: BgnbdFit = { ...fitOf({ r: 0.0185, alpha: 0.759, a: 1.156e6, b: 2.041e5 }) };
    expect(fixed.degenerate).toBeNull();
    const ctx = { config: config.lifecycle, shopGap: 30, fit: fixed };
    const twoDays = classify([0, 20], 22, ctx);
    expect(twoDays.score).toBeLessThan(config.lifecycle.warm_below);
    expect(twoDays.status).toBe("active");
    const c = classify([0, 20], 20 + 70, ctx);
    expect(c.status).toBe("cold"); // 70 days: at most cold (lost needs 120)
    expect(c.sinceDay).toBe(20 + config.lifecycle.min_days.cold);
    expect(c.lapsedDay).toBe(20 + config.lifecycle.min_days.warm);
    expect(classify([0, 20], 20 + 130, ctx).status).toBe("lost");
    // A third order 10 days after the second wins nobody back.
    expect(classify([0, 30, 40], 41, ctx).status).toBe("active");
  });
});

describe("a stored fit", () => {
  it("is judged again by today's rules when reused: a fit stored as sound before issue 15 is flagged", () => {
    const db = openStore(join(mkdtempSync(join(tmpdir(), "comeback-fit-")), "t.db"));
    try {
      const histories = [
        { customerId: 1, days: [d("2020-01-01"), d("2020-02-01")], orders: 2, lastOrderId: 2 },
        { customerId: 2, days: [d("2020-01-10")], orders: 1, lastOrderId: 3 },
        {
          customerId: 3,
          days: [d("2020-01-05"), d("2020-03-01"), d("2020-04-01")],
          orders: 3,
          lastOrderId: 6,
        },
      ];
      const now = "2020-06-01T00:00:00Z";
      const first = fitModel(db, { timezone: "UTC" }, now, { histories });
      expect(first.report!.refitted).toBe(true);
      db.prepare("UPDATE model_params SET params = ?, degenerate = NULL").run(
        JSON.stringify({ r: 0.0228, alpha: 1.297, a: 5170.85, b: 1.024e-5 }),
      );
      const again = fitModel(db, { timezone: "UTC" }, now, { histories });
      expect(again.report).toMatchObject({ refitted: false, degenerate: true, fallback: "rhythm" });
      expect(followsRhythm(again.fit!)).toBe(true);
    } finally {
      db.close();
    }
  });
});

describe("a plan: reminders, then the lifecycle that reads them, then the tasks", () => {
  let db: Db;
  beforeEach(() => {
    db = openStore(join(mkdtempSync(join(tmpdir(), "comeback-agree-")), "t.db"));
  });
  afterEach(() => db.close());

  const shopConfig = parseConfigText(
    `timezone: UTC
replenishment:
  rules:
    - match: { sku: "LNS-30" }
      days_per_unit: 30
`,
    { label: "comeback.yaml", env: {}, baseDir: "/" },
  );

  let orderId = 0;
  function customer(id: number, orders: [string, string, number][]): void {
    db.prepare(
      `INSERT INTO customers (id, identity_key, external_id, email, phone, info_as_of, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, 'x', 'x', 'x')`,
    ).run(id, `id:C${id}`, `C${id}`, `c${id}@example.com`, `4917010000${id}`);
    for (const [day, sku, quantity] of orders) {
      orderId += 1;
      db.prepare(
        `INSERT INTO orders (id, source, external_id, customer_id, placed_at, status_class, currency, created_at, updated_at)
         VALUES (?, 'csv', ?, ?, ?, 'completed', 'EUR', 'x', 'x')`,
      ).run(orderId, `O${orderId}`, id, `${day}T10:00:00Z`);
      db.prepare(
        `INSERT INTO order_lines (order_id, line_key, sku, product_name, quantity, unit_price_minor, line_total_minor)
         VALUES (?, '1', ?, ?, ?, 1000, ?)`,
      ).run(orderId, sku, sku === "LNS-30" ? "Monthly lenses" : "T-shirt", quantity, 1000 * quantity);
    }
  }

  const lifecycle = (id: number) =>
    db
      .prepare("SELECT status, since, lapsed_on, supply_until FROM customer_lifecycle WHERE customer_id = ?")
      .get(id) as { status: string; since: string; lapsed_on: string | null; supply_until: string | null };

  it("keeps a customer whose lenses last active, with no call task and no win-back email", async () => {
    // 1: three months of lenses bought 47 days ago; 2: the same pace, T-shirts only.
    customer(1, [
      ["2024-03-01", "LNS-30", 1],
      ["2024-03-21", "TSHIRT", 1],
      ["2024-04-15", "LNS-30", 3],
    ]);
    customer(2, [
      ["2024-03-01", "TSHIRT", 1],
      ["2024-03-21", "TSHIRT", 1],
      ["2024-04-15", "TSHIRT", 1],
    ]);
    const now = "2024-06-01T08:00:00Z";
    const report = await runPlan(db, shopConfig, now);

    const reminder = db
      .prepare("SELECT last_purchase_on, supply_days, state FROM reminders WHERE customer_id = 1")
      .get() as { last_purchase_on: string; supply_days: number; state: string };
    expect(reminder).toMatchObject({ last_purchase_on: "2024-04-15", state: "open" });
    const until = dayString(runsOutOn(d(reminder.last_purchase_on), reminder.supply_days));
    expect(until > "2024-06-01").toBe(true);
    expect(readSupplyEnds(db).get(1)).toBe(d(until));

    expect(lifecycle(1)).toEqual({
      status: "active",
      since: "2024-04-15",
      lapsed_on: null,
      supply_until: until,
    });
    expect(lifecycle(2)).toMatchObject({ status: "warm", supply_until: null });
    expect(report.lifecycle.held_by_supply).toBe(1);
    expect(report.lifecycle.counts).toMatchObject({ active: 1, warm: 1 });

    const tasks = db.prepare("SELECT customer_id FROM tasks WHERE state = 'open'").pluck().all();
    expect(tasks).toEqual([2]);
    expect(dueWinbackEmails(db, shopConfig, now).map((e) => e.customer_id)).toEqual([2]);
    const listed = listLost(db, ["active", "warm"], lifecycleState(db)!);
    expect(listed.map((r) => [r.comeback_id, r.status, r.supply_until])).toEqual([
      [2, "warm", null],
      [1, "active", until],
    ]);

    // The day the supply runs out, the next plan sees it: overdue since that day, a task for it.
    const later = await runPlan(db, shopConfig, `${until}T08:00:00Z`);
    expect(later.lifecycle.held_by_supply).toBe(0);
    expect(lifecycle(1)).toMatchObject({ since: until, lapsed_on: until, supply_until: null });
    expect(["warm", "cold", "lost"]).toContain(lifecycle(1).status);
    expect(db.prepare("SELECT count(*) FROM tasks WHERE customer_id = 1").pluck().get()).toBe(1);
  });

  it("reads the reminders this plan wrote, not the last plan's", async () => {
    customer(1, [
      ["2024-03-01", "TSHIRT", 1],
      ["2024-03-21", "TSHIRT", 1],
      ["2024-04-15", "TSHIRT", 1],
    ]);
    await runPlan(db, shopConfig, "2024-06-01T08:00:00Z");
    expect(lifecycle(1).status).toBe("warm");
    // A lens order arrives; the same plan that makes its reminder keeps the customer active.
    orderId += 1;
    db.prepare(
      `INSERT INTO orders (id, source, external_id, customer_id, placed_at, status_class, currency, created_at, updated_at)
       VALUES (?, 'csv', 'late', 1, '2024-04-20T10:00:00Z', 'completed', 'EUR', 'x', 'x')`,
    ).run(orderId);
    db.prepare(
      `INSERT INTO order_lines (order_id, line_key, sku, product_name, quantity) VALUES (?, '1', 'LNS-30', 'Lenses', 3)`,
    ).run(orderId);
    const report = await runPlan(db, shopConfig, "2024-06-01T08:00:00Z");
    expect(lifecycle(1)).toMatchObject({ status: "active" });
    expect(report.lifecycle.held_by_supply).toBe(1);
    expect(report.tasks.expired).toBe(1);
  });
});
