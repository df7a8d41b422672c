/**
 * Win-back mail is a trickle: each week at most `winback.customers_per_week` customers get their
 * first win-back email of a lapse, the most recently lapsed first (the likeliest to come back, and
 * the ones who would still recognise the shop). The others wait, and the report says how many; a
 * customer whose first email went out follows the cadence from then on (cold, lost, …) without
 * waiting again. The admin can release more at once (`comeback weekly --release-backlog [N]`).
 *
 * The backlog is those who lapsed (first became overdue) before comeback first planned this shop: a
 * new shop's history holds years of them, and mailing them all on the first Monday is the flood a
 * shop admin uninstalls over. One ceiling for everyone, not only for the backlog, so that the promise
 * holds on any export: in a shop's first two weeks with comeback, at most twice the ceiling (default
 * 4 % of the customers with a purchase and an email) get one. On the Shopify sample the customers who
 * lapse in its second week alone (a holiday cohort 409 days on) are 7 % of them.
 */
import { ceilingFor } from "../../config/lifecycle.js";
import type { Config } from "../../config/schema.js";
import type { Db } from "../../store/open.js";
import type { DueWinbackEmail } from "./due.js";

export interface BacklogReport {
  /** The day comeback first planned this shop (null: never planned). */
  first_planned_on: string | null;
  /** This week's ceiling, in customers (winback.customers_per_week for this shop's size). */
  ceiling: number;
  /** Customers who got their first win-back email (of this lapse) this week, this run included. */
  released_this_week: number;
  /** Of those, released by this run (within the ceiling, or by --release-backlog). */
  released: number;
  /** Of those, how many lapsed before first_planned_on. */
  released_lapsed_before_start: number;
  /** Customers due a first win-back email who wait for a later week. */
  waiting: number;
  /** Of those, how many lapsed before first_planned_on (the backlog proper). */
  waiting_lapsed_before_start: number;
}

export interface WinbackSelection {
  /** The emails to queue this run. */
  send: DueWinbackEmail[];
  backlog: BacklogReport;
}

/**
 * Pure: the due emails split into those to queue now and those that wait. Follow-ups (a customer
 * already mailed since their last order) always go; first emails up to `allowance`, most recently
 * lapsed first, then by customer so every run picks the same ones, customers who opted out or whose
 * address is suppressed after all others.
 */
export function splitBacklog(
  due: readonly DueWinbackEmail[],
  firstPlannedOn: string | null,
  allowance: number,
): {
  send: DueWinbackEmail[];
  released: number;
  releasedBeforeStart: number;
  waiting: number;
  waitingBeforeStart: number;
} {
  const send: DueWinbackEmail[] = [];
  const first: DueWinbackEmail[] = [];
  for (const email of due) (email.contacted ? send : first).push(email);
  // Those the outbox would skip (opted out, suppressed) last: the ceiling is for emails that go out.
  first.sort((a, b) =>
    a.reachable !== b.reachable
      ? a.reachable
        ? -1
        : 1
      : a.lapsed_on === b.lapsed_on
        ? a.customer_id - b.customer_id
        : a.lapsed_on < b.lapsed_on
          ? 1
          : -1,
  );
  const released = first.slice(0, Math.max(0, allowance));
  const waiting = first.slice(released.length);
  const beforeStart = (list: DueWinbackEmail[]) =>
    firstPlannedOn === null ? 0 : list.filter((e) => e.lapsed_on < firstPlannedOn).length;
  return {
    send: [...send, ...released],
    released: released.length,
    releasedBeforeStart: beforeStart(released),
    waiting: waiting.length,
    waitingBeforeStart: beforeStart(waiting),
  };
}

/** The customers the percentage ceiling is a share of: with a purchase and an email address. */
export function reachableCustomers(db: Db): number {
  return db
    .prepare<[], number>(
      `SELECT count(*) FROM customer_lifecycle l JOIN customers c ON c.id = l.customer_id WHERE c.email IS NOT NULL`,
    )
    .pluck()
    .get()!;
}

/**
 * Chooses this run's win-back emails from those due. `weekStart` is the Monday (YYYY-MM-DD) of the
 * week; `release` is how many backlog customers the admin releases on top of the ceiling (Infinity: all).
 */
export function selectWinback(
  db: Db,
  config: Pick<Config, "winback">,
  due: readonly DueWinbackEmail[],
  weekStart: string,
  release = 0,
): WinbackSelection {
  const first =
    db.prepare<[], string>("SELECT first_planned_on FROM comeback_start WHERE id = 1").pluck().get() ?? null;
  const ceiling = ceilingFor(config.winback.customers_per_week, reachableCustomers(db));
  // Customers whose first win-back email since their last order was queued this week (by an earlier run).
  const before = db
    .prepare<[string], number>(
      `SELECT count(*) FROM customer_lifecycle l
       WHERE l.status IN ('warm', 'cold', 'lost')
         AND (SELECT min(o.created_at) FROM outbox o WHERE o.customer_id = l.customer_id AND o.marketing = 1
                AND o.idempotency_key LIKE 'winback:%' AND o.created_at >= l.last_order_on) >= ?`,
    )
    .pluck()
    .get(weekStart)!;
  const allowance = Math.max(0, ceiling - before) + release;
  const split = splitBacklog(due, first, allowance);
  return {
    send: split.send,
    backlog: {
      first_planned_on: first,
      ceiling,
      released_this_week: before + split.released,
      released: split.released,
      released_lapsed_before_start: split.releasedBeforeStart,
      waiting: split.waiting,
      waiting_lapsed_before_start: split.waitingBeforeStart,
    },
  };
}
