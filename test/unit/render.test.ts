import { readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { isoWeekOf, nextWindowOpening } from "../../src/deliver/clock.js";
import { parseNow } from "../../src/cli/now.js";
import {
  buildMessage,
  cartWords,
  greetingName,
  messageSettings,
  type CartPayload,
} from "../../src/deliver/message.js";
import { composeEmail, encodeText, formatMailbox, messageIdFor } from "../../src/deliver/mime.js";
import { createRenderer, formatMoney, pluralForm } from "../../src/deliver/render.js";
import { shippedTemplatesDir } from "../../src/deliver/setup.js";
import { unsubscribeToken, verifyUnsubscribeToken } from "../../src/deliver/unsubscribe.js";
import { configSchema } from "../../src/config/schema.js";
import { UsageError } from "../../src/errors.js";

const renderer = createRenderer({ dir: shippedTemplatesDir(), defaultLocale: "en" });
const EVIL = `Tea "Earl Grey" <script>alert('x')</script> & co`;

function cart(locale: string | null, items = 1): CartPayload {
  return {
    week: "2026-W10",
    week_start: "2026-03-02",
    week_end: "2026-03-08",
    customer: {
      id: 7,
      external_id: "C7",
      first_name: "<b>Ann</b>",
      name: "Ann O'Neil",
      email: "ann@example.com",
      locale,
    },
    items: Array.from({ length: items }, (_, i) => ({
      group_key: `G${i}`,
      sku: `SKU ${i}/x`,
      name: EVIL,
      quantity: 2,
      unit_price_minor: 1250,
      currency: "EUR",
      line_total_minor: 2500,
      due_on: "2026-03-04",
      runs_out_on: "2026-03-11",
      variant_id: `4000${i}`,
      reminder_number: 1,
    })),
    item_count: items,
    currency: "EUR",
    total_minor: 2500 * items,
  };
}

// What buildMessage adds to a cart's payload: the greeting's name, and each item's run-out wording.
const context = (payload: CartPayload) => ({
  ...payload,
  greeting_name: greetingName(payload.customer),
  ...cartWords(payload, "2026-03-02"),
  shop: { name: "Shop & Co" },
  cart_url: "https://shop.example/cart?a=1&b=2",
  unsubscribe_url: "https://shop.example/u?t=abc",
});

describe("templates", () => {
  it.each(
    ["warm", "cold", "lost"].flatMap((status) =>
      (
        [
          ["en", "Hello Ann O&#x27;Neil,"],
          ["de", "Hallo Ann O&#x27;Neil,"],
          ["ru", "Здравствуйте, Ann O&#x27;Neil!"],
        ] as const
      ).map(([locale, greeting]) => [status, locale, greeting] as const),
    ),
  )("greet by the name the export gave in the win-back-%s mail (%s)", (status, locale, greeting) => {
    // A Shopify orders export names the customer ("Billing Name") but gives no first name.
    const customer = { ...cart(locale).customer, first_name: null };
    const email = renderer.render(`winback-${status}`, locale, {
      status,
      contact_number: 1,
      customer,
      favourite_products: [
        { sku: "T1", name: EVIL, orders: 2, quantity: 2, unit_price_minor: 1250, currency: "EUR" },
      ],
      greeting_name: greetingName(customer),
      shop: { name: "Shop & Co" },
      unsubscribe_url: "https://shop.example/u?t=abc",
    });
    expect(email.html).toContain(greeting);
    expect(email.text).toContain(greeting.replace("&#x27;", "'"));
    expect(email.subject).toContain("Ann O'Neil");
    // Escaping: see "escape a hostile product and customer name" below, for every template.
  });

  // Every template the shop ships, in every language, with a product and a customer named by an
  // attacker: what comes from a CSV is escaped in the HTML part wherever a template shows it.
  const HOSTILE_CUSTOMER = `Ann "<img src=x onerror=alert(1)>" O'Neil`;
  const HOSTILE_CUSTOMER_HTML = "Ann &quot;&lt;img src&#x3D;x onerror&#x3D;alert(1)&gt;&quot; O&#x27;Neil";
  const EVIL_HTML = "Tea &quot;Earl Grey&quot; &lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; co";
  const shipped = readdirSync(shippedTemplatesDir()).filter(
    // pages/: serve's pages, not emails (test/unit/serve-parts.test.ts renders them).
    (name) => !["layouts", "partials", "pages"].includes(name),
  );
  it("ships the templates this test renders", () => {
    expect(shipped.sort()).toEqual([
      "cart",
      "digest",
      "followup",
      "reorder",
      "winback-cold",
      "winback-lost",
      "winback-warm",
    ]);
  });
  it.each(shipped.flatMap((template) => ["en", "de", "ru"].map((locale) => [template, locale] as const)))(
    "escape a hostile product and customer name in the %s mail (%s)",
    (template, locale) => {
      const payload = cart(locale);
      const customer = { ...payload.customer, first_name: null, name: HOSTILE_CUSTOMER };
      const status = template.replace("winback-", "");
      const email = renderer.render(template, locale, {
        ...context({ ...payload, customer }),
        // win-back
        status,
        contact_number: 1,
        favourite_products: [
          { sku: "T1", name: EVIL, orders: 2, quantity: 2, unit_price_minor: 1250, currency: "EUR" },
        ],
        // follow-up
        stage: "not_clicked",
        not_clicked: true,
        // reorder
        reorder_id: 1,
        person: { customer_id: 7, external_id: "C7", name: HOSTILE_CUSTOMER, phone: null, email: null },
        // digest
        cart_count: 1,
        more: 0,
        carts: [
          {
            customer_id: 7,
            external_id: "C7",
            name: HOSTILE_CUSTOMER,
            email: "ann@example.com",
            item_count: 1,
            currency: "EUR",
            total_minor: 2500,
            items: [{ name: EVIL, quantity: 1 }],
          },
        ],
        task_count: 1,
        tasks: [
          {
            task_id: 1,
            due_on: "2026-03-02",
            status: "warm",
            contact_number: 1,
            customer_id: "C7",
            email: "ann@example.com",
            comeback_id: 7,
            name: HOSTILE_CUSTOMER,
            phone: "+49 170 1234567",
            orders: 2,
            last_order_on: "2026-01-05",
            last_order_items: EVIL,
            previous_calls: 0,
            last_call_at: null,
          },
        ],
      });
      expect(email.locale).toBe(locale);
      expect(email.html).not.toContain("<script>");
      expect(email.html).not.toContain("<img");
      expect(email.html).toContain(EVIL_HTML);
      expect(email.html).toContain(HOSTILE_CUSTOMER_HTML);
    },
  );

  it.each([
    ["en", "not_opened", "In case you missed it", "In case our email got lost"],
    ["en", "not_clicked", "Your cart is still waiting", "Your cart is still ready"],
    ["en", "no_decision", "Anything to change", "have not decided yet"],
    ["de", "not_opened", "Falls Sie es verpasst haben", "verloren gegangen"],
    ["de", "not_clicked", "Ihr Warenkorb wartet noch", "noch bereit"],
    ["de", "no_decision", "etwas ändern", "noch nicht entschieden"],
    ["ru", "not_opened", "если вы пропустили", "затерялось"],
    ["ru", "not_clicked", "Ваша корзина ждёт", "всё ещё готова"],
    ["ru", "no_decision", "изменить в корзине", "ещё не решили"],
  ])(
    "render the %s follow-up for %s: its own subject and words, nothing of the other stages",
    (locale, stage, subject, words) => {
      const flags = {
        not_opened: stage === "not_opened",
        not_clicked: stage === "not_clicked",
        no_decision: stage === "no_decision",
      };
      const email = renderer.render("followup", locale, { ...context(cart(locale)), stage, ...flags });
      expect(email.locale).toBe(locale);
      expect(email.subject.toLowerCase()).toContain(subject.toLowerCase());
      expect(email.text).toContain(words);
      expect(email.html).toContain(words);
      expect(email.subject).not.toMatch(/\{\{|^$/);
      for (const other of ["not_opened", "not_clicked", "no_decision"].filter((s) => s !== stage)) {
        const otherEmail = renderer.render("followup", locale, { ...context(cart(locale)), [other]: true });
        expect(otherEmail.text).not.toContain(words);
      }
    },
  );

  it.each([
    ["en", "Hello", "Open my cart", "€25.00", "Unsubscribe"],
    ["de", "Hallo", "Zum Warenkorb", "25,00 €", "Abmelden"],
    ["ru", "Здравствуйте", "Открыть корзину", "25,00 €", "Отписаться"],
  ])(
    "render the cart in %s with everything from data escaped",
    (locale, greeting, button, money, unsubscribe) => {
      const email = renderer.render("cart", locale, context(cart(locale)));
      expect(email.locale).toBe(locale);
      expect(email.html).toContain(greeting);
      expect(email.html).toContain(button);
      expect(email.html.replaceAll("\u00a0", " ")).toContain(money); // Intl puts a no-break space before €
      expect(email.html).toContain(unsubscribe);
      expect(email.html).toContain(`lang="${locale}"`);
      expect(email.html).not.toContain("<script>");
      expect(email.html).not.toContain("<b>Ann</b>");
      expect(email.html).toContain("&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; co");
      expect(email.html).toContain("&lt;b&gt;Ann&lt;/b&gt;");
      expect(email.html).toContain('href="https://shop.example/cart?a&#x3D;1&amp;b&#x3D;2"');
      expect(email.html).toContain("Shop &amp; Co");
      // The text part and subject are plain text: not HTML-escaped.
      expect(email.text).toContain(EVIL);
      expect(email.text).toContain("https://shop.example/u?t=abc");
      expect(email.subject).toContain("<b>Ann</b>");
    },
  );

  it("pluralises in the customer's language", () => {
    expect(renderer.render("cart", "ru", context(cart("ru", 1))).subject).toContain("1 товар в корзине");
    expect(renderer.render("cart", "ru", context(cart("ru", 3))).subject).toContain("3 товара");
    expect(renderer.render("cart", "ru", context(cart("ru", 5))).subject).toContain("5 товаров");
    expect(renderer.render("cart", "en", context(cart("en", 1))).subject).toContain("1 item in your cart");
    expect(renderer.render("cart", "en", context(cart("en", 2))).subject).toContain("2 items");
    // Forms that differ, so picking the wrong one shows (German's "Artikel" is the same in both).
    expect(pluralForm("de", 1, { one: "# Ware", other: "# Waren" })).toBe("1 Ware");
    expect(pluralForm("de", 2, { one: "# Ware", other: "# Waren" })).toBe("2 Waren");
    expect(pluralForm("ru", 21, { one: "# товар", few: "# товара", many: "# товаров" })).toBe("21 товар");
    expect(pluralForm("ru", 11, { one: "# товар", few: "# товара", many: "# товаров" })).toBe("11 товаров");
  });

  it("picks the variant by the customer's locale, its language, then config locale", () => {
    expect(renderer.render("cart", "de-AT", context(cart("de-AT"))).locale).toBe("de");
    expect(renderer.render("cart", "ru_RU", context(cart("ru_RU"))).locale).toBe("ru");
    expect(renderer.render("cart", "fr", context(cart("fr"))).locale).toBe("en");
    expect(renderer.render("cart", null, context(cart(null))).locale).toBe("en");
    const german = createRenderer({ dir: shippedTemplatesDir(), defaultLocale: "de" });
    expect(german.render("cart", "fr", context(cart("fr"))).html).toContain("Hallo");
  });

  it("renders the digest in three languages", () => {
    const payload = {
      week: "2026-W10",
      week_start: "2026-03-02",
      week_end: "2026-03-08",
      cart_count: 2,
      more: 0,
      currency: "EUR",
      total_minor: 5000,
      carts: [
        {
          customer_id: 1,
          external_id: "C1",
          name: EVIL,
          email: "a@example.com",
          item_count: 1,
          currency: "EUR",
          total_minor: 2500,
          items: [{ name: EVIL, quantity: 1 }],
        },
      ],
      shop: { name: "Shop" },
    };
    expect(renderer.render("digest", "en", payload).subject).toBe("comeback: 2 carts for 2026-W10");
    expect(renderer.render("digest", "de", payload).subject).toBe("comeback: 2 Warenkörbe für 2026-W10");
    expect(renderer.render("digest", "ru", payload).subject).toBe("comeback: 2 корзины за 2026-W10");
    expect(renderer.render("digest", "en", payload).html).not.toContain("<script>");
  });

  it("formats money with the currency's minor unit", () => {
    expect(formatMoney("en", 1234, "EUR")).toBe("€12.34");
    expect(formatMoney("de", 1234, "EUR")).toBe("12,34\u00a0€");
    expect(formatMoney("en", 1234, "JPY")).toBe("¥1,234");
  });
});

describe("composed message", () => {
  const config = configSchema.parse({
    delivery: { from: "Müller & Söhne <hello@shop.example>" },
    links: {
      unsubscribe: "https://shop.example/u?t={{token}}",
      cart: "https://shop.example/c/{{#each items}}{{variant}}:{{quantity}}{{/each}}",
    },
  });
  const settings = messageSettings(config, "0123456789abcdef0123");

  it("has a stable Message-ID from the key and the sender's domain, and headers no data can inject into", () => {
    const payload = cart("de");
    payload.customer.name = "Evil\r\nBcc: victim@example.com";
    const message = buildMessage(
      { key: "cart:7:2026-W10", kind: "cart", marketing: true, recipient: "ann@example.com", payload },
      renderer,
      settings,
      "2026-03-02T08:00:00Z",
    );
    // Written out, not computed with messageIdFor: a re-send of an unknown message (--retry-unknown)
    // must carry the Message-ID the first attempt had, also after an upgrade of comeback.
    expect(message.messageId).toBe("<cart.7.2026-W10.2b49873595e4@shop.example>");
    expect(messageIdFor("cart:7:2026-W11", "shop.example")).not.toBe(message.messageId);
    expect(message.raw).not.toMatch(/^Bcc:/m);
    expect(message.raw).toMatch(/^To: "Evil Bcc: victim@example.com" <ann@example.com>$/m);
    expect(message.raw).toMatch(/^From: =\?UTF-8\?B\?/m);
    expect(message.raw).toMatch(/^Date: Mon, 02 Mar 2026 08:00:00 \+0000$/m);
    expect(message.raw).toMatch(/^X-Comeback-Key: cart:7:2026-W10$/m);
    expect(message.rendered.html).toContain("https://shop.example/c/40000:2");
    // 7-bit clean, lines within limits
    expect([...message.raw].every((c) => c.charCodeAt(0) < 128)).toBe(true);
    expect(Math.max(...message.raw.split("\r\n").map((l) => l.length))).toBeLessThanOrEqual(998);
    const again = buildMessage(
      { key: "cart:7:2026-W10", kind: "cart", marketing: true, recipient: "ann@example.com", payload },
      renderer,
      settings,
      "2026-03-02T08:00:00Z",
    );
    expect(again.raw).toBe(message.raw);
  });

  it("encodes non-ASCII header text as encoded words", () => {
    expect(encodeText("Hello")).toBe("Hello");
    const encoded = encodeText("Пора пополнить запасы: 3 товара в корзине, Борис");
    expect(
      encoded.split("\r\n ").every((w) => /^=\?UTF-8\?B\?[A-Za-z0-9+/=]+\?=$/.test(w) && w.length <= 75),
    ).toBe(true);
    expect(formatMailbox({ name: "Shop", address: "a@b.example" })).toBe("Shop <a@b.example>");
    expect(formatMailbox({ name: 'A "B", C', address: "a@b.example" })).toBe('"A \\"B\\", C" <a@b.example>');
    expect(() => formatMailbox({ name: "", address: "a@b.example>\r\nBcc: x@y.z" })).toThrow();
    expect(
      composeEmail({
        from: { name: "", address: "a@b.example" },
        to: { name: "", address: "c@d.example" },
        subject: "s",
        text: "t",
        html: "h",
        messageId: "<x@b.example>",
        date: "2026-03-02T08:00:00Z",
        headers: [],
      }),
    ).toMatch(/\r\n--=_comeback_[0-9a-f]{24}--\r\n$/);
  });
});

describe("unsubscribe tokens", () => {
  it("verify only for the address and secret they were made with", () => {
    const token = unsubscribeToken("secret-0123456789abc", "Ann@Example.com");
    expect(verifyUnsubscribeToken("secret-0123456789abc", token)).toBe("ann@example.com");
    expect(verifyUnsubscribeToken("secret-0123456789abd", token)).toBeNull();
    const [, signature] = token.split(".");
    expect(
      verifyUnsubscribeToken(
        "secret-0123456789abc",
        `${Buffer.from("bob@example.com").toString("base64url")}.${signature}`,
      ),
    ).toBeNull();
    expect(verifyUnsubscribeToken("secret-0123456789abc", "garbage")).toBeNull();
    expect(verifyUnsubscribeToken("secret-0123456789abc", `${token}x`)).toBeNull();
  });
});

describe("delivery clock", () => {
  it("reads --now in the shop's timezone", () => {
    expect(parseNow("2026-03-02", "Europe/Berlin")).toBe("2026-03-01T23:00:00Z");
    expect(parseNow("2026-03-02T09:30", "Europe/Berlin")).toBe("2026-03-02T08:30:00Z");
    expect(parseNow("2026-03-02T09:30:00Z", "Europe/Berlin")).toBe("2026-03-02T09:30:00Z");
    expect(() => parseNow("next monday", "UTC")).toThrow(UsageError);
  });

  it("names ISO weeks in the shop's timezone", () => {
    expect(isoWeekOf("2026-03-01T23:30:00Z", "Europe/Berlin")).toEqual({
      week: "2026-W10",
      monday: "2026-03-02",
      sunday: "2026-03-08",
    });
    expect(isoWeekOf("2026-03-01T23:30:00Z", "UTC").week).toBe("2026-W09");
    expect(isoWeekOf("2027-01-01T12:00:00Z", "UTC").week).toBe("2026-W53");
  });

  it("finds the next opening of the send window, across DST", () => {
    const window = { start: 8 * 60, end: 20 * 60 };
    expect(nextWindowOpening("2026-03-02T08:00:00Z", window, "Europe/Berlin")).toBeNull();
    expect(nextWindowOpening("2026-03-02T05:00:00Z", window, "Europe/Berlin")).toBe("2026-03-02T07:00:00Z");
    expect(nextWindowOpening("2026-03-02T19:00:00Z", window, "Europe/Berlin")).toBe("2026-03-03T07:00:00Z");
    // The night clocks go forward (29 March 2026), 08:00 is 06:00 UTC.
    expect(nextWindowOpening("2026-03-28T20:00:00Z", window, "Europe/Berlin")).toBe("2026-03-29T06:00:00Z");
    const overnight = { start: 22 * 60, end: 6 * 60 };
    expect(nextWindowOpening("2026-03-02T23:00:00Z", overnight, "UTC")).toBeNull();
    expect(nextWindowOpening("2026-03-02T12:00:00Z", overnight, "UTC")).toBe("2026-03-02T22:00:00Z");
  });
});
