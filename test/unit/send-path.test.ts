/**
 * The send path (src/deliver/send.ts) on sendDue itself, with a scripted transport and a real
 * database: what each answer of the server does to the outbox and the report.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { configSchema } from "../../src/config/schema.js";
import { messageSettings } from "../../src/deliver/message.js";
import { Outbox, type OutboxRow } from "../../src/deliver/outbox.js";
import { createRenderer } from "../../src/deliver/render.js";
import type { RuleSettings } from "../../src/deliver/rules.js";
import {
  emptySendReport,
  recordingTransport,
  sendDue,
  type MessageOutcome,
  type SendOptions,
} from "../../src/deliver/send.js";
import { shippedTemplatesDir } from "../../src/deliver/setup.js";
import type { SendOutcome, Transport } from "../../src/deliver/transports.js";
import { openStore, type Db } from "../../src/store/open.js";

const NOW = "2026-03-02T09:00:00Z";
const RULES: RuleSettings = {
  zone: "UTC",
  window: { start: 0, end: 24 * 60 },
  minHoursBetween: 72,
  requireOptIn: false,
};
const renderer = createRenderer({ dir: shippedTemplatesDir(), defaultLocale: "en" });
const settings = messageSettings(
  configSchema.parse({ delivery: { from: "Shop <shop@shop.example>" } }),
  "0123456789abcdef0123456789abcdef",
);

let db: Db;
let outbox: Outbox;
beforeEach(() => {
  db = openStore(join(mkdtempSync(join(tmpdir(), "comeback-send-")), "s.db"));
  outbox = new Outbox(db);
  for (const id of [1, 2, 3])
    db.prepare(
      `INSERT INTO customers (id, identity_key, email, accepts_marketing, info_as_of, created_at, updated_at)
       VALUES (?, ?, ?, 1, 'x', 'x', 'x')`,
    ).run(id, `id:C${id}`, `c${id}@example.com`);
});
afterEach(() => db.close());

const OK: SendOutcome = { status: "sent", response: "250 queued" };
const TEMPORARY: SendOutcome = {
  status: "refused",
  verdict: { scope: "message", permanent: false, suppress: false, cause: "try later", fix: "" },
  error: "451 try later",
  response: "451 try later",
};
const REJECTED: SendOutcome = {
  status: "refused",
  verdict: { scope: "recipient", permanent: true, suppress: true, cause: "no such recipient", fix: "" },
  error: "550 no such user",
  response: "550 no such user",
};

/** A transport that answers with `answers` in turn (the last one for the rest). */
function scripted(
  ...answers: SendOutcome[]
): Transport & { sent: string[]; raw: string[]; opened: number; closed: number } {
  const transport = {
    name: "test",
    turnsToStart: 1,
    sent: [] as string[],
    raw: [] as string[],
    opened: 0,
    closed: 0,
    async open() {
      transport.opened++;
    },
    async send(message: { key: string; raw: string }) {
      transport.sent.push(message.key);
      transport.raw.push(message.raw);
      return answers[Math.min(transport.sent.length, answers.length) - 1]!;
    },
    async close() {
      transport.closed++;
    },
  };
  return transport;
}

function options(transport: Transport, more: Partial<SendOptions> = {}): SendOptions {
  return {
    now: () => NOW,
    maxAttempts: 5,
    retryMinutes: 30,
    rules: RULES,
    renderer,
    settings,
    transport: () => transport,
    log: pino({ level: "silent" }),
    ...more,
  };
}

/** A win-back mail to customer `id` (marketing: consent, cap and window apply). */
function queueWinback(key: string, id: number, recipient = `c${id}@example.com`): void {
  outbox.enqueue(
    {
      key,
      kind: "winback-warm",
      marketing: true,
      customerId: id,
      recipient,
      payload: {
        status: "warm",
        contact_number: 1,
        customer: {
          id,
          external_id: `C${id}`,
          first_name: "Ann",
          name: "Ann",
          email: recipient,
          locale: "en",
        },
        favourite_products: [],
      },
    },
    "2026-03-01T08:00:00Z",
  );
}

const row = (key: string) =>
  db.prepare<[string], OutboxRow>("SELECT * FROM outbox WHERE idempotency_key = ?").get(key)!;

