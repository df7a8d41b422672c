/**
 * planLifecycle: every customer's lifecycle status as of `now`, written to customer_lifecycle.
 * A pure function of the facts, the config and `now`: running it again with the same inputs
 * rewrites nothing. Under `bgnbd` the model is refitted only when the customers' summaries changed.
 */
import type { Config } from "../../config/schema.js";
import type { Db } from "../../store/open.js";
import { nowIso } from "../../time.js";
import { dayString, makeDayOf } from "../days.js";
import { currentSlot, nextSlot } from "../winback/cadence.js";
import {
  degeneracy,
  fitBgnbd,
  followsRhythm,
  groupSummaries,
  type BgnbdFit,
  type BgnbdParams,
} from "./bgnbd.js";
import { classify, FALLBACK_GAP_DAYS, STATUSES, type LifecycleStatus } from "./classify.js";
import { RowWriter } from "../../store/rows.js";
import { readHistories, shopMedianGap, type History } from "./history.js";
import { summaryInWeeks } from "./summary.js";
import { readSupplyEnds } from "./supply.js";
import { secondOrderEstimate, type SecondOrderEstimate } from "./second-order.js";

export interface FitReport {
  r: number;
  alpha: number;
  a: number;
  b: number;
  log_likelihood: number;
  customers: number;
  degenerate: boolean;
  /** Why the fit degenerated, or null. */
  message: string | null;
  /**
   * What the bgnbd lifecycle sorts customers by instead of P(alive): `rhythm` (the rhythm rules: the
   * dropout part ran to "everybody drops out", or the purchase rates show no spread either),
   * `activity_ratio` (the dropout part ran to "nobody drops out"), or null when the fit is used as is.
   */
  fallback: "rhythm" | "activity_ratio" | null;
  /** True when this run fitted; false when the stored fit matched the data. */
  refitted: boolean;
  as_of: string;
}

export interface LifecycleReport {
  now: string;
  model: "rhythm" | "bgnbd";
  customers: number;
  counts: Record<LifecycleStatus, number>;
  /** Customers whose status differs from the stored one (first classifications included). */
  changed: number;
  /**
   * Customers who would be warm, cold or lost but whose supply (by their replenishment reminders)
   * still lasts: they are active (or new), with `supply_until` in their lifecycle row.
   */
  held_by_supply: number;
  won_back: {
    /** Customers now won back, and how many of them became so in this run. */
    customers: number;
    new: number;
    /** The value of the orders that won them back, in minor units per currency. */
    order_value_minor: Record<string, number>;
  };
  shop_median_gap_days: number | null;
  /** When a one-order customer stops being new (see second-order.ts). */
  second_order: SecondOrderEstimate;
  /** The day comeback first planned this shop: customers who lapsed before it are the win-back backlog. */
  first_planned_on: string;
  fit: FitReport | null;
}

type PlanConfig = Pick<Config, "timezone" | "lifecycle" | "winback">;

/** Fits BG/NBD to the customers' summaries as of `now` (weeks), reusing the stored fit if the data is unchanged. */
export function fitModel(
  db: Db,
  config: Pick<Config, "timezone">,
  now: string,
  options: { histories?: readonly History[]; force?: boolean } = {},
): { fit: BgnbdFit | null; report: FitReport | null } {
  const histories = options.histories ?? readHistories(db, config.timezone, now);
  if (histories.length === 0) return { fit: null, report: null };
  const today = makeDayOf(config.timezone)(now);
  const summaries = histories.map((h) => summaryInWeeks(h.days, today));
  let sx = 0;
  let stx = 0;
  let sT = 0;
  for (const s of summaries) {
    sx += s.x;
    stx += s.tx * 7;
    sT += s.T * 7;
  }
  const dataKey = `${summaries.length}:${sx}:${Math.round(stx)}:${Math.round(sT)}`;
  const stored = db
    .prepare<
      [],
      {
        params: string;
        log_likelihood: number;
        customers: number;
        degenerate: string | null;
        data_key: string;
        as_of: string;
      }
    >(
      "SELECT params, log_likelihood, customers, degenerate, data_key, as_of FROM model_params WHERE model = 'bgnbd'",
    )
    .get();
  if (stored && stored.data_key === dataKey && !options.force) {
    const params = JSON.parse(stored.params) as BgnbdParams;
    const fit: BgnbdFit = {
      params,
      logLikelihood: stored.log_likelihood,
      customers: stored.customers,
      evaluations: 0,
      // A fit stored before comeback knew a boundary (dropout → 1) is judged again by today's rules.
      degenerate: stored.degenerate ?? degeneracy(params),
    };
    return { fit, report: fitReport(fit, false, stored.as_of) };
  }
  const fit = fitBgnbd(groupSummaries(summaries));
  db.prepare(
    `INSERT INTO model_params (model, params, log_likelihood, customers, degenerate, data_key, as_of, fitted_at)
     VALUES ('bgnbd', ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (model) DO UPDATE SET params = excluded.params, log_likelihood = excluded.log_likelihood,
       customers = excluded.customers, degenerate = excluded.degenerate, data_key = excluded.data_key,
       as_of = excluded.as_of, fitted_at = excluded.fitted_at`,
  ).run(JSON.stringify(fit.params), fit.logLikelihood, fit.customers, fit.degenerate, dataKey, now, nowIso());
  return { fit, report: fitReport(fit, true, now) };
}

