/**
 * The outbox: one row per message, keyed by a deterministic idempotency key, written before anything
 * is sent (DESIGN, idempotency rule 3). Its states:
 *
 *   queued ──claim──▶ sending ──▶ sent
 *     ▲  │                 ├──▶ queued   (temporary failure: next attempt later, with backoff)
 *     │  │                 └──▶ failed   (permanent failure, or attempts used up)
 *     │  ├──▶ skipped  (no consent, suppressed, no address: checked before claiming)
 *     └──┘ deferred   (frequency cap, send window: next_attempt_at moves, nothing else)
 *
 * Every transition is its own committed statement. A claim commits before the transport is asked,
 * so a crash leaves the message in `sending`: unknown, never sent again on its own.
 */
import type { Db } from "../store/open.js";
import { classifySmtpAnswer, enhancedStatus } from "./smtp-answer.js";

export const OUTBOX_STATES = ["queued", "sending", "sent", "failed", "skipped"] as const;
export type OutboxState = (typeof OUTBOX_STATES)[number];

export interface OutboxRow {
  id: number;
  idempotency_key: string;
  kind: string;
  channel: string;
  marketing: number;
  customer_id: number | null;
  recipient: string | null;
  payload: string;
  state: OutboxState;
  attempts: number;
  next_attempt_at: string;
  deferred_reason: string | null;
  message_id: string | null;
  response: string | null;
  error: string | null;
  created_at: string;
  claimed_at: string | null;
  sent_at: string | null;
}

export interface NewMessage {
  key: string;
  kind: string;
  marketing: boolean;
  customerId: number | null;
  recipient: string | null;
  payload: unknown;
}

export class Outbox {
  private readonly statements;

  constructor(private readonly db: Db) {
    this.statements = {
      enqueue: db.prepare(
        `INSERT INTO outbox (idempotency_key, kind, channel, marketing, customer_id, recipient, payload, state,
                             next_attempt_at, created_at, updated_at)
         VALUES (?, ?, 'email', ?, ?, ?, ?, 'queued', ?, ?, ?)
         ON CONFLICT (idempotency_key) DO NOTHING`,
      ),
      due: db.prepare<[string, number, number], OutboxRow>(
        `SELECT * FROM outbox WHERE state = 'queued' AND next_attempt_at <= ? AND id > ? ORDER BY id LIMIT ?`,
      ),
      unknown: db.prepare<[number, number], OutboxRow>(
        `SELECT * FROM outbox WHERE state = 'sending' AND id > ? ORDER BY id LIMIT ?`,
      ),
      claim: db.prepare(
        `UPDATE outbox SET state = 'sending', attempts = attempts + 1, claimed_at = ?, updated_at = ?, deferred_reason = NULL
          WHERE id = ? AND state = ?`,
      ),
      sent: db.prepare(
        `UPDATE outbox SET state = 'sent', message_id = ?, response = ?, error = NULL, sent_at = ?, updated_at = ?
          WHERE id = ? AND state = 'sending'`,
      ),
      retry: db.prepare(
        `UPDATE outbox SET state = 'queued', message_id = ?, response = ?, error = ?, next_attempt_at = ?, updated_at = ?
          WHERE id = ? AND state = 'sending'`,
      ),
      failed: db.prepare(
        `UPDATE outbox SET state = 'failed', message_id = ?, response = ?, error = ?, updated_at = ?
          WHERE id = ? AND state = 'sending'`,
      ),
      putBack: db.prepare(
        `UPDATE outbox SET state = ?, attempts = max(attempts - 1, 0), message_id = coalesce(?, message_id),
                           error = ?, next_attempt_at = ?, updated_at = ?
          WHERE id = ? AND state IN ('sending', 'queued', 'failed')`,
      ),
      unknownReply: db.prepare(
        `UPDATE outbox SET message_id = ?, error = ?, updated_at = ? WHERE id = ? AND state = 'sending'`,
      ),
      skip: db.prepare(
        `UPDATE outbox SET state = 'skipped', error = ?, updated_at = ? WHERE id = ? AND state IN ('queued', 'sending')`,
      ),
      defer: db.prepare(
        `UPDATE outbox SET state = 'queued', next_attempt_at = ?, deferred_reason = ?, updated_at = ?
          WHERE id = ? AND state IN ('queued', 'sending')`,
      ),
      lastMarketing: db
        .prepare<[number, number], string | null>(
          `SELECT max(coalesce(sent_at, claimed_at)) FROM outbox
            WHERE customer_id = ? AND marketing = 1 AND state IN ('sent', 'sending') AND id <> ?`,
        )
        .pluck(),
      suppression: db.prepare<[string], { reason: string; source: string }>(
        "SELECT reason, source FROM suppressions WHERE address = ?",
      ),
      suppress: db.prepare(
        `INSERT INTO suppressions (address, reason, source, created_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (address) DO NOTHING`,
      ),
      unsuppress: db.prepare("DELETE FROM suppressions WHERE address = ?"),
      countDue: db
        .prepare<[string], number>(
          "SELECT count(*) FROM outbox WHERE state = 'queued' AND next_attempt_at <= ?",
        )
        .pluck(),
      countUnknown: db.prepare<[], number>("SELECT count(*) FROM outbox WHERE state = 'sending'").pluck(),
    };
  }

