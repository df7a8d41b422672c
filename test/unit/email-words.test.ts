import { describe, expect, it } from "vitest";
import { buildMessage, greetingName, messageSettings, type CartPayload } from "../../src/deliver/message.js";
import { createRenderer } from "../../src/deliver/render.js";
import { shippedTemplatesDir } from "../../src/deliver/setup.js";
import { configSchema } from "../../src/config/schema.js";
import { runsOutOn } from "../../src/plan/replenishment/due.js";

describe("runsOutOn", () => {
  it("is the purchase day + the whole days of supply, lead days after the first reminder", () => {
    // 2026-01-05 + 60 days = 2026-03-06; the reminder was due 7 days before.
    expect(
      runsOutOn({
        last_purchase_on: "2026-01-05",
        supply_days: 60.9,
        lead_days: 7,
        first_due_on: "2026-02-27",
      }),
    ).toBe("2026-03-06");
    // Supply shorter than the lead days: the reminder is due on the purchase day, the run-out 5 days later.
    expect(
      runsOutOn({ last_purchase_on: "2026-01-05", supply_days: 5, lead_days: 7, first_due_on: "2026-01-05" }),
    ).toBe("2026-01-10");
  });

  it("moves with a due date the admin set: lead days after it", () => {
    expect(
      runsOutOn({
        last_purchase_on: "2026-01-02",
        supply_days: 90,
        lead_days: 7,
        first_due_on: "2026-03-05",
      }),
    ).toBe("2026-03-12");
  });
});

describe("greetingName", () => {
  const customer = { id: 1, external_id: null, email: null, locale: null };
  it("is the first name, else the whole name, else nothing", () => {
    expect(greetingName({ ...customer, first_name: "Anna", name: "Anna Schmidt" })).toBe("Anna");
    expect(greetingName({ ...customer, first_name: null, name: "Alex Ivanova" })).toBe("Alex Ivanova");
    expect(greetingName({ ...customer, first_name: " ", name: null })).toBeNull();
  });
});

describe("the cart link", () => {
  const renderer = createRenderer({ dir: shippedTemplatesDir(), defaultLocale: "en" });
  const settings = messageSettings(
    configSchema.parse({
      links: {
        cart: "https://shop.example/cart/{{#each items}}{{variant}}:{{quantity}}{{#unless @last}},{{/unless}}{{/each}}",
      },
    }),
    "0123456789abcdef0123",
  );
  const payload = (variants: (string | null)[]): CartPayload => ({
    week: "2026-W10",
    week_start: "2026-03-02",
    week_end: "2026-03-08",
    customer: {
      id: 7,
      external_id: "C7",
      first_name: "Ann",
      name: null,
      email: "ann@example.com",
      locale: "en",
    },
    items: variants.map((variant, i) => ({
      group_key: `G${i}`,
      sku: `SKU-${i}`,
      variant_id: variant,
      name: `Item ${i}`,
      quantity: 1,
      unit_price_minor: 100,
      currency: "EUR",
      line_total_minor: 100,
      due_on: "2026-03-04",
      runs_out_on: "2026-03-11",
      reminder_number: 1,
    })),
    item_count: variants.length,
    currency: "EUR",
    total_minor: 100 * variants.length,
  });
  const html = (variants: (string | null)[]) =>
    buildMessage(
      {
        key: "cart:7:2026-W10",
        kind: "cart",
        marketing: true,
        recipient: "ann@example.com",
        payload: payload(variants),
      },
      renderer,
      settings,
      "2026-03-02T08:00:00Z",
    ).rendered.html;

  it("fills {{variant}} with the products' variant ids, never the sku", () => {
    expect(html(["4001", "4002"])).toContain('href="https://shop.example/cart/4001:1,4002:1"');
  });

  it("is left out when an item has no variant id: a Shopify permalink with a sku fails in the shop", () => {
    const without = html(["4001", null]);
    expect(without).not.toContain("shop.example/cart/");
    expect(without).not.toContain("SKU-1");
    expect(without).toContain("Item 1");
  });
});
