import { describe, expect, it } from "vitest";
import { buildMessage, messageSettings, serveLinks, type CartPayload } from "../../src/deliver/message.js";
import { createRenderer } from "../../src/deliver/render.js";
import { shippedTemplatesDir } from "../../src/deliver/setup.js";
import { configSchema } from "../../src/config/schema.js";
import { verifyLink } from "../../src/links/token.js";

const SECRET = "0123456789abcdef0123456789abcdef-serve";
const NOW = "2026-03-02T08:00:00Z";
const NOW_S = Date.parse(NOW) / 1000;
const renderer = createRenderer({ dir: shippedTemplatesDir(), defaultLocale: "en" });

const payload: CartPayload = {
  week: "2026-W10",
  week_start: "2026-03-02",
  week_end: "2026-03-08",
  customer: {
    id: 7,
    external_id: "C7",
    first_name: "Ann",
    name: "Ann",
    email: "ann@example.com",
    locale: "en",
  },
  items: [
    {
      group_key: "TEA",
      sku: "TEA-1",
      variant_id: "4001",
      name: "Tea",
      quantity: 2,
      unit_price_minor: 500,
      currency: "EUR",
      line_total_minor: 1000,
      due_on: "2026-03-04",
      reminder_number: 1,
    },
  ],
  item_count: 1,
  currency: "EUR",
  total_minor: 1000,
};

const links = {
  cart: "https://shop.example/cart/{{#each items}}{{variant}}:{{quantity}}{{/each}}",
  unsubscribe: "https://shop.example/u?t={{token}}",
};

function build(base: string | null, row: { outboxId?: number; customerId?: number | null } = {}) {
  const config = configSchema.parse({ links: { ...links, base_url: base, expiry_days: 30 } });
  return buildMessage(
    { key: "cart:7:2026-W10", kind: "cart", marketing: true, recipient: "ann@example.com", payload, ...row },
    renderer,
    messageSettings(config, SECRET),
    NOW,
  );
}

const header = (raw: string, name: string) =>
  new RegExp(`^${name}: (.*(?:\\r\\n[ \\t].*)*)`, "m").exec(raw)?.[1]?.replace(/\r\n[ \t]/g, " ") ?? null;

describe("serve's links in the cart email (links.base_url)", () => {
  it("point the cart button and List-Unsubscribe at serve, signed for the outbox row and customer", () => {
    const message = build("https://shop.example/comeback/", { outboxId: 41, customerId: 7 });
    // The button is a click redirect (src/track/click.ts) whose target is the cart page.
    // Handlebars writes = and & in an href as &#x3D; and &amp;, as a browser reads them.
    const targets = [
      ...message.rendered.html.matchAll(/href="(https:\/\/shop\.example\/comeback\/r\/[^"]+)"/g),
    ].map(
      (href) => new URL(href[1]!.replace(/&#x3D;/g, "=").replace(/&amp;/g, "&")).searchParams.get("u") ?? "",
    );
    const cart = targets
      .map((target) => /^https:\/\/shop\.example\/comeback\/c\/([A-Za-z0-9._-]+)$/.exec(target))
      .find((match) => match !== null);
    expect(cart).toBeDefined();
    expect(message.rendered.text).toContain(encodeURIComponent(cart![0]));
    const check = verifyLink(SECRET, cart![1]!, "cart", NOW_S);
    expect(check).toEqual({
      ok: true,
      claims: { purpose: "cart", outboxId: 41, customerId: 7, expiresAt: NOW_S + 30 * 86_400 },
    });
    expect(verifyLink(SECRET, cart![1]!, "cart", NOW_S + 30 * 86_400 + 1)).toEqual({
      ok: false,
      reason: "expired",
    });
    const list = header(message.raw, "List-Unsubscribe")!;
    // The mailto stays first, for clients that only know it; the https one is serve's.
    const [mailto, https] = list.split(", ");
    expect(mailto).toMatch(/^<mailto:/);
    const unsub = /^<https:\/\/shop\.example\/comeback\/u\/([^>]+)>$/.exec(https!);
    expect(unsub).not.toBeNull();
    expect(verifyLink(SECRET, unsub![1]!, "unsub", NOW_S)).toMatchObject({
      ok: true,
      claims: { outboxId: 41, customerId: 7 },
    });
    expect(verifyLink(SECRET, unsub![1]!, "cart", NOW_S)).toEqual({ ok: false, reason: "forged" });
    expect(header(message.raw, "List-Unsubscribe-Post")).toBe("List-Unsubscribe=One-Click");
    expect(message.rendered.html).toContain(`/comeback/u/${unsub![1]}`);
    expect(message.rendered.html).not.toContain("shop.example/cart/");
  });

  it("keeps links.cart and links.unsubscribe without base_url, or without the outbox row", () => {
    for (const message of [build(null, { outboxId: 41, customerId: 7 }), build("https://s.example")]) {
      expect(message.rendered.html).toContain("https://shop.example/cart/4001:2");
      expect(header(message.raw, "List-Unsubscribe")).toMatch(/<https:\/\/shop\.example\/u\?t=/);
      expect(message.raw).not.toContain("/c/cart.");
    }
  });

  it("makes no links without a secret or a customer", () => {
    const config = configSchema.parse({ links: { base_url: "https://s.example" } });
    const input = { key: "k", kind: "cart", marketing: true, recipient: "a@b.example", payload };
    expect(
      serveLinks(messageSettings(config, null), { ...input, outboxId: 1, customerId: 7 }, NOW),
    ).toBeNull();
    expect(
      serveLinks(messageSettings(config, SECRET), { ...input, outboxId: 1, customerId: null }, NOW),
    ).toBeNull();
    expect(
      serveLinks(messageSettings(config, SECRET), { ...input, outboxId: 1, customerId: 7 }, NOW),
    ).toEqual({
      cart: expect.stringMatching(/^https:\/\/s\.example\/c\/cart\.1\.7\./),
      unsubscribe: expect.stringMatching(/^https:\/\/s\.example\/u\/unsub\.1\.7\./),
    });
  });
});

describe("the wishlist in the next cart email", () => {
  it("lists the postponed items with their day, in the customer's language; nothing when there are none", () => {
    const settings = messageSettings(configSchema.parse({}), SECRET);
    const build = (extra: Partial<CartPayload>, locale: string | null = "en") =>
      buildMessage(
        {
          key: "cart:7:2026-W10",
          kind: "cart",
          marketing: true,
          recipient: "ann@example.com",
          payload: { ...payload, ...extra, customer: { ...payload.customer, locale } },
        },
        renderer,
        settings,
        NOW,
      ).rendered;
    const plain = build({});
    expect(plain.text).not.toContain("Saved for later");
    expect(plain.html).not.toContain("Saved for later");
    const wishlist = [{ name: "Filter <papers>", until: "2026-03-17" }];
    const withList = build({ wishlist });
    expect(withList.text).toContain(
      "Saved for later:\n- Filter <papers>: we will remind you on March 17, 2026",
    );
    expect(withList.html).toContain("<li>Filter &lt;papers&gt;: we will remind you on March 17, 2026</li>");
    expect(build({ wishlist }, "de").text).toContain(
      "Für später gemerkt:\n- Filter <papers>: wir erinnern Sie am 17. März 2026",
    );
    expect(build({ wishlist }, "ru").html).toContain("Отложено на потом");
  });
});