function fitReport(fit: BgnbdFit, refitted: boolean, asOf: string): FitReport {
  return {
    r: fit.params.r,
    alpha: fit.params.alpha,
    a: fit.params.a,
    b: fit.params.b,
    log_likelihood: fit.logLikelihood,
    customers: fit.customers,
    degenerate: fit.degenerate !== null,
    message: fit.degenerate,
    fallback: fit.degenerate === null ? null : followsRhythm(fit) ? "rhythm" : "activity_ratio",
    refitted,
    as_of: asOf,
  };
}

interface Row {
  customer_id: number;
  status: LifecycleStatus;
  since: string;
  model: string;
  orders: number;
  first_order_on: string;
  last_order_on: string;
  last_order_id: number;
  typical_gap_days: number;
  p_alive: number | null;
  expected_purchases_90d: number | null;
  score: number | null;
  won_back_from: string | null;
  next_contact_on: string | null;
  lapsed_on: string | null;
  supply_until: string | null;
}

const COLUMNS = [
  "customer_id",
  "status",
  "since",
  "model",
  "orders",
  "first_order_on",
  "last_order_on",
  "last_order_id",
  "typical_gap_days",
  "p_alive",
  "expected_purchases_90d",
  "score",
  "won_back_from",
  "next_contact_on",
  "lapsed_on",
  "supply_until",
] as const satisfies readonly (keyof Row)[];

/** Rounds stored reals so that the same inputs always give byte-identical rows. */
const round = (value: number | null, digits: number) =>
  value === null ? null : Math.round(value * 10 ** digits) / 10 ** digits;

/**
 * `histories` are the customers' purchase histories as of `now` when the caller has read them
 * already (runPlan: the replenishment planner reads every order line anyway); else they are read.
 */
