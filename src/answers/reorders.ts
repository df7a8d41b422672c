/**
 * Reorder requests (issue 18): a customer confirms their cart on serve's page, and the shop's
 * operator is asked (by an email through the outbox, kind `reorder`) to call them and place the
 * order. One request per cart (`reorders.cart_id` is UNIQUE): confirming twice, or a second tab,
 * makes one request and one email. The items name the purchase whose reminder they answer, so that
 * reminder is not offered again (dueReminders leaves it out); the next imported order of the
 * customer with one of the items closes the request (closeFilledReorders, run by every plan), or the
 * operator closes it (`comeback reorders done ID`).
 */
import { DataError } from "../errors.js";
import type { Db } from "../store/open.js";
import { Outbox } from "../deliver/outbox.js";
import { recordEvent } from "../track/events.js";
import type { OpenedCart, PageItem } from "./cart.js";
import { keptTotals } from "./cart.js";

export const REORDER_STATUSES = ["open", "done", "all"] as const;
export type ReorderStatusFilter = (typeof REORDER_STATUSES)[number];

/** What the operator's `reorder` email is rendered from (no `customer` key: it goes to the operator). */
export interface ReorderPayload {
  reorder_id: number;
  confirmed_at: string;
  week: string;
  person: {
    customer_id: number;
    external_id: string | null;
    name: string | null;
    phone: string | null;
    email: string | null;
  };
  items: {
    name: string;
    sku: string | null;
    quantity: number;
    unit_price_minor: number | null;
    currency: string | null;
    line_total_minor: number | null;
  }[];
  currency: string | null;
  total_minor: number | null;
}

export interface ConfirmResult {
  reorderId: number;
  /** False when the cart had been confirmed before: nothing new was written. */
  created: boolean;
  /** The operator's email was queued (false without operator.email, or when not created). */
  emailQueued: boolean;
}

/**
 * Confirms the cart with the customer's quantities (items at 0 are left out). All in one
 * transaction: the request, its items, the operator's email, the `confirmed` event.
 */
