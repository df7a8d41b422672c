/**
 * Recording what a GET saw (a cart view) without making the customer wait for the batch. Reads never
 * wait in WAL, but a write waits for the other writer (busy_timeout), and better-sqlite3 waits
 * synchronously: a page view during `weekly`'s plan would stall every request of the server. So a
 * view is written at once when the database is free (busy_timeout 0 for that write), and otherwise
 * kept in memory and retried every RETRY_MS until it is written; closing the server writes what is
 * left, waiting as long as it must. Nothing is lost while the process lives.
 */
import type { Database } from "better-sqlite3";
import { recordEvent, type EventInput } from "../track/events.js";
import type { ServeContext } from "./context.js";

const RETRY_MS = 50;

function isBusy(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return code === "SQLITE_BUSY" || code === "SQLITE_LOCKED";
}

export class EventQueue {
  private pending: EventInput[] = [];
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly db: Database) {}

  /** Records the event now if the database is free, else soon. */
  add(event: EventInput): void {
    this.pending.push(event);
    this.flush(false);
  }

  /** Events not written yet. */
  get waiting(): number {
    return this.pending.length;
  }

  /** Writes what is pending; `wait`: as long as busy_timeout allows (at close), else not at all. */
  flush(wait: boolean): void {
    if (this.pending.length === 0) return;
    const timeout = this.db.pragma("busy_timeout", { simple: true }) as number;
    if (!wait) this.db.pragma("busy_timeout = 0");
    try {
      const batch = this.pending;
      this.db.transaction(() => {
        for (const event of batch) recordEvent(this.db, event);
      })();
      this.pending = [];
    } catch (error) {
      if (!isBusy(error) || wait) throw error;
      this.retryLater();
    } finally {
      if (!wait) this.db.pragma(`busy_timeout = ${timeout}`);
    }
  }

  private retryLater(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.flush(false);
    }, RETRY_MS);
  }

  /** At close: stop retrying and write everything, waiting for the other writer. */
  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.flush(true);
  }
}

const queues = new WeakMap<ServeContext, EventQueue>();

export function eventsOf(ctx: ServeContext): EventQueue {
  let queue = queues.get(ctx);
  if (!queue) {
    queue = new EventQueue(ctx.db);
    queues.set(ctx, queue);
  }
  return queue;
}
