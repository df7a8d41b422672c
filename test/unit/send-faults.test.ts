/**
 * What sendDue (src/deliver/send.ts) does with answers that are not a plain success: a server fault
 * (stop, put back, charge nobody), a reply that never came (unknown, never sent again on its own),
 * the circuit breaker on identical refusals, and a message another run claimed meanwhile.
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
import { SAME_ANSWERS_TRIP, sendDue, type MessageOutcome, type SendOptions } from "../../src/deliver/send.js";
import { shippedTemplatesDir } from "../../src/deliver/setup.js";
import type { SendOutcome, Transport } from "../../src/deliver/transports.js";
import { openStore, type Db } from "../../src/store/open.js";

const NOW = "2026-03-02T09:00:00Z";
const QUEUED_AT = "2026-03-01T08:00:00Z";
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
  db = openStore(join(mkdtempSync(join(tmpdir(), "comeback-send-faults-")), "s.db"));
  outbox = new Outbox(db);
  for (let id = 1; id <= 6; id++)
    db.prepare(
      `INSERT INTO customers (id, identity_key, email, accepts_marketing, info_as_of, created_at, updated_at)
       VALUES (?, ?, ?, 1, 'x', 'x', 'x')`,
    ).run(id, `id:C${id}`, `c${id}@example.com`);
});
afterEach(() => db.close());

const row = (key: string) =>
  db.prepare<[string], OutboxRow>("SELECT * FROM outbox WHERE idempotency_key = ?").get(key)!;

/** A win-back mail `w<id>` to customer `id`, queued the day before. */
function queue(id: number): void {
  const email = `c${id}@example.com`;
  outbox.enqueue(
    {
      key: `w${id}`,
      kind: "winback-warm",
      marketing: true,
      customerId: id,
      recipient: email,
      payload: {
        status: "warm",
        contact_number: 1,
        customer: { id, external_id: `C${id}`, first_name: "Ann", name: "Ann", email, locale: "en" },
        favourite_products: [],
      },
    },
    QUEUED_AT,
  );
}

const OK: SendOutcome = { status: "sent", response: "250 2.0.0 Ok: queued as 1A2B" };

/** Postfix's answer to a dead address `to`. */
const deadAnswer = (to: string) =>
  `550 5.1.1 <${to}>: Recipient address rejected: User unknown in virtual mailbox table`;

/** The dead-address refusal of `to`. */
function noSuchUser(to: string): SendOutcome {
  const text = deadAnswer(to);
  return {
    status: "refused",
    verdict: { scope: "recipient", permanent: true, suppress: true, cause: "no such recipient", fix: "" },
    error: `rejected ${to}`,
    response: text,
  };
}

/** Greylisting of `to`: this message, later. */
function greylisted(to: string): SendOutcome {
  const text = `451 4.7.1 <${to}>: Recipient address rejected: Greylisted, try again in 300 seconds`;
  return {
    status: "refused",
    verdict: { scope: "message", permanent: false, suppress: false, cause: "refused by policy", fix: "" },
    error: text,
    response: text,
  };
}

/** A transport that answers message n (from 0) with `answer(n, recipient)`. */
function scripted(answer: (n: number, to: string) => SendOutcome): Transport & { sent: string[] } {
  const sent: string[] = [];
  return {
    name: "test",
    turnsToStart: 0,
    sent,
    async open() {},
    async send(message) {
      sent.push(message.key);
      return answer(sent.length - 1, message.envelope.to);
    },
    async close() {},
  };
}

function run(transport: Transport, more: Partial<SendOptions> = {}) {
  const outcomes: MessageOutcome[] = [];
  const lines: Record<string, unknown>[] = [];
  const log = pino({ level: "debug" }, { write: (line: string) => lines.push(JSON.parse(line)) });
  const report = sendDue(db, {
    now: () => NOW,
    maxAttempts: 5,
    retryMinutes: 30,
    rules: RULES,
    renderer,
    settings,
    transport: () => transport,
    log,
    onOutcome: (o) => outcomes.push(o),
    ...more,
  });
  return { report, outcomes, lines };
}

