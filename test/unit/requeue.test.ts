/**
 * `comeback requeue`'s core (requeueFailed, errorClass in src/deliver/outbox.ts): which failed
 * messages go back in the queue, and that nothing else does: a sent or queued message is never
 * touched, and a dry run writes nothing.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  errorClass,
  Outbox,
  requeueFailed,
  type OutboxRow,
  type RequeueFilter,
} from "../../src/deliver/outbox.js";
import { openStore, type Db } from "../../src/store/open.js";

const NOW = "2026-03-10T09:00:00Z";
const W10 = { name: "2026-W10", from: "2026-03-02", to: "2026-03-09" };

let db: Db;
let outbox: Outbox;
beforeEach(() => {
  db = openStore(join(mkdtempSync(join(tmpdir(), "comeback-requeue-")), "r.db"));
  outbox = new Outbox(db);
});
afterEach(() => db.close());

const row = (key: string): OutboxRow =>
  db.prepare<[string], OutboxRow>("SELECT * FROM outbox WHERE idempotency_key = ?").get(key)!;

interface Failed {
  kind?: string;
  recipient?: string | null;
  error: string | null;
  response?: string | null;
  createdAt?: string;
  state?: string;
}

/** A message that failed after `attempts` attempts (or is in another `state`). */
function failed(key: string, f: Failed): void {
  outbox.enqueue(
    {
      key,
      kind: f.kind ?? "cart",
      marketing: false,
      customerId: null,
      recipient: f.recipient === undefined ? "a@x.example" : f.recipient,
      payload: {},
    },
    f.createdAt ?? "2026-03-02T08:00:00Z",
  );
  db.prepare(
    `UPDATE outbox SET state = ?, attempts = 3, error = ?, response = ?, message_id = '<m>',
            deferred_reason = 'send window', next_attempt_at = '2026-03-04T00:00:00Z' WHERE idempotency_key = ?`,
  ).run(f.state ?? "failed", f.error, f.response ?? null, key);
}

const keys = (filter: RequeueFilter) =>
  requeueFailed(db, filter, { now: NOW, dryRun: true }).map((c) => c.key);

describe("errorClass", () => {
  it("reads the stored answer as the SMTP answer classification does", () => {
    expect(errorClass("550 5.1.1 no such user", null)).toBe("recipient");
    expect(errorClass("x", "550 5.1.1 <a@x>: no such user")).toBe("recipient");
    expect(errorClass(null, "554 5.7.1 Relay access denied")).toBe("server");
    expect(errorClass(null, "552 5.3.4 message too big")).toBe("message");
    expect(errorClass("  550 no such user", null)).toBe("recipient");
  });

  it("prefers the server's answer to the error text", () => {
    expect(errorClass("550 5.1.1 no such user", "552 5.3.4 too big")).toBe("message");
  });

  it("calls a message that used up its attempts gave-up, whatever the last answer was", () => {
    expect(errorClass("gave up after 5 attempts: 451 4.2.2 mailbox full", "451 4.2.2 mailbox full")).toBe(
      "gave-up",
    );
    expect(errorClass("550 gave up after a while", null)).toBe("recipient");
  });

  it("calls a failure with no reply code the server's (the connection or the disk)", () => {
    expect(errorClass("can't write /out/x.eml: ENOSPC", null)).toBe("server");
    expect(errorClass(null, null)).toBe("server");
    expect(errorClass("connect ECONNREFUSED 127.0.0.1:25", null)).toBe("server");
    expect(errorClass("x", "")).toBe("server");
  });
});