export function planLifecycle(
  db: Db,
  config: PlanConfig,
  now: string,
  known?: readonly History[],
): LifecycleReport {
  const dayOf = makeDayOf(config.timezone);
  const today = dayOf(now);
  const run = db.transaction(() => {
    const histories = known ?? readHistories(db, config.timezone, now);
    const shopGap = shopMedianGap(histories);
    const model = config.lifecycle.model;
    const fitted = model === "bgnbd" ? fitModel(db, config, now, { histories }) : { fit: null, report: null };
    // The reminders this plan has just planned (runPlan plans them first, in the same transaction).
    const supplyEnds = readSupplyEnds(db);
    const secondOrder = secondOrderEstimate(histories, today, config.lifecycle.new_until_quantile);
    const ctx = {
      config: config.lifecycle,
      shopGap: shopGap ?? FALLBACK_GAP_DAYS,
      fit: fitted.fit,
      newUntilDays: secondOrder.new_until_days,
    };

    // Only a hash of each row is read back: reading whole rows of 100,000 customers costs more than the plan.
    const existing = new Map<number, [LifecycleStatus, number]>();
    const stored = db
      .prepare<[], [number, LifecycleStatus, number]>(
        "SELECT customer_id, status, digest FROM customer_lifecycle",
      )
      .raw();
    for (const [id, status, digest] of stored.iterate()) existing.set(id, [status, digest]);
    const doneSlots = new Set(
      db
        .prepare<[], string>(
          "SELECT customer_id || ':' || due_on FROM tasks WHERE state IN ('done', 'closed')",
        )
        .pluck()
        .all(),
    );

    const counts = Object.fromEntries(STATUSES.map((s) => [s, 0])) as Record<LifecycleStatus, number>;
    let changed = 0;
    let heldBySupply = 0;
    let wonBackNew = 0;
    const wonBackOrders: number[] = [];
    const upsert = new RowWriter(
      db,
      `INSERT OR REPLACE INTO customer_lifecycle (${COLUMNS.join(", ")}, digest) VALUES`,
      COLUMNS.length + 1,
    );
    for (const h of histories) {
      const c = classify(h.days, today, ctx, supplyEnds.get(h.customerId) ?? null);
      if (c.heldBySupply) heldBySupply += 1;
      const since = dayString(c.sinceDay);
      let nextContact: string | null = null;
      const slot = currentSlot(c.status, c.sinceDay, today, config.winback);
      if (slot) {
        const after = doneSlots.has(`${h.customerId}:${dayString(slot.dueDay)}`)
          ? nextSlot(slot, c.status, c.sinceDay, config.winback)
          : slot;
        nextContact = after ? dayString(after.dueDay) : null;
      }
      const row: Row = {
        customer_id: h.customerId,
        status: c.status,
        since,
        model,
        orders: h.orders,
        first_order_on: dayString(h.days[0]!),
        last_order_on: dayString(h.days[h.days.length - 1]!),
        last_order_id: h.lastOrderId,
        typical_gap_days: round(c.typicalGapDays, 1)!,
        p_alive: round(c.pAlive, 4),
        expected_purchases_90d: round(c.expected90, 4),
        score: round(c.score, 4),
        won_back_from: c.wonBackFrom,
        next_contact_on: nextContact,
        lapsed_on: c.lapsedDay === null ? null : dayString(c.lapsedDay),
        supply_until: c.supplyUntil === null ? null : dayString(c.supplyUntil),
      };
      counts[c.status] += 1;
      const before = existing.get(h.customerId);
      existing.delete(h.customerId);
      if (before?.[0] !== row.status) changed += 1;
      if (row.status === "won_back") {
        wonBackOrders.push(h.lastOrderId);
        if (before?.[0] !== "won_back") wonBackNew += 1;
      }
      const values = COLUMNS.map((key) => row[key]);
      const digest = rowHash(values.join("|"));
      if (before?.[1] !== digest) upsert.add([...values, digest]);
    }
    upsert.flush();
    // Customers with no purchase as of now (a backtest, or only cancelled orders) have no status.
    const remove = db.prepare("DELETE FROM customer_lifecycle WHERE customer_id = ?");
    for (const id of existing.keys()) remove.run(id);
    db.prepare(
      `INSERT INTO lifecycle_state (id, as_of, as_of_day, model, shop_gap_days) VALUES (1, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET as_of = excluded.as_of, as_of_day = excluded.as_of_day,
         model = excluded.model, shop_gap_days = excluded.shop_gap_days
       WHERE (as_of, as_of_day, model, shop_gap_days) IS NOT (excluded.as_of, excluded.as_of_day, excluded.model, excluded.shop_gap_days)`,
    ).run(now, dayString(today), model, shopGap);
    const firstPlannedOn = recordFirstPlan(db, now, dayString(today));

    return {
      now,
      model,
      customers: histories.length,
      counts,
      changed,
      held_by_supply: heldBySupply,
      won_back: {
        customers: wonBackOrders.length,
        new: wonBackNew,
        order_value_minor: orderValues(db, wonBackOrders),
      },
      shop_median_gap_days: shopGap,
      second_order: secondOrder,
      first_planned_on: firstPlannedOn,
      fit: fitted.report,
    } satisfies LifecycleReport;
  });
  return run.immediate();
}

/**
 * The day comeback first planned this shop, recorded by the first plan and never moved (a replay
 * with an earlier --now, a re-import or a later plan leave it), so the backlog stays the backlog.
 */
function recordFirstPlan(db: Db, now: string, day: string): string {
  db.prepare(
    "INSERT INTO comeback_start (id, first_planned_on, first_planned_at) VALUES (1, ?, ?) ON CONFLICT (id) DO NOTHING",
  ).run(day, now);
  return db.prepare<[], string>("SELECT first_planned_on FROM comeback_start WHERE id = 1").pluck().get()!;
}

/**
 * A 52-bit hash of a row's text (two 32-bit FNV-1a passes with different bases), to tell a changed
 * row from an unchanged one without storing or reading the row twice.
 */
export function rowHash(text: string): number {
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193 ^ 0x5bd1e995;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c, 0x0100019d);
  }
  return (h1 >>> 0) * 0x100000 + ((h2 >>> 0) & 0xfffff);
}

/** Sum of the orders' line totals net of refunds, per currency. */
function orderValues(db: Db, orderIds: number[]): Record<string, number> {
  if (orderIds.length === 0) return {};
  const rows = db
    .prepare<[string], { currency: string; value: number }>(
      `SELECT o.currency AS currency,
              SUM(COALESCE((SELECT SUM(l.line_total_minor) FROM order_lines l WHERE l.order_id = o.id), 0) - o.refunded_minor) AS value
       FROM orders o WHERE o.id IN (SELECT value FROM json_each(?)) GROUP BY o.currency ORDER BY o.currency`,
    )
    .all(JSON.stringify(orderIds));
  return Object.fromEntries(rows.map((r) => [r.currency, r.value]));
}
