/**
 * The Monday batch: plan, assemble the week's carts, queue one email per new cart, the win-back
 * emails due and the operator's digest, check the batch against the shop's usual one (the surge
 * guard), then send what is due. Steps 2–4 are one transaction, so a run killed before it commits
 * leaves nothing behind, a run after it commits finds the carts and queues nothing twice, and a
 * batch the surge guard stops is rolled back before anything could send it.
 */
import type { Config } from "../config/schema.js";
import type { Db } from "../store/open.js";
import { assembleCarts, cartsOfWeek, type Cart } from "./carts.js";
import { isoWeekOf, type IsoWeek } from "./clock.js";
import {
  cartPayload,
  type CartPayload,
  type DigestPayload,
  type DigestQueued,
  type SurgeReport,
  type WinbackPayload,
} from "./message.js";

import { Outbox } from "./outbox.js";
import { isHeldOut } from "./holdout.js";
import { withWishlist } from "../answers/postpone.js";
import { dayString, localDayOf } from "../plan/days.js";
import { runPlan, type PlanReport } from "../plan/run.js";
import { dueTasksForDigest, dueWinbackEmails, withFavourites } from "../plan/winback/due.js";
import type { TaskRow } from "../plan/winback/tasks.js";
import {
  recordingTransport,
  sendDue,
  type MessageOutcome,
  type SendOptions,
  type SendReport,
} from "./send.js";
import { dryRunReport, type KindGroup, type KindSummary, type WouldSend } from "./dry-run.js";
import { reachableCustomers, selectWinback, type BacklogReport } from "../plan/winback/backlog.js";

/** Carts listed in the digest; the rest are counted. */
export const DIGEST_MAX_CARTS = 200;
/** The digest lists this many call tasks; `comeback tasks` has them all. */
export const DIGEST_MAX_TASKS = 100;

/** The win-back emails queued by one run, by status, and the backlog left waiting. */
export interface WinbackQueueReport {
  queued: Record<"warm" | "cold" | "lost", number>;
  backlog: BacklogReport;
}

