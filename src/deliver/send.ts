/**
 * Delivering what is due in the outbox, one message at a time: check the rules, render, claim
 * (committed), hand to the transport, record its answer. One message in flight at a time means a
 * crash leaves at most that one in `sending` (unknown), and nothing is ever sent twice on its own.
 * The next message is rendered while the current one is in flight (not claimed: rendering writes
 * nothing), which hides most of our own CPU time behind the server's.
 */
import { performance } from "node:perf_hooks";
import type { Logger } from "../log.js";
import type { Db } from "../store/open.js";
import { addHours } from "./clock.js";
import { buildMessage, type MessageSettings, type OutgoingMessage } from "./message.js";
import { Outbox, type OutboxRow } from "./outbox.js";
import { recordEvent } from "../track/events.js";
import type { Renderer } from "./render.js";
import { Rules, type Decision, type RuleSettings } from "./rules.js";
import { answerShape, type FaultScope } from "./smtp-answer.js";
import type { SendOutcome, Transport } from "./transports.js";

export interface SendOptions {
  /** The clock: fixed under `--now`, else the machine's. */
  now: () => string;
  limit?: number;
  /** Also send again the messages a killed run left in `sending`, with the same Message-ID. */
  retryUnknown?: boolean;
  maxAttempts: number;
  retryMinutes: number;
  rules: RuleSettings;
  renderer: Renderer;
  settings: MessageSettings;
  /** Made on demand: nothing connects when nothing is due. */
  transport: () => Transport;
  log: Logger;
  /** The circuit breaker on identical refusals (on unless false: send --no-breaker). */
  breaker?: boolean;
  /** Checked between messages (a signal asks the run to stop). */
  shouldStop?: () => boolean;
  onProgress?: (done: number, total: number) => void;
  /** Told what became of each message it worked on (a dry run lists them). */
  onOutcome?: (outcome: MessageOutcome) => void;
}

/** What became of one message in a run. */
export interface MessageOutcome {
  key: string;
  kind: string;
  /** comeback's id of the customer; null for the operator's digest. */
  customer: number | null;
  recipient: string | null;
  outcome: "sent" | "deferred" | "skipped" | "retry later" | "failed" | "put back" | "unknown";
  /** Why it was deferred or skipped, or the error. */
  reason: string | null;
  /** Deferred or retried: when it is due again. */
  until: string | null;
}

/**
 * A transport that delivers nothing and answers every message with success: `weekly --dry-run` runs
 * the whole send path (rules, rendering, claims, the frequency cap between a run's own messages)
 * through it, inside the transaction it rolls back.
 */
export function recordingTransport(): Transport & { readonly sent: string[] } {
  const sent: string[] = [];
  return {
    name: "dry run",
    turnsToStart: 0,
    sent,
    async open() {},
    async send(message) {
      sent.push(message.key);
      return { status: "sent", response: "dry run: not sent" };
    },
    async close() {},
  };
}

export interface SendReport {
  due: number;
  sent: number;
  deferred: number;
  deferred_reasons: Record<string, number>;
  skipped: number;
  skipped_reasons: Record<string, number>;
  /** Temporary failures, queued again for a later attempt. */
  retry_later: number;
  failed: number;
  /** Addresses suppressed because the server rejected them. */
  suppressed: number;
  /** The answers that were not a success, by whose fault they were (smtp-answer.ts). */
  faults: Record<FaultScope, number>;
  /** Messages put back in the queue without spending an attempt (a server fault touched them). */
  put_back: number;
  /** The server fault that stopped the run: its cause, what to fix, its answer (addresses taken out). */
  server_fault: { cause: string; fix: string; answer: string } | null;
  /** Rows still in `sending` from an earlier run (not touched unless --retry-unknown). */
  unknown: number;
  /** Why the run stopped before the end, or null. */
  stopped: string | null;
  /** True when it stopped because the transport became unavailable. */
  unavailable: boolean;
  failures: { key: string; error: string }[];
  transport: string | null;
  seconds: number;
}

const BATCH = 500;
/**
 * The circuit breaker: this many identical refusals in a row (addresses and numbers aside) are the
 * server's, whatever code they carry. Even at a 2% bounce rate (a list whose bounces are suppressed
 * has fewer), three dead addresses in a row happen at about 1 position in 125,000 (0.02³), and they
 * must also get the same words; a server refusing everyone trips it at the third message, having
 * charged nobody. A false trip costs a stop with 69 and `send --no-breaker`.
 */
