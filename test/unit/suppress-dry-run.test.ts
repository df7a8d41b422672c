/** Unsubscribing (src/deliver/suppress.ts) and the dry run's report (src/deliver/dry-run.ts). */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { dryRunReport, kindGroup } from "../../src/deliver/dry-run.js";
import { Outbox, outboxStatus } from "../../src/deliver/outbox.js";
import type { MessageOutcome } from "../../src/deliver/send.js";
import { suppressAll } from "../../src/deliver/suppress.js";
import { unsubscribeToken } from "../../src/deliver/unsubscribe.js";
import { DataError } from "../../src/errors.js";
import { openStore, type Db } from "../../src/store/open.js";

const NOW = "2026-03-02T09:00:00Z";
const SECRET = "0123456789abcdef0123456789abcdef";

let db: Db;
beforeEach(() => {
  db = openStore(join(mkdtempSync(join(tmpdir(), "comeback-suppress-")), "s.db"));
});
afterEach(() => db.close());

const suppressions = () =>
  db.prepare("SELECT address, reason, source FROM suppressions ORDER BY address").all();

describe("unsubscribing", () => {
  const options = { secret: () => SECRET, reason: "asked by mail", now: NOW };

  it("suppresses a token's address (also as the mailto subject) and an admin's plain address", () => {
    const token = unsubscribeToken(SECRET, "Ann@Example.com");
    expect(suppressAll(db, [`  Unsubscribe ${token} `, " Bob@Example.COM "], options)).toEqual([
      { address: "ann@example.com", added: true },
      { address: "bob@example.com", added: true },
    ]);
    expect(suppressions()).toEqual([
      { address: "ann@example.com", reason: "asked by mail", source: "unsubscribe" },
      { address: "bob@example.com", reason: "asked by mail", source: "admin" },
    ]);
    // Again: nothing new, and the first reason stays.
    expect(suppressAll(db, [token], { ...options, reason: "again" })).toEqual([
      { address: "ann@example.com", added: false },
    ]);
    expect(suppressions()).toHaveLength(2);
  });

  it("writes nothing when one item is a bad token or not an address, naming it", () => {
    const good = unsubscribeToken(SECRET, "ann@example.com");
    const forged = unsubscribeToken("another-secret-0123456789", "bob@example.com");
    expect(() => suppressAll(db, [good, forged], options)).toThrow(
      new DataError(
        `"${forged}" is not a valid unsubscribe token (altered, truncated, or signed with another secret): nothing was written`,
      ),
    );
    expect(() => suppressAll(db, [good, "ann@"], options)).toThrow('"ann@" is not an email address');
    expect(suppressions()).toEqual([]);
  });

  it("needs the secret only for tokens", () => {
    const noSecret = {
      ...options,
      secret: () => {
        throw new Error("no secret");
      },
    };
    expect(suppressAll(db, ["carl@example.com"], noSecret)).toEqual([
      { address: "carl@example.com", added: true },
    ]);
  });
});

