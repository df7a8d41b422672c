/**
 * `comeback rules suggest` end to end: a shop whose rhythms are known (generated below, so the
 * rhythm each product was made with is in plain sight), the repo's fixtures, and the real exports.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { beforeAll, describe, expect, it } from "vitest";
import { parseConfigText } from "../../src/config/load.js";
import { SupplyRules } from "../../src/plan/replenishment/rules.js";
import { fixture, query, run, SHARED_DATA, workspace } from "../helpers.js";

const NOW = "2026-03-02";
const START = Date.UTC(2025, 0, 6); // a Monday

interface Line {
  customer: string;
  day: number;
  sku: string;
  name: string;
  quantity: number;
  price: string;
}

/**
 * The known rhythms:
 * - lenses, LNS-1D-30 (a box lasts 30 days), 6 customers buying 1–3 boxes and coming back 30 days a
 *   box later (±1); one of them once takes the box of 90, LNS-1D-90, which lasts 90 days;
 * - dog food, DOG-12KG, every 45 days (±2) whatever the quantity (two of the 5 customers buy 2 bags
 *   at a time: they have two dogs);
 * - a Merlot, a bottle every 60 days (±3), sold as the 2019 vintage (WMR19) and then the 2020 (WMR20);
 * - a child car seat every one of them bought once; on every order a shipping line, on some a tip; a
 *   gift card.
 */
function shopLines(): Line[] {
  const lines: Line[] = [];
  const jitter = (k: number, width: number) => ((k * 4 + 1) % (2 * width + 1)) - width;
  const boxes = [
    [1, 2, 1, 3, 1, 2, 1],
    [2, 2, 1, 2, 3, 1],
    [3, 1, 2, 1, 2, 1],
    [1, 1, 1, 2, 1, 1, 1, 2],
    [2, 3, 2, 1, 1],
    [1, 2, 1, 1, 2, 1],
  ];
  boxes.forEach((pattern, c) => {
    let day = c * 3;
    pattern.forEach((quantity, k) => {
      const ninety = c === 5 && k === 2;
      lines.push({
        customer: `L${c + 1}`,
        day,
        sku: ninety ? "LNS-1D-90" : "LNS-1D-30",
        name: ninety ? "Daily lenses, box of 90" : "Daily lenses, box of 30",
        quantity,
        price: ninety ? "64.90" : "24.90",
      });
      day += (ninety ? 90 : 30) * quantity + jitter(k + c, 1);
    });
  });
  for (let c = 0; c < 5; c++) {
    for (let k = 0, day = c * 5; day < 400; k++, day += 45 + jitter(k + c, 2)) {
      const quantity = c === 2 || c === 4 ? 2 : 1;
      lines.push({
        customer: `D${c + 1}`,
        day,
        sku: "DOG-12KG",
        name: "Dog food Premium, 12 kg",
        quantity,
        price: "49.00",
      });
    }
  }
  for (let c = 0; c < 4; c++) {
    for (let k = 0, day = c * 4; day < 400; k++, day += 60 + jitter(k + c, 3)) {
      const vintage = day < 200 ? "2019" : "2020";
      lines.push({
        customer: `W${c + 1}`,
        day,
        sku: `WMR${vintage.slice(2)}`,
        name: `Merlot Reserve ${vintage}`,
        quantity: 1,
        price: "19.90",
      });
    }
  }
  // Every regular customer bought the car seat once, early on, and kept coming back for the rest.
  ["L1", "L2", "L3", "L4", "L5", "L6", "D1", "D2", "D3", "D4", "D5", "W1", "W2", "W3", "W4"].forEach(
    (customer, c) =>
      lines.push({
        customer,
        day: 10 + c * 5,
        sku: "CAR-SEAT",
        name: "Child car seat",
        quantity: 1,
        price: "189.00",
      }),
  );
  for (let c = 0; c < 3; c++)
    lines.push({
      customer: `D${c + 1}`,
      day: 100 + c,
      sku: "GIFT-25",
      name: "Gift card",
      quantity: 1,
      price: "25.00",
    });
  return lines;
}

