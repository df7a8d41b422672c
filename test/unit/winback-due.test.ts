/** The win-back emails due this week and the products they offer (src/plan/winback/due.ts), on a real database. */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { defaultConfig } from "../../src/config/schema.js";
import { dueWinbackEmails, favouriteProducts, isoWeekDays } from "../../src/plan/winback/due.js";
import { dayNumber, dayString } from "../../src/plan/days.js";
import { openStore, type Db } from "../../src/store/open.js";

const config = defaultConfig("/"); // warm every 14 days, cold 30, lost 60 (at most 3)
const NOW = "2026-03-04T09:00:00Z"; // a Wednesday: the week runs to Sunday 2026-03-08

let db: Db;
beforeEach(() => {
  db = openStore(join(mkdtempSync(join(tmpdir(), "comeback-winback-")), "w.db"));
});
afterEach(() => db.close());

let orderIds = 0;
function customer(
  id: number,
  fields: { email?: string | null; accepts?: number | null; locale?: string } = {},
) {
  db.prepare(
    `INSERT INTO customers (id, identity_key, email, name, first_name, locale, accepts_marketing, info_as_of, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, 'x', 'x', 'x')`,
  ).run(
    id,
    `id:C${id}`,
    fields.email === undefined ? `c${id}@example.com` : fields.email,
    `Name ${id}`,
    `First ${id}`,
    fields.locale ?? null,
    fields.accepts === undefined ? 1 : fields.accepts,
  );
}
function order(
  customerId: number,
  placedAt: string,
  lines: [string | null, string, number][],
  statusClass = "completed",
) {
  const id = ++orderIds;
  db.prepare(
    `INSERT INTO orders (id, source, external_id, customer_id, placed_at, status_class, currency, created_at, updated_at)
     VALUES (?, 'shop', ?, ?, ?, ?, 'EUR', 'x', 'x')`,
  ).run(id, String(id), customerId, placedAt, statusClass);
  lines.forEach(([sku, name, quantity], i) =>
    db
      .prepare(
        "INSERT INTO order_lines (order_id, line_key, sku, product_name, quantity) VALUES (?, ?, ?, ?, ?)",
      )
      .run(id, String(i + 1), sku, name, quantity),
  );
  return id;
}
function lifecycle(
  id: number,
  status: string,
  since: string,
  lapsedOn: string | null = null,
  lastOrderOn = "2025-10-01",
) {
  db.prepare(
    `INSERT INTO customer_lifecycle (customer_id, status, since, model, orders, first_order_on, last_order_on,
       last_order_id, typical_gap_days, digest, lapsed_on)
     VALUES (?, ?, ?, 'rhythm', 1, '2025-06-01', ?, 0, 30, 0, ?)`,
  ).run(id, status, since, lastOrderOn, lapsedOn);
}

describe("the win-back emails due this week", () => {
  it("one per warm, cold or lost customer with an email, for the slot in force at the week's end", () => {
    customer(1, { locale: "de" });
    customer(2);
    customer(3, { email: null });
    customer(4);
    customer(5, { accepts: 0 });
    lifecycle(1, "warm", "2026-03-08"); // enters warm on Sunday: slot 1 is due this week
    lifecycle(2, "cold", "2026-01-01", "2025-12-20");
    lifecycle(3, "warm", "2026-03-01"); // no email
    lifecycle(4, "active", "2026-01-01");
    lifecycle(5, "lost", "2025-11-01");
    const due = dueWinbackEmails(db, config, NOW, { favourites: false });
    expect(due.map((d) => [d.customer_id, d.status, d.n, d.due_on, d.idempotency_key, d.template])).toEqual([
      [1, "warm", 1, "2026-03-08", "winback:1:warm:1", "winback-warm"],
      [2, "cold", 3, "2026-03-02", "winback:2:cold:3", "winback-cold"],
      [5, "lost", 3, "2026-03-01", "winback:5:lost:3", "winback-lost"],
    ]);
    expect(due[0]).toEqual({
      customer_id: 1,
      status: "warm",
      n: 1,
      due_on: "2026-03-08",
      idempotency_key: "winback:1:warm:1",
      template: "winback-warm",
      email: "c1@example.com",
      name: "Name 1",
      first_name: "First 1",
      locale: "de",
      accepts_marketing: 1,
      lapsed_on: "2026-03-08",
      contacted: false,
      reachable: true,
      favourite_products: [],
    });
    expect(due[1]).toMatchObject({ lapsed_on: "2025-12-20", reachable: true });
    expect(due[2]).toMatchObject({ reachable: false, accepts_marketing: 0 });
  });

  it("not for a status without an email, nor one whose contacts are used up", () => {
    customer(1);
    lifecycle(1, "lost", "2025-01-01"); // more than 3 × 60 days ago
    expect(dueWinbackEmails(db, config, NOW)).toEqual([]);
    const noMail = {
      ...config,
      winback: { ...config.winback, warm: { ...config.winback.warm, email: null } },
    };
    customer(2);
    lifecycle(2, "warm", "2026-03-01");
    expect(dueWinbackEmails(db, noMail, NOW)).toEqual([]);
  });

  it("a customer mailed less than every_days ago waits; a suppressed address is unreachable", () => {
    customer(1);
    lifecycle(1, "warm", "2026-02-01");
    db.prepare(
      `INSERT INTO outbox (idempotency_key, kind, channel, marketing, customer_id, recipient, payload, state, next_attempt_at, created_at, updated_at)
       VALUES ('winback:1:warm:2', 'winback-warm', 'email', 1, 1, 'c1@example.com', '{}', 'sent', ?, ?, ?)`,
    ).run("2026-02-25T08:00:00Z", "2026-02-25T08:00:00Z", "2026-02-25T08:00:00Z");
    expect(dueWinbackEmails(db, config, NOW)).toEqual([]);
    // 14 days after that email it is due, as a follow-up (contacted).
    const later = dueWinbackEmails(db, config, "2026-03-11T09:00:00Z");
    expect(later.map((d) => [d.idempotency_key, d.contacted])).toEqual([["winback:1:warm:4", true]]);
    db.prepare(
      "INSERT INTO suppressions (address, reason, source, created_at) VALUES ('c1@example.com', 'x', 'admin', 'x')",
    ).run();
    expect(dueWinbackEmails(db, config, "2026-03-11T09:00:00Z")[0]!.reachable).toBe(false);
  });

  it("finds Monday and Sunday of a day's ISO week", () => {
    const { monday, sunday } = isoWeekDays(dayNumber("2026-03-04"));
    expect([dayString(monday), dayString(sunday)]).toEqual(["2026-03-02", "2026-03-08"]);
    expect(dayString(isoWeekDays(dayNumber("2026-03-08")).monday)).toBe("2026-03-02");
    expect(dayString(isoWeekDays(dayNumber("2026-03-09")).monday)).toBe("2026-03-09");
    expect(dayString(isoWeekDays(dayNumber("1969-12-31")).monday)).toBe("1969-12-29");
  });
});

