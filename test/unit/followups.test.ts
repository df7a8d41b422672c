/**
 * Follow-ups for silence (src/deliver/followups.ts) on a real database: each stage, each stop, once
 * per stage, waiting while one is queued.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { configSchema } from "../../src/config/schema.js";
import { queueFollowups, stageOf } from "../../src/deliver/followups.js";
import { recordEvent, type EventKind } from "../../src/track/events.js";
import { openStore, type Db } from "../../src/store/open.js";

const SENT = "2026-03-02T09:00:00.000Z";
const day = (n: number, hour = 9) =>
  new Date(Date.parse(SENT) + n * 86_400_000 + (hour - 9) * 3_600_000).toISOString();
const config = (over: Record<string, unknown> = {}) =>
  configSchema.parse({ links: { base_url: "https://shop.example/cb" }, ...over });

let db: Db;
beforeEach(() => {
  db = openStore(join(mkdtempSync(join(tmpdir(), "comeback-followups-")), "f.db"));
  db.prepare(
    `INSERT INTO customers (id, identity_key, email, info_as_of, created_at, updated_at)
     VALUES (7, 'id:C7', 'ann@example.com', 'x', 'x', 'x')`,
  ).run();
  cartEmail(1, SENT);
});
afterEach(() => db.close());

function cartEmail(id: number, sentAt: string): void {
  const payload = {
    week: "2026-W10",
    week_start: "2026-03-02",
    week_end: "2026-03-08",
    customer: {
      id: 7,
      external_id: "C7",
      first_name: "Ann",
      name: "Ann",
      email: "ann@example.com",
      locale: "de",
    },
    items: [
      {
        group_key: "coffee",
        sku: "COF-1KG",
        name: "Coffee",
        quantity: 1,
        unit_price_minor: 1500,
        currency: "EUR",
        line_total_minor: 1500,
        due_on: "2026-03-04",
        reminder_number: 1,
      },
    ],
    item_count: 1,
    currency: "EUR",
    total_minor: 1500,
  };
  db.prepare(
    `INSERT INTO outbox (id, idempotency_key, kind, marketing, customer_id, recipient, payload, state, next_attempt_at,
                         created_at, sent_at, updated_at)
     VALUES (?, ?, 'cart', 1, 7, 'ann@example.com', ?, 'sent', ?, ?, ?, ?)`,
  ).run(id, `cart:7:${id}`, JSON.stringify(payload), sentAt, sentAt, sentAt, sentAt);
}

const event = (kind: EventKind, at: string, machine = false, outboxId = 1) =>
  recordEvent(db, { outboxId, customerId: 7, kind, at, machine });

const queued = () =>
  db
    .prepare(
      "SELECT idempotency_key AS key, kind, state, json_extract(payload, '$.stage') AS stage FROM outbox WHERE kind = 'followup' ORDER BY id",
    )
    .all() as { key: string; kind: string; state: string; stage: string }[];

function order(placedAt: string, sku: string, status = "completed"): void {
  const id = Number(
    db
      .prepare(
        `INSERT INTO orders (source, external_id, customer_id, placed_at, status_class, currency, created_at, updated_at)
         VALUES ('shop', ?, 7, ?, ?, 'EUR', 'x', 'x')`,
      )
      .run(`O${placedAt}${sku}`, placedAt, status).lastInsertRowid,
  );
  db.prepare(
    "INSERT INTO order_lines (order_id, line_key, sku, quantity, line_total_minor) VALUES (?, '1', ?, 1, 1500)",
  ).run(id, sku);
}

describe("follow-ups for silence", () => {
  it("not opened: one follow-up after followups.not_opened_days, never two", () => {
    expect(queueFollowups(db, config(), day(2, 23)).queued.not_opened).toBe(0);
    const report = queueFollowups(db, config(), day(3));
    expect(report.queued).toEqual({ not_opened: 1, not_clicked: 0, no_decision: 0 });
    expect(queued()).toEqual([
      { key: "followup:1:not_opened", kind: "followup", state: "queued", stage: "not_opened" },
    ]);
    // While it is queued the chain waits; once sent, the same stage never gets a second one.
    expect(queueFollowups(db, config(), day(5)).waiting).toBe(1);
    db.prepare("UPDATE outbox SET state = 'sent', sent_at = ? WHERE kind = 'followup'").run(day(3));
    expect(queueFollowups(db, config(), day(9)).queued.not_opened).toBe(0);
    expect(queued()).toHaveLength(1);
  });

  it("a machine open (a privacy proxy) is no open: still not opened", () => {
    event("opened", day(0, 10), true);
    expect(queueFollowups(db, config(), day(3)).queued.not_opened).toBe(1);
  });

  it("opened, not clicked: after not_clicked_days from the first open", () => {
    event("opened", day(1));
    expect(queueFollowups(db, config(), day(3)).queued).toEqual({
      not_opened: 0,
      not_clicked: 0,
      no_decision: 0,
    });
    expect(queueFollowups(db, config(), day(5)).queued.not_clicked).toBe(1);
    expect(queued()[0]).toMatchObject({ key: "followup:1:not_clicked", stage: "not_clicked" });
  });

  it("clicked or viewed the cart, no decision: after no_decision_days", () => {
    event("opened", day(1));
    event("cart_viewed", day(1, 12));
    expect(queueFollowups(db, config(), day(4, 11)).queued.no_decision).toBe(0);
    expect(queueFollowups(db, config(), day(4, 12)).queued.no_decision).toBe(1);
  });

  it("an open of the follow-up itself moves the chain on to the next stage", () => {
    queueFollowups(db, config(), day(3));
    db.prepare("UPDATE outbox SET state = 'sent', sent_at = ? WHERE kind = 'followup'").run(day(3));
    const followupId = db.prepare("SELECT id FROM outbox WHERE kind = 'followup'").pluck().get() as number;
    event("opened", day(4), false, followupId);
    expect(queueFollowups(db, config(), day(8)).queued.not_clicked).toBe(1);
  });

  for (const kind of ["confirmed", "postponed", "unsubscribed"] as const) {
    it(`stops on ${kind}`, () => {
      event("clicked", day(1));
      event(kind, day(1, 10));
      const report = queueFollowups(db, config(), day(9));
      expect(report.stopped).toEqual({ [kind]: 1 });
      expect(queued()).toEqual([]);
    });
  }

  it("stops on a suppressed address", () => {
    db.prepare(
      "INSERT INTO suppressions (address, reason, source, created_at) VALUES ('ann@example.com', 'x', 'admin', 'x')",
    ).run();
    expect(queueFollowups(db, config(), day(3)).stopped).toEqual({ suppressed: 1 });
  });

  it("stops on a purchase of the cart's items after the email, not on another product or a cancelled order", () => {
    order(day(1), "TEA-100");
    order(day(1), "COF-1KG", "cancelled");
    order(day(-1), "COF-1KG");
    expect(queueFollowups(db, config(), day(3), { dryRun: true }).queued.not_opened).toBe(1);
    order(day(2), "COF-1KG");
    expect(queueFollowups(db, config(), day(3)).stopped).toEqual({ purchased: 1 });
    expect(queued()).toEqual([]);
  });

  it("stops when a newer cart email went to the customer, or the links expired", () => {
    cartEmail(2, day(7));
    const report = queueFollowups(db, config(), day(10));
    expect(report.stopped).toEqual({ "newer cart email": 1 });
    expect(report.messages.map((m) => m.key)).toEqual(["followup:2:not_opened"]);
    expect(
      queueFollowups(db, config({ links: { base_url: "https://x.example", expiry_days: 2 } }), day(1, 10))
        .stopped,
    ).toMatchObject({ "links expired": 1 });
  });

  it("queues nothing without tracking (links.base_url) or when turned off; a dry run queues nothing", () => {
    expect(queueFollowups(db, configSchema.parse({}), day(9))).toMatchObject({ enabled: false, checked: 0 });
    expect(queueFollowups(db, config({ followups: { enabled: false } }), day(9))).toMatchObject({
      enabled: false,
    });
    expect(queueFollowups(db, config(), day(9), { dryRun: true }).queued.not_opened).toBe(1);
    expect(queued()).toEqual([]);
  });

  it("queues nothing when the templates folder has no followup/ (a copy made before they existed)", () => {
    const report = queueFollowups(db, config(), day(9), { templateKinds: ["cart", "digest"] });
    expect(report).toMatchObject({ enabled: false, checked: 0 });
    expect(report.reason).toMatch(/^templates.dir has no followup\/ templates/);
    expect(queued()).toEqual([]);
    expect(
      queueFollowups(db, config(), day(9), { templateKinds: ["cart", "followup"] }).queued.not_opened,
    ).toBe(1);
  });

  it("stageOf: the latest silence decides the stage and its day", () => {
    const c = config({ followups: { not_opened_days: 2, not_clicked_days: 5, no_decision_days: 1 } });
    expect(stageOf(c, SENT, { first_open: null, first_click: null })).toEqual({
      stage: "not_opened",
      due: day(2),
    });
    expect(stageOf(c, SENT, { first_open: day(1), first_click: null })).toEqual({
      stage: "not_clicked",
      due: day(6),
    });
    expect(stageOf(c, SENT, { first_open: day(1), first_click: day(2) })).toEqual({
      stage: "no_decision",
      due: day(3),
    });
  });
});
