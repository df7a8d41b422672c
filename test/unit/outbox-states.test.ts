/**
 * The outbox's transitions (src/deliver/outbox.ts) on a real database: each moves a message only
 * from the states it names, so a late answer, a second run or an admin's command can never turn a
 * sent message back into one that goes again. Also put-back (a server fault is no attempt), the
 * reply that never came, the suppression list, and what the status and send read from it.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Outbox, outboxStatus, type OutboxRow, type OutboxState } from "../../src/deliver/outbox.js";
import { openStore, type Db } from "../../src/store/open.js";

const NOW = "2026-03-02T09:00:00Z";
const LATER = "2026-03-02T10:00:00Z";

let db: Db;
let outbox: Outbox;
beforeEach(() => {
  db = openStore(join(mkdtempSync(join(tmpdir(), "comeback-outbox-")), "o.db"));
  outbox = new Outbox(db);
});
afterEach(() => db.close());

const row = (key: string): OutboxRow =>
  db.prepare<[string], OutboxRow>("SELECT * FROM outbox WHERE idempotency_key = ?").get(key)!;

/** A digest (not marketing, no customer) queued at `at`, due then. */
function queue(key: string, at = NOW): OutboxRow {
  outbox.enqueue(
    {
      key,
      kind: "digest",
      marketing: false,
      customerId: null,
      recipient: "o@shop.example",
      payload: { n: 1 },
    },
    at,
  );
  return row(key);
}

/** A row forced into `state` (as another run or an earlier version would have left it). */
function inState(
  key: string,
  state: OutboxState,
  more: Record<string, string | number | null> = {},
): OutboxRow {
  queue(key);
  const sets = Object.keys(more).map((column) => `, ${column} = @${column}`);
  db.prepare(`UPDATE outbox SET state = @state${sets.join("")} WHERE idempotency_key = @key`).run({
    state,
    key,
    ...more,
  });
  return row(key);
}

function addCustomer(id: number): void {
  db.prepare(
    `INSERT INTO customers (id, identity_key, email, accepts_marketing, info_as_of, created_at, updated_at)
     VALUES (?, ?, ?, 1, 'x', 'x', 'x')`,
  ).run(id, `id:C${id}`, `c${id}@example.com`);
}

describe("queueing", () => {
  it("stores a new message as queued, due at once, with its payload as JSON and no attempt", () => {
    outbox.enqueue(
      {
        key: "m",
        kind: "winback-warm",
        marketing: true,
        customerId: null,
        recipient: "a@x.example",
        payload: { a: [1] },
      },
      NOW,
    );
    expect(row("m")).toMatchObject({
      idempotency_key: "m",
      kind: "winback-warm",
      channel: "email",
      marketing: 1,
      customer_id: null,
      recipient: "a@x.example",
      payload: '{"a":[1]}',
      state: "queued",
      attempts: 0,
      next_attempt_at: NOW,
      created_at: NOW,
      claimed_at: null,
      sent_at: null,
    });
    queue("d");
    expect(row("d").marketing).toBe(0);
  });
});

describe("what is due", () => {
  it("lists queued messages due by now, in id order after a given id, at most `limit`", () => {
    queue("a");
    queue("b", LATER);
    queue("c");
    inState("d", "sending");
    queue("e");
    expect(outbox.due(NOW, 0, 10).map((r) => r.idempotency_key)).toEqual(["a", "c", "e"]);
    expect(outbox.due(LATER, 0, 10).map((r) => r.idempotency_key)).toEqual(["a", "b", "c", "e"]);
    expect(outbox.due(NOW, row("a").id, 10).map((r) => r.idempotency_key)).toEqual(["c", "e"]);
    expect(outbox.due(NOW, 0, 2).map((r) => r.idempotency_key)).toEqual(["a", "c"]);
    expect(outbox.countDue(NOW)).toBe(3);
    expect(outbox.countDue(LATER)).toBe(4);
    expect(outbox.countDue("2026-03-01T00:00:00Z")).toBe(0);
  });

  it("lists messages left in sending, in id order after a given id, at most `limit`", () => {
    inState("a", "sending");
    queue("b");
    inState("c", "sending");
    inState("d", "sending");
    inState("e", "sent");
    expect(outbox.unknown(0, 10).map((r) => r.idempotency_key)).toEqual(["a", "c", "d"]);
    expect(outbox.unknown(row("a").id, 10).map((r) => r.idempotency_key)).toEqual(["c", "d"]);
    expect(outbox.unknown(0, 1).map((r) => r.idempotency_key)).toEqual(["a"]);
    expect(outbox.countUnknown()).toBe(3);
  });

  it("counts nothing in an empty outbox", () => {
    expect(outbox.countDue(NOW)).toBe(0);
    expect(outbox.countUnknown()).toBe(0);
    expect(outbox.due(NOW, 0, 10)).toEqual([]);
  });
});

