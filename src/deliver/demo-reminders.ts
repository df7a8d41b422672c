/**
 * A STAND-IN for `comeback plan` (issue 3), used only by `comeback demo` until the planner is merged:
 * one open reminder per customer and replenishment group, about the latest completed purchase, due
 * `lead_days` before its supply (days per unit × quantity × usage factor) runs out. The real planner
 * (learned intervals, overrides, cycles, expiry) replaces this: the integrator deletes this file and
 * passes the planner to runWeekly's `plan` hook instead.
 */
import { DateTime } from "luxon";
import type { Db } from "../store/open.js";
import { localDate, nowIso } from "../time.js";

const LEAD_DAYS = 7;

interface Purchase {
  customer_id: number;
  group_key: string;
  order_id: number;
  placed_at: string;
  sku: string;
  product_name: string | null;
  quantity: number;
  days_per_unit: number;
  usage_factor: number;
}

export function seedDemoReminders(db: Db, zone: string): number {
  const purchases = db
    .prepare<[], Purchase>(
      `WITH lines AS (
         SELECT o.customer_id, coalesce(p.group_key, l.sku) AS group_key, o.id AS order_id, o.placed_at, l.sku,
                max(l.product_name) AS product_name, sum(l.quantity) AS quantity, p.days_per_unit,
                coalesce(c.usage_factor, 1) AS usage_factor
           FROM orders o
           JOIN order_lines l ON l.order_id = o.id
           JOIN products p ON p.sku = l.sku
           JOIN customers c ON c.id = o.customer_id
          WHERE o.status_class = 'completed' AND p.days_per_unit IS NOT NULL
          GROUP BY o.id, l.sku
         HAVING sum(l.quantity) > 0),
       ranked AS (
         SELECT *, row_number() OVER (PARTITION BY customer_id, group_key ORDER BY placed_at DESC, order_id DESC) AS n
           FROM lines)
       SELECT customer_id, group_key, order_id, placed_at, sku, product_name, quantity, days_per_unit, usage_factor
         FROM ranked WHERE n = 1`,
    )
    .all();
  const upsert = db.prepare(
    `INSERT OR REPLACE INTO reminders (customer_id, group_key, purchase_order_id, sku, product_name, last_purchase_on,
       quantity, days_per_unit, usage_factor, supply_days, basis, lead_days, cycle_days, first_due_on, due_on,
       reminder_number, state, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'rule', ?, ?, ?, ?, 1, 'open', ?)`,
  );
  const now = nowIso();
  db.transaction(() => {
    for (const p of purchases) {
      const purchased = localDate(p.placed_at, zone);
      const supply = p.days_per_unit * p.quantity * p.usage_factor;
      const due = DateTime.fromISO(purchased, { zone: "utc" })
        .plus({ days: Math.round(supply) - LEAD_DAYS })
        .toISODate()!;
      upsert.run(
        p.customer_id,
        p.group_key,
        p.order_id,
        p.sku,
        p.product_name,
        purchased,
        p.quantity,
        p.days_per_unit,
        p.usage_factor,
        supply,
        LEAD_DAYS,
        supply,
        due,
        due,
        now,
      );
    }
  })();
  return purchases.length;
}
