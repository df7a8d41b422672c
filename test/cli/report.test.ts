/** `comeback report` on the built CLI: after a weekly with a hold-out group, some events and an order. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { query, run } from "../helpers.js";
import { demoWorkspace, NO_WINBACK_EMAILS, SECRET } from "../deliver-helpers.js";

const env = { COMEBACK_SECRET: SECRET };
const CONFIG = `timezone: Europe/Berlin
secret: \${COMEBACK_SECRET}
links:
  base_url: https://shop.example/comeback
holdout:
  share: 0.5
delivery:
  from: "Demo Shop <hello@shop.example>"
${NO_WINBACK_EMAILS}`;

describe("comeback report", () => {
  it("reports the funnel and the lift as JSON, text and one HTML file", async () => {
    const { dir, db } = await demoWorkspace(CONFIG);
    const weekly = await run(["weekly", "--now", "2026-03-02T09:00", "--json"], { cwd: dir, env });
    expect(weekly.code, weekly.stderr).toBe(0);
    const groups = query<{ customer_id: number; held_out: number }>(
      db,
      "SELECT customer_id, held_out FROM holdout ORDER BY customer_id",
    );
    const emailed = groups.filter((g) => g.held_out === 0).map((g) => g.customer_id);
    const held = groups.filter((g) => g.held_out === 1).map((g) => g.customer_id);
    expect(emailed.length).toBeGreaterThan(0);
    expect(held.length).toBeGreaterThan(0);

    // A person opens and clicks the first emailed cart; a held-out customer orders 10 days later.
    const write = new Database(db);
    const cart = write
      .prepare("SELECT id, customer_id FROM outbox WHERE kind = 'cart' AND customer_id = ?")
      .get(emailed[0]) as { id: number; customer_id: number };
    for (const kind of ["opened", "clicked"])
      write
        .prepare("INSERT INTO events (outbox_id, customer_id, kind, machine, at) VALUES (?, ?, ?, 0, ?)")
        .run(cart.id, cart.customer_id, kind, "2026-03-02T12:00:00.000Z");
    const order = write
      .prepare(
        `INSERT INTO orders (source, external_id, customer_id, placed_at, status_class, currency, created_at, updated_at)
         VALUES ('test', 'T1', ?, '2026-03-12T10:00:00.000Z', 'completed', 'EUR', 'x', 'x')`,
      )
      .run(held[0]).lastInsertRowid;
    write
      .prepare(
        "INSERT INTO order_lines (order_id, line_key, sku, quantity, line_total_minor) VALUES (?, '1', 'X', 1, 4200)",
      )
      .run(order);
    write.close();

    const json = await run(["report", "--now", "2026-04-10", "--json"], { cwd: dir, env });
    expect(json.code, json.stderr).toBe(0);
    const report = JSON.parse(json.stdout);
    expect(report.days).toBe(30);
    expect(report.weeks).toEqual([
      expect.objectContaining({
        week: "2026-W10",
        kind: "cart",
        sent: emailed.length,
        delivered: emailed.length,
        opened: 1,
        clicked: 1,
        reordered: 0,
        revenue_minor: 0,
      }),
    ]);
    expect(report.lift.emailed).toMatchObject({ carts: emailed.length, repurchased: 0, revenue_minor: 0 });
    expect(report.lift.held_out).toMatchObject({ carts: held.length, repurchased: 1, revenue_minor: 4200 });
    expect(report.lift.rate_difference.value).toBeCloseTo(-1 / held.length, 10);
    expect(report.lift.rate_difference.ci95).toHaveLength(2);

    const text = await run(["report", "--now", "2026-04-10"], { cwd: dir, env });
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(new RegExp(`held out\\s+1 of ${held.length} carts reordered`));

    const file = join(dir, "report.html");
    const html = await run(["report", "--now", "2026-04-10", "--html", file], { cwd: dir, env });
    expect(html.code, html.stderr).toBe(0);
    const page = readFileSync(file, "utf8");
    expect(page).toMatch(/^<!DOCTYPE html>/);
    expect(page).toMatch(/<\/html>\n$/);
    expect(page).not.toMatch(/<script/i);
    expect(page).toContain(`(1 of ${held.length})`);
    expect(page).toContain("<svg");

    const both = await run(["report", "--json", "--html", file], { cwd: dir, env });
    expect(both.code).toBe(2);
    const nowhere = await run(["report", "--html", join(dir, "missing", "r.html")], { cwd: dir, env });
    expect(nowhere.code).toBe(66);
    expect(nowhere.stderr).toMatch(/can't write/);
    const badSince = await run(["report", "--since", "March"], { cwd: dir, env });
    expect(badSince.code).toBe(2);
  });
});
