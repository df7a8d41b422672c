/** `comeback backtest` on a small shop: the measure, beside two simple methods, nothing changed. */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { query, run, workspace } from "../helpers.js";

/** 24 customers who buy tea about every 14 days (each at their own pace), and a one-off mug. */
function orders(): string {
  const rows = ["order_id,ordered_at,status,customer_id,email,sku,product_name,quantity,unit_price"];
  let id = 1;
  const start = Date.UTC(2025, 0, 6);
  for (let c = 1; c <= 24; c++) {
    const every = 10 + (c % 9);
    for (let day = c % 7; day < 300; day += every + ((day * 7 + c) % 5) - 2) {
      const date = new Date(start + day * 86_400_000).toISOString().slice(0, 10);
      rows.push(`${id++},${date} 10:00,completed,C${c},c${c}@example.com,TEA-1,Green tea,1,5.00`);
      if (day === c % 7)
        rows.push(`${id - 1},${date} 10:00,completed,C${c},c${c}@example.com,MUG,Mug,1,9.00`);
    }
  }
  return rows.join("\n") + "\n";
}

interface Scores {
  method: string;
  items_per_week: number;
  precision: number;
  recall: number;
  f1: number;
}

describe("backtest", () => {
  it("scores replayed Mondays, beside two simple methods and other thresholds, changing nothing", async () => {
    const dir = workspace("timezone: Europe/Berlin\n");
    writeFileSync(join(dir, "orders.csv"), orders());
    expect((await run(["import", "orders", "orders.csv"], { cwd: dir })).code).toBe(0);
    const db = join(dir, "comeback.db");
    const before = JSON.stringify(
      query(db, "SELECT (SELECT count(*) FROM reminders) r, (SELECT count(*) FROM carts) c"),
    );
    const result = await run(["backtest", "--json", "--thresholds"], { cwd: dir });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as {
      from: string;
      to: string;
      mondays: number;
      warmup_mondays: number;
      comeback: Scores;
      baselines: Scores[];
      thresholds: Scores[];
    };
    // The last order is 2025-11-01 or so: the last Monday whose 28 days the data covers, 16 Mondays back.
    expect(report).toMatchObject({ mondays: 16, warmup_mondays: 4 });
    expect(new Date(report.to).getUTCDay()).toBe(1);
    expect(report.baselines.map((b) => b.method)).toEqual([
      "the shop's mean gap",
      "the customer's median gap between orders",
    ]);
    // The default 0.24 is not among the five compared thresholds.
    expect(report.thresholds.length).toBe(5);
    // Regular tea buyers: comeback reaches most of their purchases, and most of its items are bought.
    expect(report.comeback.recall).toBeGreaterThan(0.5);
    expect(report.comeback.precision).toBeGreaterThan(0.5);
    expect(
      JSON.stringify(query(db, "SELECT (SELECT count(*) FROM reminders) r, (SELECT count(*) FROM carts) c")),
    ).toBe(before);

    // The in-memory replay (the default) makes exactly the carts the database path makes.
    const through = await run(["backtest", "--json", "--in-transaction"], { cwd: dir });
    expect(through.code, through.stderr).toBe(0);
    expect((JSON.parse(through.stdout) as { comeback: Scores }).comeback).toEqual(report.comeback);

    const text = await run(["backtest", "--from", report.from, "--to", report.to], { cwd: dir });
    expect(text.stdout).toContain(`Replayed 16 Mondays, ${report.from} to ${report.to}`);
    expect(text.stdout).toMatch(/comeback \(min_probability 0\.24\)\s+\d+\s+[01]\.\d{3}/);
    const bad = await run(["backtest", "--from", "2025-13-01"], { cwd: dir });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain("--from");
  }, 60_000);
});
