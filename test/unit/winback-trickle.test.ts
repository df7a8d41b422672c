/**
 * Issue 14, point 2, the pure parts: when a one-order customer stops being new, how the week's
 * win-back emails are split between this week and later, and which products an email may offer.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ceilingFor } from "../../src/config/lifecycle.js";
import { defaultConfig } from "../../src/config/schema.js";
import type { BgnbdFit } from "../../src/plan/lifecycle/bgnbd.js";
import { classify } from "../../src/plan/lifecycle/classify.js";
import type { History } from "../../src/plan/lifecycle/history.js";
import {
  MIN_SECOND_ORDERS,
  secondOrderEstimate,
  waitQuantile,
} from "../../src/plan/lifecycle/second-order.js";
import { reachableCustomers, selectWinback, splitBacklog } from "../../src/plan/winback/backlog.js";
import { openStore } from "../../src/store/open.js";
import { offerableProduct, type DueWinbackEmail } from "../../src/plan/winback/due.js";

const config = defaultConfig("/");

/** A deterministic pseudo-random stream (a linear congruential generator), so the tests are repeatable. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/**
 * A shop whose customers arrive evenly over `days` days before `today`; a share `share` of them buy a
 * second time after a Weibull(scale, shape) wait, if that falls before `today`.
 */
function simulatedShop(opts: {
  customers: number;
  days: number;
  share: number;
  scale: number;
  shape: number;
  seed: number;
}): { histories: History[]; today: number } {
  const next = random(opts.seed);
  const today = 20_000;
  const histories: History[] = [];
  for (let i = 0; i < opts.customers; i++) {
    const first = today - Math.floor(next() * opts.days);
    const days = [first];
    if (next() < opts.share) {
      const wait = Math.max(1, Math.round(opts.scale * Math.pow(-Math.log(1 - next()), 1 / opts.shape)));
      if (first + wait <= today) days.push(first + wait);
    }
    histories.push({ customerId: i + 1, days, orders: days.length, lastOrderId: i + 1 });
  }
  return { histories, today };
}

describe("when a one-order customer stops being new", () => {
  it("recovers the shop's wait for a second order from a long history", () => {
    // Four years of customers, 30 % come back after a wait of scale 90 days, shape 1.2.
    const { histories, today } = simulatedShop({
      customers: 6000,
      days: 4 * 365,
      share: 0.3,
      scale: 90,
      shape: 1.2,
      seed: 7,
    });
    const estimate = secondOrderEstimate(histories, today, 0.9);
    const truth = waitQuantile(90, 1.2, 0.9); // 180 days
    expect(estimate.share!).toBeCloseTo(0.3, 1);
    expect(Math.abs(estimate.new_until_days! - truth) / truth).toBeLessThan(0.15);
  });

  it("does not take a short export's short waits for the shop's: censored, not a plain percentile", () => {
    // The same shop seen through five weeks of orders: every observed wait is under 35 days.
    const { histories, today } = simulatedShop({
      customers: 6000,
      days: 35,
      share: 0.3,
      scale: 90,
      shape: 1.2,
      seed: 11,
    });
    const waits = histories.filter((h) => h.days.length === 2).map((h) => h.days[1]! - h.days[0]!);
    waits.sort((a, b) => a - b);
    const plainP90 = waits[Math.floor(0.9 * waits.length)]!;
    expect(plainP90).toBeLessThan(35);
    const estimate = secondOrderEstimate(histories, today, 0.9);
    // Nobody in this export can be called lapsed by its own evidence: new for longer than it lasts.
    expect(estimate.new_until_days!).toBeGreaterThan(2 * 35);
  });

  it("measures silence to the newest purchase in the data, not to a later now", () => {
    const { histories, today } = simulatedShop({
      customers: 3000,
      days: 35,
      share: 0.3,
      scale: 90,
      shape: 1.2,
      seed: 3,
    });
    const end = Math.max(...histories.map((h) => h.days[h.days.length - 1]!));
    expect(secondOrderEstimate(histories, today + 6, 0.9)).toEqual(secondOrderEstimate(histories, end, 0.9));
  });

  it("with too few second orders: new until the longest wait seen; with none, new for good", () => {
    const few: History[] = [
      { customerId: 1, days: [100, 130], orders: 2, lastOrderId: 1 },
      { customerId: 2, days: [100, 160], orders: 2, lastOrderId: 2 },
      { customerId: 3, days: [100], orders: 1, lastOrderId: 3 },
    ];
    expect(MIN_SECOND_ORDERS).toBeGreaterThan(2);
    expect(secondOrderEstimate(few, 400, 0.9).new_until_days).toBe(60);
    expect(secondOrderEstimate([few[2]!], 400, 0.9).new_until_days).toBeNull();
  });

  it("keeps a one-order customer new under both models until then, and only then lets them lapse", () => {
    const once = [1000];
    const rhythm = { config: config.lifecycle, shopGap: 30, fit: null, newUntilDays: 200 };
    // Before: warm after 45 days (1.5 × the shop's gap of 30).
    expect(classify(once, 1050, { ...rhythm, newUntilDays: undefined }).status).toBe("warm");
    expect(classify(once, 1199, rhythm).status).toBe("new");
    expect(classify(once, 1200, rhythm)).toMatchObject({ status: "warm", sinceDay: 1200, lapsedDay: 1200 });
    // The thresholds keep their spacing: cold 1 × gap (30 days) later.
    expect(classify(once, 1230, rhythm)).toMatchObject({ status: "cold", lapsedDay: 1200 });
    expect(classify(once, 5000, { ...rhythm, newUntilDays: null }).status).toBe("new");
    // A second order within that time is a new customer's, not a customer won back.
    expect(classify([1000, 1100], 1110, { ...rhythm, newUntilDays: undefined }).status).toBe("won_back");
    expect(classify([1000, 1100], 1110, rhythm).status).toBe("active");
    // …and one after it, from the status they had (cold at 250 days: warm at 200, cold 30 days later).
    expect(classify([1000, 1250], 1260, rhythm)).toMatchObject({ status: "won_back", wonBackFrom: "cold" });
    // A repeat customer is untouched.
    expect(classify([900, 930], 1200, rhythm).status).toBe(
      classify([900, 930], 1200, { ...rhythm, newUntilDays: undefined }).status,
    );

    const fit: BgnbdFit = {
      params: { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 },
      logLikelihood: 0,
      customers: 1,
      evaluations: 0,
      degenerate: null,
    };
    const bgnbd = { config: config.lifecycle, shopGap: 30, fit, newUntilDays: 200 };
    expect(classify(once, 1150, { ...bgnbd, newUntilDays: undefined }).status).not.toBe("new");
    expect(classify(once, 1199, bgnbd).status).toBe("new");
    const after = classify(once, 1200, bgnbd);
    expect(after.status).not.toBe("new");
    expect(after.sinceDay).toBeGreaterThanOrEqual(1200);
    expect(after.lapsedDay).toBe(1200);
  });
});

