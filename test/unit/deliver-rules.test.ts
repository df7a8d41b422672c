/**
 * The rules a queued message passes before it goes (src/deliver/rules.ts), on Rules itself with a
 * real database: consent, the reason still holding, the frequency cap, the send window.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Outbox, type OutboxRow } from "../../src/deliver/outbox.js";
import { Rules, type RuleSettings } from "../../src/deliver/rules.js";
import { openStore, type Db } from "../../src/store/open.js";

const NOW = "2026-03-02T09:00:00Z";
const RULES: RuleSettings = {
  zone: "UTC",
  window: { start: 0, end: 24 * 60 },
  minHoursBetween: 72,
  requireOptIn: false,
};

let db: Db;
let outbox: Outbox;
beforeEach(() => {
  db = openStore(join(mkdtempSync(join(tmpdir(), "comeback-rules-")), "r.db"));
  outbox = new Outbox(db);
  db.prepare(
    `INSERT INTO customers (id, identity_key, email, accepts_marketing, info_as_of, created_at, updated_at)
     VALUES (1, 'id:C1', 'ann@example.com', 1, 'x', 'x', 'x')`,
  ).run();
});
afterEach(() => db.close());

let orders = 0;
function order(placedAt: string, statusClass = "completed"): number {
  return Number(
    db
      .prepare(
        `INSERT INTO orders (source, external_id, customer_id, placed_at, status_class, currency, created_at, updated_at)
         VALUES ('shop', ?, 1, ?, ?, 'EUR', 'x', 'x')`,
      )
      .run(String(++orders), placedAt, statusClass).lastInsertRowid,
  );
}

function reminder(group: string, state: string, lastPurchaseOn: string): void {
  const orderId = order(`${lastPurchaseOn}T10:00:00Z`);
  db.prepare(
    `INSERT INTO reminders (customer_id, group_key, purchase_order_id, last_purchase_on, quantity, days_per_unit,
       usage_factor, supply_days, basis, lead_days, cycle_days, first_due_on, due_on, reminder_number, state,
       fingerprint, updated_at)
     VALUES (1, ?, ?, ?, 1, 30, 1, 30, 'rule', 3, 30, '2026-03-01', '2026-03-01', 1, ?, 'f', 'x')`,
  ).run(group, orderId, lastPurchaseOn, state);
}

function lifecycle(status: string, lastOrderId: number): void {
  db.prepare(
    `INSERT INTO customer_lifecycle (customer_id, status, since, model, orders, first_order_on, last_order_on,
       last_order_id, typical_gap_days, digest)
     VALUES (1, ?, '2026-01-01', 'rhythm', 1, '2025-10-01', '2025-10-01', ?, 30, 0)`,
  ).run(status, lastOrderId);
}

let keys = 0;
function queue(
  fields: { kind?: string; marketing?: boolean; recipient?: string | null; customerId?: number | null } = {},
  payload: unknown = {},
  createdAt = "2026-03-01T08:00:00Z",
): OutboxRow {
  const key = `m${++keys}`;
  outbox.enqueue(
    {
      key,
      kind: fields.kind ?? "cart",
      marketing: fields.marketing ?? true,
      customerId: fields.customerId === undefined ? 1 : fields.customerId,
      recipient: fields.recipient === undefined ? "ann@example.com" : fields.recipient,
      payload,
    },
    createdAt,
  );
  return db.prepare<[string], OutboxRow>("SELECT * FROM outbox WHERE idempotency_key = ?").get(key)!;
}

const check = (row: OutboxRow, settings: Partial<RuleSettings> = {}, now = NOW) =>
  new Rules(db, outbox, { ...RULES, ...settings }).check(row, now);

describe("consent and addresses", () => {
  it("a message to the operator (not marketing) goes whatever the rules say", () => {
    const row = queue({ kind: "digest", marketing: false, customerId: null, recipient: "not an address" });
    expect(check(row, { window: { start: 0, end: 1 } })).toEqual({ action: "send" });
  });

  it("a customer without an address or with an unusable one is skipped, saying which", () => {
    expect(check(queue({ recipient: null }))).toMatchObject({ action: "skip", reason: "no email address" });
    expect(check(queue({ recipient: "" }))).toEqual({
      action: "skip",
      reason: "no email address",
      detail: "the customer has no email address",
    });
    expect(check(queue({ recipient: "ann at example" }))).toEqual({
      action: "skip",
      reason: "invalid email address",
      detail: "not a usable address: ann at example",
    });
  });

  it("an unsubscribed address is skipped as unsubscribed, one the server rejected as suppressed", () => {
    outbox.suppress("Ann@Example.com", "clicked the link", "unsubscribe", NOW);
    expect(check(queue())).toEqual({
      action: "skip",
      reason: "unsubscribed",
      detail: "suppressed (unsubscribe): clicked the link",
    });
    outbox.suppress("bob@example.com", "550 no such user", "smtp", NOW);
    expect(check(queue({ recipient: "bob@example.com" }))).toMatchObject({
      action: "skip",
      reason: "suppressed",
      detail: "suppressed (smtp): 550 no such user",
    });
  });

  it("an opted-out customer is skipped with the reason, and one who opted in goes", () => {
    db.prepare("UPDATE customers SET accepts_marketing = 0").run();
    expect(check(queue())).toEqual({
      action: "skip",
      reason: "opted out",
      detail: "the customer does not accept marketing",
    });
    db.prepare("UPDATE customers SET accepts_marketing = 1").run();
    expect(check(queue(), { requireOptIn: true })).toEqual({ action: "send" });
  });

  it("a message without a customer is checked for the window only", () => {
    expect(check(queue({ customerId: null }), { requireOptIn: true })).toEqual({ action: "send" });
  });
});

describe("the reason still holds", () => {
  it("a cart whose customer ordered again after the order it knew of is skipped as reordered", () => {
    order("2026-03-01T12:00:00Z");
    const row = queue({}, { last_order_at: "2026-02-01T00:00:00Z" });
    expect(check(row)).toEqual({
      action: "skip",
      reason: "reordered",
      detail: "the customer ordered again after 2026-02-01T00:00:00Z",
    });
  });

  it("an order after now, or a cancelled one, is not a reorder", () => {
    order("2026-03-03T12:00:00Z"); // after NOW
    order("2026-03-01T12:00:00Z", "cancelled");
    expect(check(queue({}, { last_order_at: "2026-02-01T00:00:00Z" }))).toEqual({ action: "send" });
  });

  it("without a known last order, orders up to when it was queued are known, later ones are reorders", () => {
    order("2026-02-20T12:00:00Z");
    const row = queue({}, {}, "2026-03-01T08:00:00Z");
    expect(check(row)).toEqual({ action: "send" });
    order("2026-03-01T09:00:00Z");
    expect(check(row)).toMatchObject({
      reason: "reordered",
      detail: "the customer ordered again after 2026-02-20T12:00:00Z",
    });
  });

  it("a customer with no order before it was queued who orders now is a reorder", () => {
    order("2026-03-01T09:00:00Z");
    expect(check(queue({}, {}, "2026-03-01T08:00:00Z"))).toMatchObject({
      reason: "reordered",
      detail: "the customer ordered again after it was queued",
    });
  });

  it("a cart goes while one of its reminders is open for the purchase it knew, else it is skipped", () => {
    reminder("TEA", "open", "2026-01-10");
    reminder("MUG", "satisfied", "2026-01-10");
    const items = (tea: string | undefined) => ({
      last_order_at: "2026-02-01T00:00:00Z",
      items: [
        { group_key: "MUG", last_purchase_on: "2026-01-10" },
        { group_key: "TEA", last_purchase_on: tea },
      ],
    });
    expect(check(queue({}, items("2026-01-10")))).toEqual({ action: "send" });
    expect(check(queue({}, items(undefined)))).toEqual({ action: "send" }); // an older payload
    expect(check(queue({}, items("2025-12-01")))).toEqual({
      action: "skip",
      reason: "reminder no longer open",
      detail: "none of the cart's reminders is open any more (satisfied, paused, or replaced since)",
    });
    expect(check(queue({}, { items: [{ group_key: "NONE" }] }))).toMatchObject({
      reason: "reminder no longer open",
    });
  });

  it("a follow-up of a cart email goes only while the cart would: its reminders open, no reorder", () => {
    reminder("TEA", "open", "2026-01-10");
    const payload = (group: string) => ({
      last_order_at: "2026-02-01T00:00:00Z",
      items: [{ group_key: group, last_purchase_on: "2026-01-10" }],
      stage: "not_opened",
    });
    expect(check(queue({ kind: "followup" }, payload("TEA")))).toEqual({ action: "send" });
    expect(check(queue({ kind: "followup" }, payload("MUG")))).toMatchObject({
      action: "skip",
      reason: "reminder no longer open",
    });
    order("2026-02-15T10:00:00Z");
    expect(check(queue({ kind: "followup" }, payload("TEA")))).toMatchObject({
      action: "skip",
      reason: "reordered",
    });
  });

  it("a win-back mail to a customer no longer warm, cold or lost is skipped; to a lapsed one it goes", () => {
    const last = order("2025-10-01T10:00:00Z");
    lifecycle("won_back", last);
    const row = queue({ kind: "winback-warm" });
    expect(check(row)).toEqual({
      action: "skip",
      reason: "no longer lapsed",
      detail: "the customer is won back now, no longer warm, cold or lost",
    });
    for (const status of ["warm", "cold", "lost"]) {
      db.prepare("UPDATE customer_lifecycle SET status = ?").run(status);
      expect(check(row)).toEqual({ action: "send" });
    }
  });

  it("a win-back mail knows the lifecycle's last order: an order after it is a reorder", () => {
    const last = order("2025-10-01T10:00:00Z");
    lifecycle("cold", last);
    order("2025-12-01T10:00:00Z"); // before it was queued, but after the last order the lifecycle knew
    expect(check(queue({ kind: "winback-cold" }))).toMatchObject({
      reason: "reordered",
      detail: "the customer ordered again after 2025-10-01T10:00:00Z",
    });
  });

  it("a cart that lists no items is checked for a reorder only", () => {
    expect(check(queue({}, { last_order_at: "2026-02-01T00:00:00Z", items: [] }))).toEqual({
      action: "send",
    });
  });

  it("other kinds of marketing are not looked into", () => {
    order("2026-03-01T09:00:00Z");
    expect(check(queue({ kind: "note" }, {}, "2026-03-01T08:00:00Z"))).toEqual({ action: "send" });
  });
});

describe("frequency cap and send window", () => {
  function sentAt(at: string, customerId = 1, marketing = true): void {
    const row = queue({ kind: "note", marketing, customerId });
    outbox.claim(row, at);
    outbox.markSent(row.id, "<id>", "250 ok", at);
  }

  it("holds a marketing message until min_hours_between after the last one sent", () => {
    sentAt("2026-03-01T10:00:00Z");
    expect(check(queue())).toEqual({
      action: "defer",
      until: "2026-03-04T10:00:00Z",
      reason: "frequency cap",
    });
    expect(check(queue(), {}, "2026-03-04T10:00:00Z")).toEqual({ action: "send" });
    expect(check(queue(), { minHoursBetween: 0 })).toEqual({ action: "send" });
  });

  it("with the cap off, a message goes even when the last one was sent after --now", () => {
    sentAt("2026-03-05T10:00:00Z");
    expect(check(queue(), { minHoursBetween: 0 })).toEqual({ action: "send" });
  });

  it("counts only marketing messages to the same customer", () => {
    sentAt("2026-03-01T10:00:00Z", 1, false);
    expect(check(queue())).toEqual({ action: "send" });
  });

  it("outside the send window a message waits for the next opening, in the shop's timezone", () => {
    const row = queue();
    const window = { start: 8 * 60, end: 20 * 60 };
    expect(check(row, { window, zone: "Europe/Berlin" }, "2026-03-02T05:00:00Z")).toEqual({
      action: "defer",
      until: "2026-03-02T07:00:00Z",
      reason: "send window",
    });
    const rules = new Rules(db, outbox, { ...RULES, window, zone: "Europe/Berlin" });
    expect(rules.check(row, "2026-03-02T05:00:00Z")).toMatchObject({ action: "defer" });
    // The same Rules asked again later: the window is worked out for the new time, not remembered.
    expect(rules.check(row, "2026-03-02T08:00:00Z")).toEqual({ action: "send" });
  });
});
