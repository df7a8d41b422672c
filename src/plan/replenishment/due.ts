/**
 * What is due in one ISO week: the reminders the Monday batch of that week puts in carts. One
 * selection (dueReminders) serves both `comeback due` and the cart assembly (src/deliver/carts.ts), so
 * what the admin is shown and what the customers are sent cannot drift apart:
 *
 * - every open reminder due by the end of the week (Sunday), overdue ones included: a reminder due
 *   in an earlier week that no cart has offered yet (the batch did not run, or the plan found it late)
 *   goes into this week's cart;
 * - but not one an earlier week's cart already offered: it waits for its next cycle, not next Monday;
 * - and for a customer who already has this week's cart, only what that cart holds (a cart, once made,
 *   never changes: a reminder that became due since goes into next week's).
 */
import type { Db } from "../../store/open.js";
import { dayNumber, dayString } from "../days.js";
import { firstDueDay } from "./arithmetic.js";

/** The week asked about: its label (`2026-W10`) and its Monday and Sunday (`YYYY-MM-DD`). */
export interface DueWeek {
  label: string;
  monday: string;
  sunday: string;
}

/** One reminder of the selection, with what both the listing and a cart need. */
export interface DueReminder {
  /** comeback's own id of the customer. */
  comeback_id: number;
  /** The shop's id of the customer; null when the shop gave none. */
  customer_id: string | null;
  email: string | null;
  name: string | null;
  group_key: string;
  sku: string | null;
  product_name: string | null;
  last_purchase_on: string;
  quantity: number;
  supply_days: number;
  /** The reminder's date: lead days before the supply runs out. */
  due_on: string;
  /** The day the supply of the last purchase runs out (see runsOutOn). */
  runs_out_on: string;
  /** Due before this week and not offered yet: this week's cart holds it late. */
  overdue: boolean;
  /** This week's cart already holds it (its email is queued or sent). */
  queued: boolean;
  basis: string;
  reminder_number: number;
  /** For the cart: the purchase's order, the catalog's name, price and variant, what was paid. */
  order_currency: string;
  catalog_name: string | null;
  catalog_price: number | null;
  catalog_currency: string | null;
  catalog_variant_id: string | null;
  paid_price: number | null;
}

/** Overdue: due before the week, and (by the selection) never offered. */
const OVERDUE = "r.due_on < @monday";

/** The selection itself: which reminders, joined to what both uses need. */
const DUE_FROM = `
    FROM reminders r
    JOIN customers c ON c.id = r.customer_id
    JOIN orders o ON o.id = r.purchase_order_id
    LEFT JOIN products p ON p.sku = r.sku
    LEFT JOIN carts wc ON wc.customer_id = r.customer_id AND wc.week = @week
   WHERE r.state = 'open' AND r.due_on <= @sunday AND (@customer IS NULL OR r.customer_id = @customer)
     -- Offered by an earlier (or later) week's cart: it waits for its next cycle.
     AND NOT EXISTS (
       SELECT 1 FROM carts oc JOIN cart_items i ON i.cart_id = oc.id
        WHERE oc.customer_id = r.customer_id AND oc.week <> @week AND i.group_key = r.group_key
          AND i.due_on = r.due_on AND i.reminder_number = r.reminder_number)
     -- Confirmed on serve's cart page (issue 18): the reorder answers this purchase's reminder; the
     -- order it becomes starts the next one.
     AND NOT EXISTS (
       SELECT 1 FROM reorder_items ri JOIN reorders ro ON ro.id = ri.reorder_id
        WHERE ri.purchase_order_id = r.purchase_order_id AND ri.group_key = r.group_key
          AND ro.customer_id = r.customer_id)
     -- This week's cart exists: only what it holds.
     AND (wc.id IS NULL OR EXISTS (
       SELECT 1 FROM cart_items i
        WHERE i.cart_id = wc.id AND i.group_key = r.group_key
          AND i.due_on = r.due_on AND i.reminder_number = r.reminder_number))`;

/** The columns `comeback due` lists: the cart's prices and catalog columns left out (a third of its time). */
const LISTING_COLUMNS = `
  SELECT r.customer_id AS comeback_id, c.external_id AS customer_id,
         coalesce(c.email_display, c.email) AS email,
         coalesce(c.name, nullif(trim(coalesce(c.first_name, '') || ' ' || coalesce(c.last_name, '')), '')) AS name,
         r.group_key, r.sku, r.product_name, r.last_purchase_on, r.quantity, r.supply_days, r.lead_days,
         r.first_due_on, r.due_on, ${OVERDUE} AS overdue, r.basis, r.reminder_number,
         wc.id IS NOT NULL AS queued`;

