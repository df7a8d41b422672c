/**
 * Predicted carts: for an ISO week, one cart per customer holding every open reminder due by the
 * end of that week (Sunday, in the shop's timezone), each with the quantity of the last purchase and
 * the current price: the catalog's when known, else what the customer last paid.
 *
 * A cart, once made for a (customer, week), is never changed: running the batch again in the same
 * week finds it and adds nothing, even if another reminder has become due since.
 */
import type { Db } from "../store/open.js";
import type { IsoWeek } from "./clock.js";

export interface CartItem {
  group_key: string;
  sku: string | null;
  name: string;
  quantity: number;
  unit_price_minor: number | null;
  currency: string | null;
  line_total_minor: number | null;
  due_on: string;
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
}

interface DueRow {
  customer_id: number;
  group_key: string;
  sku: string | null;
  product_name: string | null;
  quantity: number;
  due_on: string;
  reminder_number: number;
  catalog_name: string | null;
  catalog_price: number | null;
  catalog_currency: string | null;
  paid_price: number | null;
  order_currency: string;
}

const DUE_SQL = `
  SELECT r.customer_id, r.group_key, r.sku, r.product_name, r.quantity, r.due_on, r.reminder_number,
         p.name AS catalog_name, p.unit_price_minor AS catalog_price, p.currency AS catalog_currency,
         (SELECT l.unit_price_minor FROM order_lines l
           WHERE l.order_id = r.purchase_order_id AND l.sku IS r.sku
             AND l.quantity > 0 AND l.unit_price_minor IS NOT NULL
           ORDER BY l.line_key LIMIT 1) AS paid_price,
         o.currency AS order_currency
    FROM reminders r
    JOIN orders o ON o.id = r.purchase_order_id
    LEFT JOIN products p ON p.sku = r.sku
   WHERE r.state = 'open' AND r.due_on <= @sunday AND (@customer IS NULL OR r.customer_id = @customer)
     -- A reminder stays open until its next cycle; offered once, it waits for that cycle, not next Monday.
     AND NOT EXISTS (
       SELECT 1 FROM carts c JOIN cart_items i ON i.cart_id = c.id
        WHERE c.customer_id = r.customer_id AND c.week <> @week AND i.group_key = r.group_key
          AND i.due_on = r.due_on AND i.reminder_number = r.reminder_number)
   ORDER BY r.customer_id, r.due_on, r.group_key`;

function toItem(row: DueRow, defaultCurrency: string): CartItem {
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
    name: row.product_name ?? row.catalog_name ?? row.sku ?? row.group_key,
    quantity: row.quantity,
    unit_price_minor: unit,
    currency,
    line_total_minor: unit === null ? null : Math.round(unit * row.quantity),
    due_on: row.due_on,
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
  const rows = db
    .prepare<{ sunday: string; week: string; customer: number | null }, DueRow>(DUE_SQL)
    .iterate({ sunday: week.sunday, week: week.week, customer: options.customerId ?? null });
  let current: Cart | null = null;
  for (const row of rows) {
    if (current && current.customer_id !== row.customer_id) {
      yield { ...current, ...cartTotals(current.items) };
      current = null;
    }
    current ??= {
      customer_id: row.customer_id,
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
    created.push({ ...cart, id });
  }
  return { created, existing };
}

/** The stored carts of a week, with their items, for the operator's digest. */
export function cartsOfWeek(
  db: Db,
  week: string,
  max: number,
): { carts: (Cart & { id: number })[]; count: number } {
  const count =
    db.prepare<[string], number>("SELECT count(*) FROM carts WHERE week = ?").pluck().get(week) ?? 0;
  const carts = db
    .prepare<
      [string, number],
      { id: number; customer_id: number; currency: string | null; total_minor: number | null }
    >("SELECT id, customer_id, currency, total_minor FROM carts WHERE week = ? ORDER BY id LIMIT ?")
    .all(week, max);
  const items = db.prepare<[number], CartItem>(
    `SELECT group_key, sku, product_name AS name, quantity, unit_price_minor, currency,
            CASE WHEN unit_price_minor IS NULL THEN NULL ELSE round(unit_price_minor * quantity) END AS line_total_minor,
            due_on, reminder_number
       FROM cart_items WHERE cart_id = ? ORDER BY due_on, group_key`,
  );
  return { carts: carts.map((cart) => ({ ...cart, week, items: items.all(cart.id) })), count };
}