function due(customer: number, lapsed: string, contacted = false, reachable = true): DueWinbackEmail {
  return {
    customer_id: customer,
    status: "warm",
    n: 1,
    due_on: lapsed,
    idempotency_key: `winback:${customer}:warm:1`,
    template: "winback-warm",
    email: `c${customer}@example.com`,
    name: null,
    first_name: null,
    locale: null,
    accepts_marketing: null,
    lapsed_on: lapsed,
    contacted,
    reachable,
    favourite_products: [],
  };
}

describe("the week's win-back emails", () => {
  it("send follow-ups, then first emails up to the allowance, the most recently lapsed first", () => {
    const list = [
      due(1, "2025-01-10"),
      due(2, "2026-02-20"),
      due(3, "2025-06-01", true),
      due(4, "2026-03-03"),
      due(5, "2026-02-20"),
    ];
    const split = splitBacklog(list, "2026-03-02", 2);
    expect(split.send.map((e) => e.customer_id)).toEqual([3, 4, 2]);
    expect(split).toMatchObject({ released: 2, releasedBeforeStart: 1, waiting: 2, waitingBeforeStart: 2 });
    expect(splitBacklog(list, "2026-03-02", 0).send.map((e) => e.customer_id)).toEqual([3]);
    // Someone who opted out comes after everyone the outbox would send to.
    const optedOut = [due(6, "2026-03-04", false, false), ...list];
    expect(splitBacklog(optedOut, "2026-03-02", 2).send.map((e) => e.customer_id)).toEqual([3, 4, 2]);
  });

  it("break a tie of lapse days by customer, and count a lapse on the first plan's day as not before it", () => {
    const list = [due(5, "2026-02-20"), due(2, "2026-02-20"), due(7, "2026-03-02"), due(1, "2025-01-10")];
    const split = splitBacklog(list, "2026-03-02", 3);
    expect(split.send.map((e) => e.customer_id)).toEqual([7, 2, 5]);
    expect(split).toMatchObject({ released: 3, releasedBeforeStart: 2, waiting: 1, waitingBeforeStart: 1 });
    expect(splitBacklog(list, null, 1)).toMatchObject({
      releasedBeforeStart: 0,
      waitingBeforeStart: 0,
      waiting: 3,
    });
  });

  it("count this week's earlier first emails against the ceiling, and add what the admin releases", () => {
    const db = openStore(join(mkdtempSync(join(tmpdir(), "comeback-backlog-")), "b.db"));
    try {
      for (const id of [1, 2, 3]) {
        db.prepare(
          `INSERT INTO customers (id, identity_key, email, info_as_of, created_at, updated_at) VALUES (?, ?, ?, 'x', 'x', 'x')`,
        ).run(id, `id:C${id}`, `c${id}@example.com`);
        db.prepare(
          `INSERT INTO customer_lifecycle (customer_id, status, since, model, orders, first_order_on, last_order_on,
             last_order_id, typical_gap_days, digest)
           VALUES (?, 'warm', '2026-02-01', 'rhythm', 1, '2025-06-01', '2025-10-01', 0, 30, 0)`,
        ).run(id);
      }
      db.prepare(
        "INSERT INTO comeback_start (id, first_planned_on, first_planned_at) VALUES (1, '2026-03-02', 'x')",
      ).run();
      // Customer 1 got a first win-back email on Monday of this week (an earlier run).
      db.prepare(
        `INSERT INTO outbox (idempotency_key, kind, channel, marketing, customer_id, recipient, payload, state, next_attempt_at, created_at, updated_at)
         VALUES ('winback:1:warm:1', 'winback-warm', 'email', 1, 1, 'c1@example.com', '{}', 'sent', 'x', '2026-03-02T08:00:00Z', 'x')`,
      ).run();
      const config = { winback: { ...defaultConfig("/").winback, customers_per_week: { count: 2 } } };
      const list = [due(2, "2026-02-20"), due(3, "2026-02-10"), due(4, "2026-02-01")];
      const selection = selectWinback(db, config, list, "2026-03-02");
      expect(selection.send.map((e) => e.customer_id)).toEqual([2]);
      expect(selection.backlog).toEqual({
        first_planned_on: "2026-03-02",
        ceiling: 2,
        released_this_week: 2,
        released: 1,
        released_lapsed_before_start: 1,
        waiting: 2,
        waiting_lapsed_before_start: 2,
      });
      expect(selectWinback(db, config, list, "2026-03-02", 1).send.map((e) => e.customer_id)).toEqual([2, 3]);
      expect(selectWinback(db, config, list, "2026-03-09").backlog).toMatchObject({
        released: 2,
        released_this_week: 2,
      });
      // A share: 4 % of the 3 customers with a purchase and an email, never below five.
      expect(reachableCustomers(db)).toBe(3);
      expect(
        selectWinback(db, { winback: defaultConfig("/").winback }, list, "2026-03-02").backlog.ceiling,
      ).toBe(5);
    } finally {
      db.close();
    }
  });

  it("have a ceiling that is a count, or a share of the customers never below five", () => {
    expect(ceilingFor({ count: 0 }, 1000)).toBe(0);
    expect(ceilingFor({ percent: 4 }, 268)).toBe(11);
    expect(ceilingFor({ percent: 4 }, 6)).toBe(5);
  });
});

