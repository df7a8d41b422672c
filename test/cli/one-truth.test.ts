/**
 * One truth (issue 14, point 5): `due` lists exactly what the next `weekly` puts in carts, overdue
 * reminders included; `weekly --dry-run` needs what the real run needs and applies what it applies;
 * every command names a customer the same way.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { fixture, query, run, SHARED_DATA, workspace } from "../helpers.js";
import { SECRET } from "../deliver-helpers.js";

const env = { COMEBACK_SECRET: SECRET };
const SHOPIFY_ORDERS = join(SHARED_DATA, "shopify-sample", "orders_export.csv");
const haveShared = existsSync(SHOPIFY_ORDERS);
if (!haveShared) console.warn(`SKIPPED: the Shopify one-truth test needs ${SHOPIFY_ORDERS}`);

/** The demo's shop with the demo's config: its carts hold only overdue reminders on 2026-03-02. */
const DEMO_CONFIG = `timezone: Europe/Berlin
secret: \${COMEBACK_SECRET}
operator:
  email: ops@shop.example
links:
  cart: "https://shop.example/cart/{{#each items}}{{variant}}:{{quantity}}{{#unless @last}},{{/unless}}{{/each}}"
delivery:
  from: "Demo Shop <hello@shop.example>"
`;
const MONDAY = "2026-03-02T09:00"; // shop time: inside the default window 08:00-20:00

async function ok(dir: string, args: string[]): Promise<string> {
  const result = await run(args, { cwd: dir, env });
  expect(result.code, result.stderr).toBe(0);
  return result.stdout;
}

async function demoShop(): Promise<string> {
  const dir = workspace(DEMO_CONFIG);
  for (const kind of ["products", "customers", "orders"]) {
    await ok(dir, ["import", kind, fixture("demo", `${kind}.csv`)]);
  }
  return dir;
}

interface DueRow {
  customer_id: string | null;
  email: string | null;
  comeback_id: number;
  group: string;
  sku: string | null;
  due_on: string;
  runs_out_on: string;
  overdue: boolean;
  reminder_number: number;
}

interface WouldSend {
  key: string;
  kind: string;
  customer_id: string | null;
  email: string | null;
  comeback_id: number | null;
  outcome: string;
  reason: string | null;
  cart_items: { group: string; sku: string | null; due_on: string; reminder_number: number }[] | null;
}

/** Both sides as sorted "customer group sku due_on #n" lines. */
function sameItems(due: DueRow[], wouldSend: WouldSend[]): { due: string[]; carts: string[] } {
  const line = (id: number | null, group: string, sku: string | null, dueOn: string, n: number) =>
    `${id} ${group} ${sku} ${dueOn} #${n}`;
  return {
    due: due.map((r) => line(r.comeback_id, r.group, r.sku, r.due_on, r.reminder_number)).sort(),
    carts: wouldSend
      .filter((m) => m.kind === "cart")
      .flatMap((m) =>
        m.cart_items!.map((i) => line(m.comeback_id, i.group, i.sku, i.due_on, i.reminder_number)),
      )
      .sort(),
  };
}

describe("due and weekly --dry-run agree", () => {
  it("lists the demo's overdue reminders that its Monday carts hold, marked overdue", async () => {
    const dir = await demoShop();
    const plan = JSON.parse(await ok(dir, ["plan", "--now", MONDAY, "--json"]));
    const due = JSON.parse(await ok(dir, ["due", "--now", MONDAY, "--json"])) as DueRow[];
    const dry = JSON.parse(await ok(dir, ["weekly", "--dry-run", "--now", MONDAY, "--json"]));
    const { due: listed, carts } = sameItems(due, dry.would_send);
    // The demo's two carts (Boris's dog food due 2026-01-01, Eva's filter due 2026-02-22): both
    // overdue. Before, due said "Nothing due" and the plan "0 due this week" while both were sent.
    expect(carts).toHaveLength(2);
    expect(listed).toEqual(carts);
    expect(due.every((row) => row.overdue)).toBe(true);
    expect(plan.replenishment).toMatchObject({ due_this_week: 2, overdue_this_week: 2 });
    const text = await ok(dir, ["due", "--now", MONDAY]);
    expect(text).toMatch(/overdue since 2026-01-01 .* C002 /);
    // The real run then makes exactly those carts.
    await ok(dir, ["weekly", "--now", MONDAY]);
    const stored = query<{ comeback_id: number; group_key: string; sku: string; due_on: string; n: number }>(
      join(dir, "comeback.db"),
      `SELECT c.customer_id AS comeback_id, i.group_key, i.sku, i.due_on, i.reminder_number AS n
         FROM carts c JOIN cart_items i ON i.cart_id = c.id`,
    );
    expect(stored.map((r) => `${r.comeback_id} ${r.group_key} ${r.sku} ${r.due_on} #${r.n}`).sort()).toEqual(
      listed,
    );
    // After the run, due still shows the week's reminders, now as queued in this week's carts.
    const after = JSON.parse(await ok(dir, ["due", "--now", MONDAY, "--json"])) as (DueRow & {
      queued: boolean;
    })[];
    expect(after.map((r) => r.queued)).toEqual([true, true]);
  });

  it.skipIf(!haveShared)("agrees item for item on the real Shopify export", async () => {
    // holdout.share 0: the hold-out group's carts are made but not mailed, so they are not in would_send.
    const dir = workspace(`timezone: America/New_York
currency: USD
secret: \${COMEBACK_SECRET}
holdout:
  share: 0
replenishment:
  rules:
    - { match: { sku: "*" }, days_per_unit: 30 }
`);
    await ok(dir, ["import", "orders", SHOPIFY_ORDERS]);
    const now = "2022-01-17T09:00";
    await ok(dir, ["plan", "--now", now]);
    const due = JSON.parse(await ok(dir, ["due", "--now", now, "--json"])) as DueRow[];
    const dry = JSON.parse(await ok(dir, ["weekly", "--dry-run", "--now", now, "--json"]));
    const { due: listed, carts } = sameItems(due, dry.would_send);
    // Measured: 121 reminders in 58 carts, 103 of them overdue.
    expect(listed.length).toBeGreaterThan(100);
    expect(due.filter((r) => r.overdue).length).toBeGreaterThan(50);
    expect(listed).toEqual(carts);
  });
});

