/**
 * `comeback report` (src/report): the intervals against published values, the funnel and the lift
 * on a constructed database with known answers, and the HTML well-formed and holding the figures.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildReport, MIN_BUYERS, type Report } from "../../src/report/figures.js";
import { escapeHtml, reportHtml } from "../../src/report/html.js";
import { newcombe, sample, welch, wilson } from "../../src/report/stats.js";
import { recordEvent, type EventKind } from "../../src/track/events.js";
import { openStore, type Db } from "../../src/store/open.js";

describe("intervals", () => {
  it("Wilson matches Newcombe (1998), 81 of 263: 0.2553 to 0.3662", () => {
    const [lo, hi] = wilson(81, 263)!;
    expect(lo).toBeCloseTo(0.2553, 4);
    expect(hi).toBeCloseTo(0.3662, 4);
    expect(wilson(0, 10)![0]).toBe(0);
    expect(wilson(10, 10)![1]).toBeCloseTo(1, 12);
    expect(wilson(0, 0)).toBeNull();
  });

  it("Newcombe's hybrid score interval matches his Table II (method 10)", () => {
    const a = newcombe(56, 70, 48, 80)!;
    expect(a[0]).toBeCloseTo(0.0524, 4);
    expect(a[1]).toBeCloseTo(0.3339, 4);
    const b = newcombe(9, 10, 3, 10)!;
    expect(b[0]).toBeCloseTo(0.1705, 4);
    expect(b[1]).toBeCloseTo(0.809, 4);
    expect(newcombe(1, 2, 0, 0)).toBeNull();
  });

  it("Welch: the difference of means ± 1.96 standard errors", () => {
    const [lo, hi] = welch(sample([1, 2, 3, 4]), sample([1, 1, 1]))!;
    // means 2.5 and 1; variances 5/3 and 0: SE = sqrt(5/12)
    expect((lo + hi) / 2).toBeCloseTo(1.5, 10);
    expect((hi - lo) / 2).toBeCloseTo(1.959964 * Math.sqrt(5 / 12), 5);
    expect(welch(sample([1]), sample([1, 2]))).toBeNull();
  });
});

const NOW = "2026-04-10T00:00:00.000Z";
const W10 = "2026-03-02T09:00:00.000Z";
let db: Db;
let report: Report;

beforeAll(() => {
  db = openStore(join(mkdtempSync(join(tmpdir(), "comeback-report-")), "r.db"));
  for (const id of [1, 2, 3, 4, 5, 6])
    db.prepare(
      `INSERT INTO customers (id, identity_key, email, info_as_of, created_at, updated_at) VALUES (?, ?, ?, 'x', 'x', 'x')`,
    ).run(id, `id:C${id}`, `c${id}@example.com`);
  db.prepare(
    "INSERT INTO products (sku, name, group_key, updated_at) VALUES ('COF', 'Coffee', 'coffee', 'x'), ('TEA', 'Tea', 'tea', 'x')",
  ).run();
  const cartPayload = JSON.stringify({ items: [{ sku: "COF", group_key: "coffee" }] });
  const message = (
    id: number,
    kind: string,
    customer: number | null,
    state: string,
    sentAt: string | null,
    marketing = 1,
  ) =>
    db
      .prepare(
        `INSERT INTO outbox (id, idempotency_key, kind, marketing, customer_id, recipient, payload, state, next_attempt_at,
                             created_at, sent_at, updated_at) VALUES (?, ?, ?, ?, ?, 'x@example.com', ?, ?, 'x', 'x', ?, 'x')`,
      )
      .run(id, `k${id}`, kind, marketing, customer, kind === "cart" ? cartPayload : "{}", state, sentAt);
  message(1, "cart", 1, "sent", W10);
  message(2, "cart", 2, "sent", W10);
  message(3, "cart", 3, "sent", W10);
  message(4, "winback-warm", 4, "sent", "2026-03-10T09:00:00.000Z");
  message(5, "digest", null, "sent", W10, 0); // the operator's: not in the report
  message(6, "cart", 1, "queued", null); // not sent
  const event = (outboxId: number, kind: EventKind, machine = false) =>
    recordEvent(db, { outboxId, customerId: null, kind, at: "2026-03-03T10:00:00.000Z", machine });
  for (const id of [1, 2, 3, 4]) event(id, "delivered");
  event(1, "opened");
  event(1, "opened"); // twice: counted once
  event(2, "opened", true); // Apple's proxy: not a person
  event(2, "clicked", true); // a scanner
  event(3, "clicked"); // images blocked: a click is an open too
  event(1, "cart_viewed");
  event(1, "confirmed");
  event(3, "postponed");
  event(2, "unsubscribed");
  const order = (
    customer: number,
    placedAt: string,
    lines: [string, number][],
    status = "completed",
    refunded = 0,
  ) => {
    const id = Number(
      db
        .prepare(
          `INSERT INTO orders (source, external_id, customer_id, placed_at, status_class, currency, refunded_minor, created_at, updated_at)
           VALUES ('shop', ?, ?, ?, ?, 'EUR', ?, 'x', 'x')`,
        )
        .run(`O${customer}-${placedAt}`, customer, placedAt, status, refunded).lastInsertRowid,
    );
    lines.forEach(([sku, total], i) =>
      db
        .prepare(
          "INSERT INTO order_lines (order_id, line_key, sku, quantity, line_total_minor) VALUES (?, ?, ?, 1, ?)",
        )
        .run(id, String(i), sku, total),
    );
  };
  order(
    1,
    "2026-03-06T12:00:00.000Z",
    [
      ["COF", 3000],
      ["TEA", 600],
    ],
    "completed",
    100,
  ); // 3,500 after the refund
  order(2, "2026-03-04T12:00:00.000Z", [["COF", 2000]], "cancelled");
  order(2, "2026-04-20T12:00:00.000Z", [["COF", 2000]]); // after 30 days (and after now)
  order(3, "2026-03-05T12:00:00.000Z", [["TEA", 800]]); // not an item of the cart
  order(4, "2026-03-12T12:00:00.000Z", [["TEA", 1000]]); // win-back: any order counts
  order(5, "2026-03-20T12:00:00.000Z", [["COF", 1200]]);
  const cart = (id: number, customer: number, week: string, createdAt: string, held: number) => {
    db.prepare(
      "INSERT INTO carts (id, customer_id, week, item_count, created_at) VALUES (?, ?, ?, 1, ?)",
    ).run(id, customer, week, createdAt);
    db.prepare(
      "INSERT INTO holdout (cart_id, customer_id, week, held_out, share, created_at) VALUES (?, ?, ?, ?, 0.1, ?)",
    ).run(id, customer, week, held, createdAt);
  };
  for (const c of [1, 2, 3]) cart(c, c, "2026-W10", "2026-03-02T08:00:00.000Z", 0);
  for (const c of [5, 6]) cart(c, c, "2026-W10", "2026-03-02T08:00:00.000Z", 1);
  cart(7, 4, "2026-W14", "2026-03-30T08:00:00.000Z", 0); // its 30 days end after now: pending
  report = buildReport(db, { now: NOW, since: null, days: 30, currency: "EUR", zone: "Europe/Berlin" });
});
afterAll(() => db.close());

describe("the report's figures", () => {
  it("counts the funnel per week and kind, people only, each message once", () => {
    expect(report.weeks).toEqual([
      {
        week: "2026-W10",
        kind: "cart",
        sent: 3,
        delivered: 3,
        opened: 2,
        clicked: 1,
        cart_viewed: 1,
        confirmed: 1,
        postponed: 1,
        unsubscribed: 1,
        reordered: 1,
        revenue_minor: 3500,
      },
      {
        week: "2026-W11",
        kind: "winback-warm",
        sent: 1,
        delivered: 1,
        opened: 0,
        clicked: 0,
        cart_viewed: 0,
        confirmed: 0,
        postponed: 0,
        unsubscribed: 0,
        reordered: 1,
        revenue_minor: 1000,
      },
    ]);
    expect(report.totals.map((t) => [t.kind, t.week, t.sent])).toEqual([
      ["cart", "all", 3],
      ["winback-warm", "all", 1],
    ]);
  });

  it("measures the lift on the carts whose days have passed, with the intervals", () => {
    const { lift } = report;
    expect(lift.carts_pending).toBe(1);
    expect(lift.emailed).toMatchObject({ carts: 3, repurchased: 2, revenue_minor: 4300 });
    expect(lift.emailed.rate).toBeCloseTo(2 / 3, 10);
    expect(lift.held_out).toMatchObject({ carts: 2, repurchased: 1, rate: 0.5, revenue_minor: 1200 });
    expect(lift.rate_difference.value).toBeCloseTo(1 / 6, 10);
    expect(lift.rate_difference.ci95).toEqual(newcombe(2, 3, 1, 2));
    expect(lift.rate_difference.method).toMatch(/Newcombe/);
    expect(lift.revenue_per_cart_difference_minor.value).toBeCloseTo(4300 / 3 - 600, 6);
    // 2 and 1 buyers: fewer than MIN_BUYERS, so no revenue interval (Welch would trust one order's variance).
    expect(MIN_BUYERS).toBe(5);
    expect(lift.revenue_per_cart_difference_minor.ci95).toBeNull();
    expect(lift.extra_revenue_minor).toBe(2500);
  });

  it("--since leaves out older emails and carts", () => {
    const later = buildReport(db, {
      now: NOW,
      since: "2026-03-09T00:00:00.000Z",
      days: 30,
      currency: "EUR",
      zone: "UTC",
    });
    expect(later.weeks.map((w) => w.kind)).toEqual(["winback-warm"]);
    expect(later.lift).toMatchObject({ carts_pending: 1, emailed: { carts: 0 }, held_out: { carts: 0 } });
    expect(later.lift.rate_difference.value).toBeNull();
  });
});

/** Checks that every element opened is closed in order (void elements and `/>` aside). */
function wellFormed(html: string): string[] {
  const VOID = new Set(["meta", "br", "img", "input", "link", "hr"]);
  const stack: string[] = [];
  const problems: string[] = [];
  for (const m of html
    .replace(/<!DOCTYPE[^>]*>/i, "")
    .matchAll(/<(\/?)([a-zA-Z][a-zA-Z0-9]*)\b[^>]*?(\/?)>/g)) {
    const [, closing, name, selfClosing] = m;
    const tag = name!.toLowerCase();
    if (selfClosing || VOID.has(tag)) continue;
    if (!closing) stack.push(tag);
    else if (stack.pop() !== tag) problems.push(`</${tag}> at ${m.index}`);
  }
  return [...problems, ...stack.map((t) => `<${t}> never closed`)];
}

