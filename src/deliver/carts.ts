/**
 * Predicted carts: for an ISO week, one cart per customer holding the reminders that week's batch
 * offers (dueReminders, src/plan/replenishment/due.ts: every open reminder due by the end of the week,
 * overdue ones included, the same selection `comeback due` lists), each with the quantity of the last
 * purchase and the current price: the catalog's when known, else what the customer last paid.
 *
 * A cart, once made for a (customer, week), is never changed: running the batch again in the same
 * week finds it and adds nothing, even if another reminder has become due since.
 */
import type { Db } from "../store/open.js";
import { dueReminders, type DueReminder } from "../plan/replenishment/due.js";
import type { IsoWeek } from "./clock.js";

export interface CartItem {
  group_key: string;
  sku: string | null;
  /** The shop system's variant id (products import, `variant_id`), for cart links; null when unknown. */
  variant_id?: string | null;
  name: string;
  quantity: number;
  unit_price_minor: number | null;
  currency: string | null;
  line_total_minor: number | null;
  /** The reminder's date (lead days before the run-out). */
  due_on: string;
  /** When the supply of the last purchase runs out: what the email tells the customer. */
  runs_out_on?: string;
  /** The purchase the reminder is about, `YYYY-MM-DD`. */
  last_purchase_on?: string;
  reminder_number: number;
}

export interface Cart {
  customer_id: number;
  week: string;
  items: CartItem[];
  /** Of the total; null when the items' currencies differ. */
  currency: string | null;
  /** null when a price is unknown or currencies differ. */
  total_minor: number | null;
  /**
   * The customer's newest order when the cart was made: an order placed after it, before the email
   * goes, means the customer reordered and the email is skipped (src/deliver/rules.ts).
   */
  last_order_at?: string | null;
}

function toItem(row: DueReminder, defaultCurrency: string): CartItem {
  let unit: number | null = null;
  let currency: string | null = null;
  if (row.catalog_price !== null) {
    unit = row.catalog_price;
    currency = row.catalog_currency ?? defaultCurrency;
  } else if (row.paid_price !== null) {
    unit = row.paid_price;
    currency = row.order_currency;
  }
  return {
    group_key: row.group_key,
    sku: row.sku,
    variant_id: row.catalog_variant_id,
    name: row.product_name ?? row.catalog_name ?? row.sku ?? row.group_key,
    quantity: row.quantity,
    unit_price_minor: unit,
    currency,
    line_total_minor: unit === null ? null : Math.round(unit * row.quantity),
    due_on: row.due_on,
    runs_out_on: row.runs_out_on,
    last_purchase_on: row.last_purchase_on,
    reminder_number: row.reminder_number,
  };
}

export function cartTotals(items: readonly CartItem[]): {
  currency: string | null;
  total_minor: number | null;
} {
  const currencies = new Set(items.map((item) => item.currency));
  if (currencies.size !== 1 || items.some((item) => item.line_total_minor === null)) {
    return { currency: currencies.size === 1 ? (items[0]?.currency ?? null) : null, total_minor: null };
  }
  return {
    currency: items[0]!.currency,
    total_minor: items.reduce((sum, item) => sum + item.line_total_minor!, 0),
  };
}

/** The carts the week would hold, customer by customer, computed from the reminders (nothing written). */
export function* draftCarts(
  db: Db,
  week: IsoWeek,
  options: { defaultCurrency: string; customerId?: number },
): Generator<Cart> {
  const rows = dueReminders(
    db,
    { label: week.week, monday: week.monday, sunday: week.sunday },
    { customerId: options.customerId, order: "customer" },
  );
  let current: Cart | null = null;
  for (const row of rows) {
    if (current && current.customer_id !== row.comeback_id) {
      yield { ...current, ...cartTotals(current.items) };
      current = null;
    }
    current ??= {
      customer_id: row.comeback_id,
      week: week.week,
      items: [],
      currency: null,
      total_minor: null,
    };
    current.items.push(toItem(row, options.defaultCurrency));
  }
  if (current) yield { ...current, ...cartTotals(current.items) };
}

