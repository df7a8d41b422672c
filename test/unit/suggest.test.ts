/** `rules suggest`'s pure parts: the gap statistics, the one-off filter, the SKU and name grouping. */
import { describe, expect, it } from "vitest";
import { daysPerUnitOf, gapStats, quantile, spreadOf, type Gap } from "../../src/plan/suggest/stats.js";
import { nonProductReason, oneOffReason } from "../../src/plan/suggest/one-offs.js";
import {
  groupPacks,
  packAmount,
  productStem,
  proposeGroups,
  skuStem,
  type GroupingInput,
} from "../../src/plan/suggest/grouping.js";
import { judge } from "../../src/plan/suggest/suggest.js";

describe("gap statistics", () => {
  it("quartiles interpolate between ranks, as R and NumPy do", () => {
    expect(quantile([10, 20, 30, 40], 0.5)).toBe(25);
    expect(quantile([10, 20, 30, 40], 0.25)).toBe(17.5);
    expect(quantile([40, 40, 100], 0.75)).toBe(70);
    expect(quantile([], 0.5)).toBeNaN();
  });

  it("dispersion is 0 for identical gaps and about 0.66 for memoryless timing", () => {
    expect(spreadOf([30, 30, 30]).dispersion).toBe(0);
    // Exponential quartiles: ln(4/3) and ln 4 times the mean.
    const exponential = Array.from({ length: 999 }, (_, i) => -Math.log(1 - (i + 1) / 1000) * 40);
    expect(spreadOf(exponential).dispersion).toBeCloseTo(0.66, 2);
  });

  it("chooses per unit when the quantity explains the gap", () => {
    // 30 days a box: 1 box lasts 30 days, 3 boxes 90.
    const gaps: Gap[] = [1, 2, 3, 1, 2, 3, 2].map((q, i) => ({ days: 30 * q + (i % 2), quantity: q }));
    const stats = gapStats(gaps);
    expect(stats.basis).toBe("per_unit");
    expect(stats.perUnit.dispersion).toBeLessThan(stats.perPurchase.dispersion);
    expect(daysPerUnitOf(stats)).toBe(30);
  });

  it("chooses per purchase when the quantity doesn't (two dogs eat two bags in 45 days)", () => {
    const gaps: Gap[] = [1, 2, 1, 2, 1, 1, 2].map((q, i) => ({ days: 44 + (i % 3), quantity: q }));
    const stats = gapStats(gaps);
    expect(stats.basis).toBe("per_purchase");
    // days_per_unit × the typical quantity (1) is the median gap.
    expect(stats.typicalQuantity).toBe(1);
    expect(daysPerUnitOf(stats)).toBe(45);
  });

  it("keeps per purchase when every quantity is 1 (the two bases are the same)", () => {
    const stats = gapStats([40, 41, 39, 40, 100, 36].map((days) => ({ days, quantity: 1 })));
    expect(stats.basis).toBe("per_purchase");
    expect(daysPerUnitOf(stats)).toBe(40);
  });

  it("writes a per-purchase rhythm of a product bought by the dozen per unit of the typical quantity", () => {
    const stats = gapStats([30, 31, 29, 30, 60, 15].map((days, i) => ({ days, quantity: i % 2 ? 12 : 24 })));
    expect(stats.basis).toBe("per_purchase");
    expect(stats.typicalQuantity).toBe(18);
    expect(daysPerUnitOf(stats)).toBe(1.7); // 30 days / 18
  });
});

