/** `weekly` and `send` with the default transport: .eml files in a folder. */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { query, run, workspace } from "../helpers.js";
import { demoWorkspace, parts, SECRET } from "../deliver-helpers.js";

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
