/**
 * Issue 14, point 4: `init` wrote Europe/Berlin whatever the shop. `init DIR --from EXPORT` proposes a
 * timezone from the UTC offsets of the export's order times and a currency from its currency column,
 * says why in comeback.yaml, and without --from writes placeholders marked as such.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { fixture, run, SHARED_DATA, workspace } from "../helpers.js";

const SHOPIFY_ORDERS = join(SHARED_DATA, "shopify-sample", "orders_export.csv");
const haveShared = existsSync(SHOPIFY_ORDERS);
if (!haveShared)
  console.warn(
    `SKIPPED: the Shopify sample init tests need ${SHOPIFY_ORDERS} (../shared/data beside the repo)`,
  );

function config(dir: string): { text: string; values: Record<string, unknown> } {
  const text = readFileSync(join(dir, "comeback.yaml"), "utf8");
  return { text, values: parse(text) as Record<string, unknown> };
}

describe("comeback init without --from", () => {
  it("writes UTC and EUR as placeholders, and says so", async () => {
    const parent = workspace();
    const dir = join(parent, "shop");
    const result = await run(["init", dir], { cwd: parent });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/timezone UTC and currency EUR are placeholders/);
    const { text, values } = config(dir);
    expect(values).toMatchObject({ timezone: "UTC", currency: "EUR" });
    expect(text.replaceAll("\n# ", " ")).toMatch(
      /UTC is a placeholder: set the shop's zone .* --from orders_export\.csv/,
    );
    expect(text).toMatch(/EUR is a placeholder: check it\.\ncurrency: EUR/);
  });
});

describe.runIf(haveShared)("comeback init --from the real Shopify sample", () => {
  it("proposes America/New_York and USD, with why and the alternatives as comments", async () => {
    const parent = workspace();
    const dir = join(parent, "shop");
    const result = await run(["init", dir, "--from", SHOPIFY_ORDERS], { cwd: parent });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/read .*orders_export\.csv \(profile shopify, 409 orders\)/);
    expect(result.stdout).toMatch(/timezone America\/New_York: proposed from the UTC offsets/);
    expect(result.stdout).toMatch(/currency USD: proposed from its currency column/);
    const { text, values } = config(dir);
    expect(values).toMatchObject({ timezone: "America/New_York", currency: "USD" });
    const comments = text.replaceAll("\n# ", " ");
    expect(comments).toMatch(
      /its 409 order times \(2019-05-14 to 2022-01-11\) were written with UTC offsets -05:00 and -04:00, and America\/New_York has exactly these offsets/,
    );
    expect(comments).toMatch(/Also fitting: America\/Toronto, /);
    expect(comments).toMatch(/Proposed from the currency column of orders_export\.csv: USD \(409 orders\)/);

    // The config works, and the data checks then find the zone right.
    const imported = await run(["import", "orders", SHOPIFY_ORDERS], { cwd: dir });
    expect(imported.code, imported.stderr).toBe(0);
    const status = await run(["status", "--now", "2022-01-12", "--json"], { cwd: dir });
    expect(status.stderr).toBe("");
    expect(JSON.parse(status.stdout)).toMatchObject({ data_checks: { timezone_fits: true } });
  });
});

describe("comeback init --from other exports", () => {
  it("an export in -0700 all year proposes America/Phoenix; its currency column, the most used currency", async () => {
    const lines = ["order_id,ordered_at,email,sku,quantity,unit_price,currency"];
    for (let day = 0; day < 366; day += 3) {
      const date = new Date(Date.UTC(2024, 0, 1) + day * 86_400_000).toISOString().slice(0, 10);
      lines.push(
        `${1000 + day},${date} 10:00:00 -0700,c${day}@example.com,FILTER-1,1,9.90,${day % 10 === 0 ? "CAD" : "USD"}`,
      );
    }
    const parent = workspace();
    writeFileSync(join(parent, "orders.csv"), lines.join("\n") + "\n");
    const result = await run(["init", "shop", "--from", "orders.csv"], { cwd: parent });
    expect(result.code, result.stderr).toBe(0);
    const { text, values } = config(join(parent, "shop"));
    expect(values).toMatchObject({ timezone: "America/Phoenix", currency: "USD" });
    expect(text.replaceAll("\n# ", " ")).toMatch(/USD \(109 orders\); also seen: CAD \(13 orders\)/);
  });

  it("an export whose times have no offset proposes no zone, and says the times are read in it", async () => {
    const parent = workspace();
    const result = await run(["init", "shop", "--from", fixture("demo", "orders.csv")], { cwd: parent });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/timezone UTC: a placeholder/);
    const { text, values } = config(join(parent, "shop"));
    expect(values).toMatchObject({ timezone: "UTC", currency: "EUR" });
    expect(text.replaceAll("\n# ", " ")).toMatch(
      /carry no UTC offset, .* UTC is a placeholder\. Set the shop's zone before importing/,
    );
  });

  it("an export that cannot be read writes nothing", async () => {
    const parent = workspace();
    const missing = await run(["init", "shop", "--from", "nope.csv"], { cwd: parent });
    expect(missing.code).toBe(66);
    expect(existsSync(join(parent, "shop"))).toBe(false);
    writeFileSync(join(parent, "customers.csv"), "First Name,Email\nAnna,anna@example.com\n");
    const wrong = await run(["init", "shop", "--from", "customers.csv"], { cwd: parent });
    expect(wrong.code).toBe(65);
    expect(wrong.stderr).toMatch(/no profile for orders fits this header/);
    expect(wrong.stderr).toMatch(/run init without --from and set timezone and currency/);
    expect(existsSync(join(parent, "shop"))).toBe(false);
  });
});
