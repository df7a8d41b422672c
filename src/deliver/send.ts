/**
 * Delivering what is due in the outbox, one message at a time: check the rules, render, claim
 * (committed), hand to the transport, record its answer. One message in flight at a time means a
 * crash leaves at most that one in `sending` (unknown), and nothing is ever sent twice on its own.
 */
import { performance } from "node:perf_hooks";
import type { Logger } from "../log.js";
import type { Db } from "../store/open.js";
import { addHours } from "./clock.js";
import { buildMessage, type MessageSettings } from "./message.js";
import { Outbox, type OutboxRow } from "./outbox.js";
import type { Renderer } from "./render.js";
import { Rules, type RuleSettings } from "./rules.js";
import type { Transport } from "./transports.js";

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
  /** Checked between messages (a signal asks the run to stop). */
  shouldStop?: () => boolean;
  onProgress?: (done: number, total: number) => void;
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
  try {
    const sources: ((afterId: number) => OutboxRow[])[] = [];
    if (options.retryUnknown) sources.push((afterId) => outbox.unknown(afterId, BATCH));
    sources.push((afterId) => outbox.due(options.now(), afterId, BATCH));
    outer: for (const source of sources) {
      let afterId = 0;
      for (;;) {
        const rows = source(afterId);
        if (rows.length === 0) break;
        for (const row of rows) {
          afterId = row.id;
          if (attempted >= limit) break outer;
          if (options.shouldStop?.()) {
            report.stopped = "stopped by a signal";
            break outer;
          }
          const outcome = await deliverOne(row, outbox, rules, transport, options, report);
          if (outcome === "attempted") attempted++;
          options.onProgress?.(++done, report.due);
          if (report.stopped) break outer;
        }
      }
    }
  } finally {
    await transport.close();
  }
  report.unknown = outbox.countUnknown();
  report.seconds = (performance.now() - started) / 1000;
  return report;
}

async function deliverOne(
  row: OutboxRow,
  outbox: Outbox,
  rules: Rules,
  transport: Transport,
  options: SendOptions,
  report: SendReport,
): Promise<"attempted" | "not attempted"> {
  const now = options.now();
  const decision = rules.check(row, now);
  if (decision.action === "skip") {
    outbox.skip(row.id, decision.detail, now);
    report.skipped++;
    bump(report.skipped_reasons, decision.reason);
    options.log.info({ key: row.idempotency_key, reason: decision.reason }, "message skipped");
    return "not attempted";
  }
  if (decision.action === "defer") {
    outbox.defer(row.id, decision.until, decision.reason, now);
    report.deferred++;
    bump(report.deferred_reasons, decision.reason);
    options.log.debug(
      { key: row.idempotency_key, until: decision.until, reason: decision.reason },
      "message deferred",
    );
    return "not attempted";
  }

  // Rendered before the claim: a broken template stops the run with nothing left in `sending`.
  const message = buildMessage(
    {
      key: row.idempotency_key,
      kind: row.kind,
      marketing: row.marketing === 1,
      recipient: row.recipient!,
      payload: JSON.parse(row.payload),
    },
    options.renderer,
    options.settings,
    now,
  );
  if (!outbox.claim(row, now)) return "not attempted"; // someone else changed it meanwhile
  const result = await transport.send({
    key: row.idempotency_key,
    raw: message.raw,
    envelope: message.envelope,
  });
  const after = options.now();
  if (result.ok) {
    outbox.markSent(row.id, message.messageId, result.response, after);
    report.sent++;
    options.log.info({ key: row.idempotency_key, message_id: message.messageId }, "message sent");
    return "attempted";
  }

  const attempts = row.attempts + 1; // the claim counted this attempt
  const failure = (error: string) => {
    report.failures.push({ key: row.idempotency_key, error });
    if (report.failures.length > 20) report.failures.shift();
  };
  if (result.permanent) {
    outbox.markFailed(row.id, message.messageId, result.response, result.error, after);
    report.failed++;
    failure(result.error);
    if (result.recipientRejected && row.recipient) {
      outbox.suppress(row.recipient, result.error, "smtp", after);
      report.suppressed++;
    }
    options.log.warn({ key: row.idempotency_key, error: result.error }, "message failed");
  } else if (attempts >= options.maxAttempts) {
    const error = `gave up after ${attempts} attempts: ${result.error}`;
    outbox.markFailed(row.id, message.messageId, result.response, error, after);
    report.failed++;
    failure(error);
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
    options.log.warn(
      { key: row.idempotency_key, error: result.error, attempts },
      "temporary failure, will retry",
    );
  }
  if (result.connectionLost) {
    report.stopped = `the ${transport.name} transport failed: ${result.error}`;
    report.unavailable = true;
  }
  return "attempted";
}