const suppressed = () => db.prepare("SELECT address FROM suppressions ORDER BY address").pluck().all();

describe("a server fault", () => {
  const relayDenied: SendOutcome = {
    status: "refused",
    verdict: {
      scope: "server",
      permanent: true,
      suppress: false,
      cause: "relay access denied",
      fix: "check the relay",
    },
    error: "rejected",
    response: "554 5.7.1 <o'brien@example.com>: Relay access denied for ann@example.com ",
  };

  it("stops the run at once, puts the message back without an attempt, and says what to fix, addresses out", async () => {
    queue(1);
    queue(2);
    const transport = scripted(() => relayDenied);
    const { report: pending, outcomes, lines } = run(transport);
    const report = await pending;
    expect(report).toMatchObject({
      sent: 0,
      failed: 0,
      retry_later: 0,
      suppressed: 0,
      put_back: 1,
      faults: { recipient: 0, message: 0, server: 1 },
      server_fault: {
        cause: "relay access denied",
        fix: "check the relay",
        answer: "554 5.7.1 <…>: Relay access denied for …",
      },
      stopped: "server fault: relay access denied (554 5.7.1 <…>: Relay access denied for …)",
      unavailable: true,
      failures: [],
    });
    expect(transport.sent).toEqual(["w1"]);
    expect(row("w1")).toMatchObject({
      state: "queued",
      attempts: 0,
      next_attempt_at: QUEUED_AT,
      error: "rejected",
    });
    expect(row("w1").message_id).toMatch(/^<w1\./);
    expect(row("w2")).toMatchObject({ state: "queued", attempts: 0 });
    expect(suppressed()).toEqual([]);
    expect(outcomes.map((o) => [o.key, o.outcome, o.reason])).toEqual([
      ["w1", "put back", "relay access denied"],
    ]);
    expect(lines.map(({ level, msg, key, cause }) => [level, msg, key, cause])).toEqual([
      [40, "server fault: message put back", "w1", "relay access denied"],
    ]);
  });

  it("shows the error when the server gave no answer", async () => {
    queue(1);
    const { report } = run(
      scripted(() => ({
        status: "refused",
        verdict: {
          scope: "server",
          permanent: false,
          suppress: false,
          cause: "connection failed",
          fix: "check",
        },
        error: "connect ECONNREFUSED 127.0.0.1:2525",
        response: null,
      })),
    );
    expect((await report).server_fault).toEqual({
      cause: "connection failed",
      fix: "check",
      answer: "connect ECONNREFUSED 127.0.0.1:2525",
    });
  });

  it("leaves a message that was sent again on request unknown, still without charging an attempt", async () => {
    queue(1);
    outbox.claim(row("w1"), "2026-03-01T09:00:00Z");
    const { report } = run(
      scripted(() => relayDenied),
      { retryUnknown: true },
    );
    expect(await report).toMatchObject({ due: 1, put_back: 1, unknown: 1 });
    expect(row("w1")).toMatchObject({ state: "sending", attempts: 1 });
  });
});