describe("weekly --dry-run", () => {
  it("needs the secret like the real run (exit 78)", async () => {
    const dir = await demoShop();
    const dry = await run(["weekly", "--dry-run", "--now", MONDAY], {
      cwd: dir,
      env: { COMEBACK_SECRET: undefined },
    });
    expect(dry.code).toBe(78);
    expect(dry.stderr).toMatch(/secret is not set/);
  });

  it("applies the send window, the frequency cap and consent, with a summary by kind before the lines", async () => {
    const dir = await demoShop();
    // 06:00 Berlin: before the window opens at 08:00.
    const night = JSON.parse(await ok(dir, ["weekly", "--dry-run", "--now", "2026-03-02T06:00", "--json"]));
    const carts = night.would_send.filter((m: WouldSend) => m.kind === "cart");
    expect(carts.map((m: WouldSend) => m.outcome)).toEqual(["deferred", "deferred"]);
    expect(night.by_kind.cart).toMatchObject({
      queued: 2,
      sent: 0,
      deferred: 2,
      deferred_reasons: { "send window": 2 },
    });
    // The operator's digest is not marketing: it goes at night too.
    expect(night.by_kind.digest).toMatchObject({ queued: 1, sent: 1 });
    // In the window: Eva (C005) gets a cart and is warm: her win-back mail waits for the 72 h cap;
    // Dmitri (C004) opted out.
    const day = JSON.parse(await ok(dir, ["weekly", "--dry-run", "--now", MONDAY, "--json"]));
    expect(day.by_kind.cart).toMatchObject({ queued: 2, sent: 2 });
    expect(day.by_kind["win-back"].deferred_reasons).toMatchObject({ "frequency cap": 1 });
    const text = await ok(dir, ["weekly", "--dry-run", "--now", "2026-03-02T06:00"]);
    const summary = text.indexOf("By kind");
    const firstLine = text.indexOf("  cart:");
    expect(summary).toBeGreaterThan(0);
    expect(firstLine).toBeGreaterThan(summary);
    expect(text).toMatch(/carts\s+queued 2; send 0, defer 2 \(send window 2\)/);
    expect(text).toMatch(/deferred until 2026-03-02T07:00:00Z \(send window\)/);
    // Nothing was written.
    expect(query(join(dir, "comeback.db"), "SELECT count(*) AS n FROM outbox")).toEqual([{ n: 0 }]);
    expect(existsSync(join(dir, "outbox"))).toBe(false);
  });
});

describe("a customer is named the same way everywhere", () => {
  it("takes the shop's id, the email or #N in every --customer, and names them by three keys in JSON", async () => {
    const dir = await demoShop();
    await ok(dir, ["plan", "--now", MONDAY]);
    // Before, preview took only the shop's id and exited 66 for an email that remind accepted.
    for (const who of ["C002", "boris.petrov@example.com", " Boris.Petrov@Example.com "]) {
      const preview = JSON.parse(
        await ok(dir, ["preview", "cart", "--customer", who, "--now", MONDAY, "--json"]),
      );
      expect(preview).toMatchObject({ customer_id: "C002", email: "boris.petrov@example.com" });
      const show = JSON.parse(
        await ok(dir, ["remind", "show", "--customer", who, "--now", MONDAY, "--json"]),
      );
      expect(show).toMatchObject({ customer_id: "C002", email: "boris.petrov@example.com" });
      expect(show.comeback_id).toBe(preview.comeback_id);
    }
    const boris = JSON.parse(await ok(dir, ["remind", "show", "--customer", "C002", "--json"])).comeback_id;
    const byOwnId = JSON.parse(await ok(dir, ["remind", "show", "--customer", `#${boris}`, "--json"]));
    expect(byOwnId.customer_id).toBe("C002");
    // A guest the shop gave no id: customer_id null, not the email in its place.
    const lost = JSON.parse(
      await ok(dir, ["lost", "--now", MONDAY, "--status", "new,active,warm,cold,lost", "--json"]),
    );
    const guest = lost.find((r: { email: string }) => r.email === "guest@example.net");
    expect(guest).toMatchObject({ customer_id: null, email: "guest@example.net" });
    expect(typeof guest.comeback_id).toBe("number");
    const due = JSON.parse(await ok(dir, ["due", "--now", MONDAY, "--json"])) as DueRow[];
    const dry = JSON.parse(await ok(dir, ["weekly", "--dry-run", "--now", MONDAY, "--json"]));
    for (const rows of [due, lost, dry.would_send.filter((m: WouldSend) => m.comeback_id !== null)]) {
      for (const row of rows)
        expect(Object.keys(row)).toEqual(expect.arrayContaining(["customer_id", "email", "comeback_id"]));
    }
    const c002 = dry.would_send.find((m: WouldSend) => m.key.startsWith("cart:") && m.customer_id === "C002");
    expect(c002).toMatchObject({ email: "boris.petrov@example.com", comeback_id: boris });
  });
});