describe("sending what is due", () => {
  it("sends a due message, records its Message-ID and the server's answer, and says so", async () => {
    queueWinback("w1", 1);
    const transport = scripted(OK);
    const outcomes: MessageOutcome[] = [];
    const progress: [number, number][] = [];
    const report = await sendDue(
      db,
      options(transport, { onOutcome: (o) => outcomes.push(o), onProgress: (d, t) => progress.push([d, t]) }),
    );
    expect(report).toMatchObject({
      due: 1,
      sent: 1,
      failed: 0,
      unknown: 0,
      transport: "test",
      stopped: null,
    });
    expect(row("w1")).toMatchObject({
      state: "sent",
      attempts: 1,
      response: "250 queued",
      sent_at: NOW,
      error: null,
    });
    expect(row("w1").message_id).toMatch(/^<w1\.[0-9a-f]{12}@shop\.example>$/);
    expect(outcomes).toEqual([
      {
        key: "w1",
        kind: "winback-warm",
        customer: 1,
        recipient: "c1@example.com",
        outcome: "sent",
        reason: null,
        until: null,
      },
    ]);
    expect(progress).toEqual([[1, 1]]);
    // A marketing mail: the unsubscribe link is in its headers.
    expect(transport.raw[0]).toMatch(
      /^List-Unsubscribe: <mailto:shop@shop\.example\?subject=unsubscribe%20/m,
    );
    expect(report.unavailable).toBe(false);
    expect([transport.opened, transport.closed]).toEqual([1, 1]);
  });

  it("connects to nothing when nothing is due, or the limit is 0", async () => {
    const transport = scripted(OK);
    expect(await sendDue(db, options(transport))).toMatchObject({
      ...emptySendReport(),
      seconds: expect.any(Number),
    });
    queueWinback("w1", 1);
    expect(await sendDue(db, options(transport, { limit: 0 }))).toMatchObject({
      due: 1,
      sent: 0,
      transport: null,
    });
    expect(transport.opened).toBe(0);
    expect(row("w1").state).toBe("queued");
  });

  it("sends at most --limit messages, in the order they were queued", async () => {
    for (const id of [1, 2, 3]) queueWinback(`w${id}`, id);
    const transport = scripted(OK);
    expect(await sendDue(db, options(transport, { limit: 2 }))).toMatchObject({ due: 3, sent: 2 });
    expect(transport.sent).toEqual(["w1", "w2"]);
    expect(row("w3").state).toBe("queued");
  });

  it("stops between messages when a signal asks it to", async () => {
    for (const id of [1, 2, 3]) queueWinback(`w${id}`, id);
    const transport = scripted(OK);
    let asked = 0;
    const report = await sendDue(db, options(transport, { shouldStop: () => ++asked > 1 }));
    expect(report).toMatchObject({ sent: 1, stopped: "stopped by a signal" });
    expect(transport.closed).toBe(1);
  });

  it("records a skip and a deferral with their reasons, and sends nothing for them", async () => {
    queueWinback("w1", 1);
    queueWinback("w2", 2);
    db.prepare("UPDATE customers SET accepts_marketing = 0 WHERE id = 1").run();
    outbox.enqueue(
      { key: "n2", kind: "note", marketing: true, customerId: 2, recipient: "c2@example.com", payload: {} },
      NOW,
    );
    const earlier = row("n2");
    outbox.claim(earlier, "2026-03-01T10:00:00Z");
    outbox.markSent(earlier.id, "<x>", "250", "2026-03-01T10:00:00Z");
    const transport = scripted(OK);
    const outcomes: MessageOutcome[] = [];
    const report = await sendDue(db, options(transport, { onOutcome: (o) => outcomes.push(o) }));
    expect(report).toMatchObject({
      sent: 0,
      skipped: 1,
      skipped_reasons: { "opted out": 1 },
      deferred: 1,
      deferred_reasons: { "frequency cap": 1 },
    });
    expect(row("w1")).toMatchObject({
      state: "skipped",
      error: "the customer does not accept marketing",
      attempts: 0,
    });
    expect(row("w2")).toMatchObject({
      state: "queued",
      next_attempt_at: "2026-03-04T10:00:00Z",
      deferred_reason: "frequency cap",
      attempts: 0,
    });
    expect(outcomes.map((o) => [o.key, o.outcome, o.reason, o.until])).toEqual([
      ["w1", "skipped", "opted out", null],
      ["w2", "deferred", "frequency cap", "2026-03-04T10:00:00Z"],
    ]);
    expect(transport.sent).toEqual([]);
  });
});

