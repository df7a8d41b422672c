/** What is due in one ISO week: the open reminders whose current due date falls in it. */
import type { Db } from "../../store/open.js";
import type { IsoWeek } from "./dates.js";
import { dayString } from "../days.js";

/** One row of `comeback due`, with exactly the keys the issue names. */
export interface DueRow {
  customer_id: string | null;
  email: string | null;
  name: string | null;
  group: string;
  sku: string | null;
  product_name: string | null;
  last_purchase_on: string;
  quantity: number;
  supply_days: number;
  due_on: string;
  basis: string;
  reminder_number: number;
}

export const DUE_KEYS = [
  "customer_id",
  "email",
  "name",
  "group",
  "sku",
  "product_name",
  "last_purchase_on",
  "quantity",
  "supply_days",
  "due_on",
  "basis",
  "reminder_number",
] as const satisfies readonly (keyof DueRow)[];

/**
 * Reads the reminders the last `plan` wrote (uses the partial index on open due dates). The
 * customer is shown by the shop's id, the email as the shop wrote it, and the full name.
 */
export function dueInWeek(db: Db, week: IsoWeek): DueRow[] {
  return db
    .prepare<[string, string], DueRow>(
      `SELECT c.external_id AS customer_id, coalesce(c.email_display, c.email) AS email,
              coalesce(c.name, nullif(trim(coalesce(c.first_name, '') || ' ' || coalesce(c.last_name, '')), '')) AS name,
              r.group_key AS "group", r.sku, r.product_name, r.last_purchase_on, r.quantity, r.supply_days,
              r.due_on, r.basis, r.reminder_number
       FROM reminders r JOIN customers c ON c.id = r.customer_id
       WHERE r.state = 'open' AND r.due_on BETWEEN ? AND ?
       ORDER BY r.due_on, r.customer_id, r.group_key`,
    )
    .all(dayString(week.monday), dayString(week.sunday));
}
