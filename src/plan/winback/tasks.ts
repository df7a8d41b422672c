/**
 * Win-back call tasks. planTasks keeps one task per customer and cadence slot (keyed on customer,
 * kind and due day, so planning again adds none) and closes tasks on proof: a call of at least
 * `min_call_seconds` to the customer's phone that started after the task was made (`done`), or a
 * purchase after it was made (`won_back`). A task whose slot has passed unanswered is `expired`;
 * a manager can close one by hand only with a reason (`closed`, with who and why).
 */
import { CUSTOMER_COLUMNS } from "../../store/customers.js";
import type { Config } from "../../config/schema.js";
import { UsageError } from "../../errors.js";
import type { Db } from "../../store/open.js";
import { jsonArrayQuery, keysOf, rowsQuery, type Columns, type Listing } from "../../store/listing.js";
import { dayNumber, dayString, makeDayOf } from "../days.js";
import { currentSlot } from "./cadence.js";

export const TASK_KIND = "winback_call";

export interface TasksReport {
  created: number;
  closed_by_calls: number;
  closed_won_back: number;
  expired: number;
  open: number;
}

type TaskConfig = Pick<Config, "timezone" | "winback">;

/** The key calls and customers are matched on: the last 9 digits, so +49 170 1234567 matches 0170 1234567. */
export function phoneKey(digits: string): string {
  return digits.slice(-9);
}

/**
 * Closes open tasks that a call proves done: to the customer's phone (compared on the last 9 digits),
 * at least `minSeconds` long, started after the task was made and not after `now`. The earliest
 * such call closes the task. Returns how many tasks it closed.
 */
export function closeTasksWithCalls(db: Db, minSeconds: number, now: string): number {
  return db
    .prepare(
      `WITH proof AS (
         SELECT t.id AS task_id,
                (SELECT k.id FROM calls k
                 WHERE k.phone_key = substr(c.phone, -9) AND k.started_at > t.created_at
                   AND k.started_at <= :now AND k.duration_seconds >= :min
                 ORDER BY k.started_at, k.id LIMIT 1) AS call_id
         FROM tasks t JOIN customers c ON c.id = t.customer_id
         WHERE t.state = 'open' AND c.phone IS NOT NULL)
       UPDATE tasks SET state = 'done', call_id = proof.call_id,
         closed_at = (SELECT started_at FROM calls WHERE id = proof.call_id),
         closed_by = COALESCE((SELECT agent FROM calls WHERE id = proof.call_id), 'call'),
         close_reason = 'call of ' || (SELECT duration_seconds FROM calls WHERE id = proof.call_id) || ' s'
       FROM proof WHERE tasks.id = proof.task_id AND proof.call_id IS NOT NULL`,
    )
    .run({ now, min: minSeconds }).changes;
}

export function planTasks(db: Db, config: TaskConfig, now: string): TasksReport {
  const today = makeDayOf(config.timezone)(now);
  const run = db.transaction((): TasksReport => {
    const closedByCalls = closeTasksWithCalls(db, config.winback.min_call_seconds, now);
    // A purchase after the task was made: the customer is back, whatever the lifecycle says yet.
    const wonBack = db
      .prepare(
        `UPDATE tasks SET state = 'won_back', closed_at = :now, closed_by = 'order',
           close_reason = 'ordered again on ' || (
             SELECT min(o.placed_at) FROM orders o WHERE o.customer_id = tasks.customer_id
               AND o.placed_at > tasks.created_at AND o.placed_at <= :now AND o.status_class <> 'cancelled')
         WHERE state = 'open' AND EXISTS (
           SELECT 1 FROM orders o WHERE o.customer_id = tasks.customer_id
             AND o.placed_at > tasks.created_at AND o.placed_at <= :now AND o.status_class <> 'cancelled')`,
      )
      .run({ now }).changes;

    const insert = db.prepare(
      `INSERT INTO tasks (customer_id, kind, due_on, lifecycle_status, contact_number, state, created_at)
       VALUES (?, '${TASK_KIND}', ?, ?, ?, 'open', ?) ON CONFLICT (customer_id, kind, due_on) DO NOTHING`,
    );
    const open = db
      .prepare<[], [number, number, string]>("SELECT id, customer_id, due_on FROM tasks WHERE state = 'open'")
      .raw()
      .all();
    // A customer's open task for their current slot is most often there already: no insert to try.
    const openSlots = new Set(open.map(([, customerId, due]) => `${customerId}:${due}`));
    const current = new Map<number, string>(); // customer → the due day of their current slot
    let created = 0;
    const rows = db
      .prepare<[], [number, string, string]>(
        // A call task needs a number to call, and only a call to that number can close it.
        `SELECT l.customer_id, l.status, l.since FROM customer_lifecycle l JOIN customers c ON c.id = l.customer_id
         WHERE l.status IN ('warm', 'cold', 'lost') AND c.phone IS NOT NULL`,
      )
      .raw()
      .all();
    for (const [customerId, status, since] of rows) {
      if (!config.winback[status as "warm" | "cold" | "lost"].call) continue;
      const slot = currentSlot(status, dayNumber(since), today, config.winback);
      if (slot === null) continue;
      const due = dayString(slot.dueDay);
      current.set(customerId, due);
      if (!openSlots.has(`${customerId}:${due}`))
        created += insert.run(customerId, due, status, slot.n, now).changes;
    }
    // Open tasks that are not the customer's current slot: the slot passed unanswered, or the
    // customer moved on (a new status, or no longer drifting).
    let expired = 0;
    const expire = db.prepare(
      "UPDATE tasks SET state = 'expired', closed_at = ?, closed_by = 'plan', close_reason = ? WHERE id = ?",
    );
    for (const [id, customerId, due] of open) {
      const slotDue = current.get(customerId);
      if (slotDue === due) continue;
      expired += expire.run(
        now,
        slotDue === undefined ? "no longer due a win-back call" : `superseded by the contact due ${slotDue}`,
        id,
      ).changes;
    }
    const openCount = db.prepare("SELECT count(*) FROM tasks WHERE state = 'open'").pluck().get() as number;
    return { created, closed_by_calls: closedByCalls, closed_won_back: wonBack, expired, open: openCount };
  });
  return run.immediate();
}