describe("what it logs", () => {
  it("each message's key and what became of it, never the address at info level", async () => {
    const lines: Record<string, unknown>[] = [];
    const log = pino({ level: "debug" }, { write: (line: string) => lines.push(JSON.parse(line)) });
    queueWinback("w1", 1);
    queueWinback("w2", 2);
    queueWinback("w3", 3, "gone@example.com");
    outbox.enqueue(
      { key: "n9", kind: "note", marketing: true, customerId: null, recipient: null, payload: {} },
      NOW,
    );
    db.prepare("UPDATE customers SET accepts_marketing = 0 WHERE id = 2").run();
    await sendDue(db, options(scripted(OK, REJECTED), { log, rules: { ...RULES, requireOptIn: false } }));
    const tell = lines.map(({ level, msg, key, reason }) => [level, msg, key, reason ?? null]);
    expect(tell).toEqual([
      [30, "message sent", "w1", null],
      [30, "message skipped", "w2", "opted out"],
      [40, "message failed", "w3", null],
      [30, "message skipped", "n9", "no email address"],
    ]);
    expect(lines[0]).toMatchObject({ message_id: expect.stringMatching(/^<w1\./) });
    expect(lines[2]).toMatchObject({ error: "550 no such user" });
    expect(JSON.stringify(lines.filter((l) => (l.level as number) <= 30))).not.toMatch(/@example\.com/);
  });

  it("a deferral at debug level, a retry and a give-up as warnings", async () => {
    const lines: Record<string, unknown>[] = [];
    const log = pino({ level: "debug" }, { write: (line: string) => lines.push(JSON.parse(line)) });
    queueWinback("w1", 1);
    queueWinback("w2", 2);
    const outcomes: MessageOutcome[] = [];
    await sendDue(
      db,
      options(scripted(TEMPORARY), {
        log,
        maxAttempts: 1,
        rules: { ...RULES, window: { start: 0, end: 9 * 60 } },
        now: () => "2026-03-02T08:00:00Z",
        onOutcome: (o) => outcomes.push(o),
        limit: 1,
      }),
    );
    db.prepare("UPDATE outbox SET next_attempt_at = ?, state = 'queued' WHERE idempotency_key = 'w2'").run(
      NOW,
    );
    await sendDue(
      db,
      options(scripted(TEMPORARY), { log, onOutcome: (o) => outcomes.push(o), maxAttempts: 2 }),
    );
    expect(lines.map(({ level, msg, key }) => [level, msg, key])).toEqual([
      [40, "message failed", "w1"],
      [40, "temporary failure, will retry", "w2"],
    ]);
    expect(outcomes.map((o) => [o.key, o.outcome, o.reason])).toEqual([
      ["w1", "failed", "gave up after 1 attempts: 451 try later"],
      ["w2", "retry later", "451 try later"],
    ]);
    lines.length = 0;
    await sendDue(
      db,
      options(scripted(OK), {
        log,
        now: () => "2026-03-03T05:00:00Z",
        rules: { ...RULES, window: { start: 8 * 60, end: 9 * 60 } },
      }),
    );
    expect(lines).toEqual([
      expect.objectContaining({
        level: 20,
        msg: "message deferred",
        key: "w2",
        until: "2026-03-03T08:00:00Z",
        reason: "send window",
      }),
    ]);
  });
});