export const SAME_ANSWERS_TRIP = 3;
const MAX_BACKOFF_HOURS = 24;

export function emptySendReport(): SendReport {
  return {
    due: 0,
    sent: 0,
    deferred: 0,
    deferred_reasons: {},
    skipped: 0,
    skipped_reasons: {},
    retry_later: 0,
    failed: 0,
    suppressed: 0,
    faults: { recipient: 0, message: 0, server: 0 },
    put_back: 0,
    server_fault: null,
    unknown: 0,
    stopped: null,
    unavailable: false,
    failures: [],
    transport: null,
    seconds: 0,
  };
}

const bump = (counts: Record<string, number>, key: string) => (counts[key] = (counts[key] ?? 0) + 1);

export async function sendDue(db: Db, options: SendOptions): Promise<SendReport> {
  const started = performance.now();
  const report = emptySendReport();
  const outbox = new Outbox(db);
  const rules = new Rules(db, outbox, options.rules);
  const limit = options.limit ?? Infinity;
  const unknownBefore = outbox.countUnknown();
  report.due = outbox.countDue(options.now()) + (options.retryUnknown ? unknownBefore : 0);
  if (report.due === 0 || limit <= 0) {
    report.unknown = unknownBefore;
    report.seconds = (performance.now() - started) / 1000;
    return report;
  }

  const transport = options.transport();
  report.transport = transport.name;
  await transport.open(); // UnavailableError (exit 69) before anything is claimed
  let attempted = 0;
  let done = 0;
  const streak: Streak = { shape: "", entries: [] };
  // The server accepted it: marked sent and recorded `delivered` (issue 18) in one transaction, so
  // the report's funnel never has a sent message without its delivery, or the other way round.
  const markSent = db.transaction((row: OutboxRow, messageId: string, response: string, at: string) => {
    outbox.markSent(row.id, messageId, response, at);
    recordEvent(db, { outboxId: row.id, customerId: row.customer_id, kind: "delivered", at });
  });
  const rows = dueRows(outbox, options);
  const prepare = (): Prepared | null => {
    const next = rows.next();
    return next.done ? null : prepareOne(next.value, rules, options);
  };
  try {
    let next = prepare();
    while (next !== null) {
      if (attempted >= limit) break;
      if (options.shouldStop?.()) {
        report.stopped = "stopped by a signal";
        break;
      }
      const current = next;
      if (current.decision.action !== "send") {
        recordDecision(current, outbox, options, report);
        next = prepare();
      } else {
        if (!outbox.claim(current.row, current.now)) {
          next = prepare(); // someone else changed it meanwhile
          continue;
        }
        attempted++;
        const sending = transport.send({
          key: current.row.idempotency_key,
          raw: current.message!.raw,
          envelope: current.message!.envelope,
        });
        // While this one is in flight (claimed, committed), render the next: it is not claimed
        // until this one's answer is recorded, so there is still only one message in flight. The
        // transport first gets the turns of the event loop it needs to put its first command on the
        // wire, so the rendering overlaps the server's work rather than delaying it.
        if (transport.turnsToStart > 0) await turns(transport.turnsToStart);
        next = prepare();
        recordResult(current, await sending, outbox, options, report, streak, markSent);
        // The answer may have suppressed an address or counted against the cap: check again.
        if (next !== null && next.row.recipient === current.row.recipient)
          next = prepareOne(next.row, rules, options);
      }
      options.onProgress?.(++done, report.due);
      if (report.stopped) break;
    }
  } finally {
    await transport.close();
  }
  report.unknown = outbox.countUnknown();
  report.seconds = (performance.now() - started) / 1000;
  return report;
}

function turns(n: number): Promise<void> {
  return new Promise((resolve) => {
    const step = (left: number) => (left === 0 ? resolve() : setImmediate(step, left - 1));
    step(n);
  });
}

