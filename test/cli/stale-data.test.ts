/**
 * Issue 14, point 4: planned as of today on an export that ended long ago, or with a timezone the
 * export's clock disagrees with, plan, weekly and status say so (stderr, and data_checks in --json).
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { query, run, SHARED_DATA, workspace } from "../helpers.js";

const SHOPIFY_ORDERS = join(SHARED_DATA, "shopify-sample", "orders_export.csv");
const haveShared = existsSync(SHOPIFY_ORDERS);
if (!haveShared)
  console.warn(
    `SKIPPED: the Shopify sample stale-data tests need ${SHOPIFY_ORDERS} (../shared/data beside the repo)`,
  );

const env = { COMEBACK_SECRET: "0123456789abcdef0123456789abcdef" };
const TODAY = "2026-12-07T07:00:00Z";

function setTimezone(dir: string, zone: string): void {
  const path = join(dir, "comeback.yaml");
  writeFileSync(path, readFileSync(path, "utf8").replace(/^timezone: .*$/m, `timezone: ${zone}`));
}

interface DataChecks {
  stale: boolean;
  newest_order_on: string | null;
  timezone_fits: boolean | null;
  offsets_seen: Record<string, number>;
  suggested_timezone: string | null;
  warnings: string[];
}

describe.runIf(haveShared)("the real Shopify sample (orders until 2022-01-11, times at -0500/-0400)", () => {
  it("init, import and plan as of today: the data is stale and the timezone wrong, and each is said", async () => {
    const parent = workspace();
    const dir = join(parent, "shop");
    expect((await run(["init", dir], { cwd: parent })).code).toBe(0);
    const imported = await run(["import", "orders", SHOPIFY_ORDERS], { cwd: dir });
    expect(imported.code, imported.stderr).toBe(0);
    // What the import saw of the shop's clock, per offset and day.
    const [{ offsets }] = query<{ offsets: string }>(
      join(dir, "comeback.db"),
      "SELECT offsets FROM imports",
    ) as [{ offsets: string }];
    const seen = JSON.parse(offsets) as {
      offsets: Record<string, Record<string, number>>;
      without_offset: number;
    };
    expect(Object.keys(seen.offsets).sort()).toEqual(["-04:00", "-05:00"]);
    const total = Object.values(seen.offsets)
      .flatMap((days) => Object.values(days))
      .reduce((a, b) => a + b);
    expect(total).toBe(409);
    expect(seen.without_offset).toBe(0);

    const plan = await run(["plan", "--now", TODAY, "--json"], { cwd: dir });
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stderr).toMatch(
      /warning: the data looks stale: the newest order is from 2022-01-11, 1,791 days before 2026-12-07/,
    );
    expect(plan.stderr).toMatch(/--now 2022-01-12/);
    expect(plan.stderr).toMatch(
      /warning: the timezone looks wrong: .*-05:00 \(\d+ orders\) and -04:00 \(\d+\), but UTC has \+00:00 on those dates/,
    );
    expect(plan.stderr).toMatch(/set "timezone: America\/New_York"/);
    const checks = (JSON.parse(plan.stdout) as { data_checks: DataChecks }).data_checks;
    expect(checks).toMatchObject({
      stale: true,
      newest_order_on: "2022-01-11",
      timezone_fits: false,
      suggested_timezone: "America/New_York",
    });
    expect(checks.warnings).toHaveLength(2);

    const status = await run(["status", "--now", TODAY, "--json"], { cwd: dir });
    expect(status.code, status.stderr).toBe(0);
    expect(status.stderr).toMatch(/the data looks stale: the newest order is from 2022-01-11/);
    expect((JSON.parse(status.stdout) as { data_checks: DataChecks }).data_checks.stale).toBe(true);
    const statusText = await run(["status"], { cwd: dir });
    expect(statusText.stderr).toMatch(/the data looks stale/);

    const weekly = await run(["weekly", "--dry-run", "--now", TODAY, "--json"], { cwd: dir, env });
    expect(weekly.code, weekly.stderr).toBe(0);
    expect(weekly.stderr).toMatch(/the data looks stale: the newest order is from 2022-01-11/);
    expect(weekly.stderr).toMatch(/the timezone looks wrong/);
    expect((JSON.parse(weekly.stdout) as { data_checks: DataChecks }).data_checks.stale).toBe(true);
  });

  it("as of the export's end and in the export's zone, says nothing", async () => {
    const dir = workspace();
    expect((await run(["init", dir], { cwd: dir })).code).toBe(0);
    setTimezone(dir, "America/New_York");
    expect((await run(["import", "orders", SHOPIFY_ORDERS], { cwd: dir })).code).toBe(0);
    const plan = await run(["plan", "--now", "2022-01-12"], { cwd: dir });
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stderr).not.toMatch(/warning/);
    const status = await run(["status", "--now", "2022-01-12", "--json"], { cwd: dir });
    expect((JSON.parse(status.stdout) as { data_checks: DataChecks }).data_checks).toMatchObject({
      stale: false,
      timezone_fits: true,
      warnings: [],
    });
  });
});

describe("an export written at -0700 all year, configured as Europe/Berlin", () => {
  it("status and plan name the offset, the zone's, and a zone that fits", async () => {
    // An order every other day of 2024, at 10:00 in Arizona (no summer time there).
    const lines = ["order_id,ordered_at,customer_id,email,sku,quantity,unit_price,currency"];
    for (let day = 0; day < 366; day += 2) {
      const date = new Date(Date.UTC(2024, 0, 1) + day * 86_400_000).toISOString().slice(0, 10);
      lines.push(
        `${1000 + day},${date} 10:00:00 -0700,C${day % 40},c${day % 40}@example.com,FILTER-1,1,9.90,USD`,
      );
    }
    const dir = workspace("timezone: Europe/Berlin\ncurrency: USD\n");
    writeFileSync(join(dir, "orders.csv"), lines.join("\n") + "\n");
    expect((await run(["import", "orders", "orders.csv"], { cwd: dir })).code).toBe(0);

    const status = await run(["status", "--now", "2025-01-01"], { cwd: dir });
    expect(status.code, status.stderr).toBe(0);
    expect(status.stderr).toMatch(
      /the timezone looks wrong: in the last year of orders, the times were written with UTC offset -07:00 \(183 orders\), but Europe\/Berlin has \+01:00 and \+02:00 on those dates/,
    );
    expect(status.stderr).toMatch(/set "timezone: America\/Phoenix"/);
    expect(status.stderr).not.toMatch(/stale/);
    const plan = await run(["plan", "--now", "2025-01-01"], { cwd: dir });
    expect(plan.stderr).toMatch(/the timezone looks wrong/);

    writeFileSync(join(dir, "comeback.yaml"), "timezone: America/Phoenix\ncurrency: USD\n");
    const fixed = await run(["status", "--now", "2025-01-01"], { cwd: dir });
    expect(fixed.stderr).toBe("");
  });
});
