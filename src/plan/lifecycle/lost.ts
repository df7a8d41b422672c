/**
 * The `lost` listing: one row per customer from the last lifecycle plan, with what a person needs
 * to act on it. Reads only: the statuses are those planLifecycle stored.
 */
import type { Db } from "../../store/open.js";
import { UsageError } from "../../errors.js";
import { dateToDay } from "../days.js";
import { STATUSES, type LifecycleStatus } from "./classify.js";

export interface LostRow {
  customer_id: string;
  email: string | null;
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
}

export const LOST_KEYS = [
  "customer_id",
  "email",
  "phone",
  "name",
  "status",
  "since",
  "orders",
  "last_order_on",
  "typical_gap_days",
  "days_since_last",
  "p_alive",
  "expected_purchases_90d",
  "next_contact_on",
] as const satisfies readonly (keyof LostRow)[];

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

export function listLost(
  db: Db,
  statuses: readonly LifecycleStatus[],
): { state: LifecycleState | null; rows: LostRow[] } {
  const state = lifecycleState(db);
  if (state === null) return { state, rows: [] };
  const asOfDay = dateToDay(state.as_of_day);
  // A plain scan of the lifecycle table beats its status index here: most rows are wanted, and the
  // index would visit them in random order. Sorted in JS rather than by a temporary B-tree.
  const raw = db
    .prepare<[string], unknown[]>(
      `SELECT COALESCE(c.external_id, substr(c.identity_key, instr(c.identity_key, ':') + 1)),
              c.email_display, c.phone, c.name, l.status, l.since, l.orders, l.last_order_on,
              l.typical_gap_days, l.p_alive, l.expected_purchases_90d, l.next_contact_on, l.customer_id
       FROM customer_lifecycle l NOT INDEXED JOIN customers c ON c.id = l.customer_id
       WHERE l.status IN (SELECT value FROM json_each(?))`,
    )
    .raw()
    .all(JSON.stringify(statuses));
  const rows: (LostRow & { id: number })[] = raw.map((r) => ({
    customer_id: r[0] as string,
    email: r[1] as string | null,
    phone: r[2] as string | null,
    name: r[3] as string | null,
    status: r[4] as LifecycleStatus,
    since: r[5] as string,
    orders: r[6] as number,
    last_order_on: r[7] as string,
    typical_gap_days: r[8] as number,
    days_since_last: asOfDay - dateToDay(r[7] as string),
    p_alive: r[9] as number | null,
    expected_purchases_90d: r[10] as number | null,
    next_contact_on: r[11] as string | null,
    id: r[12] as number,
  }));
  // The most urgent status first; within one, the longest silent first.
  rows.sort(
    (a, b) =>
      ORDER[a.status] - ORDER[b.status] ||
      (a.last_order_on < b.last_order_on ? -1 : a.last_order_on > b.last_order_on ? 1 : a.id - b.id),
  );
  for (const row of rows) delete (row as Partial<typeof row>).id;
  return { state, rows };
}
