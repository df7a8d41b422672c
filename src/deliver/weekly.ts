/**
 * The Monday batch: plan, assemble the week's carts, queue one email per new cart and the operator's
 * digest, then send what is due. Steps 2–3 are one transaction, so a run killed before it commits
 * leaves nothing behind, and a run after it commits finds the carts and queues nothing twice.
 */
import type { Config } from "../config/schema.js";
import type { Db } from "../store/open.js";
import { assembleCarts, cartsOfWeek, type Cart } from "./carts.js";
import { isoWeekOf, type IsoWeek } from "./clock.js";
import { cartPayload, type DigestPayload, type WinbackPayload, type CartPayload } from "./message.js";

import { Outbox } from "./outbox.js";
import { runPlan, type PlanReport } from "../plan/run.js";
import { dueTasksForDigest, dueWinbackEmails } from "../plan/winback/due.js";
import type { TaskRow } from "../plan/winback/tasks.js";
import {
  recordingTransport,
  sendDue,
  type MessageOutcome,
  type SendOptions,
  type SendReport,
} from "./send.js";
import { dryRunReport, type KindGroup, type KindSummary, type WouldSend } from "./dry-run.js";

/** Carts listed in the digest; the rest are counted. */
export const DIGEST_MAX_CARTS = 200;
/** The digest lists this many call tasks; `comeback tasks` has them all. */
export const DIGEST_MAX_TASKS = 100;

export interface QueueReport {
  week: string;
  carts_new: number;
  carts_existing: number;
  queued: number;
  digest: "queued" | "exists" | "no operator.email";
  /** Who gets what (for --dry-run). */
  messages: {
    key: string;
    customer: string;
    recipient: string | null;
    items: number;
    total_minor: number | null;
    currency: string | null;
  }[];
}

/** The customer columns a message is addressed and rendered with. */
type CustomerRow = CartPayload["customer"];

/** Steps 2 and 3; call inside a transaction. */
export function queueWeek(
  db: Db,
  config: Pick<Config, "currency" | "operator" | "timezone" | "winback">,
  week: IsoWeek,
  now: string,
  limit?: number,
): QueueReport {
  const outbox = new Outbox(db);
  const customer = db.prepare<[number], CustomerRow>(
    "SELECT id, external_id, first_name, name, email, locale FROM customers WHERE id = ?",
  );
  const { created, existing } = assembleCarts(db, week, { defaultCurrency: config.currency, now, limit });
  const report: QueueReport = {
    week: week.week,
    carts_new: created.length,
    carts_existing: existing,
    queued: 0,
    digest: "no operator.email",
    messages: [],
  };
  for (const cart of created) {
    const row = customer.get(cart.customer_id)!;
    const key = `cart:${cart.customer_id}:${week.week}`;
    const payload = cartPayload(cart, week, row);
    if (
      outbox.enqueue(
        { key, kind: "cart", marketing: true, customerId: cart.customer_id, recipient: row.email, payload },
        now,
      )
    ) {
      report.queued++;
    }
    report.messages.push({
      key,
      customer: row.external_id ?? String(row.id),
      recipient: row.email,
      items: cart.items.length,
      total_minor: cart.total_minor,
      currency: cart.currency,
    });
  }
  queueWinback(db, config, outbox, now, report);
  const operator = config.operator.email;
  if (operator) {
    const key = `digest:${week.week}`;
    const payload = digestPayload(db, week, dueTasksForDigest(db, config, now));
    if (
      outbox.enqueue(
        { key, kind: "digest", marketing: false, customerId: null, recipient: operator.address, payload },
        now,
      )
    ) {
      report.queued++;
      report.digest = "queued";
      report.messages.push({
        key,
        customer: "(operator)",
        recipient: operator.address,
        items: payload.cart_count,
        total_minor: payload.total_minor,
        currency: payload.currency,
      });
    } else {
      report.digest = "exists";
    }
  }
  return report;
}

/**
 * The win-back emails the cadence has due this week, one per customer, status and contact slot
 * (`winback:<customer>:<status>:<n>`): queued once, however often the batch runs.
 */
function queueWinback(
  db: Db,
  config: Pick<Config, "timezone" | "winback">,
  outbox: Outbox,
  now: string,
  report: QueueReport,
): void {
  for (const due of dueWinbackEmails(db, config, now)) {
    const payload: WinbackPayload = {
      status: due.status,
      contact_number: due.n,
      customer: {
        id: due.customer_id,
        external_id: null,
        first_name: due.first_name,
        name: due.name,
        email: due.email,
        locale: due.locale,
      },
      favourite_products: due.favourite_products,
    };
    const queued = outbox.enqueue(
      {
        key: due.idempotency_key,
        kind: due.template,
        marketing: true,
        customerId: due.customer_id,
        recipient: due.email,
        payload,
      },
      now,
    );
    if (!queued) continue;
    report.queued++;
    report.messages.push({
      key: due.idempotency_key,
      customer: String(due.customer_id),
      recipient: due.email,
      items: due.favourite_products.length,
      total_minor: null,
      currency: null,
    });
  }
}