/** The rows to work through, in id order, read in batches: unknown ones first when asked, then due ones. */
function* dueRows(outbox: Outbox, options: SendOptions): Generator<OutboxRow> {
  const sources: ((afterId: number) => OutboxRow[])[] = [];
  if (options.retryUnknown) sources.push((afterId) => outbox.unknown(afterId, BATCH));
  sources.push((afterId) => outbox.due(options.now(), afterId, BATCH));
  for (const source of sources) {
    let afterId = 0;
    for (;;) {
      const batch = source(afterId);
      if (batch.length === 0) break;
      for (const row of batch) {
        afterId = row.id;
        yield row;
      }
    }
  }
}

interface Prepared {
  row: OutboxRow;
  now: string;
  decision: Decision;
  message: OutgoingMessage | null;
}

/**
 * The rules, and for a message that may go, the rendered email. Writes nothing: a broken template
 * throws here and stops the run with nothing left in `sending`.
 */
function prepareOne(row: OutboxRow, rules: Rules, options: SendOptions): Prepared {
  const now = options.now();
  const decision = rules.check(row, now);
  const message =
    decision.action === "send"
      ? buildMessage(
          {
            key: row.idempotency_key,
            kind: row.kind,
            marketing: row.marketing === 1,
            recipient: row.recipient!,
            payload: JSON.parse(row.payload),
            outboxId: row.id,
            customerId: row.customer_id,
          },
          options.renderer,
          options.settings,
          now,
        )
      : null;
  return { row, now, decision, message };
}

function tell(
  options: SendOptions,
  row: OutboxRow,
  outcome: MessageOutcome["outcome"],
  reason: string | null = null,
  until: string | null = null,
): void {
  options.onOutcome?.({
    key: row.idempotency_key,
    kind: row.kind,
    customer: row.customer_id,
    recipient: row.recipient,
    outcome,
    reason,
    until,
  });
}

function recordDecision(prepared: Prepared, outbox: Outbox, options: SendOptions, report: SendReport): void {
  const { row, now, decision } = prepared;
  if (decision.action === "skip") tell(options, row, "skipped", decision.reason);
  else if (decision.action === "defer") tell(options, row, "deferred", decision.reason, decision.until);
  if (decision.action === "skip") {
    outbox.skip(row.id, decision.detail, now);
    report.skipped++;
    bump(report.skipped_reasons, decision.reason);
    options.log.info({ key: row.idempotency_key, reason: decision.reason }, "message skipped");
  } else if (decision.action === "defer") {
    outbox.defer(row.id, decision.until, decision.reason, now);
    report.deferred++;
    bump(report.deferred_reasons, decision.reason);
    options.log.debug(
      { key: row.idempotency_key, until: decision.until, reason: decision.reason },
      "message deferred",
    );
  }
}

/** What one refusal in the current streak of identical answers changed, so a trip can undo it. */
interface StreakEntry {
  row: OutboxRow;
  messageId: string;
  scope: FaultScope;
  counted: "failed" | "retry_later";
  suppressed: string | null;
}

interface Streak {
  shape: string;
  entries: StreakEntry[];
}