function shopCsv(): string {
  const rows = ["order_id,ordered_at,status,customer_id,email,sku,product_name,quantity,unit_price"];
  const orders = new Map<string, Line[]>();
  for (const line of shopLines()) {
    const key = `${line.customer}:${line.day}`;
    orders.set(key, [...(orders.get(key) ?? []), line]);
  }
  let id = 1000;
  for (const [, lines] of orders) {
    id += 1;
    const first = lines[0] as Line;
    const at = new Date(START + first.day * 86_400_000).toISOString().slice(0, 10);
    const extra: Line[] = [{ ...first, sku: "SHIP", name: "Shipping", quantity: 1, price: "4.90" }];
    if (id % 3 === 0)
      extra.push({ ...first, sku: "TIP", name: "Tip", quantity: 1, price: `${(id % 5) + 1}.00` });
    for (const line of [...lines, ...extra]) {
      const email = `${line.customer.toLowerCase()}@example.com`;
      rows.push(
        `${id},${at} 10:00,completed,${line.customer},${email},${line.sku},"${line.name}",${line.quantity},${line.price}`,
      );
    }
  }
  return `${rows.join("\n")}\n`;
}

async function ok(dir: string, ...args: string[]): Promise<string> {
  const result = await run(args, { cwd: dir });
  expect(result.stderr).toBe("");
  expect(result.code).toBe(0);
  return result.stdout;
}

interface Suggestion {
  label: string;
  match: Record<string, string>;
  verdict: string;
  reason: string;
  days_per_unit: number | null;
  basis: string | null;
  member_rules: { match: Record<string, string>; days_per_unit: number }[] | null;
  per_pack_unit: { unit: string; days: number } | null;
  products: { sku: string | null; name: string | null }[];
  group: { name: string; new: boolean; to_assign: string[] } | null;
  repeat_customers: number;
  gaps: number;
  covered_by: { source: string; days_per_unit: number } | null;
}

interface Report {
  rules: Suggestion[];
  skipped: Suggestion[];
  files: { yaml: string | null; products: string | null };
}

/** The rules a suggestion makes, as the config holds them. */
function rulesOf(report: Report) {
  return report.rules.flatMap((r) => r.member_rules ?? [{ match: r.match, days_per_unit: r.days_per_unit }]);
}

function configOf(text: string, dir: string) {
  return parseConfigText(text, { label: "suggested.yaml", env: {}, baseDir: dir });
}