describe("one-off filter", () => {
  const product = (
    name: string | null,
    sku: string | null = null,
    prices?: Partial<{ priced: number; free: number; negative: number }>,
  ) =>
    nonProductReason({
      sku,
      name,
      pricedLines: prices?.priced ?? 10,
      freeLines: prices?.free ?? 0,
      negativeLines: prices?.negative ?? 0,
    });

  it.each([
    ["Tip", null],
    ["Shipping", "SHIP"],
    ["POSTAGE", "POST"],
    ["DOTCOM POSTAGE", "DOT"],
    ["Manual", "M"],
    ["Bank Charges", "BANK CHARGES"],
    ["CARRIAGE", "C2"],
    ["Discount", "D"],
    ["AMAZON FEE", "AMAZONFEE"],
    ["CRUK Commission", "CRUK"],
    ["Adjust bad debt", "B"],
    ["Gift card", "MYSTERY-1"],
    ["DIGITAL GIFT CARD - $100", null],
    ["Dotcomgiftshop Gift Voucher £10.00", "gift_0001_10"],
    ["Versandkosten", "VERSAND"],
    ["Geschenkgutschein 50 €", null],
    ["Доставка", null],
    ["Подарочный сертификат 1000 ₽", null],
  ])("%s (%s) is not a product", (name, sku) => {
    expect(product(name, sku)).toMatch(/^not a product/);
  });

  it.each([
    "Felt tip pens",
    "Manual coffee grinder",
    "Coffee beans 1 kg",
    "Toffee",
    "Postcard set",
    "Dog food, 12 kg",
    "Feeder bowl",
    "Кофе в зёрнах",
  ])("%s is a product", (name) => {
    expect(product(name, "X-1")).toBeNull();
  });

  it("a line that is always free, or ever priced below 0, is not a product", () => {
    expect(product("PADS TO MATCH ALL CUSHIONS", "PADS", { priced: 4, free: 4 })).toMatch(/always free/);
    expect(product("Cushion", "CU-1", { priced: 4, free: 1 })).toBeNull();
    expect(product("Loyalty credit", "LC", { negative: 1 })).toMatch(/negative price/);
  });

  it("a one-off is bought again by (almost) none of the buyers who came back to the shop", () => {
    expect(oneOffReason(57, 0)).toBe(
      "a one-off: of the 57 buyers who came back to the shop, none bought it again",
    );
    expect(oneOffReason(100, 4)).toMatch(/only 4 bought it again/);
    expect(oneOffReason(100, 5)).toBeNull(); // 1 in 20 comes back for it: not a one-off
    expect(oneOffReason(9, 0)).toBeNull(); // too few came back to call it
  });
});