  /** Queues a message unless one with its key exists. Returns whether it was new. */
  enqueue(message: NewMessage, now: string): boolean {
    return (
      this.statements.enqueue.run(
        message.key,
        message.kind,
        message.marketing ? 1 : 0,
        message.customerId,
        message.recipient,
        JSON.stringify(message.payload),
        now,
        now,
        now,
      ).changes === 1
    );
  }

  /** Queued rows due at `now`, in id order after `afterId`. */
  due(now: string, afterId: number, limit: number): OutboxRow[] {
    return this.statements.due.all(now, afterId, limit);
  }

  /** Rows left in `sending` by a run that did not finish. */
  unknown(afterId: number, limit: number): OutboxRow[] {
    return this.statements.unknown.all(afterId, limit);
  }

  countDue(now: string): number {
    return this.statements.countDue.get(now) ?? 0;
  }

  countUnknown(): number {
    return this.statements.countUnknown.get() ?? 0;
  }

  /** queued → sending (or sending → sending for a deliberate re-send of an unknown one). */
  claim(row: OutboxRow, now: string): boolean {
    return this.statements.claim.run(now, now, row.id, row.state).changes === 1;
  }

  markSent(id: number, messageId: string, response: string, now: string): void {
    this.statements.sent.run(messageId, response, now, now, id);
  }

  retryLater(
    id: number,
    messageId: string,
    response: string | null,
    error: string,
    nextAt: string,
    now: string,
  ): void {
    this.statements.retry.run(messageId, response, error, nextAt, now, id);
  }

  markFailed(
    id: number,
    messageId: string | null,
    response: string | null,
    error: string,
    now: string,
  ): void {
    this.statements.failed.run(messageId, response, error, now, id);
  }

  /**
   * Back to where it was before the claim, as if this attempt never happened (a server fault is no
   * attempt at this message): queued and due again at `nextAt`, or, for an unknown one being sent
   * again on request, unknown still (an earlier copy may have arrived).
   */
  putBack(row: OutboxRow, messageId: string | null, error: string, now: string): void {
    const state = row.state === "sending" ? "sending" : "queued";
    this.statements.putBack.run(state, messageId, error, row.next_attempt_at, now, row.id);
  }

  /** The reply never came: the row stays `sending` (unknown), with its Message-ID and why. */
  markUnknown(id: number, messageId: string, error: string, now: string): void {
    this.statements.unknownReply.run(messageId, error, now, id);
  }

  skip(id: number, reason: string, now: string): void {
    this.statements.skip.run(reason, now, id);
  }

  defer(id: number, until: string, reason: string, now: string): void {
    this.statements.defer.run(until, reason, now, id);
  }

  /** When this customer last got (or was being sent) a marketing email, other than message `exceptId`. */
  lastMarketingAt(customerId: number, exceptId: number): string | null {
    return this.statements.lastMarketing.get(customerId, exceptId) ?? null;
  }

  suppression(address: string): { reason: string; source: string } | undefined {
    return this.statements.suppression.get(address);
  }

  /** Returns whether the address was newly suppressed. */
  suppress(address: string, reason: string, source: string, now: string): boolean {
    return this.statements.suppress.run(address.toLowerCase(), reason, source, now).changes === 1;
  }

  unsuppress(address: string): void {
    this.statements.unsuppress.run(address.toLowerCase());
  }
}

export interface OutboxStatus {
  by_state: Record<OutboxState, number>;
  due_now: number;
  /** Rows left in `sending` by a run that was killed: sent or not, nobody knows. */
  unknown: { key: string; recipient: string | null; claimed_at: string | null; attempts: number }[];
  suppressions: number;
}

