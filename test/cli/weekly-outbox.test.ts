/** `weekly` and `send` with the default transport: .eml files in a folder. */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { query, run, workspace } from "../helpers.js";
import Database from "better-sqlite3";
import { demoWorkspace, NO_WINBACK_EMAILS, parts, SECRET } from "../deliver-helpers.js";

const CONFIG_WITH_WINBACK = `timezone: Europe/Berlin
secret: \${COMEBACK_SECRET}
operator:
  email: ops@shop.example
links:
  cart: "https://shop.example/cart/{{#each items}}{{variant}}:{{quantity}}{{#unless @last}},{{/unless}}{{/each}}"
  unsubscribe: "https://shop.example/unsubscribe?t={{token}}"
delivery:
  from: "Demo Shop <hello@shop.example>"
`;
const CONFIG = CONFIG_WITH_WINBACK + NO_WINBACK_EMAILS;
const env = { COMEBACK_SECRET: SECRET };
const MONDAY = "2026-03-02T09:00"; // shop time, inside the default window

describe("comeback weekly (outbox folder)", () => {
  it("makes one cart per customer, queues and writes each email once, however often it runs", async () => {
    const { dir, db } = await demoWorkspace(CONFIG);
    const first = await run(["weekly", "--now", MONDAY, "--json"], { cwd: dir, env });
    expect(first.code, first.stderr).toBe(0);
    const report = JSON.parse(first.stdout);
    expect(report.week).toBe("2026-W10");
    // C001, C002, C003 due this week; C005's reminder is due later
    expect(report.carts).toEqual({ new: 3, existing: 0 });
    expect(report.messages).toMatchObject({ queued: 4, sent: 4, skipped: 0, failed: 0, deferred: 0 });

    const files = readdirSync(join(dir, "outbox")).sort();
    const ids = query<{ id: number; external_id: string }>(
      db,
      "SELECT id, external_id FROM customers ORDER BY id",
    );
    const id = (ext: string) => ids.find((c) => c.external_id === ext)!.id;
    expect(files).toEqual(
      [
        `cart_${id("C001")}_2026-W10.eml`,
        `cart_${id("C002")}_2026-W10.eml`,
        `cart_${id("C003")}_2026-W10.eml`,
        "digest_2026-W10.eml",
      ].sort(),
    );
    const items = query(
      db,
      "SELECT c.customer_id, i.sku, i.quantity, i.unit_price_minor, i.currency FROM carts c JOIN cart_items i ON i.cart_id = c.id ORDER BY 1, 2",
    );
    expect(items).toContainEqual({
      customer_id: id("C001"),
      sku: "LNS-1D-90",
      quantity: 1,
      unit_price_minor: 6490,
      currency: "EUR",
    });

    const again = await run(["weekly", "--now", "2026-03-04T10:00", "--json"], { cwd: dir, env });
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({
      carts: { new: 0, existing: 3 },
      messages: { queued: 0, sent: 0 },
    });
    expect(readdirSync(join(dir, "outbox")).length).toBe(4);
    expect(query(db, "SELECT state, count(*) AS n FROM outbox GROUP BY state")).toEqual([
      { state: "sent", n: 4 },
    ]);

    const eml = readFileSync(join(dir, "outbox", `cart_${id("C001")}_2026-W10.eml`), "utf8");
    expect(eml).toMatch(/^Message-ID: <cart\.\d+\.2026-W10\.[0-9a-f]{12}@shop\.example>$/m);
    expect(eml).toMatch(/^List-Unsubscribe-Post: List-Unsubscribe=One-Click$/m);
    const { html, text } = parts(eml);
    expect(html).toContain("Hallo Anna");
    // {{variant}} is the products import's variant_id (a Shopify cart permalink takes those, not skus).
    expect(html).toContain('href="https://shop.example/cart/40123456780002:1,40123456780006:1"');
    expect(text.replaceAll("\u00a0", " ")).toContain("Daily lenses, box of 90: 1 × 64,90 € = 64,90 €");
  });

  it("--dry-run writes nothing and says who would get what", async () => {
    const { dir, db } = await demoWorkspace(CONFIG);
    const result = await run(["weekly", "--now", MONDAY, "--dry-run"], { cwd: dir, env });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain("Dry run");
    expect(result.stdout).toContain("anna.schmidt@example.com");
    expect(query(db, "SELECT count(*) AS n FROM carts")).toEqual([{ n: 0 }]);
    expect(query(db, "SELECT count(*) AS n FROM outbox")).toEqual([{ n: 0 }]);
    expect(existsSync(join(dir, "outbox"))).toBe(false);
  });
});

