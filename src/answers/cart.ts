/**
 * The cart a customer opens from a cart email (issue 18): the outbox row the signed link names, its
 * cart (carts, cart_items of that customer and week), each item's picture from the catalog, what the
 * customer already answered (a reorder, postponed items), and the quantities they edit on the page.
 * Reads only; the answers are written by reorders.ts, postpone.ts and unsubscribe.ts.
 */
import type { Db } from "../store/open.js";
import { cartTotals, type CartItem } from "../deliver/carts.js";

export interface PageItem {
  /** The item's place in the cart: the page's field names (qty_0, later_0, …) use it. */
  index: number;
  group_key: string;
  sku: string | null;
  name: string;
  /** The quantity shown: the customer's edit, else the cart's suggestion (whole units, at least 1). */
  quantity: number;
  unit_price_minor: number | null;
  currency: string | null;
  line_total_minor: number | null;
  image_url: string | null;
}

export interface CustomerOnPage {
  id: number;
  external_id: string | null;
  name: string | null;
  first_name: string | null;
  phone: string | null;
  email: string | null;
  locale: string | null;
}

export interface OpenedCart {
  outboxId: number;
  cartId: number;
  week: string;
  customer: CustomerOnPage;
  /** The cart's items still to decide on: postponed ones are left out (they are in `postponed`). */
  items: PageItem[];
  /** Items of this cart the customer postponed from it. */
  postponed: { index: number; name: string; until: string | null }[];
  /** The reorder this cart became, once confirmed. */
  reorder: { id: number; created_at: string; status: string } | null;
}

/** The suggested quantity of a cart item as a whole number of units (what the cart link also uses). */
export function wholeUnits(quantity: number): number {
  return Math.max(1, Math.round(quantity));
}

/**
 * The cart of outbox row `outboxId`, or null when there is none for this customer: the row is not a
 * cart email, belongs to another customer, or its cart is gone. The caller shows one 403 page for all
 * of these, so a link reveals nothing beyond what it was made for.
 */
export function openCart(db: Db, outboxId: number, customerId: number): OpenedCart | null {
  const row = db
    .prepare<[number], { kind: string; customer_id: number | null; payload: string }>(
      "SELECT kind, customer_id, payload FROM outbox WHERE id = ?",
    )
    .get(outboxId);
  if (!row || row.kind !== "cart" || row.customer_id !== customerId) return null;
  const week = (JSON.parse(row.payload) as { week?: unknown }).week;
  if (typeof week !== "string") return null;
  const cart = db
    .prepare<[number, string], { id: number }>("SELECT id FROM carts WHERE customer_id = ? AND week = ?")
    .get(customerId, week);
  if (!cart) return null;
  const customer = db
    .prepare<[number], Omit<CustomerOnPage, "name"> & { name: string | null; last_name: string | null }>(
      "SELECT id, external_id, name, first_name, last_name, phone, coalesce(email_display, email) AS email, locale FROM customers WHERE id = ?",
    )
    .get(customerId)!;
  const rows = db
    .prepare<[number], Omit<PageItem, "index" | "line_total_minor" | "name"> & { name: string | null }>(
      `SELECT i.group_key, i.sku, coalesce(i.product_name, p.name, i.sku, i.group_key) AS name, i.quantity,
              i.unit_price_minor, i.currency, p.image_url
         FROM cart_items i LEFT JOIN products p ON p.sku = i.sku
        WHERE i.cart_id = ? ORDER BY i.due_on, i.group_key`,
    )
    .all(cart.id);
  const postponedHere = new Map(
    db
      .prepare<[number, number], { group_key: string; until: string | null }>(
        "SELECT group_key, until FROM postponements WHERE customer_id = ? AND outbox_id = ?",
      )
      .all(customerId, outboxId)
      .map((p) => [p.group_key, p.until]),
  );
  const items: PageItem[] = [];
  const postponed: OpenedCart["postponed"] = [];
  rows.forEach((item, index) => {
    const name = item.name ?? item.group_key;
    if (postponedHere.has(item.group_key)) {
      postponed.push({ index, name, until: postponedHere.get(item.group_key)! });
      return;
    }
    const quantity = wholeUnits(item.quantity);
    items.push({
      ...item,
      index,
      name,
      quantity,
      line_total_minor: lineTotal(item.unit_price_minor, quantity),
    });
  });
  const reorder =
    db
      .prepare<[number], { id: number; created_at: string; status: string }>(
        "SELECT id, created_at, status FROM reorders WHERE cart_id = ?",
      )
      .get(cart.id) ?? null;
  const fullName =
    customer.name ?? ([customer.first_name, customer.last_name].filter(Boolean).join(" ") || null);
  const { last_name: _last, ...rest } = customer;
  return {
    outboxId,
    cartId: cart.id,
    week,
    customer: { ...rest, name: fullName },
    items,
    postponed,
    reorder,
  };
}

function lineTotal(unit: number | null, quantity: number): number | null {
  return unit === null ? null : Math.round(unit * quantity);
}

/** The most of one item a customer can ask for on the page: more is a typo, not a reorder. */
export const MAX_QUANTITY = 99;

/**
 * The customer's edits from the page's form: `qty_N` (a whole number 0–99; anything else keeps the
 * suggestion) and `remove_N` (the item's remove checkbox). An item at 0 is removed: it stays listed
 * (so it can be put back) but counts nothing and is not confirmed.
 */
export function applyEdits(items: readonly PageItem[], form: Record<string, unknown>): PageItem[] {
  return items.map((item) => {
    let quantity = item.quantity;
    const given = form[`qty_${item.index}`];
    if (typeof given === "string" && /^\s*\d{1,3}\s*$/.test(given)) {
      quantity = Math.min(MAX_QUANTITY, Number(given));
    }
    if (form[`remove_${item.index}`] !== undefined) quantity = 0;
    return { ...item, quantity, line_total_minor: lineTotal(item.unit_price_minor, quantity) };
  });
}

/** The total of the items the customer keeps, in the cart's currency (null: a price unknown, or currencies mix). */
export function keptTotals(items: readonly PageItem[]): {
  currency: string | null;
  total_minor: number | null;
} {
  const kept = items.filter((item) => item.quantity > 0);
  if (kept.length === 0) return { currency: items[0]?.currency ?? null, total_minor: 0 };
  return cartTotals(kept as unknown as CartItem[]);
}
