/**
 * The lifecycle, win-back tasks and the call log, end to end: orders and calls go in through the
 * built CLI, `comeback plan` runs the lifecycle and the tasks,
 * and `lost` / `tasks` are read back as a user would.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { defaultConfig } from "../../src/config/schema.js";
import { openStore } from "../../src/store/open.js";
import { dueTasksForDigest, dueWinbackEmails } from "../../src/plan/winback/due.js";
import { query, run, workspace } from "../helpers.js";

const HEADER =
  "order_id,ordered_at,sku,product_name,quantity,unit_price,status,customer_id,email,phone,customer_name";

/** One line per order: [order id, date, customer, status?]. */
function ordersCsv(orders: [string, string, string, string?][]): string {
  const people: Record<string, [string, string, string]> = {
    A: ["a@example.com", "+49 170 1000001", "Anna Active"],
    W: ["w@example.com", "+49 170 1000002", '=HYPERLINK("http://evil")'],
    K: ["k@example.com", "0170 1000003", "Karl Cold"],
    L: ["l@example.com", "+49 170 1000004", "@Lena Lost"],
    N: ["n@example.com", "+49 170 1000005", "Nina New"],
    R: ["r@example.com", "+49 170 1000006", "Rolf Returned"],
    X: ["x@example.com", "+49 170 1000007", "Xaver Cancelled"],
    Q: ["q@example.com", "", "Quentin No Phone"],
  };
  const lines = orders.map(([id, date, who, status]) => {
    const [email, phone, name] = people[who]!;
    const quoted = `"${name.replaceAll('"', '""')}"`;
    return `${id},${date} 12:00:00,SKU-${who},Coffee ${who},2,9.50,${status ?? "completed"},${who},${email},${phone},${quoted}`;
  });
  return [HEADER, ...lines].join("\n") + "\n";
}

// With a 30-day rhythm the thresholds are warm 45, cold 75, lost 120 days; now is 2024-06-01.
// Lena's orders come first, so that she is stored first and the listings' order (warm, cold, lost)
// is not the tables' own.
const ORDERS: [string, string, string, string?][] = [
  ["11", "2023-12-02", "L"],
  ["12", "2024-01-01", "L"], // 152 days: lost
  ["1", "2024-03-03", "A"],
  ["2", "2024-04-02", "A"],
  ["3", "2024-05-02", "A"],
  ["4", "2024-07-01", "A"], // after now: ignored
  ["5", "2024-01-23", "W"],
  ["6", "2024-02-22", "W"],
  ["7", "2024-03-23", "W"], // 70 days before now: warm
  ["8", "2024-01-10", "K"],
  ["9", "2024-02-09", "K"],
  ["10", "2024-03-10", "K"], // 83 days: cold
  ["13", "2024-05-20", "N"], // one order, 12 days: new
  ["14", "2023-10-01", "R"],
  ["15", "2023-10-31", "R"],
  ["16", "2024-05-25", "R"], // after 207 days away: won back
  ["17", "2024-05-01", "X", "cancelled"],
];

async function ok(dir: string, args: string[]) {
  const result = await run(args, { cwd: dir });
  expect(result.stderr, args.join(" ")).toBe("");
  expect(result.code, args.join(" ")).toBe(0);
  return result;
}

async function shop() {
  const dir = workspace("timezone: UTC\n");
  writeFileSync(join(dir, "orders.csv"), ordersCsv(ORDERS));
  await ok(dir, ["import", "orders", "orders.csv"]);
  return { dir, db: join(dir, "comeback.db") };
}

async function planJson(dir: string, now: string) {
  const result = await ok(dir, ["plan", "--now", now, "--json"]);
  return JSON.parse(result.stdout) as {
    lifecycle: {
      counts: Record<string, number>;
      changed: number;
      won_back: { customers: number; new: number; order_value_minor: Record<string, number> };
    };
    tasks: {
      created: number;
      closed_by_calls: number;
      closed_won_back: number;
      expired: number;
      open: number;
    };
  };
}

function statuses(db: string): Record<string, string> {
  const rows = query<{ id: string; status: string }>(
    db,
    "SELECT c.external_id AS id, l.status FROM customer_lifecycle l JOIN customers c ON c.id = l.customer_id",
  );
  return Object.fromEntries(rows.map((r) => [r.id, r.status]));
}

