/**
 * What happened to a message after it was sent (issue 18): one table, keyed to the outbox row, so
 * the report counts the funnel per message kind and week from one place. Writers: `serve` (opens,
 * clicks, cart views, confirm, postpone, unsubscribe) and the send path (delivered).
 */
import type { Database } from "better-sqlite3";

export const EVENT_KINDS = [
  "delivered",
  "opened",
  "clicked",
  "cart_viewed",
  "confirmed",
  "postponed",
  "unsubscribed",
] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

export interface EventInput {
  outboxId: number;
  customerId: number | null;
  kind: EventKind;
  /** ISO time (UTC). */
  at: string;
  /** A privacy proxy or link scanner fetched it, not a person: kept, but not counted as human. */
  machine?: boolean;
  /** JSON-serialisable facts: the URL clicked, the items postponed. Nothing personal. */
  detail?: unknown;
}

export function recordEvent(db: Database, event: EventInput): number {
  const result = db
    .prepare(
      `INSERT INTO events (outbox_id, customer_id, kind, machine, detail, at)
       VALUES (?, ?, ?, ?, ?, ?)`,
    )
    .run(
      event.outboxId,
      event.customerId,
      event.kind,
      event.machine ? 1 : 0,
      event.detail === undefined ? null : JSON.stringify(event.detail),
      event.at,
    );
  return Number(result.lastInsertRowid);
}
