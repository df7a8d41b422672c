/**
 * Reading the facts planning needs, in bounded batches: the products (with their rules resolved
 * once), the admin's overrides, and each customer's order lines in time order.
 */
import type { Db } from "../../store/open.js";
import { dayNumber, LocalDays } from "../days.js";
import type { CustomerSettings, PlanProduct, ReminderOverride } from "./compute.js";
import type { PlanLine } from "./purchases.js";
import type { SupplyRules } from "./rules.js";

/**
 * What tells products apart: the sku, or for a line without one, its name. (Every sku an order import
 * sees is put in the catalog, so the lines planned by name alone are those without a sku.)
 */
export function productKey(sku: string | null, name: string | null): string {
  return sku ?? `\u0000${name ?? ""}`;
}

/** All the products, indexed by a small number (pid) that the line query returns instead of the sku text. */
export class ProductIndex {
  readonly list: PlanProduct[] = [];
  private readonly byKey = new Map<string, number>();

  constructor(
    private readonly rules: SupplyRules,
    db: Db,
  ) {
    const rows = db
      .prepare<
        [],
        { sku: string; name: string | null; group_key: string | null; days_per_unit: number | null }
      >("SELECT sku, name, group_key, days_per_unit FROM products ORDER BY sku")
      .all();
    for (const row of rows) this.add(row.sku, row.name, row.group_key, row.days_per_unit);
  }

  /** The pid of a product the catalog doesn't hold: a line without a sku is known by its name. */
  adhoc(sku: string | null, name: string | null): number {
    return this.byKey.get(productKey(sku, name)) ?? this.add(sku, name, null, null);
  }

  private add(
    sku: string | null,
    name: string | null,
    group: string | null,
    daysPerUnit: number | null,
  ): number {
    const facts = { sku, name, groupKey: group ?? sku ?? name ?? "", daysPerUnit };
    const pid = this.list.length;
    this.list.push({ ...facts, rule: this.rules.ruleFor(facts) });
    this.byKey.set(productKey(sku, name), pid);
    return pid;
  }

  /** Lets the line query turn a sku into its pid inside SQLite. */
  publish(db: Db): void {
    db.exec(
      "DROP TABLE IF EXISTS temp.plan_products; CREATE TEMP TABLE plan_products (sku TEXT PRIMARY KEY, pid INTEGER NOT NULL) WITHOUT ROWID",
    );
    const insert = db.prepare("INSERT INTO temp.plan_products (sku, pid) VALUES (?, ?)");
    this.list.forEach((product, pid) => {
      if (product.sku !== null) insert.run(product.sku, pid);
    });
  }
}

export interface Overrides {
  usage: Map<number, number>;
  reminders: Map<number, Map<string, ReminderOverride>>;
}

/** The admin's facts are few (typed in by hand): all of them fit in memory. */
export function loadOverrides(db: Db): Overrides {
  const usage = new Map<number, number>();
  for (const row of db
    .prepare<[], { customer_id: number; usage_factor: number }>(
      "SELECT customer_id, usage_factor FROM customer_usage_overrides",
    )
    .all()) {
    usage.set(row.customer_id, row.usage_factor);
  }
  const reminders = new Map<number, Map<string, ReminderOverride>>();
  for (const row of db
    .prepare<
      [],
      {
        customer_id: number;
        group_key: string;
        due_on: string | null;
        purchase_order_id: number | null;
        cycle_days: number | null;
        paused: number;
      }
    >("SELECT customer_id, group_key, due_on, purchase_order_id, cycle_days, paused FROM reminder_overrides")
    .all()) {
    let groups = reminders.get(row.customer_id);
    if (groups === undefined) reminders.set(row.customer_id, (groups = new Map()));
    groups.set(row.group_key, {
      dueDay: row.due_on === null ? null : dayNumber(row.due_on),
      duePurchaseOrderId: row.purchase_order_id,
      cycleDays: row.cycle_days,
      paused: row.paused === 1,
    });
  }
  return { usage, reminders };
}

export function customerSettings(
  customerId: number,
  groupKey: string,
  importedUsageFactor: number | null,
  overrides: Overrides,
): CustomerSettings {
  const groups = overrides.reminders.get(customerId);
  return {
    customerId,
    importedUsageFactor,
    manualUsageFactor: overrides.usage.get(customerId) ?? null,
    override: groups?.get(groupKey),
    overrideAll: groups?.get("*"),
  };
}

/** One customer's lines (all groups, in time order), and their imported usage factor. */
export interface CustomerLines {
  customerId: number;
  usageFactor: number | null;
  lines: PlanLine[];
  /** Each order's time (unix seconds), when asked for (the backtest cuts the lines at a Monday 09:00). */
  times?: Map<number, number>;
}