describe("a claim", () => {
  it("counts an attempt, notes when, and clears the reason it was deferred", () => {
    queue("m");
    outbox.defer(row("m").id, NOW, "send window", NOW);
    expect(row("m").deferred_reason).toBe("send window");
    expect(outbox.claim(row("m"), LATER)).toBe(true);
    expect(row("m")).toMatchObject({
      state: "sending",
      attempts: 1,
      claimed_at: LATER,
      updated_at: LATER,
      deferred_reason: null,
    });
  });

  it("of a message left in sending succeeds only for a row read in that state (a deliberate re-send)", () => {
    const queued = queue("m");
    expect(outbox.claim(queued, NOW)).toBe(true);
    expect(outbox.claim(row("m"), LATER)).toBe(true);
    expect(row("m")).toMatchObject({ state: "sending", attempts: 2, claimed_at: LATER });
    expect(outbox.claim(queued, LATER)).toBe(false);
  });

  it("of a message read as queued that was since sent, failed or skipped fails and changes nothing", () => {
    for (const state of ["sent", "failed", "skipped"] as const) {
      const read = queue(state);
      db.prepare("UPDATE outbox SET state = ? WHERE id = ?").run(state, read.id);
      const now = row(state);
      expect(outbox.claim(read, LATER)).toBe(false);
      expect(row(state)).toEqual(now);
    }
  });
});

describe("recording the answer", () => {
  it("marks a message in sending sent, with its Message-ID and answer, and clears an earlier error", () => {
    inState("m", "sending", { error: "451 earlier" });
    outbox.markSent(row("m").id, "<m@x>", "250 ok", LATER);
    expect(row("m")).toMatchObject({
      state: "sent",
      message_id: "<m@x>",
      response: "250 ok",
      error: null,
      sent_at: LATER,
      updated_at: LATER,
    });
  });

  it("queues a message in sending again for later, keeping its Message-ID, answer and error", () => {
    inState("m", "sending", { attempts: 1 });
    outbox.retryLater(row("m").id, "<m@x>", "451 busy", "451 busy", "2026-03-02T09:30:00Z", LATER);
    expect(row("m")).toMatchObject({
      state: "queued",
      attempts: 1,
      message_id: "<m@x>",
      response: "451 busy",
      error: "451 busy",
      next_attempt_at: "2026-03-02T09:30:00Z",
      updated_at: LATER,
    });
  });

  it("fails a message in sending, keeping its Message-ID, answer and error", () => {
    inState("m", "sending");
    outbox.markFailed(row("m").id, "<m@x>", "550 no", "550 no such user", LATER);
    expect(row("m")).toMatchObject({
      state: "failed",
      message_id: "<m@x>",
      response: "550 no",
      error: "550 no such user",
      updated_at: LATER,
    });
  });

  it("keeps a message in sending when its reply never came, with its Message-ID and why", () => {
    inState("m", "sending", { attempts: 1 });
    outbox.markUnknown(row("m").id, "<m@x>", "no reply", LATER);
    expect(row("m")).toMatchObject({
      state: "sending",
      attempts: 1,
      message_id: "<m@x>",
      error: "no reply",
      updated_at: LATER,
    });
  });

  it("changes no message that is not in sending: a late answer never undoes a sent one", () => {
    for (const state of ["queued", "sent", "failed", "skipped"] as const) {
      const before = inState(state, state);
      outbox.markSent(before.id, "<x>", "250", LATER);
      outbox.retryLater(before.id, "<x>", "451", "451", LATER, LATER);
      outbox.markFailed(before.id, "<x>", "550", "550", LATER);
      outbox.markUnknown(before.id, "<x>", "no reply", LATER);
      expect(row(state)).toEqual(before);
    }
  });
});