describe("a reply that never came", () => {
  it("leaves the message unknown with its Message-ID, stops the run, and sends nothing more", async () => {
    queue(1);
    queue(2);
    const transport = scripted(() => ({ status: "unknown", error: "no reply within timeout_seconds" }));
    const { report: pending, outcomes, lines } = run(transport);
    const report = await pending;
    expect(report).toMatchObject({
      sent: 0,
      failed: 0,
      put_back: 0,
      unknown: 1,
      unavailable: true,
      stopped:
        "no reply to w1: no reply within timeout_seconds; the server may have it, so it stays unknown " +
        "(comeback status lists it; comeback send --retry-unknown sends it again)",
    });
    expect(transport.sent).toEqual(["w1"]);
    expect(row("w1")).toMatchObject({
      state: "sending",
      attempts: 1,
      error: "no reply within timeout_seconds",
    });
    expect(row("w1").message_id).toMatch(/^<w1\./);
    expect(row("w2")).toMatchObject({ state: "queued", attempts: 0 });
    expect(outcomes.map((o) => [o.key, o.outcome, o.reason])).toEqual([
      ["w1", "unknown", "no reply within timeout_seconds"],
    ]);
    expect(lines).toEqual([
      expect.objectContaining({
        level: 40,
        msg: "no reply: message unknown",
        key: "w1",
        message_id: row("w1").message_id,
      }),
    ]);
    // A plain run does not send it again.
    const again = scripted(() => OK);
    expect(await run(again).report).toMatchObject({ sent: 1, unknown: 1 });
    expect(again.sent).toEqual(["w2"]);
  });
});