describe("the HTML report", () => {
  const html = () => reportHtml(report);

  it("is well-formed, self-contained (no script, no external URL) and holds the figures", () => {
    const page = html();
    expect(wellFormed(page)).toEqual([]);
    expect(page).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org\/2000\/svg)/i);
    expect(page.match(/<svg /g)?.length).toBe(3); // the lift, and one funnel per kind
    expect(page).toContain("66.7 %");
    expect(page).toContain("50.0 %");
    expect(page).toContain("+16.7 points");
    expect(page).toContain("€25.00"); // the extra revenue, 2,500 cents
    expect(page).toMatch(
      /<td>2026-W10<\/td><td>cart<\/td><td class="n">3<\/td><td class="n">3<\/td><td class="n">2<\/td>/,
    );
  });

  it("escapes what comes from the database", () => {
    const hostile = { ...report, totals: [{ ...report.totals[0]!, kind: `<script>alert("x")</script>` }] };
    const page = reportHtml(hostile);
    expect(page).not.toContain("<script>");
    expect(page).toContain("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;");
    expect(wellFormed(page)).toEqual([]);
    expect(escapeHtml(`a&b<'>`)).toBe("a&amp;b&lt;&#39;&gt;");
  });
});

describe("the revenue interval", () => {
  it("is given once each group has MIN_BUYERS buyers", () => {
    const dir = mkdtempSync(join(tmpdir(), "comeback-report-"));
    const store = openStore(join(dir, "r.db"));
    const insertCustomer = store.prepare(
      `INSERT INTO customers (id, identity_key, info_as_of, created_at, updated_at) VALUES (?, ?, 'x', 'x', 'x')`,
    );
    const values: Record<string, number[]> = { emailed: [], held: [] };
    for (let id = 1; id <= 20; id++) {
      const held = id > 10 ? 1 : 0;
      insertCustomer.run(id, `id:${id}`);
      store
        .prepare("INSERT INTO carts (id, customer_id, week, item_count, created_at) VALUES (?, ?, 'W', 1, ?)")
        .run(id, id, W10);
      store
        .prepare(
          "INSERT INTO holdout (cart_id, customer_id, week, held_out, share, created_at) VALUES (?, ?, 'W', ?, 0.5, ?)",
        )
        .run(id, id, held, W10);
      const value = id % 10 < 6 ? 1000 + id * 10 : 0; // six buyers in each group
      values[held ? "held" : "emailed"]!.push(value);
      if (value === 0) continue;
      const order = store
        .prepare(
          `INSERT INTO orders (source, external_id, customer_id, placed_at, status_class, currency, created_at, updated_at)
           VALUES ('s', ?, ?, '2026-03-05T00:00:00.000Z', 'completed', 'EUR', 'x', 'x')`,
        )
        .run(`O${id}`, id).lastInsertRowid;
      store
        .prepare(
          "INSERT INTO order_lines (order_id, line_key, quantity, line_total_minor) VALUES (?, '1', 1, ?)",
        )
        .run(order, value);
    }
    const lift = buildReport(store, { now: NOW, since: null, days: 30, currency: "EUR", zone: "UTC" }).lift;
    store.close();
    expect(lift.emailed.repurchased).toBe(6);
    expect(lift.held_out.repurchased).toBe(6);
    expect(lift.revenue_per_cart_difference_minor.ci95).toEqual(
      welch(sample(values.emailed!), sample(values.held!)),
    );
  });
});