describe("put back", () => {
  it("a put-back message is queued again without counting an attempt, due when it was before", () => {
    const queued = queue("m");
    outbox.claim(queued, LATER);
    outbox.putBack(queued, "<m@x>", "421 closing", LATER);
    expect(row("m")).toMatchObject({
      state: "queued",
      attempts: 0,
      message_id: "<m@x>",
      error: "421 closing",
      next_attempt_at: NOW,
      updated_at: LATER,
    });
    expect(outbox.due(LATER, 0, 10).map((r) => r.idempotency_key)).toEqual(["m"]);
  });

  it("a put-back message that was left in sending and sent again on request stays unknown", () => {
    const unknown = inState("m", "sending", { attempts: 1, message_id: "<m@x>" });
    outbox.claim(unknown, LATER);
    outbox.putBack(unknown, null, "421 closing", LATER);
    expect(row("m")).toMatchObject({
      state: "sending",
      attempts: 1,
      message_id: "<m@x>",
      error: "421 closing",
    });
  });

  it("undoes a failure or a retry the circuit breaker takes back: queued, due as before, one attempt fewer", () => {
    const failed = queue("f");
    outbox.claim(failed, NOW);
    outbox.markFailed(failed.id, "<f@x>", "550 x", "550 x", NOW);
    const retried = queue("r");
    outbox.claim(retried, NOW);
    outbox.retryLater(retried.id, "<r@x>", "451 x", "451 x", "2026-03-03T00:00:00Z", NOW);
    outbox.putBack(failed, "<f@x>", "put back", LATER);
    outbox.putBack(retried, "<r@x>", "put back", LATER);
    for (const key of ["f", "r"])
      expect(row(key)).toMatchObject({
        state: "queued",
        attempts: 0,
        next_attempt_at: NOW,
        error: "put back",
      });
  });

  it("never counts attempts below zero", () => {
    const queued = queue("m");
    outbox.putBack(queued, "<m@x>", "421", LATER);
    expect(row("m")).toMatchObject({ state: "queued", attempts: 0 });
  });

  it("keeps the Message-ID it had when none is given", () => {
    const queued = inState("m", "queued", { message_id: "<old@x>", attempts: 1 });
    outbox.putBack(queued, null, "421", LATER);
    expect(row("m")).toMatchObject({ message_id: "<old@x>", attempts: 0 });
  });

  it("never touches a sent or skipped message", () => {
    for (const state of ["sent", "skipped"] as const) {
      const before = inState(state, state, { attempts: 1 });
      outbox.putBack({ ...before, state: "queued" }, "<x>", "421", LATER);
      expect(row(state)).toEqual(before);
    }
  });
});

describe("skips and deferrals", () => {
  it("skip a queued or sending message with its reason, and no other", () => {
    queue("q");
    inState("s", "sending");
    outbox.skip(row("q").id, "suppressed", LATER);
    outbox.skip(row("s").id, "no consent", LATER);
    expect(row("q")).toMatchObject({ state: "skipped", error: "suppressed", updated_at: LATER });
    expect(row("s")).toMatchObject({ state: "skipped", error: "no consent" });
    for (const state of ["sent", "failed"] as const) {
      const before = inState(state, state);
      outbox.skip(before.id, "suppressed", LATER);
      expect(row(state)).toEqual(before);
    }
  });

  it("defer a queued or sending message to a later time with its reason, and no other", () => {
    queue("q");
    inState("s", "sending");
    outbox.defer(row("q").id, "2026-03-05T08:00:00Z", "frequency cap", LATER);
    outbox.defer(row("s").id, "2026-03-05T08:00:00Z", "send window", LATER);
    expect(row("q")).toMatchObject({
      state: "queued",
      next_attempt_at: "2026-03-05T08:00:00Z",
      deferred_reason: "frequency cap",
      updated_at: LATER,
    });
    expect(row("s")).toMatchObject({ state: "queued", deferred_reason: "send window" });
    for (const state of ["sent", "failed", "skipped"] as const) {
      const before = inState(state, state);
      outbox.defer(before.id, "2026-03-05T08:00:00Z", "send window", LATER);
      expect(row(state)).toEqual(before);
    }
  });
});

