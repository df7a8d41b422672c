import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { query, run, workspace } from "../helpers.js";
import { demoWorkspace, SECRET } from "../deliver-helpers.js";

const env = { COMEBACK_SECRET: SECRET };
const CONFIG = `timezone: Europe/Berlin
secret: \${COMEBACK_SECRET}
links:
  unsubscribe: "https://shop.example/unsubscribe?token={{token}}"
`;

describe("comeback preview", () => {
  it("renders a customer's cart in their language without queueing it", async () => {
    const { dir, db } = await demoWorkspace(CONFIG);
    const out = join(dir, "cart.html");
    const result = await run(
      ["preview", "cart", "--customer", "C002", "--now", "2026-03-02T09:00", "--out", out],
      { cwd: dir, env },
    );
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^cart:\d+:2026-W10 \(not queued yet, locale ru\)/);
    expect(result.stdout).toContain("Subject: Борис, пора пополнить запасы: 1 товар в корзине");
    expect(result.stdout).toMatch(/^List-Unsubscribe-Post: List-Unsubscribe=One-Click$/m);
    expect(readFileSync(out, "utf8")).toContain("Dog food &quot;Premium&quot;, 12 kg");
    expect(query(db, "SELECT count(*) AS n FROM outbox")).toEqual([{ n: 0 }]);
    expect(query(db, "SELECT count(*) AS n FROM carts")).toEqual([{ n: 0 }]);
  });

  it("says clearly when there is nothing to show, and when the secret is missing", async () => {
    const { dir } = await demoWorkspace(CONFIG);
    const none = await run(["preview", "cart", "--customer", "C005", "--now", "2026-03-02T09:00"], {
      cwd: dir,
      env,
    });
    expect(none.code).toBe(66);
    expect(none.stderr).toMatch(/no open reminder due by 2026-03-08/);
    // An unknown customer is the same error as in remind (one resolver): 65, naming what to give.
    const unknown = await run(["preview", "cart", "--customer", "C999"], { cwd: dir, env });
    expect(unknown.code).toBe(65);
    expect(unknown.stderr).toMatch(/no customer with the id or email "C999"/);
    const noSecret = await run(["preview", "cart", "--customer", "C002", "--now", "2026-03-02T09:00"], {
      cwd: dir,
      env: { COMEBACK_SECRET: undefined },
    });
    expect(noSecret.code).toBe(78);
    expect(noSecret.stderr).toMatch(/secret is not set .*COMEBACK_SECRET/);
    // Importing needs no secret.
    const status = await run(["status"], { cwd: dir, env: { COMEBACK_SECRET: undefined } });
    expect(status.code).toBe(0);
  });

  it("refuses a secret written in the file", async () => {
    const dir = workspace("secret: abcdefghijklmnopqrstuvwxyz\n");
    const result = await run(["status"], { cwd: dir });
    expect(result.code).toBe(78);
    expect(result.stderr).toMatch(/secret: a secret must come from the environment/);
  });
});

describe("comeback init", () => {
  it("writes a config and a copy of the templates that the other commands use", async () => {
    const parent = workspace();
    const dir = join(parent, "shop");
    const result = await run(["init", dir], { cwd: parent });
    expect(result.code, result.stderr).toBe(0);
    expect(existsSync(join(dir, "comeback.yaml"))).toBe(true);
    for (const file of [
      "cart/html.hbs",
      "cart/html.de.hbs",
      "cart/text.ru.hbs",
      "digest/subject.hbs",
      "layouts/html.hbs",
      "partials/footer.hbs",
    ]) {
      expect(existsSync(join(dir, "templates", file)), file).toBe(true);
    }
    const again = await run(["init", dir], { cwd: parent });
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already exist/);

    // The shop edits its copy; preview uses it.
    writeFileSync(
      join(dir, "templates", "cart", "subject.hbs"),
      "Our own subject for {{customer.first_name}}",
    );
    for (const kind of ["products", "customers", "orders"]) {
      const imported = await run(
        ["import", kind, join(import.meta.dirname, "..", "..", "fixtures", "demo", `${kind}.csv`)],
        { cwd: dir },
      );
      expect(imported.code, imported.stderr).toBe(0);
    }
    const { seedReminders, DEMO_SEEDS } = await import("../deliver-helpers.js");
    await seedReminders(dir, DEMO_SEEDS);
    const preview = await run(["preview", "cart", "--customer", "C003", "--now", "2026-03-02T09:00"], {
      cwd: dir,
      env,
    });
    expect(preview.code, preview.stderr).toBe(0);
    expect(preview.stdout).toContain("Subject: Our own subject for Clara");
    const weekly = await run(["weekly", "--now", "2026-03-02T09:00"], { cwd: dir, env });
    expect(weekly.code, weekly.stderr).toBe(0);
    expect(existsSync(join(dir, "outbox"))).toBe(true);
  });
});
