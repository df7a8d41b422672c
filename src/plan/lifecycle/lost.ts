/**
 * The `lost` listing: one row per customer from the last lifecycle plan, with what a person needs
 * to act on it. Reads only: the statuses are those planLifecycle stored.
 */
import type { Db } from "../../store/open.js";
import { UsageError } from "../../errors.js";
import { CUSTOMER_COLUMNS } from "../../store/customers.js";
import { jsonArrayQuery, keysOf, rowsQuery, type Columns, type Listing } from "../../store/listing.js";
import { STATUSES, type LifecycleStatus } from "./classify.js";

export interface LostRow {
  customer_id: string | null;
  email: string | null;
  comeback_id: number;
  phone: string | null;
  name: string | null;
  status: LifecycleStatus;
  since: string;
  orders: number;
  last_order_on: string;
  typical_gap_days: number;
  days_since_last: number;
  p_alive: number | null;
  expected_purchases_90d: number | null;
  next_contact_on: string | null;
  /** The day their supply runs out by their replenishment reminders, when it still lasts (supply.ts). */
  supply_until: string | null;
}

/** The listing's columns, in order (one place for the CSV, the JSON and the rows). */
const LOST_COLUMNS = [
  // The customer named as in every JSON row: the shop's id, the email, comeback's id (src/store/customers.ts).
  ...CUSTOMER_COLUMNS,
  ["phone", "c.phone"],
  ["name", "c.name"],
  ["status", "l.status"],
  ["since", "l.since"],
  ["orders", "l.orders"],
  ["last_order_on", "l.last_order_on"],
  ["typical_gap_days", "l.typical_gap_days"],
  // Whole days between two dates: their unix times differ by a multiple of 86,400.
  ["days_since_last", "(unixepoch(:as_of_day) - unixepoch(l.last_order_on)) / 86400"],
  ["p_alive", "l.p_alive"],
  ["expected_purchases_90d", "l.expected_purchases_90d"],
  ["next_contact_on", "l.next_contact_on"],
  ["supply_until", "l.supply_until"],
] as const satisfies Columns<keyof LostRow>;

export const LOST_KEYS = keysOf(LOST_COLUMNS);

export interface LifecycleState {
  as_of: string;
  as_of_day: string;
  model: string;
}

export function lifecycleState(db: Db): LifecycleState | null {
  return (
    db
      .prepare<[], LifecycleState>("SELECT as_of, as_of_day, model FROM lifecycle_state WHERE id = 1")
      .get() ?? null
  );
}

/** Statuses in the order a list shows them: the most urgent to win back first. */
const ORDER: Record<LifecycleStatus, number> = { warm: 0, cold: 1, lost: 2, won_back: 3, new: 4, active: 5 };
const ORDER_SQL = `CASE l.status ${Object.entries(ORDER)
  .map(([status, rank]) => `WHEN '${status}' THEN ${rank}`)
  .join(" ")} END`;

export function parseStatuses(text: string | undefined): LifecycleStatus[] {
  if (text === undefined) return ["warm", "cold", "lost"];
  const wanted = text
    .split(",")
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  const known: readonly string[] = STATUSES;
  const unknown = wanted.filter((s) => !known.includes(s));
  if (unknown.length > 0 || wanted.length === 0) {
    throw new UsageError(
      `--status ${JSON.stringify(text)}: ${unknown.length ? `unknown status ${unknown.map((s) => `"${s}"`).join(", ")}` : "no status given"}; expected a comma-separated list of ${STATUSES.join(", ")}`,
    );
  }
  return [...new Set(wanted)] as LifecycleStatus[];
}

/**
 * The customers of the given statuses as of the last plan: the most urgent status first, and within
 * one, the longest silent first. A plain scan of the lifecycle table beats its status index here:
 * most rows are wanted, and the index would visit them in random order.
 */
const LOST_LISTING: Listing<keyof LostRow> = {
  columns: LOST_COLUMNS,
  from: `FROM customer_lifecycle l NOT INDEXED JOIN customers c ON c.id = l.customer_id
         WHERE l.status IN (SELECT value FROM json_each(:statuses))`,
  orderBy: `${ORDER_SQL}, l.last_order_on, l.customer_id`,
};

type LostParams = { statuses: string; as_of_day: string };

function lostParams(statuses: readonly LifecycleStatus[], state: LifecycleState): LostParams {
  return { statuses: JSON.stringify(statuses), as_of_day: state.as_of_day };
}

/** The listing as of the last plan (`state`, from lifecycleState), as rows for CSV and the terminal. */
export function listLost(db: Db, statuses: readonly LifecycleStatus[], state: LifecycleState): LostRow[] {
  return db.prepare<LostParams, LostRow>(rowsQuery(LOST_LISTING)).all(lostParams(statuses, state));
}

/** The same listing as the bytes of a JSON array (see src/store/listing.ts for why). */
export function listLostJson(db: Db, statuses: readonly LifecycleStatus[], state: LifecycleState): Buffer {
  return db
    .prepare<LostParams, Buffer>(jsonArrayQuery(LOST_LISTING))
    .pluck()
    .get(lostParams(statuses, state))!;
}