export function confirmCart(
  db: Db,
  cart: OpenedCart,
  items: readonly PageItem[],
  options: { now: string; operator: string | null },
): ConfirmResult {
  const kept = items.filter((item) => item.quantity > 0);
  if (kept.length === 0) throw new DataError("nothing to confirm: every item was removed");
  const totals = keptTotals(kept);
  return db
    .transaction((): ConfirmResult => {
      const inserted = db
        .prepare(
          `INSERT INTO reorders (customer_id, cart_id, outbox_id, currency, total_minor, status, created_at)
         VALUES (?, ?, ?, ?, ?, 'open', ?) ON CONFLICT (cart_id) DO NOTHING`,
        )
        .run(cart.customer.id, cart.cartId, cart.outboxId, totals.currency, totals.total_minor, options.now);
      if (inserted.changes === 0) {
        const id = db
          .prepare<[number], number>("SELECT id FROM reorders WHERE cart_id = ?")
          .pluck()
          .get(cart.cartId)!;
        return { reorderId: id, created: false, emailQueued: false };
      }
      const reorderId = Number(inserted.lastInsertRowid);
      const purchase = db
        .prepare<[number, string], number>(
          "SELECT purchase_order_id FROM reminders WHERE customer_id = ? AND group_key = ?",
        )
        .pluck();
      const insertItem = db.prepare(
        `INSERT INTO reorder_items (reorder_id, group_key, sku, product_name, quantity, unit_price_minor, currency, purchase_order_id)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      );
      for (const item of kept) {
        insertItem.run(
          reorderId,
          item.group_key,
          item.sku,
          item.name,
          item.quantity,
          item.unit_price_minor,
          item.currency,
          purchase.get(cart.customer.id, item.group_key) ?? null,
        );
      }
      let emailQueued = false;
      if (options.operator !== null) {
        const payload: ReorderPayload = {
          reorder_id: reorderId,
          confirmed_at: options.now,
          week: cart.week,
          person: {
            customer_id: cart.customer.id,
            external_id: cart.customer.external_id,
            name: cart.customer.name,
            phone: cart.customer.phone,
            email: cart.customer.email,
          },
          items: kept.map(({ name, sku, quantity, unit_price_minor, currency, line_total_minor }) => ({
            name,
            sku,
            quantity,
            unit_price_minor,
            currency,
            line_total_minor,
          })),
          ...totals,
        };
        emailQueued = new Outbox(db).enqueue(
          {
            key: `reorder:${reorderId}`,
            kind: "reorder",
            marketing: false,
            customerId: null,
            recipient: options.operator,
            payload,
          },
          options.now,
        );
      }
      recordEvent(db, {
        outboxId: cart.outboxId,
        customerId: cart.customer.id,
        kind: "confirmed",
        at: options.now,
        detail: { reorder_id: reorderId, items: kept.length },
      });
      return { reorderId, created: true, emailQueued };
    })
    .immediate();
}

export interface ReorderRow {
  id: number;
  status: "open" | "done";
  created_at: string;
  customer_id: number;
  external_id: string | null;
  name: string | null;
  phone: string | null;
  email: string | null;
  week: string;
  currency: string | null;
  total_minor: number | null;
  closed_by: "operator" | "order" | null;
  closed_order: string | null;
  closed_at: string | null;
  items: {
    sku: string | null;
    name: string | null;
    quantity: number;
    unit_price_minor: number | null;
    currency: string | null;
  }[];
}

/** The reorder requests, oldest first (the operator works through them in order). */
export function listReorders(db: Db, status: ReorderStatusFilter): ReorderRow[] {
  const rows = db
    .prepare<{ status: string }, Omit<ReorderRow, "items">>(
      `SELECT r.id, r.status, r.created_at, r.customer_id, c.external_id,
              coalesce(c.name, nullif(trim(coalesce(c.first_name, '') || ' ' || coalesce(c.last_name, '')), '')) AS name,
              c.phone, coalesce(c.email_display, c.email) AS email, k.week, r.currency, r.total_minor,
              r.closed_by, o.external_id AS closed_order, r.closed_at
         FROM reorders r JOIN customers c ON c.id = r.customer_id JOIN carts k ON k.id = r.cart_id
         LEFT JOIN orders o ON o.id = r.closed_order_id
        WHERE @status = 'all' OR r.status = @status
        ORDER BY r.created_at, r.id`,
    )
    .all({ status });
  const items = db.prepare<[number], ReorderRow["items"][number]>(
    "SELECT sku, product_name AS name, quantity, unit_price_minor, currency FROM reorder_items WHERE reorder_id = ? ORDER BY group_key",
  );
  return rows.map((row) => ({ ...row, items: items.all(row.id) }));
}

/** `comeback reorders done ID`: the operator placed the order (or gave up on it). */
export function closeReorder(db: Db, id: number, now: string): { id: number; was: "open" | "done" } {
  const row = db
    .prepare<[number], { status: "open" | "done" }>("SELECT status FROM reorders WHERE id = ?")
    .get(id);
  if (!row) throw new DataError(`there is no reorder ${id} (comeback reorders --status all lists them)`);
  if (row.status === "open") {
    db.prepare(
      "UPDATE reorders SET status = 'done', closed_by = 'operator', closed_at = ? WHERE id = ? AND status = 'open'",
    ).run(now, id);
  }
  return { id, was: row.status };
}

/**
 * Closes every open request whose customer has since placed an order (imported, not cancelled,
 * placed at or after the confirmation) with at least one of its items: by sku, or by the catalog's
 * group. One of the items is enough: on the phone the customer may drop or swap the rest. Returns
 * how many were closed. Run by plan, which every import is followed by.
 */
export function closeFilledReorders(db: Db, now: string): number {
  const filled = db
    .prepare<[], { id: number; order_id: number }>(
      `SELECT r.id, (
         SELECT o.id FROM orders o
          WHERE o.customer_id = r.customer_id AND o.placed_at >= substr(r.created_at, 1, 19)
            AND o.status_class <> 'cancelled'
            AND EXISTS (
              SELECT 1 FROM order_lines l JOIN reorder_items ri ON ri.reorder_id = r.id
                LEFT JOIN products p ON p.sku = l.sku
               WHERE l.order_id = o.id AND l.quantity > 0
                 AND (l.sku = ri.sku OR p.group_key = ri.group_key))
          ORDER BY o.placed_at, o.id LIMIT 1) AS order_id
         FROM reorders r
        WHERE r.status = 'open' AND order_id IS NOT NULL`,
    )
    .all();
  const close = db.prepare(
    "UPDATE reorders SET status = 'done', closed_by = 'order', closed_order_id = ?, closed_at = ? WHERE id = ? AND status = 'open'",
  );
  for (const { id, order_id } of filled) close.run(order_id, now, id);
  return filled.length;
}

export interface ReorderSummary {
  id: number;
  created_at: string;
  currency: string | null;
  total_minor: number | null;
  items: {
    name: string | null;
    quantity: number;
    unit_price_minor: number | null;
    currency: string | null;
    line_total_minor: number | null;
  }[];
}

/** One request as the customer's thank-you page shows it. */
export function reorderSummary(db: Db, id: number): ReorderSummary | null {
  const row = db
    .prepare<[number], Omit<ReorderSummary, "items">>(
      "SELECT id, created_at, currency, total_minor FROM reorders WHERE id = ?",
    )
    .get(id);
  if (!row) return null;
  const items = db
    .prepare<[number], ReorderSummary["items"][number]>(
      `SELECT product_name AS name, quantity, unit_price_minor, currency,
              CASE WHEN unit_price_minor IS NULL THEN NULL ELSE CAST(round(unit_price_minor * quantity) AS INTEGER) END AS line_total_minor
         FROM reorder_items WHERE reorder_id = ? ORDER BY group_key`,
    )
    .all(id);
  return { ...row, items };
}
