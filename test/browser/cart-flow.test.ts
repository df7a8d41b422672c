/// <reference lib="dom" />
/**
 * The customer's side of issue 18 in a real browser (Debian's chromium, playwright-core): the demo's
 * emails as a mail client shows them, their links to `comeback serve --demo` on a free port, the
 * cart page, confirm and the operator's email, postpone and the wishlist, unsubscribe both ways, a
 * forged link, the keyboard, and screenshots of the cart page in en, de and ru at phone and desktop
 * width (test/browser/screenshots/, gitignored: look at them after a change to templates/pages/).
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { query, ROOT } from "../helpers.js";
import { browserMissing, launchChromium } from "./chromium.js";
import {
  emailsIn,
  makeDemo,
  oneClickAddress,
  PERSON,
  readEmail,
  serveDemo,
  type Demo,
  type Server,
} from "./demo-server.js";

const missing = browserMissing();
// Skips only where chromium is not installed (browserMissing says how to get it); .ci/run requires it.
if (missing) console.warn(`SKIPPED: browser tests: ${missing}`);

const SHOTS = join(ROOT, "test", "browser", "screenshots");
const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 900 };

/** The demo's carts (src/cli/commands/demo.ts, fixtures/demo): Boris (ru) and Eva (de), one item each. */
const BORIS = { customer: 2, eml: "cart_2_2026-W10.eml", item: 'Dog food "Premium", 12 kg' };
const EVA = { customer: 5, eml: "cart_5_2026-W10.eml", item: "Water filter cartridge" };