const DUE_SQL = `${LISTING_COLUMNS},
         o.currency AS order_currency,
         p.name AS catalog_name, p.unit_price_minor AS catalog_price, p.currency AS catalog_currency,
         p.variant_id AS catalog_variant_id,
         (SELECT l.unit_price_minor FROM order_lines l
           WHERE l.order_id = r.purchase_order_id AND l.sku IS r.sku
             AND l.quantity > 0 AND l.unit_price_minor IS NOT NULL
           ORDER BY l.line_key LIMIT 1) AS paid_price
    ${DUE_FROM}`;

const ORDER = {
  /** For the listing: the earliest due first. */
  due: "r.due_on, r.customer_id, r.group_key",
  /** For carts: one customer's reminders together. */
  customer: "r.customer_id, r.due_on, r.group_key",
} as const;

type RawRow = Omit<DueReminder, "runs_out_on" | "overdue" | "queued"> & {
  lead_days: number;
  first_due_on: string;
  overdue: number;
  queued: number;
};

/**
 * The day the supply bought on `last_purchase_on` runs out: the purchase day + the whole days of
 * supply (the reminder is due lead days before it). When the admin moved the due date
 * (`remind set --due`), the run-out date moves with it: lead days after the admin's date.
 */
export function runsOutOn(row: {
  last_purchase_on: string;
  supply_days: number;
  lead_days: number;
  first_due_on: string;
}): string {
  const purchase = dayNumber(row.last_purchase_on);
  const first = dayNumber(row.first_due_on);
  if (first !== firstDueDay(purchase, row.supply_days, row.lead_days))
    return dayString(first + row.lead_days);
  return dayString(purchase + Math.floor(row.supply_days));
}

/** The reminders the week's batch puts in carts (see the top of this file). Reads only. */
export function* dueReminders(
  db: Db,
  week: DueWeek,
  options: { customerId?: number; order?: keyof typeof ORDER; listingOnly?: boolean } = {},
): Generator<DueReminder> {
  const columns = options.listingOnly ? `${LISTING_COLUMNS} ${DUE_FROM}` : DUE_SQL;
  const rows = db
    .prepare<{ monday: string; sunday: string; week: string; customer: number | null }, RawRow>(
      `${columns} ORDER BY ${ORDER[options.order ?? "due"]}`,
    )
    .iterate({
      monday: week.monday,
      sunday: week.sunday,
      week: week.label,
      customer: options.customerId ?? null,
    });
  for (const { lead_days, first_due_on, ...row } of rows) {
    yield {
      ...row,
      runs_out_on: runsOutOn({ ...row, lead_days, first_due_on }),
      overdue: row.overdue === 1,
      queued: row.queued === 1,
    };
  }
}

/** One row of `comeback due`. */
export interface DueRow {
  customer_id: string | null;
  email: string | null;
  comeback_id: number;
  name: string | null;
  group: string;
  sku: string | null;
  product_name: string | null;
  last_purchase_on: string;
  quantity: number;
  supply_days: number;
  due_on: string;
  runs_out_on: string;
  overdue: boolean;
  queued: boolean;
  basis: string;
  reminder_number: number;
}

export const DUE_KEYS = [
  "customer_id",
  "email",
  "comeback_id",
  "name",
  "group",
  "sku",
  "product_name",
  "last_purchase_on",
  "quantity",
  "supply_days",
  "due_on",
  "runs_out_on",
  "overdue",
  "queued",
  "basis",
  "reminder_number",
] as const satisfies readonly (keyof DueRow)[];

/** The listing of `comeback due`: the week's selection, the earliest due first. */
export function dueInWeek(db: Db, week: DueWeek): DueRow[] {
  const rows: DueRow[] = [];
  for (const r of dueReminders(db, week, { listingOnly: true })) {
    rows.push({
      customer_id: r.customer_id,
      email: r.email,
      comeback_id: r.comeback_id,
      name: r.name,
      group: r.group_key,
      sku: r.sku,
      product_name: r.product_name,
      last_purchase_on: r.last_purchase_on,
      quantity: r.quantity,
      supply_days: r.supply_days,
      due_on: r.due_on,
      runs_out_on: r.runs_out_on,
      overdue: r.overdue,
      queued: r.queued,
      basis: r.basis,
      reminder_number: r.reminder_number,
    });
  }
  return rows;
}

/** How many reminders the week's batch puts in carts, and how many of them are overdue. */
export function countDue(db: Db, week: DueWeek): { due: number; overdue: number } {
  const counts = db
    .prepare<
      { monday: string; sunday: string; week: string; customer: null },
      { due: number; overdue: number | null }
    >(`SELECT count(*) AS due, sum(${OVERDUE}) AS overdue ${DUE_FROM}`)
    .get({ monday: week.monday, sunday: week.sunday, week: week.label, customer: null })!;
  return { due: counts.due, overdue: counts.overdue ?? 0 };
}