describe("SKU and name grouping", () => {
  it("drops years, sizes, amounts, colours and Shopify variant titles from names", () => {
    expect(productStem("Daily lenses, box of 30")).toBe(productStem("Daily lenses, box of 90"));
    expect(productStem("Merlot Reserve 2019")).toBe("merlot reserve");
    expect(productStem("Dog food Premium, 12 kg")).toBe(productStem("Dog food Premium 4kg"));
    expect(productStem("Leila Pullover - Noire / S")).toBe("leila pullover");
    expect(productStem("WHITE HANGING HEART T-LIGHT HOLDER")).toBe(
      productStem("RED HANGING HEART T-LIGHT HOLDER"),
    );
    expect(productStem("Dog food - Premium")).toBe("dog food premium"); // not a variant title
    expect(productStem("30 ml")).toBe("");
    expect(productStem(null)).toBe("");
  });

  it("reads the one pack size a name states, in base units", () => {
    expect(packAmount("Daily lenses, box of 30")).toEqual({ amount: 30, unit: "piece" });
    expect(packAmount("Dog food Premium, 12 kg")).toEqual({ amount: 12, unit: "kg" });
    expect(packAmount("Sencha 500g")).toEqual({ amount: 0.5, unit: "kg" });
    expect(packAmount("Coffee 1,5 kg")).toEqual({ amount: 1.5, unit: "kg" });
    expect(packAmount("Merlot Reserve 2019")).toBeNull(); // a year is no pack
    expect(packAmount("2 x 500 ml")).toBeNull(); // two amounts: neither is trusted
    expect(packAmount("REGENCY CAKESTAND 3 TIER")).toBeNull(); // a number before a word is no pack
    expect(groupPacks(["Daily lenses, box of 30", "Daily lenses, box of 90"])?.map((p) => p.amount)).toEqual([
      30, 90,
    ]);
    expect(groupPacks(["Dog food 12 kg", "Dog food 4000 g"])?.map((p) => p.amount)).toEqual([12, 4]);
    expect(groupPacks(["Dog food 12 kg", "Dog food 12 kg bag"])).toBeNull(); // the same pack: a unit is a unit
    expect(groupPacks(["Dog food 12 kg", "Dog food, 24 cans"])).toBeNull(); // not one measure
    expect(groupPacks(["Merlot Reserve 2019", "Merlot Reserve 2020"])).toBeNull();
  });

  it("a SKU stem is the SKU without a short last segment", () => {
    expect(skuStem("LNS-1D-30")).toBe("LNS-1D");
    expect(skuStem("WINE_MR_2019")).toBe("WINE_MR");
    expect(skuStem("85123A")).toBeNull();
    expect(skuStem("D-1")).toBeNull();
    expect(skuStem(null)).toBeNull();
  });

  const input = (
    sku: string | null,
    name: string | null,
    catalogGroup: string | null = null,
  ): GroupingInput => ({
    key: sku ?? `\u0000${name}`,
    sku,
    name,
    catalogGroup,
  });

  it("groups sizes by SKU stem and name, vintages by name, and names new groups after the stem", () => {
    const groups = proposeGroups(
      [
        input("LNS-1D-30", "Daily lenses, box of 30"),
        input("LNS-1D-90", "Daily lenses, box of 90"),
        input("WMR19", "Merlot Reserve 2019"),
        input("WMR20", "Merlot Reserve 2020"),
        input("DOG-12KG", "Dog food Premium"),
        input("DOG-CHEW", "Dog chew bone"),
      ],
      new Set(),
    );
    expect(groups.map((g) => [g.name, g.members, g.fromCatalog])).toEqual([
      ["LNS-1D", ["LNS-1D-30", "LNS-1D-90"], false],
      ["MERLOT-RESERVE", ["WMR19", "WMR20"], false],
    ]);
    // DOG-12KG and DOG-CHEW share a stem but not a name: two products.
  });

  it("SKUs sharing a stem join when their names mostly agree, even if not exactly", () => {
    const groups = proposeGroups(
      [input("TEA-GRN-100", "Sencha tea, 100 bags"), input("TEA-GRN-LSE", "Sencha tea loose")],
      new Set(),
    );
    expect(groups).toHaveLength(1);
    expect(groups[0]?.reason).toMatch(/stem TEA-GRN/);
  });

  it("keeps a catalog group whole, lets a new SKU join it, and never merges two catalog groups", () => {
    const groups = proposeGroups(
      [
        input("LNS-1D-30", "Daily lenses, box of 30", "LNS-1D"),
        input("LNS-1D-90", "Daily lenses, box of 90", "LNS-1D"),
        input("LNS-1D-180", "Daily lenses, box of 180"),
        input("LNS-1D-TORIC-30", "Daily lenses, box of 30", "LNS-TORIC"),
      ],
      new Set(["LNS-1D", "LNS-TORIC"]),
    );
    expect(groups).toHaveLength(1);
    expect(groups[0]).toMatchObject({
      name: "LNS-1D",
      fromCatalog: true,
      members: ["LNS-1D-30", "LNS-1D-90", "LNS-1D-180"],
      toAssign: ["LNS-1D-180"],
    });
  });

  it("a new group's name never takes a name a product or group already has", () => {
    const groups = proposeGroups(
      [input("LNS-1D-30", "Daily lenses, box of 30"), input("LNS-1D-90", "Daily lenses, box of 90")],
      new Set(["LNS-1D-30", "LNS-1D-90", "lns-1d"]),
    );
    expect(groups[0]?.name).toBe("LNS-1D-2");
  });

  it("lines without a SKU group by name (Shopify variants)", () => {
    const groups = proposeGroups(
      [
        input(null, "Sahara Bra Top - Cocoa / S"),
        input(null, "Sahara Bra Top - Cocoa / M"),
        input(null, "Sahara Biker Shorts - Cocoa / S"),
      ],
      new Set(),
    );
    expect(groups.map((g) => [g.name, g.members.length])).toEqual([["SAHARA-BRA-TOP", 2]]);
  });
});