describe("comeback weekly with the planner's own reminders", () => {
  it("offers an unanswered reminder once per cycle, not every Monday", async () => {
    const { dir, db } = await demoWorkspace(CONFIG, []);
    const carts = () =>
      query<{ customer: string; week: string; reminder_number: number }>(
        db,
        `SELECT cu.external_id AS customer, c.week, i.reminder_number
           FROM carts c JOIN cart_items i ON i.cart_id = c.id JOIN customers cu ON cu.id = c.customer_id
          WHERE cu.external_id IN ('C002', 'C005') ORDER BY c.week, customer`,
      );
    // C005 bought a 90-day filter on 2025-12-01: due 2026-02-22, repeated every 90 days.
    // C002's dog food (45 days × usage 1.5) was due 2026-01-01; the second reminder is due 2026-03-09.
    for (const monday of ["2026-03-02T09:00", "2026-03-09T09:00", "2026-03-16T09:00"]) {
      const weekly = await run(["weekly", "--now", monday], { cwd: dir, env });
      expect(weekly.code, weekly.stderr).toBe(0);
    }
    expect(carts()).toEqual([
      { customer: "C002", week: "2026-W10", reminder_number: 1 },
      { customer: "C005", week: "2026-W10", reminder_number: 1 },
      { customer: "C002", week: "2026-W11", reminder_number: 2 },
    ]);
  });

  it("queues each win-back email once per cadence slot, in the customer's language, and lists call tasks in the digest", async () => {
    const { dir, db } = await demoWorkspace(CONFIG_WITH_WINBACK, []);
    for (let run_ = 0; run_ < 2; run_++) {
      const weekly = await run(["weekly", "--now", "2026-03-02T09:00"], { cwd: dir, env });
      expect(weekly.code, weekly.stderr).toBe(0);
    }
    const winback = query<{
      idempotency_key: string;
      kind: string;
      state: string;
      deferred_reason: string | null;
    }>(
      db,
      `SELECT o.idempotency_key, o.kind, o.state, o.deferred_reason FROM outbox o
        WHERE o.idempotency_key LIKE 'winback:%' ORDER BY o.kind`,
    );
    const id = (ext: string) =>
      query<{ id: number }>(db, "SELECT id FROM customers WHERE external_id = ?", ext)[0]!.id;
    // As of 2026-03-02 Clara (C003, last order 2025-12-05) is cold and Eva (C005, 2025-12-01) warm;
    // Eva also got a cart this Monday, so her win-back email waits for the frequency cap. Her water
    // filter (90 days, bought 2025-12-01) lasted until 2026-03-01: warm since that day, so this is her
    // first win-back contact, not her second (issue 15: the lifecycle and the reminders agree).
    expect(winback).toEqual([
      {
        idempotency_key: `winback:${id("C003")}:cold:2`,
        kind: "winback-cold",
        state: "sent",
        deferred_reason: null,
      },
      {
        idempotency_key: `winback:${id("C005")}:warm:1`,
        kind: "winback-warm",
        state: "queued",
        deferred_reason: "frequency cap",
      },
    ]);
    const clara = parts(readFileSync(join(dir, "outbox", `winback_${id("C003")}_cold_2.eml`), "utf8"));
    expect(clara.text).toContain("Espresso beans 1 kg");
    const digest = parts(readFileSync(join(dir, "outbox", "digest_2026-W10.eml"), "utf8"));
    expect(digest.text).toMatch(/Clara Jones \(C003\).*cold/);
    expect(digest.html).toContain("Eva Braun (C005)");

    const later = await run(["send", "--now", "2026-03-06T09:00"], { cwd: dir, env });
    expect(later.code, later.stderr).toBe(0);
    const eva = readFileSync(join(dir, "outbox", `winback_${id("C005")}_warm_1.eml`), "utf8");
    expect(eva).toMatch(/^Subject: Eva, wir haben Sie vermisst$/m);
  });
});

describe("consent", () => {
  it("skips opted-out and suppressed addresses, and (with require_opt_in) customers who never opted in", async () => {
    const { dir, db } = await demoWorkspace(CONFIG + "consent:\n  require_opt_in: true\n");
    const write = new Database(db);
    write.prepare("UPDATE customers SET accepts_marketing = 0 WHERE external_id = 'C001'").run();
    write.prepare("UPDATE customers SET accepts_marketing = NULL WHERE external_id = 'C003'").run();
    write
      .prepare(
        "INSERT INTO suppressions (address, reason, source, created_at) VALUES ('boris.petrov@example.com', 'asked by phone', 'admin', '2026-01-01T00:00:00Z')",
      )
      .run();
    write.close();
    const result = await run(["weekly", "--now", MONDAY, "--json", "--limit", "10"], { cwd: dir, env });
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.carts.new).toBe(3);
    expect(report.messages).toMatchObject({
      sent: 1, // the digest
      skipped: 3,
      skipped_reasons: { "opted out": 1, suppressed: 1, "no opt-in": 1 },
    });
    const skipped = query<{ error: string }>(
      db,
      "SELECT error FROM outbox WHERE state = 'skipped' ORDER BY id",
    );
    expect(skipped.map((r) => r.error)).toEqual([
      "the customer does not accept marketing",
      "suppressed (admin): asked by phone",
      "the customer never opted in, and consent.require_opt_in is true",
    ]);
    expect(readdirSync(join(dir, "outbox"))).toEqual(["digest_2026-W10.eml"]);
  });

  it("--limit makes at most N new carts; the next run makes the rest", async () => {
    const { dir } = await demoWorkspace(CONFIG);
    const first = await run(["weekly", "--now", MONDAY, "--json", "--limit", "2"], { cwd: dir, env });
    expect(JSON.parse(first.stdout)).toMatchObject({
      carts: { new: 2, existing: 0 },
      messages: { queued: 3, sent: 2 },
    });
    const second = await run(["weekly", "--now", MONDAY, "--json"], { cwd: dir, env });
    expect(JSON.parse(second.stdout)).toMatchObject({
      carts: { new: 1, existing: 2 },
      messages: { queued: 1, sent: 2 },
    });
  });
});

describe("comeback demo", () => {
  it("imports, plans and runs the Monday batch into ./outbox, and sends nothing twice when run again", async () => {
    const dir = workspace();
    const first = await run(["demo"], { cwd: dir, env: { COMEBACK_SECRET: undefined } });
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/carts +new 2, existing 0/);
    expect(first.stdout).toMatch(/outbox\/cart_\d+_2026-W10\.eml/);
    const files = readdirSync(join(dir, "outbox"));
    // Two carts, the digest, and a win-back email (the other one waits for the frequency cap).
    expect(files).toHaveLength(4);
    const again = await run(["demo"], { cwd: dir });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/carts +new 0, existing 2/);
    expect(again.stdout).toMatch(/messages +sent 0,/);
    expect(readdirSync(join(dir, "outbox"))).toEqual(files);
  });
});