export interface AssembleResult {
  /** Carts made by this run. */
  created: (Cart & { id: number })[];
  /** Customers who already had a cart this week. */
  existing: number;
}

/**
 * Writes the week's new carts. Call inside a transaction. `limit` caps how many new carts are made
 * (the rest are made by the next run).
 */
export function assembleCarts(
  db: Db,
  week: IsoWeek,
  options: { defaultCurrency: string; now: string; limit?: number },
): AssembleResult {
  const findCart = db
    .prepare<[number, string], number>("SELECT id FROM carts WHERE customer_id = ? AND week = ?")
    .pluck();
  const insertCart = db.prepare(
    "INSERT INTO carts (customer_id, week, currency, total_minor, item_count, created_at) VALUES (?, ?, ?, ?, ?, ?)",
  );
  const insertItem = db.prepare(
    `INSERT INTO cart_items (cart_id, group_key, sku, product_name, quantity, unit_price_minor, currency, due_on, reminder_number)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const lastOrderAt = db
    .prepare<[number, string], string | null>(
      `SELECT max(placed_at) FROM orders WHERE customer_id = ? AND status_class <> 'cancelled' AND placed_at <= ?`,
    )
    .pluck();
  // Read first, then write: the reminders cursor can't stay open across writes to the same connection.
  const drafts = [...draftCarts(db, week, options)];
  const created: (Cart & { id: number })[] = [];
  let existing = 0;
  for (const cart of drafts) {
    if (findCart.get(cart.customer_id, week.week) !== undefined) {
      existing++;
      continue;
    }
    if (options.limit !== undefined && created.length >= options.limit) continue;
    const id = Number(
      insertCart.run(
        cart.customer_id,
        week.week,
        cart.currency,
        cart.total_minor,
        cart.items.length,
        options.now,
      ).lastInsertRowid,
    );
    for (const item of cart.items) {
      insertItem.run(
        id,
        item.group_key,
        item.sku,
        item.name,
        item.quantity,
        item.unit_price_minor,
        item.currency,
        item.due_on,
        item.reminder_number,
      );
    }
    created.push({ ...cart, id, last_order_at: lastOrderAt.get(cart.customer_id, options.now) ?? null });
  }
  return { created, existing };
}

const NOT_HELD_OUT = "id NOT IN (SELECT cart_id FROM holdout WHERE held_out = 1)";

/**
 * The stored carts of a week, with their items, for the operator's digest. Carts of the hold-out
 * group are left out: an operator who called those customers about them would spoil the comparison.
 */
export function cartsOfWeek(
  db: Db,
  week: string,
  max: number,
): { carts: (Cart & { id: number })[]; count: number } {
  const count =
    db
      .prepare<[string], number>(`SELECT count(*) FROM carts WHERE week = ? AND ${NOT_HELD_OUT}`)
      .pluck()
      .get(week) ?? 0;
  const carts = db
    .prepare<
      [string, number],
      { id: number; customer_id: number; currency: string | null; total_minor: number | null }
    >(
      `SELECT id, customer_id, currency, total_minor FROM carts WHERE week = ? AND ${NOT_HELD_OUT} ORDER BY id LIMIT ?`,
    )
    .all(week, max);
  const items = db.prepare<[number], CartItem>(
    `SELECT group_key, sku, product_name AS name, quantity, unit_price_minor, currency,
            CASE WHEN unit_price_minor IS NULL THEN NULL ELSE round(unit_price_minor * quantity) END AS line_total_minor,
            due_on, reminder_number
       FROM cart_items WHERE cart_id = ? ORDER BY due_on, group_key`,
  );
  return { carts: carts.map((cart) => ({ ...cart, week, items: items.all(cart.id) })), count };
}
