/**
 * A file large enough to be read by two reader threads. The split falls inside an order almost
 * surely (five lines per order on average): every order and line must still be imported once, with
 * its lines numbered 1..n, exactly as a single reader would.
 */
import { statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
// @ts-expect-error: the benchmark's generator is plain JavaScript without types
import { generateOrders } from "../../bench/generate.mjs";
import { query, run, workspace } from "../helpers.js";

describe("a file read by two readers", () => {
  it("imports every order and line once, with an order's lines together", async () => {
    const dir = workspace();
    const file = join(dir, "large.csv");
    await (generateOrders as (path: string, options: { lines: number; seed: number }) => Promise<unknown>)(
      file,
      {
        lines: 240_000,
        seed: 7,
      },
    );
    expect(statSync(file).size).toBeGreaterThan(32 * 1024 * 1024); // over the split threshold

    const result = await run(["import", "orders", file, "--json"], { cwd: dir });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const [report] = JSON.parse(result.stdout) as Record<string, number>[];
    expect(report).toMatchObject({ rows: 240_000, lines_new: 240_000, rejected: 0 });

    const db = join(dir, "comeback.db");
    // Independently of the report: as many orders as distinct ids, and each order's keys are 1..n.
    const [orders] = query<{ n: number }>(db, "SELECT count(*) AS n FROM orders");
    expect(report!.orders_new).toBe(orders!.n);
    expect(
      query(
        db,
        `SELECT count(*) AS n FROM (SELECT order_id, count(*) AS lines, max(CAST(line_key AS INTEGER)) AS top
         FROM order_lines GROUP BY order_id) WHERE lines <> top`,
      ),
    ).toEqual([{ n: 0 }]);

    const again = await run(["import", "orders", file, "--force", "--json"], { cwd: dir });
    const [forced] = JSON.parse(again.stdout) as Record<string, number>[];
    expect(forced).toMatchObject({
      orders_new: 0,
      orders_updated: 0,
      orders_unchanged: orders!.n,
      lines_new: 0,
    });
  }, 120_000);
});
