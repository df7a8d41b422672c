/**
 * serve's routes through fastify's inject, on a real SQLite file (test/serve-helpers.ts): every page
 * with a valid link, and every way a link or a form can be wrong.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { FastifyInstance } from "fastify";
import Database from "better-sqlite3";
import { buildApp } from "../../src/serve/app.js";
import { eventsOf } from "../../src/serve/event-queue.js";
import type { ServeContext } from "../../src/serve/context.js";
import { dueReminders } from "../../src/plan/replenishment/due.js";
import { closeFilledReorders, closeReorder, listReorders } from "../../src/answers/reorders.js";
import { withWishlist } from "../../src/answers/postpone.js";
import { csrfOf, EXPIRES, link, NOW, seedServeDb, serveContext, type Seeded } from "../serve-helpers.js";

let seeded: Seeded;
let app: FastifyInstance;
const contexts = new WeakMap<FastifyInstance, ServeContext>();
const serveContextOf = (server: FastifyInstance) => contexts.get(server)!;

beforeEach(async () => {
  seeded = seedServeDb();
  const ctx = serveContext(seeded);
  app = await buildApp(ctx);
  contexts.set(app, ctx);
});

afterEach(async () => {
  await app.close();
  seeded.db.close();
});

const cartUrl = (to = seeded.anna) => `/c/${link("cart", to)}`;
const form = (fields: Record<string, string>) => ({
  headers: { "content-type": "application/x-www-form-urlencoded" },
  payload: new URLSearchParams(fields).toString(),
});
const count = (sql: string, ...params: unknown[]) =>
  seeded.db
    .prepare(sql)
    .pluck()
    .get(...params) as number;
const events = (kind: string) => count("SELECT count(*) FROM events WHERE kind = ?", kind);

async function openPage(url = cartUrl()) {
  const page = await app.inject({ method: "GET", url });
  expect(page.statusCode).toBe(200);
  return page.body;
}

async function post(url: string, fields: Record<string, string>) {
  return app.inject({ method: "POST", url, ...form(fields) });
}

describe("the cart page", () => {
  it("shows the cart's items, pictures and total in the customer's language, escaped, with security headers", async () => {
    const page = await app.inject({ method: "GET", url: cartUrl() });
    expect(page.statusCode).toBe(200);
    expect(page.headers["content-type"]).toBe("text/html; charset=utf-8");
    expect(page.body).toContain('<html lang="de-DE">');
    expect(page.body).toContain("Anna, Ihr Warenkorb ist bereit");
    expect(page.body).toContain("Earl Grey &lt;script&gt;alert(1)&lt;/script&gt;");
    expect(page.body).not.toContain("<script");
    expect(page.body).toContain('<img src="https://img.tee.example/tea.jpg"');
    expect(page.body).toMatch(/Summe <strong>28,90\s€<\/strong>/);
    expect(page.body).toContain('<label for="qty_0">Menge</label>');
    expect(page.body).not.toMatch(/style=|<script|\son[a-z]+=/i);
    const csp = String(page.headers["content-security-policy"]);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).not.toContain("unsafe-inline");
    expect(page.headers["x-content-type-options"]).toBe("nosniff");
    expect(page.headers["referrer-policy"]).toBe("no-referrer");
    expect(page.headers["cache-control"]).toBe("no-store");
    expect(events("cart_viewed")).toBe(1);
    expect(count("SELECT outbox_id FROM events WHERE kind = 'cart_viewed'")).toBe(1000);
  });

  it("speaks English to a customer without a locale, and serves its style sheet", async () => {
    const body = await openPage(cartUrl(seeded.ben));
    expect(body).toContain('<html lang="en">');
    expect(body).toContain("Ben &lt;b&gt;, your cart is ready");
    expect(body).toContain('href="../static/comeback.css"');
    const css = await app.inject({ method: "GET", url: "/static/comeback.css" });
    expect(css.statusCode).toBe(200);
    expect(css.headers["content-type"]).toMatch(/^text\/css/);
    expect(css.body).toContain(":focus-visible");
  });

  const wrong: [string, () => string][] = [
    ["a forged link (another secret)", () => `/c/${link("cart", seeded.anna, { secret: "x".repeat(40) })}`],
    [
      "a tampered link (another outbox id)",
      () => `/c/${link("cart", seeded.anna).replace(/^cart\.rs/, "cart.rt")}`,
    ],
    [
      "a tampered link (a later expiry)",
      () => `/c/${link("cart", seeded.anna).replace(".tecp00.", ".tecp01.")}`,
    ],
    ["an expired link", () => `/c/${link("cart", seeded.anna, { expiresAt: Date.parse(NOW) / 1000 - 1 })}`],
    ["another customer's link", () => `/c/${link("cart", { outbox: 1000, customer: 2 })}`],
    ["an unsubscribe link as a cart link", () => `/c/${link("unsub", seeded.anna)}`],
    ["a link to the operator's digest", () => `/c/${link("cart", { outbox: 3000, customer: 1 })}`],
    ["a link to a message that is not there", () => `/c/${link("cart", { outbox: 9999, customer: 1 })}`],
    ["no token at all", () => "/c/hello"],
  ];

  it.each(wrong)("answers %s with the one 403 page, in the shop's language", async (_what, url) => {
    const page = await app.inject({ method: "GET", url: url() });
    expect(page.statusCode).toBe(403);
    expect(page.body).toContain('<html lang="en">');
    expect(page.body).toContain("This link does not work");
    expect(page.body).toContain("use the link in the latest email from Tee &amp; Co");
    expect(page.body).not.toMatch(/Anna|Earl Grey|anna@/);
    expect(events("cart_viewed")).toBe(0);
  });

  it("checks a link's expiry against the server's clock", async () => {
    const late = await buildApp(serveContext(seeded, new Date((EXPIRES + 1) * 1000).toISOString()));
    expect((await late.inject({ method: "GET", url: cartUrl() })).statusCode).toBe(403);
    await late.close();
  });
});

describe("changing the cart", () => {
  it("recounts the total with the customer's quantities and removals, changing nothing stored", async () => {
    const csrf = csrfOf(await openPage(), `../c/${link("cart", seeded.anna)}`);
    const page = await post(cartUrl(), { csrf, action: "update", qty_0: "3", qty_1: "1", remove_1: "1" });
    expect(page.statusCode).toBe(200);
    expect(page.body).toMatch(/id="qty_0"[^>]*value="3"/);
    expect(page.body).toMatch(/id="qty_1"[^>]*value="0"/);
    expect(page.body).toMatch(/Summe <strong>37,50\s€<\/strong>/);
    expect(page.body).toContain("Entfernt");
    expect(count("SELECT count(*) FROM reorders")).toBe(0);
  });

  it("refuses a POST without the page's form token, or with another form's or link's", async () => {
    const body = await openPage();
    const later = csrfOf(body, `../c/${link("cart", seeded.anna)}/later`);
    const bens = csrfOf(await openPage(cartUrl(seeded.ben)), `../c/${link("cart", seeded.ben)}`);
    for (const fields of [
      {} as Record<string, string>,
      { csrf: "" },
      { csrf: later },
      { csrf: bens },
      { csrf: "A".repeat(22) },
    ]) {
      const page = await post(cartUrl(), { ...fields, action: "confirm" });
      expect(page.statusCode).toBe(403);
      expect(page.body).toContain("This link does not work");
    }
    expect(count("SELECT count(*) FROM reorders")).toBe(0);
  });
});

describe("confirming", () => {
  it("makes one reorder request with the customer's quantities, queues the operator's email, thanks the customer", async () => {
    const csrf = csrfOf(await openPage(), `../c/${link("cart", seeded.anna)}`);
    const page = await post(cartUrl(), { csrf, action: "confirm", qty_0: "3", qty_1: "0" });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain("Vielen Dank, Anna!");
    expect(page.body).toMatch(/Nummer 1, /);
    const reorder = seeded.db.prepare("SELECT * FROM reorders").all();
    expect(reorder).toMatchObject([
      {
        id: 1,
        customer_id: 1,
        cart_id: 100,
        outbox_id: 1000,
        currency: "EUR",
        total_minor: 3750,
        status: "open",
        created_at: NOW,
      },
    ]);
    expect(
      seeded.db
        .prepare("SELECT group_key, sku, quantity, unit_price_minor, purchase_order_id FROM reorder_items")
        .all(),
    ).toEqual([
      { group_key: "TEA", sku: "TEA-1", quantity: 3, unit_price_minor: 1250, purchase_order_id: 10 },
    ]);
    const email = seeded.db
      .prepare<[], { idempotency_key: string; marketing: number; recipient: string; payload: string }>(
        "SELECT idempotency_key, marketing, recipient, payload FROM outbox WHERE kind = 'reorder'",
      )
      .get()!;
    expect(email).toMatchObject({
      idempotency_key: "reorder:1",
      marketing: 0,
      recipient: "owner@tee.example",
    });
    expect(JSON.parse(email.payload)).toMatchObject({
      reorder_id: 1,
      person: { name: "Anna Schmidt", phone: "+49 170 1234567", external_id: "C1" },
      items: [{ sku: "TEA-1", quantity: 3 }],
      total_minor: 3750,
    });
    expect(events("confirmed")).toBe(1);

    // Twice (a second click, the back button, another tab): still one request, one email.
    const again = await post(cartUrl(), { csrf, action: "confirm", qty_0: "5" });
    expect(again.statusCode).toBe(200);
    expect(again.body).toMatch(/Nummer 1, /);
    expect(count("SELECT count(*) FROM reorders")).toBe(1);
    expect(count("SELECT count(*) FROM outbox WHERE kind = 'reorder'")).toBe(1);
    expect(events("confirmed")).toBe(1);
    // The page now says it is confirmed, with no forms.
    const after = await openPage();
    expect(after).toContain("Vielen Dank");
    expect(after).not.toContain("<form");
  });

  it("leaves the confirmed purchase's reminder out of later carts; the next order closes the request", async () => {
    const due = (week: string, monday: string, sunday: string) =>
      [...dueReminders(seeded.db, { label: week, monday, sunday })].map(
        (r) => `${r.comeback_id}:${r.group_key}`,
      );
    // Before: both carts of the week; after: Ben's alone.
    expect(due("2026-W10", "2026-03-02", "2026-03-08")).toEqual(["1:TEA", "1:CUP", "2:TEA"]);
    const csrf = csrfOf(await openPage(), `../c/${link("cart", seeded.anna)}`);
    await post(cartUrl(), { csrf, action: "confirm" });
    expect(due("2026-W10", "2026-03-02", "2026-03-08")).toEqual(["2:TEA"]);

    const order = (id: number, customer: number, at: string, sku: string) => {
      seeded.db
        .exec(`INSERT INTO orders (id, source, external_id, customer_id, placed_at, status_class, currency, created_at, updated_at)
        VALUES (${id}, 'shop', '#${id}', ${customer}, '${at}', 'completed', 'EUR', '${at}', '${at}');
        INSERT INTO order_lines (order_id, line_key, sku, quantity) VALUES (${id}, '1', '${sku}', 1);`);
    };
    order(30, 1, "2026-03-01T10:00:00Z", "TEA-1"); // before the confirmation
    order(31, 2, "2026-03-04T10:00:00Z", "TEA-1"); // another customer
    order(32, 1, "2026-03-04T10:00:00Z", "OTHER"); // none of the items
    expect(closeFilledReorders(seeded.db, "2026-03-05T00:00:00Z")).toBe(0);
    order(33, 1, "2026-03-04T11:00:00Z", "TEA-1");
    expect(closeFilledReorders(seeded.db, "2026-03-05T00:00:00Z")).toBe(1);
    expect(
      seeded.db.prepare("SELECT status, closed_by, closed_order_id, closed_at FROM reorders").get(),
    ).toEqual({
      status: "done",
      closed_by: "order",
      closed_order_id: 33,
      closed_at: "2026-03-05T00:00:00Z",
    });
    expect(closeFilledReorders(seeded.db, "2026-03-06T00:00:00Z")).toBe(0);
  });

  it("asks again when every item was removed, and records nothing", async () => {
    const csrf = csrfOf(await openPage(), `../c/${link("cart", seeded.anna)}`);
    const page = await post(cartUrl(), { csrf, action: "confirm", qty_0: "0", remove_1: "1" });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('role="alert"');
    expect(count("SELECT count(*) FROM reorders")).toBe(0);
    expect(events("confirmed")).toBe(0);
  });

  it("queues no email without operator.email, and still records the request", async () => {
    const quiet = seedServeDb({ operator: { email: null } });
    const server = await buildApp(serveContext(quiet));
    const url = `/c/${link("cart", quiet.anna)}`;
    const body = (await server.inject({ method: "GET", url })).body;
    const csrf = csrfOf(body, `../c/${link("cart", quiet.anna)}`);
    const page = await server.inject({ method: "POST", url, ...form({ csrf, action: "confirm" }) });
    expect(page.statusCode).toBe(200);
    expect(quiet.db.prepare("SELECT count(*) FROM reorders").pluck().get()).toBe(1);
    expect(quiet.db.prepare("SELECT count(*) FROM outbox WHERE kind = 'reorder'").pluck().get()).toBe(0);
    await server.close();
    quiet.db.close();
  });
});

describe("postponing", () => {
  it("moves one item's reminder by the weeks chosen, pauses the other, and shows the wishlist", async () => {
    const body = await openPage();
    const csrf = csrfOf(body, `../c/${link("cart", seeded.anna)}/later`);
    const page = await post(`${cartUrl()}/later`, { csrf, later_0: "2", later_1: "never" });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('href="../../static/comeback.css"');
    // The shop's day is 2026-03-03 (Europe/Berlin): two weeks on is 2026-03-17.
    expect(page.body).toContain("Wir erinnern Sie am 17. März 2026");
    expect(page.body).toContain("keine Erinnerungen mehr");
    const reminders = seeded.db
      .prepare(
        "SELECT group_key, due_on, first_due_on, reminder_number, state FROM reminders WHERE customer_id = 1 ORDER BY group_key",
      )
      .all();
    expect(reminders).toEqual([
      {
        group_key: "CUP",
        due_on: "2026-03-04",
        first_due_on: "2026-02-22",
        reminder_number: 1,
        state: "paused",
      },
      {
        group_key: "TEA",
        due_on: "2026-03-17",
        first_due_on: "2026-03-17",
        reminder_number: 1,
        state: "open",
      },
    ]);
    expect(
      seeded.db
        .prepare(
          "SELECT group_key, due_on, purchase_order_id, paused FROM reminder_overrides ORDER BY group_key",
        )
        .all(),
    ).toEqual([
      { group_key: "CUP", due_on: null, purchase_order_id: null, paused: 1 },
      { group_key: "TEA", due_on: "2026-03-17", purchase_order_id: 10, paused: 0 },
    ]);
    expect(events("postponed")).toBe(1);
    // The moved reminder comes back in the week of its new date, not before.
    const due = (label: string, monday: string, sunday: string) =>
      [...dueReminders(seeded.db, { label, monday, sunday }, { customerId: 1 })].map((r) => r.group_key);
    expect(due("2026-W11", "2026-03-09", "2026-03-15")).toEqual([]);
    expect(due("2026-W12", "2026-03-16", "2026-03-22")).toEqual(["TEA"]);
    // The cart page: nothing left to decide, the wishlist.
    const after = await openPage();
    expect(after).toContain("In diesem Warenkorb ist nichts mehr zu entscheiden.");
    expect(after).toContain("Für später gemerkt");
    expect(after).toMatch(
      /Earl Grey &lt;script&gt;alert\(1\)&lt;\/script&gt;: Wir erinnern Sie am 17\. März 2026/,
    );
    // The next cart email's wishlist: what still waits, not what that cart holds, not once bought.
    const payload = (groups: string[]) => ({
      customer: { id: 1 },
      items: groups.map((group_key) => ({ group_key })),
    });
    expect(withWishlist(seeded.db, payload([]), "2026-03-09").wishlist).toEqual([
      { name: "Earl Grey <script>alert(1)</script>", until: "2026-03-17" },
    ]);
    expect(withWishlist(seeded.db, payload(["TEA"]), "2026-03-09")).not.toHaveProperty("wishlist");
    expect(withWishlist(seeded.db, payload([]), "2026-03-17")).not.toHaveProperty("wishlist");
    seeded.db.exec("UPDATE reminders SET purchase_order_id = 20 WHERE customer_id = 1 AND group_key = 'TEA'");
    expect(withWishlist(seeded.db, payload([]), "2026-03-09")).not.toHaveProperty("wishlist");
  });

  it("asks again when no item got an answer, and writes nothing", async () => {
    const csrf = csrfOf(await openPage(), `../c/${link("cart", seeded.anna)}/later`);
    const page = await post(`${cartUrl()}/later`, { csrf, later_0: "", later_1: "3" });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain("Wählen Sie für mindestens einen Artikel");
    expect(count("SELECT count(*) FROM postponements")).toBe(0);
    expect(events("postponed")).toBe(0);
  });

  it("refuses a postpone without the form token", async () => {
    const page = await post(`${cartUrl()}/later`, { later_0: "4" });
    expect(page.statusCode).toBe(403);
    expect(count("SELECT count(*) FROM postponements")).toBe(0);
  });
});

describe("unsubscribing", () => {
  const unsubUrl = (to = seeded.anna) => `/u/${link("unsub", to)}`;
  const suppressed = () => seeded.db.prepare("SELECT address, source FROM suppressions").all();

  it("shows a page with a button that suppresses the address at once", async () => {
    const page = await app.inject({ method: "GET", url: unsubUrl() });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain("Von unseren E-Mails abmelden?");
    expect(suppressed()).toEqual([]);
    const csrf = csrfOf(page.body, `../u/${link("unsub", seeded.anna)}`);
    const done = await post(unsubUrl(), { csrf });
    expect(done.statusCode).toBe(200);
    expect(done.body).toContain("Sie sind abgemeldet");
    expect(suppressed()).toEqual([{ address: "anna@example.com", source: "unsubscribe" }]);
    expect(events("unsubscribed")).toBe(1);
  });

  it("takes RFC 8058 one-click POSTs, form-urlencoded or multipart, without cookies or a page", async () => {
    const one = await post(unsubUrl(), { "List-Unsubscribe": "One-Click" });
    expect(one.statusCode).toBe(200);
    expect(one.headers["content-type"]).toMatch(/^text\/plain/);
    expect(one.headers["set-cookie"]).toBeUndefined();
    expect(suppressed()).toEqual([{ address: "anna@example.com", source: "unsubscribe" }]);
    const boundary = "----x";
    const multipart = await app.inject({
      method: "POST",
      url: unsubUrl(seeded.ben),
      headers: { "content-type": `multipart/form-data; boundary=${boundary}` },
      payload: `--${boundary}\r\nContent-Disposition: form-data; name="List-Unsubscribe"\r\n\r\nOne-Click\r\n--${boundary}--\r\n`,
    });
    expect(multipart.statusCode).toBe(200);
    expect(suppressed()).toHaveLength(2);
    // Again: still suppressed, one event per address.
    expect((await post(unsubUrl(), { "List-Unsubscribe": "One-Click" })).statusCode).toBe(200);
    expect(events("unsubscribed")).toBe(2);
  });

  it("refuses a POST with neither the one-click body nor the form token, and bad links", async () => {
    expect((await post(unsubUrl(), { something: "else" })).statusCode).toBe(403);
    expect(
      (await post(`/u/${link("cart", seeded.anna)}`, { "List-Unsubscribe": "One-Click" })).statusCode,
    ).toBe(403);
    expect(
      (await post(`/u/${link("unsub", { outbox: 3000, customer: 1 })}`, { "List-Unsubscribe": "One-Click" }))
        .statusCode,
    ).toBe(403);
    expect(
      (await post(`/u/${link("unsub", { outbox: 1000, customer: 2 })}`, { "List-Unsubscribe": "One-Click" }))
        .statusCode,
    ).toBe(403);
    expect(
      (await app.inject({ method: "GET", url: `/u/${link("unsub", { outbox: 1000, customer: 2 })}` }))
        .statusCode,
    ).toBe(403);
    expect(suppressed()).toEqual([]);
  });
});

describe("the server", () => {
  it("limits requests per minute and address (serve.rate_limit_per_minute)", async () => {
    const limited = await buildApp(serveContext(seeded), { rateLimitPerMinute: 3 });
    const codes = [];
    for (let i = 0; i < 4; i++)
      codes.push((await limited.inject({ method: "GET", url: "/c/nothing" })).statusCode);
    expect(codes).toEqual([403, 403, 403, 429]);
    await limited.close();
  });

  it("answers unknown addresses with a plain 404", async () => {
    const page = await app.inject({ method: "GET", url: "/admin" });
    expect(page.statusCode).toBe(404);
    expect((await app.inject({ method: "GET", url: "/static/../../package.json" })).statusCode).toBe(404);
  });
});

describe("the operator's list", () => {
  it("lists requests by status with their items, and closes one by hand once", async () => {
    const csrf = csrfOf(await openPage(), `../c/${link("cart", seeded.anna)}`);
    await post(cartUrl(), { csrf, action: "confirm", qty_1: "4" });
    const open = listReorders(seeded.db, "open");
    expect(open).toEqual([
      {
        id: 1,
        status: "open",
        created_at: NOW,
        customer_id: 1,
        external_id: "C1",
        name: "Anna Schmidt",
        phone: "+49 170 1234567",
        email: "Anna@Example.com",
        week: "2026-W10",
        currency: "EUR",
        total_minor: 4060,
        closed_by: null,
        closed_order: null,
        closed_at: null,
        items: [
          { sku: "CUP-1", name: "Filter papers", quantity: 4, unit_price_minor: 390, currency: "EUR" },
          {
            sku: "TEA-1",
            name: "Earl Grey <script>alert(1)</script>",
            quantity: 2,
            unit_price_minor: 1250,
            currency: "EUR",
          },
        ],
      },
    ]);
    expect(listReorders(seeded.db, "done")).toEqual([]);
    expect(closeReorder(seeded.db, 1, "2026-03-04T08:00:00Z")).toEqual({ id: 1, was: "open" });
    expect(closeReorder(seeded.db, 1, "2026-03-05T08:00:00Z")).toEqual({ id: 1, was: "done" });
    expect(listReorders(seeded.db, "open")).toEqual([]);
    expect(listReorders(seeded.db, "all")).toMatchObject([
      { id: 1, status: "done", closed_by: "operator", closed_at: "2026-03-04T08:00:00Z" },
    ]);
    expect(() => closeReorder(seeded.db, 2, NOW)).toThrow(/no reorder 2/);
    // Closed by hand: a later order closes nothing more.
    expect(closeFilledReorders(seeded.db, NOW)).toBe(0);
  });
});

describe("while the batch writes", () => {
  it("shows the cart page at once and records the view when the database is free again", async () => {
    const batch = new Database(seeded.config.database);
    batch.pragma("busy_timeout = 5000");
    batch.exec("BEGIN IMMEDIATE");
    batch.prepare("UPDATE carts SET item_count = item_count WHERE id = 100").run();
    const started = Date.now();
    const page = await app.inject({ method: "GET", url: cartUrl() });
    expect(page.statusCode).toBe(200);
    expect(Date.now() - started).toBeLessThan(1000);
    const queue = eventsOf(serveContextOf(app));
    expect(queue.waiting).toBe(1);
    expect(seeded.db.pragma("busy_timeout", { simple: true })).toBe(5000);
    batch.exec("COMMIT");
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(queue.waiting).toBe(0);
    expect(events("cart_viewed")).toBe(1);
    batch.close();
  });

  it("writes what is left when the server closes", async () => {
    const batch = new Database(seeded.config.database);
    batch.exec("BEGIN IMMEDIATE");
    await app.inject({ method: "GET", url: cartUrl() });
    await app.inject({ method: "GET", url: cartUrl(seeded.ben) });
    const queue = eventsOf(serveContextOf(app));
    expect(queue.waiting).toBe(2);
    // The batch (another process in life) commits; the retry has not come round yet (50 ms).
    batch.exec("COMMIT");
    expect(queue.waiting).toBe(2);
    await app.close();
    expect(queue.waiting).toBe(0);
    expect(events("cart_viewed")).toBe(2);
    batch.close();
  });

  it("records a HEAD request as a machine's view, never a person's", async () => {
    expect((await app.inject({ method: "HEAD", url: cartUrl() })).statusCode).toBe(200);
    expect(count("SELECT count(*) FROM events WHERE kind = 'cart_viewed' AND machine = 0")).toBe(0);
  });
});

describe("an answer while the batch holds the database too long", () => {
  it("is refused with 503 and Retry-After, writing nothing, and works when sent again", async () => {
    seeded.db.pragma("busy_timeout = 50");
    const csrf = csrfOf(await openPage(), `../c/${link("cart", seeded.anna)}`);
    const batch = new Database(seeded.config.database);
    batch.exec("BEGIN IMMEDIATE");
    const busy = await post(cartUrl(), { csrf, action: "confirm" });
    expect(busy.statusCode).toBe(503);
    expect(busy.headers["retry-after"]).toBe("10");
    batch.exec("ROLLBACK");
    batch.close();
    expect(count("SELECT count(*) FROM reorders")).toBe(0);
    expect((await post(cartUrl(), { csrf, action: "confirm" })).statusCode).toBe(200);
    expect(count("SELECT count(*) FROM reorders")).toBe(1);
  });
});

describe("who viewed the cart page", () => {
  const BROWSER_AGENT =
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1";
  const viewed = () =>
    seeded.db.prepare("SELECT machine, detail FROM events WHERE kind = 'cart_viewed' ORDER BY id").all() as {
      machine: number;
      detail: string | null;
    }[];

  it("a person's browser, a day after the email was sent, is a person", async () => {
    seeded.db.prepare("UPDATE outbox SET sent_at = '2026-03-02T09:00:00Z' WHERE id = 1000").run();
    await app.inject({ method: "GET", url: cartUrl(), headers: { "user-agent": BROWSER_AGENT } });
    expect(viewed()).toEqual([{ machine: 0, detail: null }]);
  });

  it("a link scanner following the click redirect is kept as a machine's view", async () => {
    seeded.db.prepare("UPDATE outbox SET sent_at = '2026-03-02T09:00:00Z' WHERE id = 1000").run();
    await app.inject({ method: "GET", url: cartUrl(), headers: { "user-agent": "python-requests/2.31" } });
    await app.inject({ method: "HEAD", url: cartUrl(), headers: { "user-agent": BROWSER_AGENT } });
    expect(viewed()).toEqual([
      { machine: 1, detail: '{"machine":"scanner agent"}' },
      { machine: 1, detail: '{"machine":"head request"}' },
    ]);
  });

  it("a view within a minute of the email leaving is a machine's", async () => {
    seeded.db.prepare("UPDATE outbox SET sent_at = '2026-03-03T09:59:30Z' WHERE id = 1000").run();
    await app.inject({ method: "GET", url: cartUrl(), headers: { "user-agent": BROWSER_AGENT } });
    expect(viewed()).toEqual([{ machine: 1, detail: '{"machine":"too soon"}' }]);
  });
});

describe("behind a reverse proxy (serve.trust_proxy)", () => {
  it("limits each customer's address from X-Forwarded-For, not the proxy's", async () => {
    const get = (server: FastifyInstance, ip: string) =>
      server
        .inject({ method: "GET", url: "/c/nothing", headers: { "x-forwarded-for": ip } })
        .then((r) => r.statusCode);
    const trusting = await buildApp(serveContext(seeded), { rateLimitPerMinute: 1, trustProxy: true });
    expect([await get(trusting, "203.0.113.1"), await get(trusting, "203.0.113.2")]).toEqual([403, 403]);
    expect(await get(trusting, "203.0.113.1")).toBe(429);
    await trusting.close();
    // Not trusting: the header is anyone's to write, so every request counts for the proxy's address.
    const plain = await buildApp(serveContext(seeded), { rateLimitPerMinute: 1 });
    expect([await get(plain, "203.0.113.1"), await get(plain, "203.0.113.2")]).toEqual([403, 429]);
    await plain.close();
  });
});