describe("the dry run's report", () => {
  it("groups kinds as the summary reads them", () => {
    expect(["cart", "digest", "winback-warm", "winback-lost", "note"].map(kindGroup)).toEqual([
      "cart",
      "digest",
      "win-back",
      "win-back",
      "other",
    ]);
  });

  it("lists what the send path told and what it did not reach, and sums them up by kind", () => {
    db.prepare(
      `INSERT INTO customers (id, identity_key, external_id, email, email_display, info_as_of, created_at, updated_at)
       VALUES (1, 'id:C1', 'C1', 'ann@example.com', 'Ann@Example.com', 'x', 'x', 'x')`,
    ).run();
    const outbox = new Outbox(db);
    const cart = {
      items: [
        {
          group_key: "TEA",
          sku: "TEA-1",
          name: "Tea",
          quantity: 2,
          due_on: "2026-03-04",
          runs_out_on: "2026-03-07",
          reminder_number: 1,
        },
        { group_key: "MUG", sku: null, name: "Mug", quantity: 1, due_on: "2026-03-05", reminder_number: 2 },
      ],
    };
    const enqueue = (key: string, kind: string, customerId: number | null, payload: unknown = {}) =>
      outbox.enqueue({ key, kind, marketing: true, customerId, recipient: "ann@example.com", payload }, NOW);
    enqueue("cart:1", "cart", 1, cart);
    enqueue("winback-warm:1", "winback-warm", 1);
    enqueue("winback-cold:1", "winback-cold", 1);
    enqueue("digest", "digest", null);
    enqueue("later", "cart", 1, cart);
    const told = (
      key: string,
      kind: string,
      outcome: MessageOutcome["outcome"],
      reason: string | null = null,
    ) => ({
      key,
      kind,
      customer: kind === "digest" ? null : 1,
      recipient: "ann@example.com",
      outcome,
      reason,
      until: outcome === "deferred" ? "2026-03-03T07:00:00Z" : null,
    });
    const report = dryRunReport(
      db,
      [
        { key: "cart:1", items: 2, recipient: "ann@example.com" },
        { key: "winback-warm:1", items: 3, recipient: "ann@example.com" },
        { key: "digest", items: 1, recipient: "o@shop.example" },
        { key: "later", items: 2, recipient: "ann@example.com" },
      ],
      [
        told("winback-cold:1", "winback-cold", "skipped", "no longer lapsed"),
        told("cart:1", "cart", "sent"),
        told("winback-warm:1", "winback-warm", "deferred", "send window"),
        told("digest", "digest", "sent"),
      ],
    );
    expect(
      report.would_send.map((l) => [l.key, l.outcome, l.items, l.customer_id, l.email, l.comeback_id]),
    ).toEqual([
      ["winback-cold:1", "skipped", null, "C1", "Ann@Example.com", 1],
      ["cart:1", "sent", 2, "C1", "Ann@Example.com", 1],
      ["winback-warm:1", "deferred", 3, "C1", "Ann@Example.com", 1],
      ["digest", "sent", 1, null, null, null],
      ["later", "not attempted", 2, "C1", "Ann@Example.com", 1],
    ]);
    const later = report.would_send[4]!;
    expect(later).toMatchObject({
      kind: "cart",
      recipient: "ann@example.com",
      reason: "left for a later run (--limit or a signal)",
      until: null,
    });
    expect(later.cart_items).toEqual([
      {
        group: "TEA",
        sku: "TEA-1",
        name: "Tea",
        quantity: 2,
        due_on: "2026-03-04",
        runs_out_on: "2026-03-07",
        reminder_number: 1,
      },
      {
        group: "MUG",
        sku: null,
        name: "Mug",
        quantity: 1,
        due_on: "2026-03-05",
        runs_out_on: null,
        reminder_number: 2,
      },
    ]);
    expect(report.would_send[0]!.cart_items).toBeNull();
    expect(report.would_send[2]).toMatchObject({ reason: "send window", until: "2026-03-03T07:00:00Z" });
    expect(Object.keys(report.by_kind)).toEqual(["cart", "win-back", "digest"]);
    expect(report.by_kind).toEqual({
      cart: {
        queued: 2,
        from_earlier_runs: 0,
        sent: 1,
        deferred: 0,
        deferred_reasons: {},
        skipped: 0,
        skipped_reasons: {},
        not_attempted: 1,
      },
      "win-back": {
        queued: 1,
        from_earlier_runs: 1,
        sent: 0,
        deferred: 1,
        deferred_reasons: { "send window": 1 },
        skipped: 1,
        skipped_reasons: { "no longer lapsed": 1 },
        not_attempted: 0,
      },
      digest: {
        queued: 1,
        from_earlier_runs: 0,
        sent: 1,
        deferred: 0,
        deferred_reasons: {},
        skipped: 0,
        skipped_reasons: {},
        not_attempted: 0,
      },
    });
  });
});

describe("the outbox", () => {
  it("queues a key once, and tells whether it was new", () => {
    const outbox = new Outbox(db);
    const message = {
      key: "k1",
      kind: "digest",
      marketing: false,
      customerId: null,
      recipient: "o@shop.example",
      payload: {},
    };
    expect(outbox.enqueue(message, NOW)).toBe(true);
    expect(outbox.enqueue({ ...message, recipient: "x@shop.example" }, NOW)).toBe(false);
    expect(db.prepare("SELECT recipient FROM outbox").pluck().all()).toEqual(["o@shop.example"]);
  });

  it("reports its messages by state, those due, those left in sending, and the suppressions", () => {
    const outbox = new Outbox(db);
    for (const key of ["a", "b", "c"])
      outbox.enqueue(
        { key, kind: "digest", marketing: false, customerId: null, recipient: "o@shop.example", payload: {} },
        NOW,
      );
    const a = db.prepare("SELECT * FROM outbox WHERE idempotency_key = 'a'").get() as Parameters<
      Outbox["claim"]
    >[0];
    outbox.claim(a, NOW);
    outbox.defer(3, "2026-03-09T00:00:00Z", "send window", NOW);
    outbox.suppress("Ann@Example.com", "asked", "admin", NOW);
    expect(outboxStatus(db, NOW)).toEqual({
      by_state: { queued: 2, sending: 1, sent: 0, failed: 0, skipped: 0 },
      due_now: 1,
      unknown: [{ key: "a", recipient: "o@shop.example", claimed_at: NOW, attempts: 1 }],
      suppressions: 1,
    });
    expect(outbox.suppression("ann@example.com")).toEqual({ reason: "asked", source: "admin" });
  });
});

describe("the dry run's summary", () => {
  it("counts a failure or a retry neither as sent nor as not attempted", () => {
    const outbox = new Outbox(db);
    outbox.enqueue(
      {
        key: "d",
        kind: "digest",
        marketing: false,
        customerId: null,
        recipient: "o@shop.example",
        payload: {},
      },
      NOW,
    );
    const outcome = (o: MessageOutcome["outcome"]): MessageOutcome => ({
      key: "d",
      kind: "digest",
      customer: null,
      recipient: "o@shop.example",
      outcome: o,
      reason: "451",
      until: null,
    });
    for (const o of ["failed", "retry later"] as const) {
      expect(dryRunReport(db, [], [outcome(o)]).by_kind.digest).toMatchObject({
        from_earlier_runs: 1,
        sent: 0,
        not_attempted: 0,
        skipped: 0,
        deferred: 0,
      });
    }
  });
});