describe("the products a win-back email offers", () => {
  it("the customer's most bought replenishable products, at most three, by orders, units, recency", () => {
    customer(1);
    customer(2);
    db.prepare(
      "INSERT INTO products (sku, name, unit_price_minor, currency, days_per_unit, updated_at) VALUES ('TEA', 'Tea (catalog)', 450, 'EUR', 30, 'x')",
    ).run();
    order(1, "2025-08-01T10:00:00Z", [
      ["TEA", "Tea", 1],
      ["COF", "Coffee", 2],
      ["SEAT", "Car seat", 1],
      [null, "Filter", 1],
    ]);
    order(1, "2025-09-01T10:00:00Z", [
      ["COF", "Coffee", 1],
      [null, "Filter", 3],
      ["TIP", "Tip", 1],
    ]);
    order(1, "2025-09-02T10:00:00Z", [
      ["TIP", "Tip", 1],
      ["MUG", "Mug", 1],
    ]);
    order(1, "2025-09-03T10:00:00Z", [["MUG", "Mug", 1]], "cancelled");
    order(1, "2026-04-01T10:00:00Z", [["MUG", "Mug", 5]]); // after now
    order(2, "2025-08-01T10:00:00Z", [["MUG", "Mug", 1]]);
    order(2, "2025-08-05T10:00:00Z", [
      ["MUG", "Mug", 1],
      ["TEA", "Tea", 0],
    ]);
    const favourites = favouriteProducts(db, config, [1, 2, 3], NOW);
    expect(favourites.get(1)).toEqual([
      { sku: null, name: "Filter", orders: 2, quantity: 4, unit_price_minor: null, currency: null },
      { sku: "COF", name: "Coffee", orders: 2, quantity: 3, unit_price_minor: null, currency: null },
      { sku: "MUG", name: "Mug", orders: 1, quantity: 1, unit_price_minor: null, currency: null },
    ]);
    // Coffee and Filter: bought again on another day; Mug: customer 2 bought it on two days, and it is
    // more recent than Tea (offerable by its days_per_unit), which would be fourth; the seat was bought
    // once, the tip is never offered. Without the Mug, Tea comes with the catalog's name and price.
    db.prepare("DELETE FROM order_lines WHERE sku = 'MUG'").run();
    expect(favouriteProducts(db, config, [1], NOW).get(1)![2]).toEqual({
      sku: "TEA",
      name: "Tea (catalog)",
      orders: 1,
      quantity: 1,
      unit_price_minor: 450,
      currency: "EUR",
    });
    expect(favourites.get(2)).toEqual([
      { sku: "MUG", name: "Mug", orders: 2, quantity: 2, unit_price_minor: null, currency: null },
    ]);
    expect(favourites.has(3)).toBe(false);
    expect(favouriteProducts(db, config, [], NOW).size).toBe(0);
    expect(dueWinbackEmails(db, config, NOW)).toEqual([]);
  });

  it("are filled into the emails due", () => {
    customer(1);
    lifecycle(1, "warm", "2026-03-02");
    order(1, "2025-08-01T10:00:00Z", [["COF", "Coffee", 1]]);
    order(1, "2025-09-01T10:00:00Z", [["COF", "Coffee", 1]]);
    expect(dueWinbackEmails(db, config, NOW)[0]!.favourite_products).toEqual([
      { sku: "COF", name: "Coffee", orders: 2, quantity: 2, unit_price_minor: null, currency: null },
    ]);
  });
});