describe("lifecycle (rhythm)", () => {
  it("sorts customers as of now, ignores later and cancelled orders, and changes nothing when run again", async () => {
    const { dir, db } = await shop();
    const first = await planJson(dir, "2024-06-01");
    expect(statuses(db)).toEqual({ A: "active", W: "warm", K: "cold", L: "lost", N: "new", R: "won_back" });
    expect(first.lifecycle.counts).toEqual({ new: 1, active: 1, warm: 1, cold: 1, lost: 1, won_back: 1 });
    expect(first.lifecycle.changed).toBe(6);
    // R's winning order: 2 × 9.50
    expect(first.lifecycle.won_back).toEqual({ customers: 1, new: 1, order_value_minor: { EUR: 1900 } });

    const before = JSON.stringify(query(db, "SELECT * FROM customer_lifecycle ORDER BY customer_id"));
    const again = await planJson(dir, "2024-06-01");
    expect(again.lifecycle.changed).toBe(0);
    expect(again.lifecycle.won_back.new).toBe(0);
    expect(again.tasks.created).toBe(0);
    expect(JSON.stringify(query(db, "SELECT * FROM customer_lifecycle ORDER BY customer_id"))).toBe(before);

    // Backtest: as of 2024-03-01 R had not come back yet, and N had not bought at all.
    await planJson(dir, "2024-03-01");
    const past = statuses(db);
    expect(past.R).toBe("lost");
    expect(past.N).toBeUndefined();
    expect(past.W).toBe("active");
  });

  it("lost lists exactly the documented keys, and its CSV neutralises formulas", async () => {
    const { dir } = await shop();
    await planJson(dir, "2024-06-01");
    const result = await ok(dir, ["lost", "--now", "2024-06-01", "--json"]);
    const rows = JSON.parse(result.stdout) as Record<string, unknown>[];
    expect(rows.map((r) => r.customer_id)).toEqual(["W", "K", "L"]);
    // One array, an object per line (SQLite writes it whole: src/store/listing.ts).
    const lines = result.stdout.split("\n");
    expect([lines[0], ...lines.slice(-2)]).toEqual(["[", "]", ""]);
    expect(lines.slice(1, -2).map((line) => JSON.parse(line.replace(/,$/, "")).customer_id)).toEqual([
      "W",
      "K",
      "L",
    ]);
    expect(Object.keys(rows[0]!)).toEqual([
      "customer_id",
      "email",
      "comeback_id",
      "phone",
      "name",
      "status",
      "since",
      "orders",
      "last_order_on",
      "typical_gap_days",
      "days_since_last",
      "p_alive",
      "expected_purchases_90d",
      "next_contact_on",
      "supply_until",
    ]);
    expect(rows[0]).toMatchObject({
      status: "warm",
      since: "2024-05-07", // 45 days after 2024-03-23
      orders: 3,
      last_order_on: "2024-03-23",
      typical_gap_days: 30,
      days_since_last: 70,
      p_alive: null,
      expected_purchases_90d: null,
      next_contact_on: "2024-05-21", // warm every 14 days: 05-07, 05-21, 06-04
      supply_until: null,
    });

    const only = JSON.parse(
      (await ok(dir, ["lost", "--now", "2024-06-01", "--status", "lost", "--json"])).stdout,
    );
    expect(only.map((r: { customer_id: string }) => r.customer_id)).toEqual(["L"]);

    await ok(dir, ["lost", "--now", "2024-06-01", "--csv", "lost.csv"]);
    const csv = readFileSync(join(dir, "lost.csv"), "utf8");
    expect(csv.startsWith("\uFEFFcustomer_id,email,comeback_id,phone,name,status,")).toBe(true);
    expect(csv).toContain(`,491701000002,"'=HYPERLINK(""http://evil"")",warm,`);
    expect(csv).toContain(",'@Lena Lost,lost,");
    expect(csv).not.toMatch(/,[=+@-]/);
    // The JSON (written by SQLite) and the CSV (from rows) are one listing: same customers, same order.
    const csvIds = csv
      .trim()
      .split("\n")
      .slice(1)
      .map((line) => line.split(",")[0]);
    expect(csvIds).toEqual(["W", "K", "L"]);
    expect(csv).toContain(",2024-03-23,30,70,,,2024-05-21");

    const both = await run(["lost", "--json", "--csv", "x.csv"], { cwd: dir });
    expect(both.code).toBe(2);
    const bad = await run(["lost", "--status", "gone"], { cwd: dir });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('unknown status "gone"');
  });
});