export interface QueueReport {
  week: string;
  carts_new: number;
  carts_existing: number;
  /** New carts of customers in this week's hold-out group: recorded, not mailed (src/deliver/holdout.ts). */
  held_out: number;
  queued: number;
  /** Emails to customers (carts and win-back) queued by this run with an address: what the surge check weighs. */
  customer_messages: number;
  winback: WinbackQueueReport;
  /** The surge check of this batch (`stopped`: the caller must roll it back). */
  surge: SurgeReport;
  /** "surge notice": the run stopped and the operator got the `surge:<week>` notice instead. */
  digest: "queued" | "exists" | "no operator.email" | "surge notice";
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

export interface QueueOptions {
  /** Backlog customers to release on top of the weekly ceiling (Infinity: all). */
  releaseBacklog?: number;
  /** --confirm-surge: a batch over the surge limit goes anyway. */
  confirmSurge?: boolean;
}

type QueueConfig = Pick<
  Config,
  | "currency"
  | "operator"
  | "timezone"
  | "winback"
  | "replenishment"
  | "delivery"
  | "holdout"
  | "secret"
  | "consent"
>;

/**
 * Steps 2–4; call inside a transaction. The surge check (step 4) only reports: a caller that sends
 * must roll a stopped batch back (queueOrStop).
 */
export function queueWeek(
  db: Db,
  config: QueueConfig,
  week: IsoWeek,
  now: string,
  limit?: number,
  options: QueueOptions = {},
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
    held_out: 0,
    queued: 0,
    customer_messages: 0,
    winback: {
      queued: { warm: 0, cold: 0, lost: 0 },
      backlog: {
        first_planned_on: null,
        ceiling: 0,
        released_this_week: 0,
        released: 0,
        released_lapsed_before_start: 0,
        waiting: 0,
        waiting_lapsed_before_start: 0,
      },
    },
    surge: {
      batch: 0,
      usual: null,
      limit: 0,
      rule: "",
      stopped: false,
      confirmed: false,
      confirm_with: CONFIRM_SURGE,
    },
    digest: "no operator.email",
    messages: [],
  };
  const holdout = holdoutGroup(db, config, week.week, now);
  for (const cart of created) {
    const row = customer.get(cart.customer_id)!;
    if (holdout(cart)) {
      report.held_out++;
      continue;
    }
    const key = `cart:${cart.customer_id}:${week.week}`;
    // The items the customer postponed on the cart page and still waits for (issue 18).
    const payload = withWishlist(
      db,
      cartPayload(cart, week, row),
      dayString(localDayOf(now, config.timezone)),
    );
    if (
      outbox.enqueue(
        { key, kind: "cart", marketing: true, customerId: cart.customer_id, recipient: row.email, payload },
        now,
      )
    ) {
      report.queued++;
      if (row.email !== null) report.customer_messages++;
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
  queueWinback(db, config, outbox, week, now, report, options.releaseBacklog ?? 0);
  report.surge = surgeCheck(db, config, week, report.customer_messages, Boolean(options.confirmSurge));
  const operator = config.operator.email;
  if (operator) {
    const key = `digest:${week.week}`;
    const payload = digestPayload(db, week, dueTasksForDigest(db, config, now), {
      backlog: report.winback.backlog,
      surge: report.surge.confirmed ? report.surge : null,
    });
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
 * The hold-out decision for each new cart of a customer the email could reach (an address, no
 * opt-out, not suppressed; an opt-in with consent.require_opt_in), recorded in `holdout` with the cart, so the
 * report knows both groups. Returns whether the cart is held out. Without a secret (a run that
 * cannot send marketing email anyway) nobody is held out and nothing is recorded.
 */
function holdoutGroup(
  db: Db,
  config: Pick<Config, "holdout" | "secret" | "consent">,
  week: string,
  now: string,
): (cart: { id: number; customer_id: number }) => boolean {
  const { secret } = config;
  const share = config.holdout.share;
  // Eligible: a customer the cart email could reach. Those who opted out or whose address is
  // suppressed would get nothing either way: counting them would only dilute both groups.
  const reachable = db
    .prepare<[number], number>(
      `SELECT 1 FROM customers c WHERE c.id = ? AND c.email IS NOT NULL AND coalesce(c.accepts_marketing, 1) <> 0
          AND ${config.consent.require_opt_in ? "c.accepts_marketing = 1 AND" : ""}
          NOT EXISTS (SELECT 1 FROM suppressions s WHERE s.address = c.email)`,
    )
    .pluck();
  const insert = db.prepare(
    "INSERT OR IGNORE INTO holdout (cart_id, customer_id, week, held_out, share, created_at) VALUES (?, ?, ?, ?, ?, ?)",
  );
  return (cart) => {
    if (secret === null || reachable.get(cart.customer_id) === undefined) return false;
    const held = isHeldOut(secret, cart.customer_id, week, share);
    insert.run(cart.id, cart.customer_id, week, held ? 1 : 0, share, now);
    return held;
  };
}

/**
 * The win-back emails the cadence has due this week, one per customer, status and contact slot
 * (`winback:<customer>:<status>:<n>`): queued once, however often the batch runs. At most
 * `winback.customers_per_week` customers a week get their first one, the most recently lapsed first;
 * the others wait (src/plan/winback/backlog.ts).
 */
function queueWinback(
  db: Db,
  config: Pick<Config, "timezone" | "winback" | "replenishment">,
  outbox: Outbox,
  week: IsoWeek,
  now: string,
  report: QueueReport,
  release: number,
): void {
  const selection = selectWinback(
    db,
    config,
    dueWinbackEmails(db, config, now, { favourites: false }),
    week.monday,
    release,
  );
  report.winback.backlog = selection.backlog;
  withFavourites(db, config, selection.send, now);
  for (const due of selection.send) {
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
    report.customer_messages++;
    report.winback.queued[due.status]++;
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

export interface DigestExtras {
  backlog?: BacklogReport | null;
  surge?: SurgeReport | null;
  /** For a stopped run: what it would have queued. */
  held?: DigestQueued | null;
}

/** The emails to customers queued in the week (by their idempotency keys: `cart:…`, `winback:<c>:<status>:<n>`). */
export function queuedThisWeek(db: Db, week: IsoWeek): DigestQueued {
  const counts: DigestQueued = { carts: 0, winback: 0, winback_warm: 0, winback_cold: 0, winback_lost: 0 };
  const keys = db
    .prepare<[string, string], string>(
      // created_at is the run's now (UTC); the week's days are the shop's, close enough for a count.
      `SELECT idempotency_key FROM outbox WHERE marketing = 1 AND created_at >= ? AND created_at < date(?, '+1 day')`,
    )
    .pluck()
    .all(week.monday, week.sunday);
  for (const key of keys) {
    const [kind, , status] = key.split(":");
    if (kind === "cart") counts.carts++;
    else if (kind === "winback") {
      counts.winback++;
      if (status === "warm" || status === "cold" || status === "lost") counts[`winback_${status}`]++;
    }
  }
  return counts;
}

export function digestPayload(
  db: Db,
  week: IsoWeek,
  tasks: TaskRow[] = [],
  extras: DigestExtras = {},
): DigestPayload {
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
         FROM carts WHERE week = ? AND id NOT IN (SELECT cart_id FROM holdout WHERE held_out = 1)`,
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
    queued: extras.surge?.stopped && extras.held ? extras.held : queuedThisWeek(db, week),
    backlog: extras.backlog
      ? {
          waiting: extras.backlog.waiting,
          ceiling: extras.backlog.ceiling,
          released_this_week: extras.backlog.released_this_week,
        }
      : null,
    surge: extras.surge ? { ...extras.surge, held: extras.held ?? null } : null,
  };
}

/** A batch of up to this many emails to customers never counts as a surge: a small shop's weeks vary by a few. */
export const SURGE_FLOOR = 20;
/** The weeks whose batches define a shop's usual one. */
export const SURGE_LOOKBACK_WEEKS = 4;
/**
 * With no batch in those weeks (the first run, or after a pause): at most this share of the
 * customers with a purchase and an address, the promise that a shop's first weeks mail about one
 * customer in ten at most.
 */
export const FIRST_RUN_SHARE = 0.1;
export const CONFIRM_SURGE = "comeback weekly --confirm-surge";

/**
 * The surge guard: would this run send far more than the shop's usual batch? Usual is the largest
 * number of emails to customers queued in one week of the last SURGE_LOOKBACK_WEEKS (from the
 * outbox, so replays with --now see the history as of then); far more is above
 * `delivery.surge_factor` times that, and never below SURGE_FLOOR. With no history, the limit is
 * FIRST_RUN_SHARE of the customers. Reads only; the caller rolls the batch back when it stops.
 */
export function surgeCheck(
  db: Db,
  config: Pick<Config, "delivery">,
  week: IsoWeek,
  batch: number,
  confirm: boolean,
): SurgeReport {
  const usual = db
    .prepare<[string, string], number | null>(
      `SELECT max(n) FROM (
         SELECT date(created_at, 'weekday 0', '-6 days') AS monday, count(*) AS n FROM outbox
         WHERE marketing = 1 AND recipient IS NOT NULL AND created_at >= date(?, '-${7 * SURGE_LOOKBACK_WEEKS} days')
           AND created_at < ?
         GROUP BY monday)`,
    )
    .pluck()
    .get(week.monday, week.monday)!;
  const factor = config.delivery.surge_factor;
  const customers = usual === null ? reachableCustomers(db) : 0;
  const byRule = usual === null ? Math.ceil(FIRST_RUN_SHARE * customers) : Math.ceil(factor * usual);
  const limit = Math.max(SURGE_FLOOR, byRule);
  const rule =
    byRule < SURGE_FLOOR
      ? `never fewer than ${SURGE_FLOOR}`
      : usual === null
        ? `no batch in the last ${SURGE_LOOKBACK_WEEKS} weeks: one in ${Math.round(1 / FIRST_RUN_SHARE)} of ${customers} customers with an email`
        : `${factor} × the usual ${usual} a week`;
  const over = batch > limit;
  return {
    batch,
    usual,
    limit,
    rule,
    stopped: over && !confirm,
    confirmed: over && confirm,
    confirm_with: CONFIRM_SURGE,
  };
}

export interface WeeklyOptions {
  now: string;
  dryRun?: boolean;
  limit?: number;
  config: Config;
  /** How to send (step 4); a dry run sends through a recording transport instead of this one. */
  send: () => SendOptions;
  /** Send a batch even when the surge check would stop it. */
  confirmSurge?: boolean;
  /** Backlog customers to release on top of the weekly ceiling (Infinity: all). */
  releaseBacklog?: number;
}

export interface WeeklyReport {
  now: string;
  week: string;
  dry_run: boolean;
  planned: PlanReport;
  carts: { new: number; existing: number };
  /** New carts held out this week (the hold-out group): recorded, no email. */
  held_out: number;
  digest: QueueReport["digest"];
  /** What became of this week's messages: the send report's counts, and how many were queued. */
  messages: { queued: number } & Omit<SendReport, "due" | "suppressed">;
  send: SendReport;
  /** For --dry-run: every message a real run would work on now, and what it would do with it. */
  would_send: WouldSend[];
  /** For --dry-run: queued, sent, deferred and skipped (with reasons) by kind of mail. */
  by_kind: Partial<Record<KindGroup, KindSummary>>;
  /** Win-back emails queued by this run, by status, and the backlog that waits. */
  winback: WinbackQueueReport;
  /** The surge check; `stopped`: nothing of this week's batch was queued or sent (exit 3). */
  surge: SurgeReport;
}

/** Thrown inside the queue transaction to roll a surging batch back; never leaves runWeekly. */
class SurgeStop extends Error {
  constructor(
    readonly queued: QueueReport,
    readonly surge: SurgeReport,
  ) {
    super("surge");
  }
}

/**
 * After a stopped run: the operator's digest says so (keyed `surge:<week>`, so the week's own digest
 * still goes with the confirmed run), with what was held back. Nothing else is queued.
 */
function queueSurgeNotice(db: Db, config: Config, week: IsoWeek, now: string, stop: SurgeStop): void {
  const operator = config.operator.email;
  if (!operator) return;
  const held = stop.queued.winback.queued;
  const payload = digestPayload(db, week, dueTasksForDigest(db, config, now), {
    backlog: stop.queued.winback.backlog,
    surge: stop.surge,
    held: {
      carts: stop.queued.carts_new,
      winback: held.warm + held.cold + held.lost,
      winback_warm: held.warm,
      winback_cold: held.cold,
      winback_lost: held.lost,
    },
  });
  new Outbox(db).enqueue(
    {
      key: `surge:${week.week}`,
      kind: "digest",
      marketing: false,
      customerId: null,
      recipient: operator.address,
      payload,
    },
    now,
  );
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
      queued = queueWeek(db, options.config, week, options.now, options.limit, queueOptions(options));
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
    queued = queueOrStop(db, options, week);
    send = await sendDue(db, options.send());
  }
  const { due: _due, suppressed: _suppressed, ...sendCounts } = send;
  return {
    now: options.now,
    week: week.week,
    dry_run: Boolean(options.dryRun),
    planned,
    carts: { new: queued.carts_new, existing: queued.carts_existing },
    held_out: queued.held_out,
    digest: queued.digest,
    messages: { queued: queued.queued, ...sendCounts },
    send,
    ...dry,
    winback: queued.winback,
    surge: queued.surge,
  };
}

function queueOptions(options: WeeklyOptions): QueueOptions {
  return { releaseBacklog: options.releaseBacklog ?? 0, confirmSurge: options.confirmSurge };
}

/**
 * Steps 2–3 of a real run, then the surge check inside the same transaction: a batch far bigger
 * than usual is rolled back before anything can send it, and only the operator's notice is queued.
 */
function queueOrStop(db: Db, options: WeeklyOptions, week: IsoWeek): QueueReport {
  const { config, now } = options;
  try {
    return db
      .transaction(() => {
        const queued = queueWeek(db, config, week, now, options.limit, queueOptions(options));
        if (queued.surge.stopped) throw new SurgeStop(queued, queued.surge);
        return queued;
      })
      .immediate();
  } catch (error) {
    if (!(error instanceof SurgeStop)) throw error;
    db.transaction(() => queueSurgeNotice(db, config, week, now, error)).immediate();
    // What the report says of a stopped run: nothing queued; those the ceiling released wait again.
    const held = error.queued;
    const backlog = held.winback.backlog;
    const stopped: QueueReport = {
      ...held,
      carts_new: 0,
      held_out: 0,
      queued: 0,
      customer_messages: 0,
      digest: config.operator.email ? "surge notice" : "no operator.email",
      winback: {
        queued: { warm: 0, cold: 0, lost: 0 },
        backlog: {
          ...backlog,
          released: 0,
          released_lapsed_before_start: 0,
          released_this_week: backlog.released_this_week - backlog.released,
          waiting: backlog.waiting + backlog.released,
          waiting_lapsed_before_start:
            backlog.waiting_lapsed_before_start + backlog.released_lapsed_before_start,
        },
      },
      messages: [],
    };
    return stopped;
  }
}
