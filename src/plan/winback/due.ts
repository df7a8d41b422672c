/**
 * What the Monday batch needs from the win-back plan: the emails due this week and the open call
 * tasks for the operator's digest. Reads the lifecycle and tasks that planLifecycle and planTasks
 * stored; it writes nothing and sends nothing (the outbox applies consent, caps and send windows).
 */
import type { Config } from "../../config/schema.js";
import type { Db } from "../../store/open.js";
import { dayNumber, dayString, makeDayOf } from "../days.js";
import { currentSlot } from "./cadence.js";
import { listOpenTasks, type TaskRow } from "./tasks.js";
import { compileNamePattern } from "../../config/replenishment.js";
import { SupplyRules } from "../replenishment/rules.js";

export interface FavouriteProduct {
  sku: string | null;
  name: string | null;
  /** How many of the customer's orders had it, and how many units in all. */
  orders: number;
  quantity: number;
  /** The catalog's current price, when the product is known. */
  unit_price_minor: number | null;
  currency: string | null;
}

export interface DueWinbackEmail {
  customer_id: number;
  status: "warm" | "cold" | "lost";
  /** The n-th contact while in this status (1 on the day they entered it). */
  n: number;
  due_on: string;
  idempotency_key: string;
  template: string;
  email: string;
  name: string | null;
  first_name: string | null;
  locale: string | null;
  /** 1, 0, or null when the customer never said: the outbox's consent rules decide. */
  accepts_marketing: number | null;
  /** The day they first became overdue since their last order (the backlog's order: most recent first). */
  lapsed_on: string;
  /** True when a win-back email was queued for them since their last order (a backlog customer so is released). */
  contacted: boolean;
  /** False when they opted out or their address is suppressed: the outbox will skip their email. */
  reachable: boolean;
  favourite_products: FavouriteProduct[];
}

const FAVOURITES = 3;

/** Monday..Sunday of the ISO week a day number falls in (1970-01-01 was a Thursday). */
export function isoWeekDays(day: number): { monday: number; sunday: number } {
  const weekday = (((day + 3) % 7) + 7) % 7; // Monday = 0
  return { monday: day - weekday, sunday: day - weekday + 6 };
}

/**
 * The win-back emails due in the ISO week of `now`: for each warm, cold or lost customer whose
 * cadence has an email, the contact slot in force at the end of that week. A slot that fell due
 * earlier and was not yet sent is still returned; the idempotency key
 * `winback:<customer>:<status>:<n>` keeps the outbox from sending any slot twice, and no slot is due
 * sooner than `every_days` after the customer's previous win-back email. A customer who ordered
 * again is won back (or active) and gets none. How many get their first one this week is
 * selectWinback's (backlog.ts) to decide; products are filled in unless `favourites: false`.
 */
export function dueWinbackEmails(
  db: Db,
  config: Pick<Config, "timezone" | "winback" | "replenishment">,
  now: string,
  options: { favourites?: boolean } = {},
): DueWinbackEmail[] {
  const today = makeDayOf(config.timezone)(now);
  const { sunday } = isoWeekDays(today);
  const rows = db
    .prepare<
      [],
      {
        customer_id: number;
        status: "warm" | "cold" | "lost";
        since: string;
        email: string;
        name: string | null;
        first_name: string | null;
        locale: string | null;
        accepts_marketing: number | null;
        lapsed_on: string;
        last_contacted_on: string | null;
        reachable: number;
      }
    >(
      `SELECT l.customer_id, l.status, l.since, c.email, c.name, c.first_name, c.locale, c.accepts_marketing,
              COALESCE(l.lapsed_on, l.since) AS lapsed_on,
              (SELECT substr(max(o.created_at), 1, 10) FROM outbox o WHERE o.customer_id = l.customer_id
                 AND o.marketing = 1 AND o.idempotency_key LIKE 'winback:%' AND o.created_at >= l.last_order_on)
                AS last_contacted_on,
              c.accepts_marketing IS NOT 0 AND NOT EXISTS (SELECT 1 FROM suppressions s WHERE s.address = c.email)
                AS reachable
       FROM customer_lifecycle l JOIN customers c ON c.id = l.customer_id
       WHERE l.status IN ('warm', 'cold', 'lost') AND c.email IS NOT NULL
       ORDER BY l.customer_id`,
    )
    .all();
  const due: DueWinbackEmail[] = [];
  for (const row of rows) {
    const template = config.winback[row.status].email;
    if (template === null) continue;
    const slot = currentSlot(row.status, dayNumber(row.since), sunday, config.winback);
    if (slot === null) continue;
    // A customer mailed less than every_days ago (the first email of someone who waited, then their
    // slot moved on) is not due yet: the cadence counts from the email they got.
    if (
      row.last_contacted_on !== null &&
      today - dayNumber(row.last_contacted_on) < config.winback[row.status].every_days
    )
      continue;
    const { since: _since, last_contacted_on, reachable, ...customer } = row;
    due.push({
      ...customer,
      reachable: reachable === 1,
      contacted: last_contacted_on !== null,
      n: slot.n,
      due_on: dayString(slot.dueDay),
      idempotency_key: `winback:${row.customer_id}:${row.status}:${slot.n}`,
      template,
      favourite_products: [],
    });
  }
  if (options.favourites ?? true) withFavourites(db, config, due, now);
  return due;
}