describe("the products a win-back email offers", () => {
  const offerable = offerableProduct({
    replenishment: {
      ...config.replenishment,
      rules: [{ match: { sku: "LNS-*" }, days_per_unit: 30 }],
    },
    winback: config.winback,
  });
  const product = (name: string, sku: string | null = null) => ({ name, sku });

  it("are products bought again, or covered by a supply rule or days_per_unit", () => {
    expect(offerable(product("Espresso beans 1 kg"), true, null, null)).toBe(true);
    expect(offerable(product("Car Safety Seat", "SEAT-1"), false, null, null)).toBe(false);
    expect(offerable(product("Daily lenses", "LNS-1D-30"), false, null, null)).toBe(true);
    expect(offerable(product("Dog food", "DOG-12"), false, null, 45)).toBe(true);
  });

  it("are never tips, shipping, postage, gift cards or fees, however often bought", () => {
    for (const name of [
      "Tip",
      "Tips",
      "Shipping",
      "POSTAGE",
      "DOTCOM POSTAGE",
      "Gift Card $50",
      "Bank Charges",
      "AMAZON FEE",
      "Manual",
      "Versandkosten",
      "Доставка",
    ])
      expect(offerable(product(name), true, null, null), name).toBe(false);
    for (const name of ["Tipi tent", "Multiple-tip pens", "Gift wrap paper"])
      expect(offerable(product(name), true, null, null), name).toBe(true);
  });
});