describe("the last marketing email to a customer", () => {
  function marketing(key: string, customerId: number): OutboxRow {
    outbox.enqueue(
      { key, kind: "note", marketing: true, customerId, recipient: "c@x.example", payload: {} },
      NOW,
    );
    return row(key);
  }

  it("is the latest sent or claimed one, not a queued, failed or other customer's one, nor the one asked about", () => {
    addCustomer(1);
    addCustomer(2);
    const sent = marketing("sent", 1);
    outbox.claim(sent, "2026-02-20T09:00:00Z");
    outbox.markSent(sent.id, "<s>", "250", "2026-02-21T09:00:00Z");
    expect(outbox.lastMarketingAt(1, 0)).toBe("2026-02-21T09:00:00Z");
    const sending = marketing("sending", 1);
    outbox.claim(sending, "2026-02-25T09:00:00Z");
    expect(outbox.lastMarketingAt(1, 0)).toBe("2026-02-25T09:00:00Z");
    expect(outbox.lastMarketingAt(1, sending.id)).toBe("2026-02-21T09:00:00Z");
    const failed = marketing("failed", 1);
    outbox.claim(failed, "2026-02-27T09:00:00Z");
    outbox.markFailed(failed.id, "<f>", "550", "550", "2026-02-27T09:00:00Z");
    marketing("queued", 1);
    const other = marketing("other", 2);
    outbox.claim(other, "2026-03-01T09:00:00Z");
    outbox.enqueue(
      {
        key: "receipt",
        kind: "note",
        marketing: false,
        customerId: 1,
        recipient: "c@x.example",
        payload: {},
      },
      NOW,
    );
    outbox.claim(row("receipt"), "2026-03-01T10:00:00Z");
    expect(outbox.lastMarketingAt(1, 0)).toBe("2026-02-25T09:00:00Z");
    expect(outbox.lastMarketingAt(3, 0)).toBeNull();
  });
});

describe("the suppression list", () => {
  it("stores an address lower-cased once, tells whether it was new, and keeps the first reason", () => {
    expect(outbox.suppress("Ann@Example.COM", "550 no such user", "bounce", NOW)).toBe(true);
    expect(outbox.suppress("ann@example.com", "asked", "admin", LATER)).toBe(false);
    expect(outbox.suppression("ann@example.com")).toEqual({ reason: "550 no such user", source: "bounce" });
    expect(outbox.suppression("bob@example.com")).toBeUndefined();
  });

  it("lifts an address given in any case, and only that one", () => {
    outbox.suppress("ann@example.com", "x", "admin", NOW);
    outbox.suppress("bob@example.com", "x", "admin", NOW);
    outbox.unsuppress("ANN@example.com");
    expect(outbox.suppression("ann@example.com")).toBeUndefined();
    expect(outbox.suppression("bob@example.com")).toEqual({ reason: "x", source: "admin" });
  });
});

describe("the status", () => {
  it("counts every state, lists the unknown ones in id order, and counts due ones at `now`", () => {
    queue("q1");
    queue("q2", LATER);
    inState("u2", "sending", { claimed_at: LATER, attempts: 2, recipient: null });
    inState("u1", "sending", { claimed_at: NOW, attempts: 1 });
    inState("s", "sent");
    inState("f", "failed");
    inState("k", "skipped");
    expect(outboxStatus(db, NOW)).toEqual({
      by_state: { queued: 2, sending: 2, sent: 1, failed: 1, skipped: 1 },
      due_now: 1,
      unknown: [
        { key: "u2", recipient: null, claimed_at: LATER, attempts: 2 },
        { key: "u1", recipient: "o@shop.example", claimed_at: NOW, attempts: 1 },
      ],
      suppressions: 0,
    });
  });

  it("of an empty outbox is all zeros", () => {
    expect(outboxStatus(db, NOW)).toEqual({
      by_state: { queued: 0, sending: 0, sent: 0, failed: 0, skipped: 0 },
      due_now: 0,
      unknown: [],
      suppressions: 0,
    });
  });
});