/**
 * Customers are read by ranges of ids, so each query walks the orders_customer index in order (no
 * sort) and at most one batch of lines is in memory. A batch is fetched whole (`all`), which leaves
 * the connection free for the writes between batches.
 *
 * Why 1,000: each batch's result crosses to the writing thread as one message, which lives there until
 * written. On a first plan of the benchmark shop (every reminder new), batches of 4,000 grew the
 * writer's young generation to its 32 MiB limit and took the plan to 305–308 MiB peak RSS; 2,000 gave
 * 269–277 MiB, 1,000 252–254 MiB, 500 246–250 MiB, all equally fast (7.6–8.2 s on this machine).
 */
export const CUSTOMERS_PER_BATCH = 1000;

/**
 * One row per order, its lines packed by SQLite into one JSON array: `pid, quantity` for a line of a
 * known product, `-1, quantity, sku, name` for one the catalog doesn't hold. better-sqlite3 hands
 * each value to JavaScript separately, and a row per line cost more than the query (3.6 s for the
 * benchmark's 960,000 lines, against 2.2 s this way, parsing included). The lines come in the
 * order_lines key order (order_id, line_key), as the lookup walks it; an explicit ORDER BY in the
 * aggregate cost 0.6 s more for the same order. `json_quote` writes every number JSON can read (an
 * infinite quantity, which `||` would write as "Inf", becomes 9.0e+999).
 */
const ORDERS_WITH_LINES = `
  SELECT o.customer_id, o.id, unixepoch(o.placed_at),
         '[' || (SELECT group_concat(
                   CASE WHEN pp.pid IS NULL
                        THEN '-1,' || json_quote(l.quantity) || ',' || json_quote(l.sku) || ',' || json_quote(l.product_name)
                        ELSE pp.pid || ',' || json_quote(l.quantity) END, ',')
                 FROM order_lines l LEFT JOIN temp.plan_products pp ON pp.sku = l.sku
                 WHERE l.order_id = o.id) || ']'
  FROM orders o
  WHERE o.customer_id BETWEEN ? AND ? AND o.status_class <> 'cancelled' AND o.placed_at <= ?
  ORDER BY o.customer_id, o.placed_at, o.id`;

/** A range of customer ids, both ends included. */
export type CustomerRange = [from: number, to: number];

/** The ranges of CUSTOMERS_PER_BATCH ids that cover every customer. */
export function customerRanges(db: Db): CustomerRange[] {
  const [low, high] = db
    .prepare("SELECT coalesce(min(id), 1), coalesce(max(id), 0) FROM customers")
    .raw()
    .get() as [number, number];
  const ranges: CustomerRange[] = [];
  for (let from = low; from <= high; from += CUSTOMERS_PER_BATCH)
    ranges.push([from, Math.min(high, from + CUSTOMERS_PER_BATCH - 1)]);
  return ranges;
}

export function* customerBatches(
  db: Db,
  products: ProductIndex,
  zone: string,
  nowIso: string,
  ranges: readonly CustomerRange[],
  withTimes = false,
): Generator<{ from: number; to: number; customers: CustomerLines[] }> {
  const orders = db
    .prepare<[number, number, string], [number, number, number, string | null]>(ORDERS_WITH_LINES)
    .raw();
  const factors = db
    .prepare<[number, number], [number, number]>(
      "SELECT id, usage_factor FROM customers WHERE id BETWEEN ? AND ? AND usage_factor IS NOT NULL",
    )
    .raw();
  const days = new LocalDays(zone);
  for (const [from, to] of ranges) {
    const usage = new Map(factors.all(from, to));
    const batch: CustomerLines[] = [];
    let current: CustomerLines | undefined;
    for (const [customerId, orderId, epoch, packed] of orders.all(from, to, nowIso)) {
      if (packed === null) continue; // an order without lines
      if (current?.customerId !== customerId) {
        current = { customerId, usageFactor: usage.get(customerId) ?? null, lines: [] };
        if (withTimes) current.times = new Map();
        batch.push(current);
      }
      current.times?.set(orderId, epoch);
      const day = days.dayOf(epoch);
      const values = JSON.parse(packed) as (number | string | null)[];
      for (let i = 0; i < values.length;) {
        const pid = values[i] as number;
        if (pid >= 0) {
          current.lines.push({ orderId, day, pid, quantity: values[i + 1] as number });
          i += 2;
        } else {
          const sku = values[i + 2] as string | null;
          const name = values[i + 3] as string | null;
          current.lines.push({
            orderId,
            day,
            pid: products.adhoc(sku, name),
            quantity: values[i + 1] as number,
          });
          i += 4;
        }
      }
    }
    yield { from, to, customers: batch };
  }
}