describe("failures", () => {
  it("retries a temporary failure later, waiting twice as long each time, at most a day", async () => {
    queueWinback("w1", 1);
    const transport = scripted(TEMPORARY);
    const waits: string[] = [];
    for (let attempt = 1; attempt <= 4; attempt++) {
      const report = await sendDue(db, options(transport, { maxAttempts: 10, retryMinutes: 600 }));
      expect(report).toMatchObject({ retry_later: 1, failed: 0 });
      waits.push(row("w1").next_attempt_at);
      db.prepare("UPDATE outbox SET next_attempt_at = ?").run(NOW);
    }
    // 600 minutes = 10 h, then 20 h, then the 24 h ceiling.
    expect(waits).toEqual([
      "2026-03-02T19:00:00Z",
      "2026-03-03T05:00:00Z",
      "2026-03-03T09:00:00Z",
      "2026-03-03T09:00:00Z",
    ]);
    expect(row("w1")).toMatchObject({
      state: "queued",
      attempts: 4,
      error: "451 try later",
      response: "451 try later",
    });
  });

  it("fails a permanent rejection at once, suppresses the address, and skips the next mail to it", async () => {
    queueWinback("w1", 1, "gone@example.com");
    queueWinback("w2", 2, "gone@example.com");
    queueWinback("w3", 3);
    const transport = scripted(REJECTED, OK);
    const outcomes: MessageOutcome[] = [];
    const report = await sendDue(
      db,
      options(transport, { maxAttempts: 5, onOutcome: (o) => outcomes.push(o) }),
    );
    expect(report).toMatchObject({
      failed: 1,
      suppressed: 1,
      skipped: 1,
      skipped_reasons: { suppressed: 1 },
      sent: 1,
      failures: [{ key: "w1", error: "550 no such user" }],
    });
    expect(row("w1")).toMatchObject({ state: "failed", attempts: 1, error: "550 no such user" });
    expect(row("w2").state).toBe("skipped");
    expect(transport.sent).toEqual(["w1", "w3"]);
    expect(outbox.suppression("gone@example.com")).toEqual({ reason: "550 no such user", source: "bounce" });
    expect(outcomes.map((o) => [o.key, o.outcome, o.reason])).toEqual([
      ["w1", "failed", "550 no such user"],
      ["w2", "skipped", "suppressed"],
      ["w3", "sent", null],
    ]);
  });

  it("a lost connection stops the run as unavailable, putting the message back without an attempt", async () => {
    queueWinback("w1", 1);
    queueWinback("w2", 2);
    const transport = scripted({
      status: "refused",
      verdict: {
        scope: "server",
        permanent: false,
        suppress: false,
        cause: "connection lost",
        fix: "check the server",
      },
      error: "ECONNRESET",
      response: null,
    });
    const report = await sendDue(db, options(transport));
    expect(report).toMatchObject({ unavailable: true, put_back: 1 });
    expect(transport.sent).toEqual(["w1"]);
    expect(row("w1")).toMatchObject({ state: "queued", attempts: 0 });
    expect(row("w2")).toMatchObject({ state: "queued", attempts: 0 });
  });

  it("lists the last 20 failures", async () => {
    for (let i = 1; i <= 22; i++) {
      outbox.enqueue(
        {
          key: `d${i}`,
          kind: "digest",
          marketing: false,
          customerId: null,
          recipient: "o@shop.example",
          payload: DIGEST,
        },
        NOW,
      );
    }
    // Each refusal in other words: the same answer three times in a row would trip the circuit breaker.
    const answers = Array.from({ length: 22 }, (_, i): SendOutcome => ({
      status: "refused",
      verdict: { scope: "message", permanent: true, suppress: false, cause: "content refused", fix: "" },
      error: `554 content refused ${"abcdefghijklmnopqrstuvwxyz"[i]!.repeat(3)}`,
      response: null,
    }));
    const report = await sendDue(db, options(scripted(...answers)));
    expect(report.failed).toBe(22);
    expect(report.suppressed).toBe(0);
    expect(report.failures).toHaveLength(20);
    expect(report.failures[0]!.key).toBe("d3");
  });
});

const DIGEST = {
  week: "2026-W10",
  week_start: "2026-03-02",
  week_end: "2026-03-08",
  cart_count: 0,
  more: 0,
  currency: "EUR",
  total_minor: 0,
  carts: [],
};

describe("messages a killed run left in sending", () => {
  it("are counted and left alone, unless asked to send them again with the same Message-ID", async () => {
    queueWinback("w1", 1);
    queueWinback("w2", 2);
    const first = row("w1");
    outbox.claim(first, "2026-03-01T09:00:00Z");
    const transport = scripted(OK);
    const report = await sendDue(db, options(transport, { limit: 1 }));
    expect(report).toMatchObject({ due: 1, sent: 1, unknown: 1 });
    expect(transport.sent).toEqual(["w2"]);
    expect(row("w1").state).toBe("sending");
    const again = await sendDue(db, options(transport, { retryUnknown: true }));
    expect(again).toMatchObject({ due: 1, sent: 1, unknown: 0 });
    expect(transport.sent).toEqual(["w2", "w1"]);
    expect(row("w1")).toMatchObject({ state: "sent", attempts: 2 });
    expect(row("w1").message_id).toMatch(/^<w1\./);
  });

  it("are not re-sent by a plain run even when nothing else is due", async () => {
    queueWinback("w1", 1);
    outbox.claim(row("w1"), "2026-03-01T09:00:00Z");
    const transport = scripted(OK);
    expect(await sendDue(db, options(transport))).toMatchObject({ due: 0, unknown: 1 });
    expect(transport.opened).toBe(0);
  });
});

describe("the dry run's transport", () => {
  it("records each message and answers success without sending", async () => {
    const transport = recordingTransport();
    await transport.open();
    expect(await transport.send({ key: "k", raw: "x", envelope: { from: "a@b.c", to: "d@e.f" } })).toEqual({
      status: "sent",
      response: "dry run: not sent",
    });
    expect(transport.sent).toEqual(["k"]);
    expect(transport.name).toBe("dry run");
  });
});