/** Fills in the products each email offers (only for the emails that will be queued: it reads their orders). */
export function withFavourites(
  db: Db,
  config: Pick<Config, "replenishment" | "winback">,
  emails: DueWinbackEmail[],
  now: string,
): void {
  const favourites = favouriteProducts(
    db,
    config,
    emails.map((d) => d.customer_id),
    now,
  );
  for (const email of emails) email.favourite_products = favourites.get(email.customer_id) ?? [];
}

/**
 * Each customer's most bought products worth offering again, as of now: by the number of their
 * orders they were in, then units, then recency. Worth offering means replenishable: some customer
 * of this shop bought it on two different days, or a supply rule (or a products import's
 * days_per_unit) says how long it lasts; and never a line `winback.not_offered` names (a tip,
 * shipping, a gift card, a fee). A one-off purchase (a car safety seat bought once) is not offered;
 * a customer with nothing left gets the email without a product list.
 */
export function favouriteProducts(
  db: Db,
  config: Pick<Config, "replenishment" | "winback">,
  customerIds: number[],
  now: string,
): Map<number, FavouriteProduct[]> {
  const result = new Map<number, FavouriteProduct[]>();
  if (customerIds.length === 0) return result;
  const rows = db
    .prepare<
      [{ ids: string; now: string }],
      FavouriteProduct & {
        customer_id: number;
        repeated: number;
        group_key: string | null;
        days_per_unit: number | null;
      }
    >(
      `WITH wanted(customer_id) AS (SELECT value FROM json_each(:ids)),
       bought AS (
         SELECT o.customer_id, COALESCE(l.sku, '#' || l.product_name) AS product, max(l.sku) AS sku,
                max(l.product_name) AS line_name, count(DISTINCT o.id) AS orders, sum(l.quantity) AS quantity,
                max(o.placed_at) AS last_at
         FROM wanted JOIN orders o ON o.customer_id = wanted.customer_id
         JOIN order_lines l ON l.order_id = o.id
         WHERE o.status_class <> 'cancelled' AND o.placed_at <= :now AND l.quantity > 0
         GROUP BY o.customer_id, product),
       -- Products some customer bought on two different days (the shop's evidence that they run out).
       repeated AS (
         SELECT DISTINCT product FROM (
           SELECT COALESCE(l.sku, '#' || l.product_name) AS product
           FROM orders o JOIN order_lines l ON l.order_id = o.id
           WHERE o.customer_id IS NOT NULL AND o.status_class <> 'cancelled' AND o.placed_at <= :now
             AND l.quantity > 0 AND COALESCE(l.sku, '#' || l.product_name) IN (SELECT product FROM bought)
           GROUP BY o.customer_id, product HAVING count(DISTINCT substr(o.placed_at, 1, 10)) >= 2)),
       ranked AS (
         SELECT *, row_number() OVER (PARTITION BY customer_id ORDER BY orders DESC, quantity DESC, last_at DESC, product) AS rank
         FROM bought)
       SELECT r.customer_id, r.sku, COALESCE(p.name, r.line_name) AS name, r.orders, r.quantity,
              p.unit_price_minor, p.currency, p.group_key, p.days_per_unit,
              r.product IN (SELECT product FROM repeated) AS repeated
       FROM ranked r LEFT JOIN products p ON p.sku = r.sku
       ORDER BY r.customer_id, r.rank`,
    )
    .all({ ids: JSON.stringify(customerIds), now });
  const offerable = offerableProduct(config);
  for (const { customer_id, repeated, group_key, days_per_unit, ...product } of rows) {
    const list = result.get(customer_id) ?? [];
    if (list.length >= FAVOURITES) continue;
    if (!offerable(product, repeated === 1, group_key, days_per_unit)) continue;
    list.push(product);
    result.set(customer_id, list);
  }
  return result;
}

/** The rule deciding whether one product may be offered (see favouriteProducts). */
export function offerableProduct(config: Pick<Config, "replenishment" | "winback">) {
  const rules = new SupplyRules(config.replenishment);
  const notOffered = config.winback.not_offered.map(compileNamePattern);
  return (
    product: Pick<FavouriteProduct, "sku" | "name">,
    repeated: boolean,
    groupKey: string | null,
    daysPerUnit: number | null,
  ): boolean => {
    const names = [product.name, product.sku].filter((v): v is string => v !== null);
    if (names.some((name) => notOffered.some((pattern) => pattern.test(name)))) return false;
    if (repeated) return true;
    const facts = {
      sku: product.sku,
      name: product.name,
      groupKey: groupKey ?? product.sku ?? product.name ?? "",
      daysPerUnit,
    };
    return rules.ruleFor(facts) !== null;
  };
}

/** The open call tasks due by `now`, for the operator's weekly digest (the same rows `comeback tasks` lists). */
export function dueTasksForDigest(db: Db, config: Pick<Config, "timezone">, now: string): TaskRow[] {
  return listOpenTasks(db, config, now);
}
