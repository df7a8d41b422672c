/** The pure parts of serve and the customer's answers: edits, choices, form tokens, the pages, the operator's email. */
import { mkdtempSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { applyEdits, keptTotals, MAX_QUANTITY, wholeUnits, type PageItem } from "../../src/answers/cart.js";
import { postponeChoices } from "../../src/answers/postpone.js";
import { checkFormToken, formToken } from "../../src/serve/csrf.js";
import { oneClickField } from "../../src/serve/routes/unsubscribe.js";
import { createPageRenderer, pagesDir } from "../../src/serve/pages.js";
import { shippedTemplatesDir } from "../../src/deliver/setup.js";
import { buildMessage, messageSettings } from "../../src/deliver/message.js";
import { createRenderer } from "../../src/deliver/render.js";
import { configSchema } from "../../src/config/schema.js";
import { parsePort, runningClock } from "../../src/cli/commands/serve.js";
import { reorderCsvRows } from "../../src/cli/commands/reorders.js";
import { cartPageIn, invokedAs, nextSteps } from "../../src/cli/commands/demo.js";
import { composeEmail } from "../../src/deliver/mime.js";
import type { ReorderPayload } from "../../src/answers/reorders.js";

const item = (index: number, fields: Partial<PageItem> = {}): PageItem => ({
  index,
  group_key: `G${index}`,
  sku: `S${index}`,
  name: `Item ${index}`,
  quantity: 2,
  unit_price_minor: 500,
  currency: "EUR",
  line_total_minor: 1000,
  image_url: null,
  ...fields,
});

describe("the customer's edits", () => {
  it("takes whole quantities 0–99, caps bigger ones, and keeps the suggestion for anything else", () => {
    const items = [item(0), item(1), item(2), item(3), item(4)];
    const edited = applyEdits(items, { qty_0: "5", qty_1: "0", qty_2: "1000", qty_3: "-1", qty_4: "2.5" });
    expect(edited.map((i) => i.quantity)).toEqual([5, 0, 2, 2, 2]);
    expect(applyEdits([item(0)], { qty_0: "150" })[0]!.quantity).toBe(MAX_QUANTITY);
    expect(applyEdits([item(0)], { qty_0: ["3", "4"] })[0]!.quantity).toBe(2);
    expect(edited.map((i) => i.line_total_minor)).toEqual([2500, 0, 1000, 1000, 1000]);
  });

  it("removes an item whose checkbox is ticked, whatever its quantity says", () => {
    const edited = applyEdits([item(0), item(1)], { qty_0: "3", remove_0: "1", qty_1: "4" });
    expect(edited.map((i) => i.quantity)).toEqual([0, 4]);
  });

  it("keeps the line total unknown without a price", () => {
    expect(applyEdits([item(0, { unit_price_minor: null })], { qty_0: "3" })[0]!.line_total_minor).toBeNull();
  });

  it("totals the kept items only, and says nothing of a total when a price is unknown", () => {
    const edited = applyEdits([item(0), item(1)], { qty_0: "3", qty_1: "0" });
    expect(keptTotals(edited)).toEqual({ currency: "EUR", total_minor: 1500 });
    expect(keptTotals(applyEdits([item(0)], { qty_0: "0" }))).toEqual({ currency: "EUR", total_minor: 0 });
    expect(
      keptTotals([item(0), item(1, { unit_price_minor: null, line_total_minor: null })]).total_minor,
    ).toBeNull();
    expect(keptTotals([item(0), item(1, { currency: "USD" })]).total_minor).toBeNull();
  });

  it("suggests whole units, at least one", () => {
    expect([0.2, 1, 1.4, 1.5, 3].map(wholeUnits)).toEqual([1, 1, 1, 2, 3]);
  });

  it("reads the postpone answers per item: 1, 2, 4 weeks or never; anything else is no answer", () => {
    const items = [item(0), item(1), item(2), item(3), item(4)];
    const answers = postponeChoices(items, {
      later_0: "1",
      later_1: "never",
      later_2: "",
      later_3: "3",
      later_4: "4",
    });
    expect(answers.map((a) => [a.item.index, a.choice])).toEqual([
      [0, "1"],
      [1, "never"],
      [4, "4"],
    ]);
  });
});

describe("form tokens", () => {
  const secret = "s".repeat(40);
  it("work for one link and one form only", () => {
    const token = formToken(secret, "cart.1.2.3.abc", "cart");
    expect(checkFormToken(secret, "cart.1.2.3.abc", "cart", token)).toBe(true);
    expect(checkFormToken(secret, "cart.1.2.3.abd", "cart", token)).toBe(false);
    expect(checkFormToken(secret, "cart.1.2.3.abc", "later", token)).toBe(false);
    expect(checkFormToken("t".repeat(40), "cart.1.2.3.abc", "cart", token)).toBe(false);
    expect(checkFormToken(secret, "cart.1.2.3.abc", "cart", undefined)).toBe(false);
    expect(checkFormToken(secret, "cart.1.2.3.abc", "cart", `${token}x`)).toBe(false);
    expect(token).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });
});

describe("RFC 8058 multipart bodies", () => {
  it("finds the List-Unsubscribe field", () => {
    const body = (name: string, value: string) =>
      `--b\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n--b--\r\n`;
    expect(oneClickField(body("List-Unsubscribe", "One-Click"))).toBe("One-Click");
    expect(
      oneClickField(`--b\ncontent-disposition: form-data; name=List-Unsubscribe\n\nOne-Click\n--b--`),
    ).toBe("One-Click");
    expect(oneClickField(body("Other", "One-Click"))).toBeNull();
    expect(oneClickField("List-Unsubscribe=One-Click")).toBeNull();
  });
});

describe("the pages", () => {
  const pages = createPageRenderer({ dir: pagesDir(null), defaultLocale: "en" });
  const context = { shop: { name: "Shop" }, root: "../", token: "t", csrf: "c" };

  it("come in en, de and ru, by the customer's locale, else the config's", () => {
    for (const [wanted, lang, words] of [
      ["de-AT", "de-AT", "Dieser Link funktioniert nicht"],
      ["ru", "ru", "Ссылка не работает"],
      ["fr", "en", "This link does not work"],
      [null, "en", "This link does not work"],
    ] as const) {
      const page = pages.render("forbidden", wanted, context);
      expect(page.html).toContain(`<html lang="${lang}">`);
      expect(page.html).toContain(`<h1>${words}</h1>`);
    }
    const german = createPageRenderer({ dir: pagesDir(null), defaultLocale: "de" });
    expect(german.render("forbidden", null, context).html).toContain('<html lang="de">');
  });

  it("every page exists in every language, with its title, and no inline style or script", () => {
    for (const page of ["cart", "confirmed", "postponed", "unsubscribe", "unsubscribed", "forbidden"]) {
      for (const locale of ["en", "de", "ru"]) {
        const html = pages.render(page, locale, {
          ...context,
          items: [item(0)],
          reorder: { items: [] },
        }).html;
        expect(html).toMatch(/<title>[^<·]+ · Shop<\/title>/);
        expect(html).not.toMatch(/style=|<style|<script|\son[a-z]+=/i);
      }
    }
  });

  it("come from the shop's own copy when it has pages/, else the shipped ones", () => {
    const dir = mkdtempSync(join(tmpdir(), "comeback-pages-"));
    expect(pagesDir(dir)).toBe(join(shippedTemplatesDir(), "pages"));
    mkdirSync(join(dir, "pages"));
    writeFileSync(join(dir, "pages", "layout.hbs"), "<main>{{{body}}}</main>");
    writeFileSync(join(dir, "pages", "forbidden.hbs"), "Nope, {{shop.name}}");
    expect(pagesDir(dir)).toBe(join(dir, "pages"));
    const own = createPageRenderer({ dir: pagesDir(dir), defaultLocale: "en" });
    expect(own.render("forbidden", "de", { shop: { name: "<b>" } }).html).toBe(
      "<main>Nope, &lt;b&gt;</main>",
    );
    expect(() => own.render("cart", "en", {})).toThrow(/no cart\.hbs/);
    expect(() => createPageRenderer({ dir: join(dir, "nothing"), defaultLocale: "en" })).toThrow(
      /layout\.hbs/,
    );
  });
});

describe("the operator's reorder email", () => {
  const payload: ReorderPayload = {
    reorder_id: 7,
    confirmed_at: "2026-03-03T10:00:00Z",
    week: "2026-W10",
    person: {
      customer_id: 1,
      external_id: "C1",
      name: "Anna <Schmidt>",
      phone: "+49 170 1234567",
      email: "anna@example.com",
    },
    items: [
      {
        name: "Tea",
        sku: "TEA-1",
        quantity: 3,
        unit_price_minor: 1250,
        currency: "EUR",
        line_total_minor: 3750,
      },
    ],
    currency: "EUR",
    total_minor: 3750,
  };
  const renderer = createRenderer({ dir: shippedTemplatesDir(), defaultLocale: "en" });

  it('says "call NAME at PHONE about reorder R: items", in the config language', () => {
    const settings = messageSettings(configSchema.parse({}), null);
    const message = buildMessage(
      { key: "reorder:7", kind: "reorder", marketing: false, recipient: "owner@shop.example", payload },
      renderer,
      settings,
      "2026-03-03T10:00:00Z",
    );
    expect(message.rendered.subject).toBe("comeback: call Anna <Schmidt> at +49 170 1234567 about reorder 7");
    expect(message.rendered.text).toContain("- Tea (TEA-1): 3 × €12.50 = €37.50");
    expect(message.rendered.text).toContain("comeback reorders done 7");
    expect(message.rendered.html).toContain("Anna &lt;Schmidt&gt;");
    expect(message.raw).toMatch(/^Auto-Submitted: auto-generated$/m);
    expect(message.raw).not.toMatch(/^List-Unsubscribe/m);
    for (const [locale, words] of [
      ["de", "wegen Nachbestellung 7 anrufen"],
      ["ru", "о повторном заказе 7"],
    ]) {
      expect(renderer.render("reorder", locale, payload as never).subject).toContain(words);
    }
    const nophone = renderer.render("reorder", "en", {
      ...payload,
      person: { ...payload.person, phone: null },
    } as never);
    expect(nophone.text).toContain("(no phone on file: write to anna@example.com)");
  });

  it("names a customer without a name by the shop's own customer number, not comeback's row id", () => {
    for (const locale of ["en", "de", "ru"]) {
      const nameless = renderer.render("reorder", locale, {
        ...payload,
        person: { ...payload.person, customer_id: 1004, external_id: "16700", name: null },
      } as never);
      for (const part of [nameless.subject, nameless.text, nameless.html]) {
        expect(part).toContain("16700");
        expect(part).not.toContain("1004");
      }
    }
  });
});

describe("the commands' helpers", () => {
  it("parses ports", () => {
    expect(parsePort("8080")).toBe(8080);
    expect(parsePort("0")).toBe(0);
    for (const bad of ["", "x", "65536", "80.5", "-1"]) expect(() => parsePort(bad)).toThrow(/--port/);
  });

  it("runs a --now clock on from its start", async () => {
    const clock = runningClock("2026-03-02T09:00:00Z");
    const first = clock().getTime();
    expect(Math.abs(first - Date.parse("2026-03-02T09:00:00Z"))).toBeLessThan(1000);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(clock().getTime()).toBeGreaterThan(first);
    expect(Math.abs(runningClock(undefined)().getTime() - Date.now())).toBeLessThan(1000);
  });

  it("writes one CSV row per reorder item, prices in the currency's units", () => {
    const rows = reorderCsvRows([
      {
        id: 3,
        status: "open",
        created_at: "2026-03-03T10:00:00Z",
        customer_id: 1,
        external_id: null,
        name: "Anna",
        phone: null,
        email: "anna@example.com",
        week: "2026-W10",
        currency: "JPY",
        total_minor: 1500,
        closed_by: null,
        closed_order: null,
        closed_at: null,
        items: [
          { sku: "A", name: "Tea", quantity: 2, unit_price_minor: 500, currency: "JPY" },
          { sku: "B", name: "Cup", quantity: 1, unit_price_minor: null, currency: null },
        ],
      },
    ]);
    expect(rows).toMatchObject([
      { reorder_id: 3, customer_id: 1, sku: "A", quantity: 2, unit_price: "500", currency: "JPY" },
      { reorder_id: 3, sku: "B", unit_price: "" },
    ]);
  });

  it("prints the next steps as the user started comeback: npx in a checkout, else comeback", () => {
    expect(invokedAs({ npm_command: "exec" })).toBe("npx comeback");
    expect(invokedAs({})).toBe("comeback");
    expect(invokedAs({ npm_command: "test" })).toBe("comeback");
    const steps = nextSteps("http://127.0.0.1:8080/c/x", {}, "npx comeback").join("\n");
    expect(steps).toContain("\n  npx comeback serve --demo\n");
    expect(steps).toMatch(/^ {2}npx comeback send --demo +delivers/m);
    expect(steps).not.toMatch(/^ {2}comeback /m);
  });

  it("finds the cart page link inside a base64 email", () => {
    const raw = composeEmail({
      from: { name: "", address: "a@shop.example" },
      to: { name: "", address: "b@example.com" },
      subject: "s",
      text: "Open: http://127.0.0.1:8080/c/cart.1.2.3.abc_DEF-g",
      html: "<p>x</p>",
      messageId: "<m@shop.example>",
      date: "2026-03-02T09:00:00Z",
      headers: [],
    });
    expect(cartPageIn(raw)).toBe("http://127.0.0.1:8080/c/cart.1.2.3.abc_DEF-g");
    expect(cartPageIn("no link")).toBeNull();
  });

  it("finds the cart page link inside a click redirect (tracking on)", () => {
    const page = "http://127.0.0.1:3000/c/cart.1.2.3.abc_DEF-g";
    const raw = composeEmail({
      from: { name: "", address: "a@shop.example" },
      to: { name: "", address: "b@example.com" },
      subject: "s",
      text: `Open: http://127.0.0.1:3000/u/unsub.1.2.3.x\nCart: http://127.0.0.1:3000/r/click.1.2.3.x?u=${encodeURIComponent(page)}&s=sig`,
      html: "<p>x</p>",
      messageId: "<m@shop.example>",
      date: "2026-03-02T09:00:00Z",
      headers: [],
    });
    expect(cartPageIn(raw)).toBe(page);
  });
});
