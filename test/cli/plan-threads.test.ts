/**
 * A shop of more than one batch of customers is planned on planner threads (the built CLI), and
 * must come out exactly as planned on the main thread alone (the same code run from the sources,
 * where there is no built planner thread).
 */
import { copyFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load.js";
import { CUSTOMERS_PER_BATCH } from "../../src/plan/replenishment/facts.js";
import { planLifecycle } from "../../src/plan/lifecycle/plan.js";
import { runPlan } from "../../src/plan/run.js";
import { openStore } from "../../src/store/open.js";
import { query, run, workspace } from "../helpers.js";

const CONFIG = `
database: shop.db
timezone: Europe/Berlin
replenishment:
  rules:
    - { match: { sku: "LNS-*" }, days_per_unit: 30 }
    - { match: { sku: "DOG-*" }, days_per_unit: 45, lead_days: 10 }
`;
const NOW = "2026-03-02";
const CUSTOMERS = CUSTOMERS_PER_BATCH * 2 + 500; // three batches: two threads, one with two batches

/** A deterministic shop: each customer buys 1–4 times, lenses, dog food, or a product without a rule. */
function ordersCsv(): string {
  const lines = ["order_id,ordered_at,status,customer_id,email,sku,product_name,quantity,unit_price"];
  let order = 1;
  for (let c = 1; c <= CUSTOMERS; c++) {
    const orders = 1 + (c % 4);
    for (let k = 0; k < orders; k++) {
      const day = new Date(Date.UTC(2025, 0, 1 + ((c * 37 + k * 41) % 420)));
      const date = day.toISOString().slice(0, 10);
      const status = (c + k) % 23 === 0 ? "cancelled" : "completed";
      const sku = ["LNS-30", "DOG-12", "GIFT-1"][(c + k) % 3];
      const quantity = 1 + ((c * k) % 3);
      lines.push(
        `${order++},${date} 10:00,${status},C${c},c${c}@example.com,${sku},Product ${sku},${quantity},9.90`,
      );
      // A return of part of an earlier order now and then.
      if ((c + k) % 17 === 0)
        lines.push(
          `${order++},${date} 18:00,completed,C${c},c${c}@example.com,${sku},Product ${sku},-1,9.90`,
        );
    }
  }
  return lines.join("\n") + "\n";
}

const ROWS = `SELECT * FROM reminders ORDER BY customer_id, group_key`;
const withoutStamp = (rows: Record<string, unknown>[]) => rows.map(({ updated_at: _, ...row }) => row);

describe("plan on planner threads", () => {
  it("writes exactly what one thread writes, and nothing when run again", async () => {
    const dir = workspace(CONFIG);
    writeFileSync(join(dir, "orders.csv"), ordersCsv());
    const imported = await run(["import", "orders", "orders.csv"], { cwd: dir });
    expect(imported.stderr).toBe("");
    expect(imported.code).toBe(0);
    copyFileSync(join(dir, "shop.db"), join(dir, "alone.db"));
    copyFileSync(join(dir, "shop.db"), join(dir, "failing.db"));

    const threaded = await run(["plan", "--now", NOW, "--json"], { cwd: dir });
    expect(threaded.code).toBe(0);
    const report = JSON.parse(threaded.stdout) as { now: string; replenishment: Record<string, unknown> };
    expect(report.replenishment.planner_threads).toBe(2);
    expect(report.replenishment.new).toBeGreaterThan(1000);
    // A first plan builds the open-due index after its inserts: it is there again, and `due` uses it.
    const index = "SELECT sql FROM sqlite_master WHERE name = 'reminders_open_due'";
    expect(query(join(dir, "shop.db"), index)).toEqual(query(join(dir, "alone.db"), index));
    expect(query(join(dir, "shop.db"), index)).toHaveLength(1);

    const config = await loadConfig({ configPath: join(dir, "comeback.yaml") });
    const db = openStore(join(dir, "alone.db"));
    const alone = await runPlan(db, config, report.now);
    // The lifecycle planned from the histories the planner read on the way equals one that reads them itself.
    const lifecycleRows = () => db.prepare("SELECT * FROM customer_lifecycle ORDER BY customer_id").all();
    const fromPlanner = lifecycleRows();
    expect(fromPlanner.length).toBeGreaterThan(CUSTOMERS * 0.9);
    db.exec("DELETE FROM customer_lifecycle");
    planLifecycle(db, config, report.now);
    expect(lifecycleRows()).toEqual(fromPlanner);
    db.close();
    expect(alone.replenishment.planner_threads).toBe(0);
    expect({ ...alone.replenishment, planner_threads: 2 }).toEqual(report.replenishment);
    expect(withoutStamp(query(join(dir, "shop.db"), ROWS))).toEqual(
      withoutStamp(query(join(dir, "alone.db"), ROWS)),
    );

    const again = JSON.parse(
      (await run(["plan", "--now", NOW, "--json"], { cwd: dir })).stdout,
    ) as typeof report;
    expect(again.replenishment).toMatchObject({ new: 0, changed: 0, removed: 0 });
    expect(again.replenishment.unchanged).toBe(report.replenishment.new);

    // A write that fails in a late batch, while the threads still plan: nothing of the plan stays.
    const failing = join(dir, "failing.db");
    const raw = new Database(failing);
    raw.exec(`CREATE TRIGGER fail_late BEFORE INSERT ON reminders WHEN NEW.customer_id > ${CUSTOMERS - 300}
              BEGIN SELECT RAISE(ABORT, 'disk on fire'); END`);
    raw.close();
    writeFileSync(join(dir, "failing.yaml"), CONFIG.replace("database: shop.db", "database: failing.db"));
    const failed = await run(["plan", "--now", NOW, "--config", "failing.yaml"], { cwd: dir });
    expect(failed.code).not.toBe(0);
    expect(failed.stderr).toContain("disk on fire");
    const count = (table: string) =>
      query<{ n: number }>(failing, `SELECT count(*) AS n FROM ${table}`)[0]!.n;
    expect([count("reminders"), count("customer_lifecycle"), count("tasks")]).toEqual([0, 0, 0]);
    expect(query(failing, index)).toHaveLength(1);
  }, 120_000);
});