describe("choosing failed messages", () => {
  beforeEach(() => {
    failed("cart:1:2026-W10", { error: "550 5.1.1 no such user", response: "550 5.1.1 <a@x>: no such user" });
    failed("cart:2:2026-W11", { error: "554 5.7.1 Relay access denied", createdAt: "2026-03-09T08:00:00Z" });
    failed("digest:2026-W10", { kind: "digest", error: "gave up after 5 attempts: 451 try later" });
    failed("winback-warm:3", {
      kind: "winback-warm",
      error: "552 5.3.4 too big",
      createdAt: "2026-03-08T23:59:59Z",
    });
    failed("winback-cold:4", {
      kind: "winback-cold",
      error: "ECONNRESET",
      createdAt: "2026-03-01T23:59:59Z",
    });
    // Queued on the Sunday before its week (a weekly run for W10 on Sunday evening).
    failed("cart:5:2026-W10", {
      error: "550 5.7.26 DMARC",
      response: "  550 5.7.26 DMARC",
      createdAt: "2026-03-01T20:00:00Z",
    });
  });

  it("by key", () => {
    expect(keys({ keys: ["digest:2026-W10", "cart:1:2026-W10", "nope"] })).toEqual([
      "cart:1:2026-W10",
      "digest:2026-W10",
    ]);
  });

  it("by kind, or by the first part of the key", () => {
    expect(keys({ kind: "cart" })).toEqual(["cart:1:2026-W10", "cart:2:2026-W11", "cart:5:2026-W10"]);
    expect(keys({ kind: "winback-warm" })).toEqual(["winback-warm:3"]);
    db.prepare("UPDATE outbox SET kind = 'winback' WHERE idempotency_key LIKE 'winback%'").run();
    expect(keys({ kind: "winback-cold" })).toEqual(["winback-cold:4"]);
    expect(keys({ kind: "winback" })).toEqual(["winback-warm:3", "winback-cold:4"]);
  });

  it("by week: the week in its key, else queued from that Monday up to the next", () => {
    expect(keys({ week: W10 })).toEqual([
      "cart:1:2026-W10",
      "digest:2026-W10",
      "winback-warm:3",
      "cart:5:2026-W10",
    ]);
    expect(keys({ week: { name: "2026-W11", from: "2026-03-09", to: "2026-03-16" } })).toEqual([
      "cart:2:2026-W11",
    ]);
    expect(keys({ week: { name: "2026-W09", from: "2026-02-23", to: "2026-03-02" } })).toEqual([
      "winback-cold:4",
      "cart:5:2026-W10",
    ]);
  });

  it("by whose fault it was", () => {
    expect(keys({ error: "recipient" })).toEqual(["cart:1:2026-W10"]);
    expect(keys({ error: "server" })).toEqual(["cart:2:2026-W11", "winback-cold:4"]);
    expect(keys({ error: "message" })).toEqual(["winback-warm:3", "cart:5:2026-W10"]);
    expect(keys({ error: "gave-up" })).toEqual(["digest:2026-W10"]);
  });

  it("by reply code or enhanced status, read from the answer, else from the error", () => {
    expect(keys({ error: "550" })).toEqual(["cart:1:2026-W10", "cart:5:2026-W10"]);
    expect(keys({ error: "554" })).toEqual(["cart:2:2026-W11"]);
    expect(keys({ error: "55" })).toEqual([]);
    expect(keys({ error: "5.1.1" })).toEqual(["cart:1:2026-W10"]);
    expect(keys({ error: "5.7.1" })).toEqual(["cart:2:2026-W11"]);
    expect(keys({ error: "5.3.4" })).toEqual(["winback-warm:3"]);
    expect(keys({ error: "4.2.2" })).toEqual([]);
    expect(keys({ error: "5.1.2" })).toEqual([]);
    expect(keys({ error: "5.7.26" })).toEqual(["cart:5:2026-W10"]);
    expect(keys({ error: "5.7.2" })).toEqual([]);
    failed("cart:6:2026-W10", { error: "554 5.10.1 odd" });
    expect(keys({ error: "5.10.1" })).toEqual(["cart:6:2026-W10"]);
  });

  it("with every filter given matching", () => {
    expect(keys({ kind: "cart", week: W10 })).toEqual(["cart:1:2026-W10", "cart:5:2026-W10"]);
    expect(keys({ kind: "cart", week: W10, error: "recipient" })).toEqual(["cart:1:2026-W10"]);
    expect(keys({ kind: "cart", error: "server" })).toEqual(["cart:2:2026-W11"]);
    expect(keys({ kind: "cart", keys: ["digest:2026-W10"] })).toEqual([]);
    expect(keys({})).toHaveLength(6);
  });

  it("only failed ones: a sent, queued, sending or skipped message is never chosen", () => {
    for (const state of ["sent", "queued", "sending", "skipped"])
      failed(`cart:9${state}:2026-W10`, { error: "550 5.1.1 no such user", state });
    expect(keys({ error: "recipient" })).toEqual(["cart:1:2026-W10"]);
    requeueFailed(db, { error: "recipient" }, { now: NOW, dryRun: false });
    for (const state of ["sent", "sending", "skipped"])
      expect(row(`cart:9${state}:2026-W10`).state).toBe(state);
    expect(row("cart:9queued:2026-W10")).toMatchObject({ attempts: 3, error: "550 5.1.1 no such user" });
  });
});

describe("requeueing", () => {
  it("tells each message's key, kind, recipient, error, class, and whether its address is suppressed", () => {
    failed("cart:1:2026-W10", { error: "550 5.1.1 no such user", recipient: "Ann@Example.com" });
    failed("cart:2:2026-W10", { error: "554 5.7.1 Relay access denied", recipient: "bob@example.com" });
    failed("cart:3:2026-W10", { error: "ECONNRESET", recipient: null });
    outbox.suppress("ann@example.com", "550", "bounce", NOW);
    expect(requeueFailed(db, { kind: "cart" }, { now: NOW, dryRun: true })).toEqual([
      {
        key: "cart:1:2026-W10",
        kind: "cart",
        recipient: "Ann@Example.com",
        error: "550 5.1.1 no such user",
        error_class: "recipient",
        suppressed: true,
      },
      {
        key: "cart:2:2026-W10",
        kind: "cart",
        recipient: "bob@example.com",
        error: "554 5.7.1 Relay access denied",
        error_class: "server",
        suppressed: false,
      },
      {
        key: "cart:3:2026-W10",
        kind: "cart",
        recipient: null,
        error: "ECONNRESET",
        error_class: "server",
        suppressed: false,
      },
    ]);
  });

  it("a dry run changes nothing", () => {
    failed("cart:1:2026-W10", { error: "550 5.1.1 no such user" });
    const before = row("cart:1:2026-W10");
    expect(requeueFailed(db, { kind: "cart" }, { now: NOW, dryRun: true })).toHaveLength(1);
    expect(row("cart:1:2026-W10")).toEqual(before);
  });

  it("a requeued message is queued as new: no attempt used, due now, no error, its Message-ID kept", () => {
    failed("cart:1:2026-W10", { error: "550 5.1.1 no such user", response: "550 5.1.1 no" });
    failed("cart:2:2026-W10", { error: "554 5.7.1 Relay access denied" });
    requeueFailed(db, { error: "recipient" }, { now: NOW, dryRun: false });
    expect(row("cart:1:2026-W10")).toMatchObject({
      state: "queued",
      attempts: 0,
      next_attempt_at: NOW,
      error: null,
      deferred_reason: null,
      message_id: "<m>",
      updated_at: NOW,
    });
    expect(row("cart:2:2026-W10")).toMatchObject({ state: "failed", attempts: 3 });
    expect(outbox.due(NOW, 0, 10).map((r) => r.idempotency_key)).toEqual(["cart:1:2026-W10"]);
  });
});