describe("comeback rules suggest on a shop with known rhythms", () => {
  let dir: string;
  let report: Report;

  beforeAll(async () => {
    dir = workspace("timezone: Europe/Berlin\n");
    writeFileSync(join(dir, "orders.csv"), shopCsv());
    await ok(dir, "import", "orders", "orders.csv");
    report = JSON.parse(await ok(dir, "rules", "suggest", "--now", NOW, "--json")) as Report;
  });

  it("recovers each rhythm, on the basis that explains it", () => {
    expect(report.rules.map((r) => r.match)).toEqual([
      { sku: "DOG-12KG" },
      { group: "LNS-1D" },
      { group: "MERLOT-RESERVE" },
    ]);
    const [dog, lenses, wine] = report.rules as [Suggestion, Suggestion, Suggestion];
    // Per lens, since the members come in boxes of 30 and 90: a day a lens, one rule per box size.
    expect(lenses.basis).toBe("per_unit");
    expect(lenses.per_pack_unit?.unit).toBe("piece");
    expect(lenses.per_pack_unit?.days).toBeCloseTo(1, 1);
    expect(lenses.member_rules).toEqual([
      { match: { sku: "LNS-1D-30" }, days_per_unit: 30 },
      { match: { sku: "LNS-1D-90" }, days_per_unit: 90 },
    ]);
    expect(dog.basis).toBe("per_purchase");
    expect(dog.days_per_unit).toBeGreaterThanOrEqual(44);
    expect(dog.days_per_unit).toBeLessThanOrEqual(46);
    expect(wine.days_per_unit).toBeGreaterThanOrEqual(58);
    expect(wine.days_per_unit).toBeLessThanOrEqual(62);
  });

  it("proposes the box sizes and the vintages as new groups, members listed", () => {
    const lenses = report.rules.find((r) => r.label === "LNS-1D");
    expect(lenses?.group).toMatchObject({ name: "LNS-1D", new: true, to_assign: ["LNS-1D-30", "LNS-1D-90"] });
    const wine = report.rules.find((r) => r.label === "MERLOT-RESERVE");
    expect(wine?.products.map((p) => p.sku)).toEqual(["WMR19", "WMR20"]);
  });

  it("leaves out the shipping, the tip, the gift card and the car seat, saying why", () => {
    const verdict = (sku: string) => report.skipped.find((s) => s.products[0]?.sku === sku);
    expect(verdict("SHIP")?.verdict).toBe("not_a_product");
    expect(verdict("TIP")?.verdict).toBe("not_a_product");
    expect(verdict("GIFT-25")?.verdict).toBe("not_a_product");
    expect(verdict("CAR-SEAT")).toMatchObject({
      verdict: "one_off",
      reason: "a one-off: of the 15 buyers who came back to the shop, none bought it again",
    });
  });

  it("--out writes YAML that validates as config and a products CSV that makes the groups", async () => {
    const stdout = await ok(dir, "rules", "suggest", "--now", NOW, "--out", "suggested.yaml");
    expect(stdout).toMatch(/3 rules suggested/);
    expect(stdout).toMatch(/comeback import products .*suggested\.products\.csv/);
    const yaml = readFileSync(join(dir, "suggested.yaml"), "utf8");
    expect(yaml).toMatch(/# Left out:/);
    expect(yaml).toMatch(/CAR-SEAT "Child car seat": a one-off/);
    const rules = configOf(yaml, dir).replenishment.rules;
    expect(rules.map((r) => ({ match: r.match, days_per_unit: r.days_per_unit }))).toEqual(rulesOf(report));
    expect(readFileSync(join(dir, "suggested.products.csv"), "utf8")).toBe(
      "sku,group\nLNS-1D-30,LNS-1D\nLNS-1D-90,LNS-1D\nWMR19,MERLOT-RESERVE\nWMR20,MERLOT-RESERVE\n",
    );

    // Applied as the header says: the products import sets the groups, and the rules then match.
    await ok(dir, "import", "products", "suggested.products.csv");
    const products = query<{ sku: string; name: string; group_key: string }>(
      join(dir, "comeback.db"),
      "SELECT sku, name, group_key FROM products WHERE sku IN ('LNS-1D-90', 'WMR20') ORDER BY sku",
    );
    expect(products).toEqual([
      { sku: "LNS-1D-90", name: "Daily lenses, box of 90", group_key: "LNS-1D" },
      { sku: "WMR20", name: "Merlot Reserve 2020", group_key: "MERLOT-RESERVE" },
    ]);
    const supply = new SupplyRules(configOf(yaml, dir).replenishment);
    const facts = { name: null, groupKey: "LNS-1D", daysPerUnit: null };
    expect(supply.ruleFor({ ...facts, sku: "LNS-1D-90" })?.daysPerUnit).toBe(90);
    expect(supply.ruleFor({ ...facts, sku: "LNS-1D-30" })?.daysPerUnit).toBe(30);
    const wine = { name: null, groupKey: "MERLOT-RESERVE", daysPerUnit: null };
    expect(supply.ruleFor({ ...wine, sku: "WMR20" })?.daysPerUnit).toBe(report.rules[2]?.days_per_unit);

    // With the rules in the config, they are reported as covered, commented out, and no CSV is needed.
    writeFileSync(
      join(dir, "comeback.yaml"),
      `timezone: Europe/Berlin\n${yaml.slice(yaml.indexOf("replenishment:"))}`,
    );
    const again = JSON.parse(await ok(dir, "rules", "suggest", "--now", NOW, "--json")) as Report;
    expect(again.rules.every((r) => r.covered_by !== null)).toBe(true);
    expect(again.rules.find((r) => r.label === "LNS-1D")?.group?.new).toBe(false);
    const text = await ok(dir, "rules", "suggest", "--now", NOW);
    expect(text).toMatch(/# - match: \{ sku: "LNS-1D-90" \}\n +# {3}days_per_unit: 90/);
    expect(configOf(text, dir).replenishment.rules).toEqual([]);
  });

  it("never writes over the config it reads", async () => {
    const result = await run(["rules", "suggest", "--now", NOW, "--out", "comeback.yaml"], { cwd: dir });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/is your config file/);
  });
});

describe("comeback rules suggest on the repo's fixtures", () => {
  it("finds the 40-day lens rhythm of fixtures/replenishment", async () => {
    const dir = workspace();
    await ok(dir, "import", "products", fixture("replenishment", "products.csv"));
    await ok(dir, "import", "orders", fixture("replenishment", "orders.csv"));
    const report = JSON.parse(await ok(dir, "rules", "suggest", "--now", NOW, "--json")) as Report;
    // C3's box of 30 lasts 40 days: the box of 90, three times that.
    expect(rulesOf(report)).toEqual([
      { match: { sku: "LNS-1D-30" }, days_per_unit: 40 },
      { match: { sku: "LNS-1D-90" }, days_per_unit: 120 },
    ]);
    expect(report.skipped.find((s) => s.products[0]?.sku === "MYSTERY-1")?.verdict).toBe("not_a_product");
  });

  it("says the demo's lenses, dog food and coffee have too little evidence, with their rhythm", async () => {
    const dir = workspace();
    for (const kind of ["products", "customers", "orders"])
      await ok(dir, "import", kind, fixture("demo", `${kind}.csv`));
    const yaml = await ok(dir, "rules", "suggest", "--now", NOW);
    expect(yaml).toMatch(/^ {2}rules: \[\]$/m);
    expect(yaml).toMatch(
      /LNS-1D \(2 products\): 1 buyers, 1 came back to the shop, 1 bought it again \(1 3 times or more\), 2 gaps, median gap 59 days \(1 per piece\)/,
    );
    expect(yaml).toMatch(/COF-1KG .*median gap 21 days \(11 per unit\)/);
    expect(yaml).toMatch(/DOG-12KG .*median gap 48 days/);
  });
});

const SHOPIFY = join(SHARED_DATA, "shopify-sample", "orders_export.csv");
const UK = join(SHARED_DATA, "online-retail", "online_retail_2010-12_2011-12.csv.gz");

describe.skipIf(!existsSync(SHOPIFY))("comeback rules suggest on the real Shopify export", () => {
  if (!existsSync(SHOPIFY)) it.skip(`needs ${SHOPIFY}`, () => {});
  it("proposes no rule for an activewear shop, and says so", async () => {
    const dir = workspace();
    await ok(dir, "import", "orders", SHOPIFY);
    const yaml = await ok(dir, "rules", "suggest", "--now", "2022-02-01");
    expect(yaml).toMatch(
      /No rule: no product is bought again regularly enough.*\(34 of the 284 customers ordered again at all\)/,
    );
    expect(yaml).toMatch(/"DIGITAL GIFT CARD - \$100": .*voucher/);
    // 83 bought a Leila Pullover, 7 a second one, none a third: a repurchase, not a rhythm.
    expect(yaml).toMatch(
      /LEILA-PULLOVER \(9 products\): 83 buyers, 13 came back to the shop, 7 bought it again \(0 3 times or more\)/,
    );
    expect(configOf(yaml, dir).replenishment.rules).toEqual([]);
  });
});

describe.skipIf(!existsSync(UK))("comeback rules suggest on the UK retailer", () => {
  it("leaves out its postage, manual, bank-charge and fee lines, in a few seconds", async () => {
    const dir = workspace(`timezone: Europe/London
currency: GBP
profiles:
  uk:
    kind: orders
    timezone: Europe/London
    columns: { order_id: InvoiceNo, sku: StockCode, product_name: Description, quantity: Quantity, ordered_at: InvoiceDate, unit_price: UnitPrice, customer_id: CustomerID }
`);
    writeFileSync(join(dir, "uk.csv"), gunzipSync(readFileSync(UK)));
    await ok(dir, "import", "orders", "uk.csv", "--profile", "uk", "--skip-bad-rows");
    const started = Date.now();
    const report = JSON.parse(await ok(dir, "rules", "suggest", "--now", "2011-12-10", "--json")) as Report;
    const seconds = (Date.now() - started) / 1000;
    const left = new Map(report.skipped.map((s) => [s.products[0]?.sku, s.verdict]));
    for (const code of ["POST", "DOT", "M", "BANK CHARGES", "C2", "D", "CRUK"])
      expect(left.get(code), code).toBe("not_a_product");
    // Few rules, each with its evidence: the shop's restocked lines (the jumbo bags), not its 3,684 products.
    expect(report.rules.length).toBeGreaterThan(0);
    expect(report.rules.length).toBeLessThan(30);
    expect(report.rules.every((r) => r.repeat_customers >= 3 && r.gaps >= 6)).toBe(true);
    expect(seconds).toBeLessThan(20); // about 3 s on a quiet machine; the margin is for a shared one
  }, 120_000);
});