describe("the circuit breaker", () => {
  it(`trips on the same refusal to ${SAME_ANSWERS_TRIP} recipients in a row: undoes their failures and suppressions, and stops`, async () => {
    for (let id = 1; id <= 5; id++) queue(id);
    const transport = scripted((_, to) => noSuchUser(to));
    const { report: pending, outcomes, lines } = run(transport);
    const report = await pending;
    const fix =
      "a server that refuses every recipient alike (check its logs or ask the mail provider); " +
      "if those addresses really are dead, comeback send --no-breaker sends once without this check";
    const said = "550 5.1.1 <…>: Recipient address rejected: User unknown in virtual mailbox table";
    expect(report).toMatchObject({
      sent: 0,
      failed: 0,
      retry_later: 0,
      suppressed: 0,
      put_back: 3,
      faults: { recipient: 0, message: 0, server: 3 },
      failures: [],
      server_fault: { cause: "the same answer to 3 messages in a row", fix, answer: said },
      stopped: `server fault: the same answer to 3 messages in a row (${said})`,
      unavailable: true,
    });
    expect(transport.sent).toEqual(["w1", "w2", "w3"]);
    expect(suppressed()).toEqual([]);
    for (const key of ["w1", "w2", "w3"])
      expect(row(key)).toMatchObject({
        state: "queued",
        attempts: 0,
        next_attempt_at: QUEUED_AT,
        error: `put back: the same answer to 3 messages in a row: ${deadAnswer("c3@example.com")}`,
      });
    expect(row("w4")).toMatchObject({ state: "queued", attempts: 0, error: null });
    expect(outcomes.map((o) => [o.key, o.outcome, o.reason])).toEqual([
      ["w1", "failed", "rejected c1@example.com"],
      ["w2", "failed", "rejected c2@example.com"],
      ["w3", "failed", "rejected c3@example.com"],
      ["w1", "put back", "circuit breaker"],
      ["w2", "put back", "circuit breaker"],
      ["w3", "put back", "circuit breaker"],
    ]);
    expect(lines.at(-1)).toMatchObject({
      level: 40,
      msg: "circuit breaker: identical answers, run stopped",
      messages: 3,
    });
  });

  it("undoes temporary refusals too: due again when they were before, no attempt charged", async () => {
    for (let id = 1; id <= 4; id++) queue(id);
    const { report } = run(scripted((_, to) => greylisted(to)));
    expect(await report).toMatchObject({
      retry_later: 0,
      failed: 0,
      put_back: 3,
      faults: { recipient: 0, message: 0, server: 3 },
    });
    for (const key of ["w1", "w2", "w3"])
      expect(row(key)).toMatchObject({ state: "queued", attempts: 0, next_attempt_at: QUEUED_AT });
  });

  it("keeps a suppression that was there before the streak, and counts none", async () => {
    for (let id = 1; id <= 3; id++) queue(id);
    // A transactional mail is not checked against the list, so an already suppressed address can refuse.
    db.prepare("UPDATE outbox SET marketing = 0 WHERE idempotency_key = 'w2'").run();
    outbox.suppress("c2@example.com", "earlier", "admin", QUEUED_AT);
    const { report } = run(scripted((_, to) => noSuchUser(to)));
    expect(await report).toMatchObject({ put_back: 3, failed: 0, suppressed: 0 });
    expect(suppressed()).toEqual(["c2@example.com"]);
  });

  it("counts as suppressed only an address that was not on the list already", async () => {
    queue(1);
    db.prepare("UPDATE outbox SET marketing = 0").run();
    outbox.suppress("c1@example.com", "earlier", "admin", QUEUED_AT);
    const { report } = run(scripted((_, to) => noSuchUser(to)));
    expect(await report).toMatchObject({ failed: 1, suppressed: 0 });
    expect(outbox.suppression("c1@example.com")).toEqual({ reason: "earlier", source: "admin" });
  });

  it("is off with --no-breaker: every refusal fails and suppresses its address", async () => {
    for (let id = 1; id <= 4; id++) queue(id);
    const transport = scripted((_, to) => noSuchUser(to));
    const { report } = run(transport, { breaker: false });
    expect(await report).toMatchObject({
      failed: 4,
      suppressed: 4,
      put_back: 0,
      faults: { recipient: 4, message: 0, server: 0 },
      stopped: null,
      server_fault: null,
      unavailable: false,
    });
    expect(suppressed()).toHaveLength(4);
  });

  it("does not trip on two identical refusals, nor when a success or another answer comes between", async () => {
    for (let id = 1; id <= 6; id++) queue(id);
    // same, sent, same, same, other, other
    const answers = (n: number, to: string) => (n === 1 ? OK : n >= 4 ? greylisted(to) : noSuchUser(to));
    const { report } = run(scripted(answers));
    expect(await report).toMatchObject({
      sent: 1,
      failed: 3,
      retry_later: 2,
      suppressed: 3,
      put_back: 0,
      faults: { recipient: 3, message: 2, server: 0 },
      stopped: null,
    });
  });

  it("keeps in the report the failures before the streak it undid", async () => {
    for (let id = 1; id <= 4; id++) queue(id);
    const tooBig: SendOutcome = {
      status: "refused",
      verdict: { scope: "message", permanent: true, suppress: false, cause: "message too big", fix: "" },
      error: "552 5.3.4 Message too big",
      response: "552 5.3.4 Message too big",
    };
    const { report } = run(scripted((n, to) => (n === 0 ? tooBig : noSuchUser(to))));
    expect(await report).toMatchObject({
      failed: 1,
      put_back: 3,
      failures: [{ key: "w1", error: "552 5.3.4 Message too big" }],
      faults: { recipient: 0, message: 1, server: 3 },
    });
    expect(row("w1").state).toBe("failed");
  });

  it("does not trip on two refusals that say nothing", async () => {
    for (let id = 1; id <= 2; id++) queue(id);
    const silent: SendOutcome = {
      status: "refused",
      verdict: { scope: "message", permanent: true, suppress: false, cause: "refused", fix: "" },
      error: "",
      response: null,
    };
    const { report } = run(scripted(() => silent));
    expect(await report).toMatchObject({ failed: 2, put_back: 0, stopped: null });
  });
});

describe("a message another run claimed meanwhile", () => {
  it("is not sent by this run", async () => {
    for (let id = 1; id <= 3; id++) queue(id);
    const transport = scripted((n) => {
      // While w1 is in flight, another run claims w2.
      if (n === 0) outbox.claim(row("w2"), NOW);
      return OK;
    });
    const { report } = run(transport);
    expect(await report).toMatchObject({ sent: 2, unknown: 1 });
    expect(transport.sent).toEqual(["w1", "w3"]);
    expect(row("w2")).toMatchObject({ state: "sending", attempts: 1 });
  });
});