/** Addresses out of an answer shown to the admin or kept in the report. */
const withoutAddresses = (text: string) =>
  text.replace(/<[^<>\s]*@[^<>\s]*>/g, "<…>").replace(/[^\s<>"'(),;:]+@[^\s<>"'(),;:]+/g, "…");

function recordResult(
  prepared: Prepared,
  result: SendOutcome,
  outbox: Outbox,
  options: SendOptions,
  report: SendReport,
  streak: Streak,
  markSent: (row: OutboxRow, messageId: string, response: string, at: string) => void,
): void {
  const { row } = prepared;
  const message = prepared.message!;
  const after = options.now();
  if (result.status === "sent") {
    markSent(row, message.messageId, result.response, after);
    report.sent++;
    streak.entries = [];
    tell(options, row, "sent");
    options.log.info({ key: row.idempotency_key, message_id: message.messageId }, "message sent");
    return;
  }
  if (result.status === "unknown") {
    // Like a kill in that spot: the server may have it, so it is neither sent again nor failed.
    outbox.markUnknown(row.id, message.messageId, result.error, after);
    tell(options, row, "unknown", result.error);
    options.log.warn(
      { key: row.idempotency_key, message_id: message.messageId },
      "no reply: message unknown",
    );
    report.stopped =
      `no reply to ${row.idempotency_key}: ${result.error}; the server may have it, so it stays unknown ` +
      "(comeback status lists it; comeback send --retry-unknown sends it again)";
    report.unavailable = true;
    return;
  }

  const { verdict } = result;
  if (verdict.scope === "server") {
    outbox.putBack(row, message.messageId, result.error, after);
    report.faults.server++;
    report.put_back++;
    tell(options, row, "put back", verdict.cause);
    stopForServer(report, verdict.cause, verdict.fix, result.response ?? result.error);
    options.log.warn({ key: row.idempotency_key, cause: verdict.cause }, "server fault: message put back");
    return;
  }

  report.faults[verdict.scope]++;
  const attempts = row.attempts + 1; // the claim counted this attempt
  const failure = (error: string) => {
    report.failures.push({ key: row.idempotency_key, error });
    if (report.failures.length > 20) report.failures.shift();
  };
  let counted: StreakEntry["counted"] = "failed";
  let suppressed: string | null = null;
  if (verdict.permanent) {
    outbox.markFailed(row.id, message.messageId, result.response, result.error, after);
    report.failed++;
    failure(result.error);
    tell(options, row, "failed", result.error);
    // Counted only when newly suppressed: an address already on the list (a transactional mail is not
    // checked against it) is no new suppression, and the circuit breaker lifts only what it added.
    if (verdict.suppress && row.recipient && outbox.suppress(row.recipient, result.error, "bounce", after)) {
      suppressed = row.recipient;
      report.suppressed++;
    }
    options.log.warn({ key: row.idempotency_key, error: result.error }, "message failed");
  } else if (attempts >= options.maxAttempts) {
    const error = `gave up after ${attempts} attempts: ${result.error}`;
    outbox.markFailed(row.id, message.messageId, result.response, error, after);
    report.failed++;
    failure(error);
    tell(options, row, "failed", error);
    options.log.warn({ key: row.idempotency_key, error }, "message failed");
  } else {
    const hours = Math.min(MAX_BACKOFF_HOURS, (options.retryMinutes / 60) * 2 ** (attempts - 1));
    outbox.retryLater(
      row.id,
      message.messageId,
      result.response,
      result.error,
      addHours(after, hours),
      after,
    );
    report.retry_later++;
    counted = "retry_later";
    tell(options, row, "retry later", result.error, addHours(after, hours));
    options.log.warn(
      { key: row.idempotency_key, error: result.error, attempts },
      "temporary failure, will retry",
    );
  }

  const shape = answerShape(result.response ?? result.error);
  if (shape !== streak.shape) streak.entries = [];
  streak.shape = shape;
  streak.entries.push({ row, messageId: message.messageId, scope: verdict.scope, counted, suppressed });
  if (options.breaker !== false && streak.entries.length >= SAME_ANSWERS_TRIP)
    tripBreaker(streak, outbox, options, report, result.response ?? result.error);
}

/**
 * The same answer to several recipients in a row is the server's, whatever its code says: undo what
 * the streak did (failures, retries, suppressions) and stop as for any server fault.
 */
function tripBreaker(
  streak: Streak,
  outbox: Outbox,
  options: SendOptions,
  report: SendReport,
  answer: string,
): void {
  const after = options.now();
  const keys = new Set<string>();
  for (const entry of streak.entries) {
    const error = `put back: the same answer to ${streak.entries.length} messages in a row: ${answer}`;
    outbox.putBack(entry.row, entry.messageId, error, after);
    if (entry.suppressed) {
      outbox.unsuppress(entry.suppressed);
      report.suppressed--;
    }
    report[entry.counted]--;
    report.faults[entry.scope]--;
    report.faults.server++;
    report.put_back++;
    keys.add(entry.row.idempotency_key);
    tell(options, entry.row, "put back", "circuit breaker");
  }
  report.failures = report.failures.filter((f) => !keys.has(f.key));
  options.log.warn({ messages: streak.entries.length }, "circuit breaker: identical answers, run stopped");
  stopForServer(
    report,
    `the same answer to ${streak.entries.length} messages in a row`,
    "a server that refuses every recipient alike (check its logs or ask the mail provider); " +
      "if those addresses really are dead, comeback send --no-breaker sends once without this check",
    answer,
  );
  streak.entries = [];
}

function stopForServer(report: SendReport, cause: string, fix: string, answer: string): void {
  const said = withoutAddresses(answer).trim();
  report.server_fault = { cause, fix, answer: said };
  report.stopped = `server fault: ${cause} (${said})`;
  report.unavailable = true;
}