/** For `comeback status`. */
export function outboxStatus(db: Db, now: string): OutboxStatus {
  const byState = Object.fromEntries(OUTBOX_STATES.map((state) => [state, 0])) as Record<OutboxState, number>;
  for (const row of db
    .prepare<[], { state: OutboxState; n: number }>("SELECT state, count(*) AS n FROM outbox GROUP BY state")
    .all()) {
    byState[row.state] = row.n;
  }
  return {
    by_state: byState,
    due_now: new Outbox(db).countDue(now),
    unknown: db
      .prepare<[], OutboxStatus["unknown"][number]>(
        "SELECT idempotency_key AS key, recipient, claimed_at, attempts FROM outbox WHERE state = 'sending' ORDER BY id",
      )
      .all(),
    suppressions: db.prepare<[], number>("SELECT count(*) FROM suppressions").pluck().get() ?? 0,
  };
}

/** Which failed messages to queue again; the filters combine (all must match). */
export interface RequeueFilter {
  keys?: string[];
  /** The message kind (cart, digest, a win-back template) or its key's first part. */
  kind?: string;
  /** An ISO week, 2026-W10: the messages queued that week (by their key's week, else when queued). */
  week?: { name: string; from: string; to: string };
  /** recipient, message, server, gave-up, a reply code (554) or an enhanced one (5.7.1). */
  error?: string;
}

export interface RequeueCandidate {
  key: string;
  kind: string;
  recipient: string | null;
  error: string | null;
  /** Whose fault the stored answer was (smtp-answer.ts), or "gave-up" after max_attempts. */
  error_class: string;
  /** The recipient is on the suppression list: the message would be skipped unless it is lifted. */
  suppressed: boolean;
}

export const ERROR_CLASSES = ["recipient", "message", "server", "gave-up"] as const;

/** The class of a failed message's stored error, for `requeue --error`. */
export function errorClass(error: string | null, response: string | null): string {
  if (error !== null && /^gave up after/.test(error)) return "gave-up";
  const text = response ?? error ?? "";
  const code = /^\s*(\d{3})/.exec(text);
  if (!code) return "server"; // no answer at all: the connection or the disk
  return classifySmtpAnswer({ code: Number(code[1]), text }).scope;
}

function errorMatches(wanted: string, row: { error: string | null; response: string | null }): boolean {
  const text = (row.response ?? row.error ?? "").trim();
  if (/^\d{3}$/.test(wanted)) return text.startsWith(wanted);
  if (/^[245]\.\d{1,3}\.\d{1,3}$/.test(wanted)) {
    const status = enhancedStatus(text);
    return status !== null && status.join(".") === wanted;
  }
  return errorClass(row.error, row.response) === wanted;
}

/**
 * Failed messages back to queued, as new: attempts 0, due at `now`, the error cleared (their
 * Message-ID stays the same: it is made from the key). Returns what matched; a dry run changes nothing.
 */
export function requeueFailed(
  db: Db,
  filter: RequeueFilter,
  options: { now: string; dryRun: boolean },
): RequeueCandidate[] {
  const rows = db
    .prepare<[], OutboxRow>("SELECT * FROM outbox WHERE state = 'failed' ORDER BY id")
    .all()
    .filter(
      (row) =>
        (!filter.keys || filter.keys.includes(row.idempotency_key)) &&
        (!filter.kind || row.kind === filter.kind || row.idempotency_key.split(":")[0] === filter.kind) &&
        (!filter.week ||
          row.idempotency_key.endsWith(`:${filter.week.name}`) ||
          (row.created_at >= filter.week.from && row.created_at < filter.week.to)) &&
        (!filter.error || errorMatches(filter.error, row)),
    );
  const outbox = new Outbox(db);
  const candidates = rows.map((row) => ({
    key: row.idempotency_key,
    kind: row.kind,
    recipient: row.recipient,
    error: row.error,
    error_class: errorClass(row.error, row.response),
    suppressed: row.recipient !== null && outbox.suppression(row.recipient.toLowerCase()) !== undefined,
  }));
  if (!options.dryRun) {
    const requeue = db.prepare(
      `UPDATE outbox SET state = 'queued', attempts = 0, next_attempt_at = ?, error = NULL, deferred_reason = NULL,
                         updated_at = ? WHERE id = ? AND state = 'failed'`,
    );
    db.transaction(() => rows.forEach((row) => requeue.run(options.now, options.now, row.id)))();
  }
  return candidates;
}