describe("the verdict on a product's history", () => {
  const product = {
    key: "LNS-1D-30",
    sku: "LNS-1D-30",
    name: "Daily lenses, box of 30",
    catalogGroup: null,
    daysPerUnit: null,
    buyers: 8,
    pricedLines: 20,
    freeLines: 0,
    negativeLines: 0,
  };
  const steady = gapStats([30, 31, 29, 30, 32, 30, 28].map((days) => ({ days, quantity: 1 })));
  const history = { buyers: 8, returningBuyers: 6, repeatCustomers: 5, rhythmCustomers: 3, stats: steady };

  it("a steady rhythm bought again by most returning buyers is a rule", () => {
    expect(judge([product], null, history)).toMatchObject({
      verdict: "rule",
      match: { sku: "LNS-1D-30" },
      daysPerUnit: 30,
      basis: "per_purchase",
    });
  });

  it("a group in packs of 30 and 90 gets one rule per pack, the box of 90 lasting three times as long", () => {
    const group = { name: "LNS-1D", fromCatalog: true, members: [], toAssign: [], reason: "" };
    const perLens = gapStats(
      [30, 60, 31, 29, 90, 30, 61].map((days) => ({ days: days, quantity: Math.round(days / 30) * 30 })),
    );
    const verdict = judge(
      [product, { ...product, key: "LNS-1D-90", sku: "LNS-1D-90", name: "Daily lenses, box of 90" }],
      group,
      { ...history, stats: perLens },
      [
        { amount: 30, unit: "piece" },
        { amount: 90, unit: "piece" },
      ],
    );
    expect(verdict.memberRules).toEqual([
      { match: { sku: "LNS-1D-30" }, daysPerUnit: 30 },
      { match: { sku: "LNS-1D-90" }, daysPerUnit: 90 },
    ]);
  });

  it("one repurchase each is not yet a rhythm", () => {
    expect(judge([product], null, { ...history, rhythmCustomers: 1 }).verdict).toBe("too_little_evidence");
    expect(judge([product], null, { ...history, repeatCustomers: 2 }).verdict).toBe("too_little_evidence");
  });

  it("bought again by a minority of those who came back: now and then, not used up", () => {
    const verdict = judge([product], null, {
      ...history,
      buyers: 40,
      returningBuyers: 30,
      repeatCustomers: 14,
    });
    expect(verdict.verdict).toBe("occasional");
    expect(verdict.reason).toMatch(/of the 30 buyers who came back to the shop, 14 \(47 %\) bought it again/);
  });

  it("gaps as scattered as chance are no rhythm", () => {
    const scattered = gapStats([5, 12, 30, 60, 90, 150, 8, 200].map((days) => ({ days, quantity: 1 })));
    expect(judge([product], null, { ...history, stats: scattered }).verdict).toBe("irregular");
  });

  it("a product alone in a catalog group is matched by its group; a line without a sku by its exact name", () => {
    expect(judge([{ ...product, catalogGroup: "LNS-1D" }], null, history).match).toEqual({ group: "LNS-1D" });
    expect(judge([{ ...product, sku: null, name: "Tea (green) 1+1" }], null, history).match).toEqual({
      name: "^Tea \\(green\\) 1\\+1$",
    });
    const group = { name: "SAHARA-BRA-TOP", fromCatalog: false, members: [], toAssign: [], reason: "" };
    const variants = ["Sahara Bra Top - Cocoa / S", "Sahara Bra Top - Cocoa / M"].map((name) => ({
      ...product,
      key: `\u0000${name}`,
      sku: null,
      name,
    }));
    expect(judge(variants, group, history).match).toEqual({
      name: "^(?:Sahara Bra Top - Cocoa / S|Sahara Bra Top - Cocoa / M)$",
    });
  });
});