describe("win-back tasks and the call log", () => {
  const calls = (rows: string[]) =>
    ["phone,started_at,duration_seconds,direction,agent", ...rows].join("\n") + "\n";

  it("closes a task only on a long enough call made after the task; re-planning adds none", async () => {
    const { dir, db } = await shop();
    const plan = await planJson(dir, "2024-06-01");
    // warm and cold call (default cadence), lost only gets emails
    expect(plan.tasks.created).toBe(2);
    const open = JSON.parse((await ok(dir, ["tasks", "--now", "2024-06-01", "--json"])).stdout) as {
      task_id: number;
      customer_id: string;
      status: string;
      last_order_items: string;
      orders: number;
    }[];
    // by due day: W's current warm slot is 05-21 (05-07 + 14), K's first cold one 05-24
    expect(open.map((t) => [t.customer_id, t.status])).toEqual([
      ["W", "warm"],
      ["K", "cold"],
    ]);
    expect(open[1]).toMatchObject({ orders: 3, last_order_items: "2 × Coffee K" });

    writeFileSync(
      join(dir, "calls.csv"),
      calls([
        "+49 170 1000002,2024-05-31 10:00:00,300,outbound,eva", // W: long, but before the task
        "+49 170 1000002,2024-06-01 09:00:00,15,outbound,eva", // W: after, too short
        "+49 170 1000003,2024-06-01 10:00:00,25,outbound,eva", // K: after and long enough (0170… = +49 170…)
      ]),
    );
    const imported = await ok(dir, ["import", "calls", "calls.csv", "--json"]);
    expect(JSON.parse(imported.stdout)[0]).toMatchObject({ calls_new: 3, tasks_closed: 1, rejected: 0 });
    const after = JSON.parse((await ok(dir, ["tasks", "--now", "2024-06-02", "--json"])).stdout);
    expect(after.map((t: { customer_id: string }) => t.customer_id)).toEqual(["W"]);
    expect(after[0]).toMatchObject({ previous_calls: 2 });
    expect(
      query(
        db,
        "SELECT state, closed_by FROM tasks t JOIN customers c ON c.id = t.customer_id WHERE c.external_id = 'K'",
      ),
    ).toEqual([{ state: "done", closed_by: "eva" }]);

    await ok(dir, ["tasks", "--now", "2024-06-02", "--csv", "tasks.csv"]);
    const csv = readFileSync(join(dir, "tasks.csv"), "utf8");
    expect(csv).toContain(`"'=HYPERLINK(""http://evil"")"`);
    expect(csv).not.toMatch(/,[=+@-]/);

    // A bad row fails the whole log, naming the line and column; nothing is written.
    writeFileSync(join(dir, "bad.csv"), calls(["+49 170 1000002,2024-06-02 09:00:00,long,outbound,eva"]));
    const bad = await run(["import", "calls", "bad.csv"], { cwd: dir });
    expect(bad.code).toBe(65);
    expect(bad.stderr).toContain('bad.csv:2: column "duration_seconds": "long" is not a duration');
    expect(query(db, "SELECT count(*) AS n FROM calls")).toEqual([{ n: 3 }]);

    // Same file again: already imported. Planning again the same day adds no task.
    const again = await ok(dir, ["import", "calls", "calls.csv", "--json"]);
    expect(JSON.parse(again.stdout)[0]).toMatchObject({ already_imported: true });
    const replan = await planJson(dir, "2024-06-02");
    expect(replan.tasks.created).toBe(0);
    expect(query(db, "SELECT count(*) AS n FROM tasks")).toEqual([{ n: 2 }]);
  });

  it("makes no call task for a customer without a phone", async () => {
    const dir = workspace("timezone: UTC\n");
    writeFileSync(
      join(dir, "orders.csv"),
      ordersCsv([
        ["1", "2024-01-23", "Q"],
        ["2", "2024-02-22", "Q"],
        ["3", "2024-03-23", "Q"],
      ]),
    );
    await ok(dir, ["import", "orders", "orders.csv"]);
    // 70 days after this tiny shop's last order, more than the 30 at which any data is called stale.
    const result = await run(["plan", "--now", "2024-06-01", "--json"], { cwd: dir });
    expect(result.stderr).toMatch(
      /^comeback: warning: the data looks stale: the newest order is from 2024-03-23/,
    );
    const plan = JSON.parse(result.stdout) as Awaited<ReturnType<typeof planJson>>;
    expect(plan.lifecycle.counts.warm).toBe(1);
    expect(plan.tasks.created).toBe(0);
  });

  it("a new order wins the customer back and closes their task; a manager closes one only with a reason", async () => {
    const { dir, db } = await shop();
    await planJson(dir, "2024-06-01");
    writeFileSync(join(dir, "more.csv"), ordersCsv([["20", "2024-06-03", "W"]]));
    await ok(dir, ["import", "orders", "more.csv"]);
    const plan = await planJson(dir, "2024-06-05");
    expect(plan.tasks.closed_won_back).toBe(1);
    expect(statuses(db).W).toBe("won_back");
    const [k] = query<{ id: number }>(
      db,
      "SELECT t.id FROM tasks t JOIN customers c ON c.id = t.customer_id WHERE c.external_id = 'K'",
    );

    const noReason = await run(["tasks", "close", String(k!.id)], { cwd: dir });
    expect(noReason.code).toBe(2);
    const closed = await run(["tasks", "close", String(k!.id), "--reason", "moved abroad", "--json"], {
      cwd: dir,
      env: { USER: "olga" },
    });
    expect(closed.code).toBe(0);
    expect(JSON.parse(closed.stdout)).toMatchObject({
      state: "closed",
      closed_by: "olga",
      close_reason: "moved abroad",
    });
    const twice = await run(["tasks", "close", String(k!.id), "--reason", "again", "--by", "olga"], {
      cwd: dir,
    });
    expect(twice.code).toBe(2);
    expect(twice.stderr).toContain("already closed");
    expect(JSON.parse((await ok(dir, ["tasks", "--now", "2024-06-05", "--json"])).stdout)).toEqual([]);
  });
});