describe.skipIf(missing !== null)("the cart page in a browser", () => {
  let demo: Demo;
  let server: Server;
  let browser: Browser;
  /** Console errors, page errors and requests that left 127.0.0.1:PORT, across every page. */
  const problems: string[] = [];

  beforeAll(async () => {
    demo = await makeDemo();
    [server, browser] = await Promise.all([serveDemo(demo), launchChromium()]);
    mkdirSync(SHOTS, { recursive: true });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  async function newPage(viewport = PHONE): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext({ viewport, userAgent: PERSON });
    const page = await context.newPage();
    page.on("console", (message) => {
      if (message.type() === "error") {
        problems.push(`console: ${message.text()} (${message.location().url || page.url()})`);
      }
    });
    page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
    page.on("request", (request) => {
      const url = request.url();
      if (!url.startsWith(demo.base) && !url.startsWith("about:") && !url.startsWith("data:")) {
        problems.push(`external request: ${url}`);
      }
    });
    return { context, page };
  }

  /** Shows the email's HTML part as a mail client would and clicks its cart button: the real link. */
  async function openCartFromEmail(page: Page, eml: string): Promise<void> {
    const email = readEmail(join(demo.outbox, eml));
    expect(email.html).toContain(`${demo.base}/r/`);
    await page.setContent(email.html);
    const button = page.locator(`a[href^="${demo.base}/r/"][href*="%2Fc%2Fcart."]`).first();
    await Promise.all([page.waitForURL(/\/c\/cart\./), button.click()]);
  }

  function write(sql: string, ...params: unknown[]): void {
    const db = new Database(demo.db);
    try {
      db.prepare(sql).run(...params);
    } finally {
      db.close();
    }
  }

  /** The customer's language as a customers import would set it: the page follows it at once. */
  function setLocale(customer: number, locale: string): void {
    write("UPDATE customers SET locale = ? WHERE id = ?", locale, customer);
  }

  it("screenshots of the cart page in en, de and ru, phone and desktop: nothing overflows", async () => {
    const words = { en: "Confirm my order", de: "Bestellung bestätigen", ru: "Подтвердить заказ" };
    const cartUrl = await cartPageUrl(demo, BORIS.eml);
    // A picture (the products import's image_url; here one serve has, as the page may load no other
    // host in this test) and a long name without spaces, the worst case for a phone's width.
    write("UPDATE products SET image_url = ? WHERE sku = 'DOG-12KG'", `${demo.base}/static/favicon.svg`);
    write(
      "UPDATE cart_items SET product_name = ? WHERE cart_id = 1",
      "Hundetrockenfutter-Premium-Vollwertnahrung-für-große-Hunde-12-kg-Vorratspackung",
    );
    for (const [locale, confirm] of Object.entries(words)) {
      setLocale(BORIS.customer, locale);
      for (const [name, viewport] of [
        ["phone", PHONE],
        ["desktop", DESKTOP],
      ] as const) {
        const { context, page } = await newPage(viewport);
        const response = await page.goto(cartUrl);
        expect(response?.status()).toBe(200);
        expect(await page.getAttribute("html", "lang")).toBe(locale);
        await expect.poll(() => page.locator("button.primary").innerText()).toBe(confirm);
        // No horizontal scrolling: the page is as wide as the screen.
        const widths = await page.evaluate(() => ({
          scroll: document.documentElement.scrollWidth,
          client: document.documentElement.clientWidth,
        }));
        expect(widths.scroll, `${locale} ${name}: page wider than the screen`).toBeLessThanOrEqual(
          widths.client,
        );
        // The style sheet applied (it is a separate file under the CSP): the confirm button is filled.
        const background = await page
          .locator("button.primary")
          .evaluate((button) => getComputedStyle(button).backgroundColor);
        expect(background).toBe("rgb(29, 78, 216)");
        const picture = await page
          .locator("li.item img")
          .evaluate((img) => (img as HTMLImageElement).naturalWidth);
        expect(picture, "the product picture loads").toBeGreaterThan(0);
        await page.screenshot({ path: join(SHOTS, `cart-${locale}-${name}.png`), fullPage: true });
        await context.close();
      }
    }
    setLocale(BORIS.customer, "ru");
    write("UPDATE cart_items SET product_name = ? WHERE cart_id = 1", BORIS.item);
    expect(problems).toEqual([]);
  });

  it("keyboard: every form control has a label and Tab reaches them in order", async () => {
    const { context, page } = await newPage();
    await page.goto(await cartPageUrl(demo, BORIS.eml));
    const unlabelled = await page.evaluate(() =>
      Array.from(document.querySelectorAll("input:not([type=hidden]), select, textarea, button"))
        .filter((el) => {
          const labels = (el as HTMLInputElement).labels;
          const text = el.tagName === "BUTTON" ? (el.textContent ?? "").trim() : "";
          return !text && !(labels && labels.length > 0) && !el.getAttribute("aria-label");
        })
        .map((el) => el.outerHTML),
    );
    expect(unlabelled).toEqual([]);
    const reached: string[] = [];
    for (let i = 0; i < 12; i++) {
      await page.keyboard.press("Tab");
      reached.push(
        await page.evaluate(() => {
          const el = document.activeElement as HTMLInputElement | null;
          return el ? `${el.tagName.toLowerCase()}:${el.id || el.name}:${el.value ?? ""}` : "";
        }),
      );
    }
    // Quantity, remove, the two buttons, the first radio of "not now" (arrow keys move within a group).
    expect(reached.slice(0, 5)).toEqual([
      "input:qty_0:1",
      "input:remove_0:1",
      "button:action:update",
      "button:action:confirm",
      "input:later_0:",
    ]);
    expect(reached).toContain("button::");
    // The focused control shows a visible outline (the CSS's :focus-visible).
    const focused = await page.evaluate(() => {
      const el = document.activeElement!;
      return { visible: el.matches(":focus-visible"), outline: getComputedStyle(el).outlineStyle };
    });
    expect(focused).toEqual({ visible: true, outline: "solid" });
    await context.close();
  });

  it("from the email: change a quantity, confirm, thank-you page, the operator's email", async () => {
    setLocale(BORIS.customer, "en");
    const { context, page } = await newPage();
    await openCartFromEmail(page, BORIS.eml);
    // The same cart in a second tab, left open: its confirm comes after the first.
    const second = await context.newPage();
    await second.goto(page.url());
    await expect.poll(() => page.locator("h1").innerText()).toContain("your cart is ready");
    expect(await page.locator(".total").innerText()).toContain("49.00");
    await page.getByLabel("Quantity").fill("3");
    await Promise.all([
      page.waitForLoadState("load"),
      page.getByRole("button", { name: "Update total" }).click(),
    ]);
    await expect.poll(() => page.locator(".notice").innerText()).toContain("The total is updated");
    expect(await page.locator(".total").innerText()).toContain("147.00");
    await page.getByRole("button", { name: "Confirm my order" }).click();
    await expect.poll(() => page.locator("h1").innerText()).toBe("Thank you, Борис!");
    expect(await page.locator("ul.summary").innerText()).toContain(`${BORIS.item}: 3`);
    expect(await page.locator(".total").innerText()).toContain("147.00");
    await page.screenshot({ path: join(SHOTS, "confirmed-en-phone.png"), fullPage: true });

    // A person's browser an hour after the batch (serve --demo's clock): none of it is a machine's.
    const events = query<{ kind: string; machine: number }>(
      demo.db,
      "SELECT DISTINCT kind, machine FROM events WHERE customer_id = ? ORDER BY kind",
      BORIS.customer,
    );
    expect(events).toEqual(
      ["cart_viewed", "clicked", "confirmed", "delivered", "opened"].map((kind) => ({ kind, machine: 0 })),
    );
    const items = query(demo.db, "SELECT sku, quantity FROM reorder_items");
    expect(items).toEqual([{ sku: "DOG-12KG", quantity: 3 }]);

    // Confirming again from the other tab shows the same request and makes no second one.
    await second.getByRole("button", { name: "Confirm my order" }).click();
    await expect.poll(() => second.locator("h1").innerText()).toBe("Thank you, Борис!");
    expect(await second.locator("ul.summary").innerText()).toContain(`${BORIS.item}: 3`);
    expect(query(demo.db, "SELECT id FROM reorders")).toHaveLength(1);
    await context.close();

    // The operator's email is queued in the outbox; `comeback send` writes it like any other.
    expect(query(demo.db, "SELECT recipient, state FROM outbox WHERE kind = 'reorder'")).toEqual([
      { recipient: "owner@shop.example", state: "queued" },
    ]);
    const sent = await demo.comeback(["send", "--now", "2026-03-02T11:00:00Z", "--json"]);
    expect(sent.code, sent.stderr).toBe(0);
    const files = emailsIn(demo, "reorder");
    expect(files).toHaveLength(1);
    const operator = readEmail(files[0]!);
    expect(operator.headers).toMatch(/^To: .*owner@shop\.example/im);
    // The phone as stored (digits only, src/import/normalize/values.ts): +7 912 100-00-02 in the import.
    expect(operator.text).toContain("Please call Борис Петров at 79121000002 about reorder 1");
    expect(operator.text).toContain(`${BORIS.item} (DOG-12KG): 3 ×`);
    expect(problems).toEqual([]);
  });

  it("postpone an item from another cart; the wishlist shows it", async () => {
    const { context, page } = await newPage();
    await openCartFromEmail(page, EVA.eml);
    expect(await page.getAttribute("html", "lang")).toBe("de");
    await page.getByLabel("In 2 Wochen erinnern").check();
    await page.getByRole("button", { name: "Später erinnern" }).click();
    await expect.poll(() => page.locator("ul.summary").innerText()).toContain(EVA.item);
    // Postponed on 2026-03-02 by two weeks.
    expect(await page.locator("ul.summary").innerText()).toContain("16. März 2026");
    // Back on the cart page (the link in the email again): the item waits in the wishlist.
    await page.goto(await cartPageUrl(demo, EVA.eml));
    const wishlist = page.locator("section.wishlist");
    await expect.poll(() => wishlist.isVisible()).toBe(true);
    expect(await wishlist.innerText()).toContain(EVA.item);
    await page.screenshot({ path: join(SHOTS, "wishlist-de-phone.png"), fullPage: true });
    expect(query(demo.db, "SELECT kind FROM events WHERE kind = 'postponed'")).toHaveLength(1);
    await context.close();
    expect(problems).toEqual([]);
  });

  it("unsubscribe with one click (RFC 8058 POST, as a mail client sends it)", async () => {
    const address = oneClickAddress(readEmail(join(demo.outbox, EVA.eml)));
    expect(address.startsWith(`${demo.base}/u/`)).toBe(true);
    const response = await fetch(address, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "List-Unsubscribe=One-Click",
      redirect: "manual",
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("set-cookie")).toBeNull();
    expect(query(demo.db, "SELECT address, source FROM suppressions")).toEqual([
      { address: "eva@example.com", source: "unsubscribe" },
    ]);
  });

  it("unsubscribe with the page's button", async () => {
    const email = readEmail(join(demo.outbox, "winback_3_cold_2.eml"));
    const { context, page } = await newPage();
    await page.goto(oneClickAddress(email));
    expect(await page.locator("h1").innerText()).toBe("Unsubscribe from our emails?");
    expect(query(demo.db, "SELECT * FROM suppressions WHERE address = 'clara@example.com'")).toEqual([]);
    await page.getByRole("button", { name: "Unsubscribe" }).click();
    await expect.poll(() => page.locator("h1").innerText()).toBe("You are unsubscribed");
    expect(
      query(demo.db, "SELECT address FROM suppressions WHERE address = 'clara@example.com'"),
    ).toHaveLength(1);
    await context.close();
    expect(problems).toEqual([]);
  });

  it("a forged link gets the 403 page, in plain words", async () => {
    const before = problems.length;
    const good = await cartPageUrl(demo, EVA.eml);
    const forged = good.slice(0, -3) + (good.endsWith("AAA") ? "BBB" : "AAA");
    const other = good.replace("/c/cart.2.5.", "/c/cart.1.2."); // Eva's signature on Boris's message
    expect(other).not.toBe(good);
    const { context, page } = await newPage();
    for (const url of [forged, other, `${demo.base}/c/nonsense`]) {
      const response = await page.goto(url);
      expect(response?.status(), url).toBe(403);
      expect(await page.locator("h1").innerText()).toBe("This link does not work");
      expect(await page.locator("main").innerText()).toContain("contact the shop");
    }
    await page.screenshot({ path: join(SHOTS, "forbidden-en-phone.png"), fullPage: true });
    await context.close();
    // The browser reports each 403 answer in the console: that one is expected here.
    expect(problems.slice(before).filter((problem) => !problem.includes("status of 403"))).toEqual([]);
  });
});

/** The cart page a cart email leads to (the click redirect's target), checked to be on this server. */
async function cartPageUrl(demo: Demo, eml: string): Promise<string> {
  const text = readEmail(join(demo.outbox, eml)).text;
  for (const [click] of text.matchAll(/https?:\/\/\S+\/r\/\S+/g)) {
    const target = new URL(click).searchParams.get("u");
    if (target?.includes("/c/cart.")) {
      if (!target.startsWith(`${demo.base}/c/`)) throw new Error(`${eml} links elsewhere: ${target}`);
      return target;
    }
  }
  throw new Error(`no cart link in ${eml}`);
}
