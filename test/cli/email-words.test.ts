/**
 * Right words in the emails (issue 14, point 6): the run-out date rather than the reminder's date,
 * "ran out" for what already has, the first name in the greeting, and a message whose reason is gone
 * by the time it would go is skipped with that reason counted.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { query, run, workspace } from "../helpers.js";
import { demoWorkspace, parts, SECRET } from "../deliver-helpers.js";

const env = { COMEBACK_SECRET: SECRET };
const CONFIG = `timezone: Europe/Berlin
secret: \${COMEBACK_SECRET}
delivery:
  from: "Demo Shop <hello@shop.example>"
`;

async function ok(dir: string, args: string[]): Promise<string> {
  const result = await run(args, { cwd: dir, env });
  expect(result.code, result.stderr).toBe(0);
  return result.stdout;
}

const plain = (text: string) => text.replaceAll("\u00a0", " ").replaceAll("\u202f", " ");

function eml(dir: string, db: string, external: string, key: (id: number) => string) {
  const { id } = query<{ id: number }>(db, "SELECT id FROM customers WHERE external_id = ?", external)[0]!;
  return parts(readFileSync(join(dir, "outbox", `${key(id).replaceAll(":", "_")}.eml`), "utf8"));
}

describe("the cart email's words", () => {
  it("says when the supply runs out, and that an overdue one ran out, in de, ru and en", async () => {
    // C001's lenses reminded 2026-03-03 (set by the admin): lead 7 days, so they run out 2026-03-10.
    // C002's dog food was reminded on 2026-01-01 and never offered: it ran out 2026-01-08.
    const { dir, db } = await demoWorkspace(CONFIG, [
      { customer: "C001", sku: "LNS-1D-90", due_on: "2026-03-03" },
      { customer: "C003", sku: "COF-1KG", due_on: "2026-03-08" },
    ]);
    await ok(dir, ["weekly", "--now", "2026-03-02T09:00"]);
    const anna = eml(dir, db, "C001", (id) => `cart:${id}:2026-W10`);
    expect(anna.html).toContain("Hallo Anna,");
    expect(plain(anna.text)).toContain("(reicht bis etwa 10.03.2026)");
    expect(anna.text).toContain("geht bald zur Neige");
    const boris = eml(dir, db, "C002", (id) => `cart:${id}:2026-W10`);
    expect(boris.text).toContain("Здравствуйте, Борис!");
    // Before: "закончится примерно 1 янв. 2026 г." (the reminder's date, and as if still to come).
    expect(plain(boris.text)).toContain("(запас закончился примерно 8 янв. 2026 г.)");
    expect(boris.text).toContain("вероятно, уже закончилось");
    const clara = eml(dir, db, "C003", (id) => `cart:${id}:2026-W10`);
    // 2026-03-08 + 7 lead days.
    expect(plain(clara.text)).toContain("runs out around Mar 15, 2026");
    expect(clara.text).toContain("Hello Clara,");
  });

  it("greets by the whole name when the export has no first name (a Shopify orders export)", async () => {
    const dir = workspace(`${CONFIG}replenishment:
  rules:
    - { match: { sku: "TEA-*" }, days_per_unit: 30 }
`);
    const orders = join(dir, "orders.csv");
    writeFileSync(
      orders,
      "order_id,ordered_at,email,customer_name,sku,product_name,quantity,unit_price\n" +
        "1,2026-01-20 10:00:00,alex@example.com,Alex Ivanova,TEA-1,Green tea,1,9.50\n",
    );
    await ok(dir, ["import", "orders", orders]);
    await ok(dir, ["plan", "--now", "2026-03-02T09:00"]);
    const preview = await ok(dir, [
      "preview",
      "cart",
      "--customer",
      "alex@example.com",
      "--now",
      "2026-03-02T09:00",
    ]);
    // Before: "Hello," although the export names her.
    expect(preview).toContain("Hello Alex Ivanova,");
    expect(preview).toMatch(/Subject: Alex Ivanova, time to restock/);
    // Bought 2026-01-20 + 30 days: ran out 2026-02-19, before the Monday it goes.
    expect(plain(preview)).toContain("ran out around Feb 19, 2026");
  });
});

describe("a message whose reason is gone when it would go", () => {
  const WINBACK_CONFIG = `${CONFIG}operator:
  email: ops@shop.example
`;

  it("skips a cart and a win-back mail after the customer reordered, and a cart whose reminder was paused", async () => {
    const { dir, db } = await demoWorkspace(WINBACK_CONFIG, [
      { customer: "C001", sku: "LNS-1D-90", due_on: "2026-03-03" },
      { customer: "C003", sku: "COF-1KG", due_on: "2026-03-04" },
    ]);
    // 06:00 Berlin: queued, and deferred to the window's opening at 08:00.
    const night = JSON.parse(await ok(dir, ["weekly", "--now", "2026-03-02T06:00", "--json"]));
    expect(night.messages.deferred_reasons["send window"]).toBeGreaterThanOrEqual(3);
    // Boris reorders at 06:30, Eva (warm: a win-back mail queued) the next day; the admin pauses Clara.
    const orders = join(dir, "new-orders.csv");
    writeFileSync(
      orders,
      "order_id,ordered_at,status,customer_id,email,sku,product_name,quantity,unit_price,currency\n" +
        "2001,2026-03-02 06:30:00,completed,C002,boris.petrov@example.com,DOG-12KG,Dog food,1,49.00,EUR\n" +
        "2002,2026-03-03 12:00:00,completed,C005,eva@example.com,FLT-STD,Water filter cartridge,1,12.00,EUR\n",
    );
    await ok(dir, ["import", "orders", orders]);
    await ok(dir, ["remind", "pause", "--customer", "C003"]);
    await ok(dir, ["plan", "--now", "2026-03-02T06:00"]); // the pause takes effect; orders after now don't count
    // Before: every one of them was sent.
    const sent = JSON.parse(await ok(dir, ["send", "--now", "2026-03-05T10:00", "--json"]));
    expect(sent.skipped_reasons).toMatchObject({ reordered: 3, "reminder no longer open": 1 });
    const state = (key: string) =>
      query<{ state: string; error: string }>(
        db,
        "SELECT state, error FROM outbox WHERE idempotency_key LIKE ?",
        key,
      );
    const id = (ext: string) =>
      query<{ id: number }>(db, "SELECT id FROM customers WHERE external_id = ?", ext)[0]!.id;
    expect(state(`cart:${id("C002")}:%`)[0]).toMatchObject({ state: "skipped" });
    expect(state(`cart:${id("C002")}:%`)[0]!.error).toMatch(/ordered again/);
    expect(state(`winback:${id("C005")}:%`)[0]).toMatchObject({ state: "skipped" });
    expect(state(`cart:${id("C003")}:%`)[0]).toMatchObject({ state: "skipped" });
    expect(state(`cart:${id("C001")}:%`)[0]).toMatchObject({ state: "sent" });
  });

  it("skips a win-back mail to a customer the plan no longer counts as lapsed", async () => {
    const { dir, db } = await demoWorkspace(WINBACK_CONFIG, []);
    await ok(dir, ["weekly", "--now", "2026-03-02T06:00"]);
    const orders = join(dir, "new-orders.csv");
    writeFileSync(
      orders,
      "order_id,ordered_at,status,customer_id,email,sku,product_name,quantity,unit_price,currency\n" +
        "2002,2026-03-02 07:00:00,completed,C003,clara@example.com,COF-1KG,Espresso beans 1 kg,1,18.50,EUR\n",
    );
    await ok(dir, ["import", "orders", orders]);
    // The next plan sees the order: Clara is won back. The mail still goes out only if its reason holds.
    await ok(dir, ["plan", "--now", "2026-03-02T07:30"]);
    const sent = JSON.parse(await ok(dir, ["send", "--now", "2026-03-02T09:00", "--json"]));
    expect(Object.keys(sent.skipped_reasons)).toEqual(expect.arrayContaining(["no longer lapsed"]));
    const [clara] = query<{ state: string; error: string }>(
      db,
      `SELECT o.state, o.error FROM outbox o JOIN customers c ON c.id = o.customer_id
        WHERE c.external_id = 'C003' AND o.kind LIKE 'winback%'`,
    );
    expect(clara).toMatchObject({ state: "skipped" });
    expect(clara!.error).toMatch(/no longer warm, cold or lost/);
  });
});
