/** `weekly` and `send` with the default transport: .eml files in a folder. */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { query, run, workspace } from "../helpers.js";
import Database from "better-sqlite3";
import { DEMO_SEEDS, demoWorkspace, parts, SECRET } from "../deliver-helpers.js";

const CONFIG = `timezone: Europe/Berlin
secret: \${COMEBACK_SECRET}
operator:
  email: ops@shop.example
links:
  cart: "https://shop.example/cart/{{#each items}}{{variant}}:{{quantity}}{{#unless @last}},{{/unless}}{{/each}}"
  unsubscribe: "https://shop.example/unsubscribe?t={{token}}"
delivery:
  from: "Demo Shop <hello@shop.example>"
`;
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
    expect(html).toContain('href="https://shop.example/cart/LNS-1D-90:1,SOL-360:1"');
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

describe("consent", () => {
  it("skips opted-out and suppressed addresses, and (with require_opt_in) customers who never opted in", async () => {
    const { dir, db } = await demoWorkspace(CONFIG + "consent:\n  require_opt_in: true\n", [
      ...DEMO_SEEDS,
      { customer: "C004", sku: "FLT-STD", due_on: "2026-03-03" }, // accepts_marketing: no
    ]);
    const write = new Database(db);
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
    expect(report.carts.new).toBe(4);
    expect(report.messages).toMatchObject({
      sent: 2, // Anna, and the digest
      skipped: 3,
      skipped_reasons: { "opted out": 1, suppressed: 1, "no opt-in": 1 },
    });
    const skipped = query<{ error: string }>(
      db,
      "SELECT error FROM outbox WHERE state = 'skipped' ORDER BY id",
    );
    expect(skipped.map((r) => r.error)).toEqual([
      "suppressed (admin): asked by phone",
      "the customer never opted in, and consent.require_opt_in is true",
      "the customer does not accept marketing",
    ]);
    expect(readdirSync(join(dir, "outbox"))).toHaveLength(2);
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
    expect(first.stdout).toMatch(/carts +new 5, existing 0/);
    expect(first.stdout).toMatch(/outbox\/cart_\d+_2026-W10\.eml/);
    const files = readdirSync(join(dir, "outbox"));
    expect(files).toHaveLength(6);
    const again = await run(["demo"], { cwd: dir });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/carts +new 0, existing 5/);
    expect(again.stdout).toMatch(/messages +sent 0,/);
    expect(readdirSync(join(dir, "outbox"))).toEqual(files);
  });
});
