/** `weekly` with a hold-out group, and `follow-ups` / `send` queueing follow-ups for silence, on the built CLI. */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { query, run } from "../helpers.js";
import { demoWorkspace, NO_WINBACK_EMAILS, parts, SECRET } from "../deliver-helpers.js";

const env = { COMEBACK_SECRET: SECRET };
const MONDAY = "2026-03-02T09:00";
const config = (share: number) => `timezone: Europe/Berlin
secret: \${COMEBACK_SECRET}
links:
  base_url: https://shop.example/comeback
  cart: "https://shop.example/cart?c={{customer}}"
holdout:
  share: ${share}
delivery:
  from: "Demo Shop <hello@shop.example>"
${NO_WINBACK_EMAILS}`;

describe("hold-out groups in weekly", () => {
  it("records every new cart, mails none of the held-out ones, and says how many", async () => {
    const { dir, db } = await demoWorkspace(config(0.5));
    const result = await run(["weekly", "--now", MONDAY, "--json"], { cwd: dir, env });
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.carts).toEqual({ new: 3, existing: 0 });
    const groups = query<{ customer_id: number; held_out: number; share: number }>(
      db,
      "SELECT customer_id, held_out, share FROM holdout ORDER BY customer_id",
    );
    expect(groups).toHaveLength(3);
    const held = groups.filter((g) => g.held_out === 1).map((g) => g.customer_id);
    // Measured with this secret and week: two of the three carts fall under 0.5.
    expect(report.held_out).toBe(held.length);
    expect(held.length).toBeGreaterThan(0);
    expect(held.length).toBeLessThan(3);
    const mailed = query<{ customer_id: number }>(
      db,
      "SELECT customer_id FROM outbox WHERE kind = 'cart'",
    ).map((r) => r.customer_id);
    expect(mailed.sort()).toEqual(groups.filter((g) => g.held_out === 0).map((g) => g.customer_id));
    expect(query(db, "SELECT count(*) AS n FROM carts")).toEqual([{ n: 3 }]);

    // The same week again: the same answer, nothing more held out or mailed.
    const again = await run(["weekly", "--now", "2026-03-04T10:00"], { cwd: dir, env });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/held out 0 \(the hold-out group: no email this week\)/);
    expect(query(db, "SELECT count(*) AS n FROM holdout")).toEqual([{ n: 3 }]);
  });
});

describe("comeback follow-ups", () => {
  it("queues one follow-up per silent cart email, in the customer's language; send delivers it", async () => {
    const { dir, db } = await demoWorkspace(config(0));
    const weekly = await run(["weekly", "--now", MONDAY, "--json"], { cwd: dir, env });
    expect(weekly.code, weekly.stderr).toBe(0);
    expect(JSON.parse(weekly.stdout)).toMatchObject({ held_out: 0, messages: { sent: 3 } });
    const cartEml = readFileSync(
      join(
        dir,
        "outbox",
        readdirSync(join(dir, "outbox")).find((f) => f.startsWith("cart_"))!,
      ),
      "utf8",
    );
    expect(parts(cartEml).html).toMatch(/<img src="https:\/\/shop\.example\/comeback\/o\/open\./);

    // Two days on: not due yet.
    const early = await run(["follow-ups", "--now", "2026-03-04T10:00", "--json"], { cwd: dir, env });
    expect(early.code, early.stderr).toBe(0);
    expect(JSON.parse(early.stdout)).toMatchObject({
      enabled: true,
      checked: 3,
      waiting: 3,
      queued: { not_opened: 0 },
    });

    const dry = await run(["follow-ups", "--now", "2026-03-05T10:00", "--dry-run", "--json"], {
      cwd: dir,
      env,
    });
    expect(JSON.parse(dry.stdout)).toMatchObject({ dry_run: true, queued: { not_opened: 3 } });
    expect(query(db, "SELECT count(*) AS n FROM outbox WHERE kind = 'followup'")).toEqual([{ n: 0 }]);

    // One customer opened (a person, an hour after): not "not opened" any more, and not clicked yet.
    const anna = query<{ id: number }>(
      db,
      "SELECT o.id FROM outbox o JOIN customers c ON c.id = o.customer_id WHERE c.external_id = 'C001' AND o.kind = 'cart'",
    )[0]!.id;
    const { default: Database } = await import("better-sqlite3");
    const writable = new Database(db);
    writable
      .prepare(
        "INSERT INTO events (outbox_id, customer_id, kind, machine, at) SELECT id, customer_id, 'opened', 0, '2026-03-02T09:00:00.000Z' FROM outbox WHERE id = ?",
      )
      .run(anna);
    writable.close();

    // send queues the due follow-ups first, then delivers them (10:00 Berlin: inside the window).
    const send = await run(["send", "--now", "2026-03-05T10:00", "--json"], { cwd: dir, env });
    expect(send.code, send.stderr).toBe(0);
    const sent = JSON.parse(send.stdout);
    expect(sent.followups.queued).toEqual({ not_opened: 2, not_clicked: 0, no_decision: 0 });
    expect(sent.sent).toBe(2);
    const files = readdirSync(join(dir, "outbox")).filter((f) => f.startsWith("followup_"));
    expect(files).toHaveLength(2);
    const texts = files.map((f) => parts(readFileSync(join(dir, "outbox", f), "utf8")));
    expect(texts.map((t) => t.text).join("\n")).toMatch(/Если наше письмо затерялось/); // Boris, ru
    expect(texts.map((t) => t.text).join("\n")).toMatch(/In case our email got lost/); // Clara, en
    for (const t of texts) expect(t.html).toMatch(/\/comeback\/r\/click\./);

    // Once per stage: nothing more at the next run; Anna's "opened, not clicked" comes 4 days after her open.
    const later = await run(["follow-ups", "--now", "2026-03-06T10:00", "--json"], { cwd: dir, env });
    expect(JSON.parse(later.stdout).queued).toEqual({ not_opened: 0, not_clicked: 1, no_decision: 0 });
    const human = await run(["follow-ups", "--now", "2026-03-06T11:00"], { cwd: dir, env });
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toMatch(/waiting\s+3/);
  });

  it("says why nothing is queued without links.base_url", async () => {
    const { dir } = await demoWorkspace(`secret: \${COMEBACK_SECRET}\n`);
    const result = await run(["follow-ups", "--now", "2026-03-05T10:00"], { cwd: dir, env });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/No follow-ups: links.base_url is unset/);
  });
});