export interface TaskClosed {
  id: number;
  state: "closed";
  closed_by: string;
  close_reason: string;
  closed_at: string;
}

/** A manager closes a task by hand: only an open one, only with a reason; who and why are recorded. */
export function closeTask(db: Db, id: number, reason: string, by: string, now: string): TaskClosed {
  const why = reason.trim();
  if (why === "") throw new UsageError("--reason is empty: say why the task is closed without a call");
  return db
    .transaction(() => {
      const task = db.prepare<[number], { state: string }>("SELECT state FROM tasks WHERE id = ?").get(id);
      if (!task) throw new UsageError(`there is no task ${id}: see comeback tasks for the open ones`);
      if (task.state !== "open") throw new UsageError(`task ${id} is already ${task.state}, not open`);
      db.prepare(
        "UPDATE tasks SET state = 'closed', closed_at = ?, closed_by = ?, close_reason = ? WHERE id = ?",
      ).run(now, by, why, id);
      return { id, state: "closed" as const, closed_by: by, close_reason: why, closed_at: now };
    })
    .immediate();
}

export interface TaskRow {
  task_id: number;
  due_on: string;
  status: string;
  contact_number: number;
  customer_id: string | null;
  email: string | null;
  comeback_id: number;
  name: string | null;
  phone: string | null;
  orders: number | null;
  last_order_on: string | null;
  last_order_items: string;
  previous_calls: number;
  last_call_at: string | null;
  created_at: string;
}

/** The columns of `tasks` (one place for the CSV, the JSON, the rows and the digest). */
const TASK_COLUMNS = [
  ["task_id", "t.id"],
  ["due_on", "t.due_on"],
  ["status", "t.lifecycle_status"],
  ["contact_number", "t.contact_number"],
  // The customer named as in every JSON row: the shop's id, the email, comeback's id (src/store/customers.ts).
  ...CUSTOMER_COLUMNS,
  ["name", "c.name"],
  ["phone", "c.phone"],
  ["orders", "l.orders"],
  ["last_order_on", "l.last_order_on"],
  // What was in the last order, as "2 × Coffee; 1 × Filter", built in SQL: one query, not one per task.
  [
    "last_order_items",
    `COALESCE((SELECT group_concat(item, '; ') FROM (
       SELECT CASE WHEN i.quantity = CAST(i.quantity AS INTEGER) THEN CAST(i.quantity AS INTEGER) ELSE i.quantity END
              || ' × ' || COALESCE(i.product_name, i.sku, '?') AS item
       FROM order_lines i WHERE i.order_id = l.last_order_id AND i.quantity > 0 ORDER BY i.line_key)), '')`,
  ],
  [
    "previous_calls",
    "(SELECT count(*) FROM calls k WHERE c.phone IS NOT NULL AND k.phone_key = substr(c.phone, -9) AND k.started_at <= :now)",
  ],
  [
    "last_call_at",
    "(SELECT max(k.started_at) FROM calls k WHERE c.phone IS NOT NULL AND k.phone_key = substr(c.phone, -9) AND k.started_at <= :now)",
  ],
  ["created_at", "t.created_at"],
] as const satisfies Columns<keyof TaskRow>;

export const TASK_KEYS = keysOf(TASK_COLUMNS);

/**
 * Open tasks due on or before `now`'s day, with what a caller needs: who, how to reach them, their
 * last order and what was in it, how many orders, and the calls to them so far.
 */
const OPEN_TASKS: Listing<keyof TaskRow> = {
  columns: TASK_COLUMNS,
  from: `FROM tasks t JOIN customers c ON c.id = t.customer_id
         LEFT JOIN customer_lifecycle l ON l.customer_id = t.customer_id
         WHERE t.state = 'open' AND t.due_on <= :today`,
  orderBy: "t.due_on, t.id",
};

function openTasksParams(config: Pick<Config, "timezone">, now: string): { now: string; today: string } {
  return { now, today: dayString(makeDayOf(config.timezone)(now)) };
}

/** The open tasks as rows: for CSV, the terminal and the managers' digest. */
export function listOpenTasks(db: Db, config: Pick<Config, "timezone">, now: string): TaskRow[] {
  return db
    .prepare<[{ now: string; today: string }], TaskRow>(rowsQuery(OPEN_TASKS))
    .all(openTasksParams(config, now));
}

/** The same, as the bytes of a JSON array (see src/store/listing.ts for why). */
export function listOpenTasksJson(db: Db, config: Pick<Config, "timezone">, now: string): Buffer {
  return db
    .prepare<[{ now: string; today: string }], Buffer>(jsonArrayQuery(OPEN_TASKS))
    .pluck()
    .get(openTasksParams(config, now))!;
}