describe("for the Monday batch", () => {
  it("lists the win-back emails due this week with their keys and favourite products, and the open tasks", async () => {
    const { dir, db: path } = await shop();
    await planJson(dir, "2024-06-01");
    const config = { ...defaultConfig(dir), timezone: "UTC" };
    const db = openStore(path);
    try {
      const ids = Object.fromEntries(
        query<{ external_id: string; id: number }>(path, "SELECT external_id, id FROM customers").map((r) => [
          r.external_id,
          r.id,
        ]),
      );
      // 2024-06-01 is a Saturday: the week runs to Sunday 06-02.
      const emails = dueWinbackEmails(db, config, "2024-06-01T00:00:00Z");
      // In the customers' order: Lena was stored first.
      expect(emails.map((e) => [e.idempotency_key, e.template, e.due_on])).toEqual([
        [`winback:${ids.L}:lost:1`, "winback-lost", "2024-04-30"],
        [`winback:${ids.W}:warm:2`, "winback-warm", "2024-05-21"],
        [`winback:${ids.K}:cold:1`, "winback-cold", "2024-05-24"],
      ]);
      expect(emails[1]).toMatchObject({
        customer_id: ids.W,
        status: "warm",
        n: 2,
        email: "w@example.com",
        favourite_products: [{ sku: "SKU-W", name: "Coffee W", orders: 3, quantity: 6 }],
      });
      // Monday 06-03 begins the next week: W's third warm slot (06-04) falls in it.
      expect(dueWinbackEmails(db, config, "2024-06-03T00:00:00Z").map((e) => e.idempotency_key)).toContain(
        `winback:${ids.W}:warm:3`,
      );
      expect(dueTasksForDigest(db, config, "2024-06-01T00:00:00Z").map((t) => t.customer_id)).toEqual([
        "W",
        "K",
      ]);
    } finally {
      db.close();
    }

    // A customer who ordered again gets no more win-back emails.
    writeFileSync(join(dir, "more.csv"), ordersCsv([["20", "2024-06-03", "W"]]));
    await ok(dir, ["import", "orders", "more.csv"]);
    await planJson(dir, "2024-06-05");
    const after = openStore(path);
    try {
      expect(dueWinbackEmails(after, config, "2024-06-05T00:00:00Z").map((e) => e.status)).toEqual([
        "lost",
        "cold",
      ]);
    } finally {
      after.close();
    }
  });
});