export function digestPayload(db: Db, week: IsoWeek, tasks: TaskRow[] = []): DigestPayload {
  const { carts, count } = cartsOfWeek(db, week.week, DIGEST_MAX_CARTS);
  const customer = db.prepare<[number], CustomerRow>(
    "SELECT id, external_id, first_name, name, email, locale FROM customers WHERE id = ?",
  );
  const totals = db
    .prepare<
      [string],
      { currencies: number; currency: string | null; total: number | null; unknown: number }
    >(
      `SELECT count(DISTINCT coalesce(currency, '')) AS currencies, max(currency) AS currency, sum(total_minor) AS total,
              sum(total_minor IS NULL) AS unknown
         FROM carts WHERE week = ?`,
    )
    .get(week.week)!;
  const single = totals.currencies === 1 && totals.unknown === 0;
  return {
    week: week.week,
    week_start: week.monday,
    week_end: week.sunday,
    cart_count: count,
    more: Math.max(0, count - carts.length),
    currency: single ? totals.currency : null,
    total_minor: single ? totals.total : null,
    carts: carts.map((cart: Cart) => {
      const row = customer.get(cart.customer_id);
      const name = row?.name ?? row?.first_name ?? row?.external_id ?? `#${cart.customer_id}`;
      return {
        customer_id: cart.customer_id,
        external_id: row?.external_id ?? null,
        name,
        email: row?.email ?? null,
        item_count: cart.items.length,
        currency: cart.currency,
        total_minor: cart.total_minor,
        items: cart.items.map((item) => ({ name: item.name, quantity: item.quantity })),
      };
    }),
    task_count: tasks.length,
    tasks: tasks.slice(0, DIGEST_MAX_TASKS),
  };
}

export interface WeeklyOptions {
  now: string;
  dryRun?: boolean;
  limit?: number;
  config: Config;
  /** How to send (step 4); a dry run sends through a recording transport instead of this one. */
  send: () => SendOptions;
}

export interface WeeklyReport {
  now: string;
  week: string;
  dry_run: boolean;
  planned: PlanReport;
  carts: { new: number; existing: number };
  digest: QueueReport["digest"];
  /** What became of this week's messages: the send report's counts, and how many were queued. */
  messages: { queued: number } & Omit<SendReport, "due" | "suppressed">;
  send: SendReport;
  /** For --dry-run: every message a real run would work on now, and what it would do with it. */
  would_send: WouldSend[];
  /** For --dry-run: queued, sent, deferred and skipped (with reasons) by kind of mail. */
  by_kind: Partial<Record<KindGroup, KindSummary>>;
}

export async function runWeekly(db: Db, options: WeeklyOptions): Promise<WeeklyReport> {
  const week = isoWeekOf(options.now, options.config.timezone);
  let planned: PlanReport;
  let queued: QueueReport;
  let send: SendReport;
  let dry: ReturnType<typeof dryRunReport> = { would_send: [], by_kind: {} };
  if (options.dryRun) {
    // The real run's steps, sending included (through a transport that records instead of
    // sending), in one transaction that is rolled back: see src/deliver/dry-run.ts.
    db.exec("BEGIN IMMEDIATE");
    try {
      planned = await runPlan(db, options.config, options.now);
      queued = queueWeek(db, options.config, week, options.now, options.limit);
      const outcomes: MessageOutcome[] = [];
      const sendOptions = options.send();
      send = await sendDue(db, {
        ...sendOptions,
        transport: recordingTransport,
        log: sendOptions.log.child({ dry_run: true }),
        onOutcome: (outcome) => outcomes.push(outcome),
      });
      dry = dryRunReport(db, queued.messages, outcomes);
    } finally {
      // SQLite may have rolled back already (a full disk, an I/O error): the cause must not be hidden.
      if (db.inTransaction) db.exec("ROLLBACK");
    }
  } else {
    // Step 1 — plan (comeback plan: reminders, lifecycle, tasks), as of now.
    planned = await runPlan(db, options.config, options.now);
    queued = db
      .transaction(() => queueWeek(db, options.config, week, options.now, options.limit))
      .immediate();
    send = await sendDue(db, options.send());
  }
  const { due: _due, suppressed: _suppressed, ...sendCounts } = send;
  return {
    now: options.now,
    week: week.week,
    dry_run: Boolean(options.dryRun),
    planned,
    carts: { new: queued.carts_new, existing: queued.carts_existing },
    digest: queued.digest,
    messages: { queued: queued.queued, ...sendCounts },
    send,
    ...dry,
  };
}
