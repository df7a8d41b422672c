/**
 * "Not now" (issue 18): the customer postpones items of their cart, each by 1, 2 or 4 weeks, or says
 * they don't need it any more. A postponed item's reminder moves: a due date for the purchase it is
 * about (reminder_overrides.due_on, as `remind set --due` writes, so every later plan keeps it, and a
 * new purchase plans as usual again), and the stored reminder at once, so the page and `due` agree
 * before the next plan. "Not any more" pauses the group (as `remind pause --group`). The items are
 * kept as postponements: the wishlist the page and the next cart email show.
 */
import type { Db } from "../store/open.js";
import { dayNumber, dayString } from "../plan/days.js";
import { recordEvent } from "../track/events.js";
import type { OpenedCart, PageItem } from "./cart.js";

/** The answers per item: weeks to wait, or `never` (don't need it any more). */
export const POSTPONE_CHOICES = ["1", "2", "4", "never"] as const;
export type PostponeChoice = (typeof POSTPONE_CHOICES)[number];

/** The page's `later_N` fields; an item without a valid answer is left as it is. */
export function postponeChoices(
  items: readonly PageItem[],
  form: Record<string, unknown>,
): { item: PageItem; choice: PostponeChoice }[] {
  const out: { item: PageItem; choice: PostponeChoice }[] = [];
  for (const item of items) {
    const given = form[`later_${item.index}`];
    if ((POSTPONE_CHOICES as readonly unknown[]).includes(given))
      out.push({ item, choice: given as PostponeChoice });
  }
  return out;
}

export interface Postponed {
  group_key: string;
  name: string;
  /** The day the reminder comes back (YYYY-MM-DD); null: paused. */
  until: string | null;
}

/** `today`: the shop's calendar day (YYYY-MM-DD) the weeks count from. */
export function postponeItems(
  db: Db,
  cart: OpenedCart,
  answers: readonly { item: PageItem; choice: PostponeChoice }[],
  options: { now: string; today: string },
): Postponed[] {
  const reminder = db.prepare<[number, string], { purchase_order_id: number }>(
    "SELECT purchase_order_id FROM reminders WHERE customer_id = ? AND group_key = ?",
  );
  const moveOverride = db.prepare(
    `INSERT INTO reminder_overrides (customer_id, group_key, due_on, purchase_order_id, paused, updated_at)
     VALUES (@customer, @group, @until, @order, 0, @now)
     ON CONFLICT (customer_id, group_key) DO UPDATE SET
       due_on = @until, purchase_order_id = @order, paused = 0, updated_at = @now`,
  );
  const moveReminder = db.prepare(
    `UPDATE reminders SET first_due_on = @until, due_on = @until, reminder_number = 1, basis = 'manual',
            state = 'open', updated_at = @now
      WHERE customer_id = @customer AND group_key = @group`,
  );
  const pauseOverride = db.prepare(
    `INSERT INTO reminder_overrides (customer_id, group_key, paused, updated_at) VALUES (@customer, @group, 1, @now)
     ON CONFLICT (customer_id, group_key) DO UPDATE SET paused = 1, updated_at = @now`,
  );
  const pauseReminder = db.prepare(
    "UPDATE reminders SET state = 'paused', updated_at = @now WHERE customer_id = @customer AND group_key = @group AND state = 'open'",
  );
  const keep = db.prepare(
    `INSERT INTO postponements (customer_id, group_key, purchase_order_id, outbox_id, sku, product_name, weeks, until, created_at)
     VALUES (@customer, @group, @order, @outbox, @sku, @name, @weeks, @until, @now)
     ON CONFLICT (customer_id, group_key) DO UPDATE SET purchase_order_id = @order, outbox_id = @outbox,
       sku = @sku, product_name = @name, weeks = @weeks, until = @until, created_at = @now`,
  );
  return db
    .transaction(() => {
      const done: Postponed[] = [];
      for (const { item, choice } of answers) {
        const order = reminder.get(cart.customer.id, item.group_key)?.purchase_order_id ?? null;
        const weeks = choice === "never" ? null : Number(choice);
        const until = weeks === null ? null : dayString(dayNumber(options.today) + 7 * weeks);
        const params = { customer: cart.customer.id, group: item.group_key, until, order, now: options.now };
        if (weeks === null) {
          pauseOverride.run(params);
          pauseReminder.run(params);
        } else if (order !== null) {
          moveOverride.run(params);
          moveReminder.run(params);
        }
        keep.run({ ...params, outbox: cart.outboxId, sku: item.sku, name: item.name, weeks });
        done.push({ group_key: item.group_key, name: item.name, until });
      }
      if (done.length > 0) {
        recordEvent(db, {
          outboxId: cart.outboxId,
          customerId: cart.customer.id,
          kind: "postponed",
          at: options.now,
          detail: { items: answers.map(({ item, choice }) => ({ group: item.group_key, weeks: choice })) },
        });
      }
      return done;
    })
    .immediate();
}

/** A cart payload with the customer's wishlist, leaving out what the cart itself holds. */
export function withWishlist<P extends { customer: { id: number }; items: { group_key: string }[] }>(
  db: Db,
  payload: P,
  today: string,
): P & { wishlist?: { name: string; until: string }[] } {
  const inCart = new Set(payload.items.map((item) => item.group_key));
  const wishlist = wishlistOf(db, payload.customer.id, today)
    .filter((item) => !inCart.has(item.group_key))
    .map(({ name, until }) => ({ name, until }));
  return wishlist.length > 0 ? { ...payload, wishlist } : payload;
}

export interface WishlistItem {
  group_key: string;
  name: string;
  /** When its reminder comes back (YYYY-MM-DD). */
  until: string;
}

/**
 * The customer's wishlist: items they postponed that are still waiting (their day is after `today`)
 * and not bought since (the reminder is still about the postponed purchase). "Not any more" items
 * are not on it: the customer said so.
 */
export function wishlistOf(db: Db, customerId: number, today: string): WishlistItem[] {
  return db
    .prepare<[number, string], WishlistItem>(
      `SELECT p.group_key, coalesce(p.product_name, p.sku, p.group_key) AS name, p.until
         FROM postponements p JOIN reminders r ON r.customer_id = p.customer_id AND r.group_key = p.group_key
        WHERE p.customer_id = ? AND p.until > ? AND r.purchase_order_id IS p.purchase_order_id
        ORDER BY p.until, p.group_key`,
    )
    .all(customerId, today);
}
