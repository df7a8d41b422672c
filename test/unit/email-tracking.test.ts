/**
 * Tracking in the emails (issue 18): with links.base_url set, the open pixel at the end of the HTML
 * and the cart button wrapped in a signed click redirect, never the unsubscribe link; and the send
 * path records `delivered` with the row it marks sent.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { configSchema } from "../../src/config/schema.js";
import { buildMessage, messageSettings, type CartPayload } from "../../src/deliver/message.js";
import { Outbox } from "../../src/deliver/outbox.js";
import { createRenderer } from "../../src/deliver/render.js";
import { sendDue } from "../../src/deliver/send.js";
import { shippedTemplatesDir } from "../../src/deliver/setup.js";
import type { Transport } from "../../src/deliver/transports.js";
import { verifyLink } from "../../src/links/token.js";
import { verifyTarget } from "../../src/track/click.js";
import { openStore, type Db } from "../../src/store/open.js";

const SECRET = "0123456789abcdef0123456789abcdef";
const NOW = "2026-03-02T09:00:00.000Z";
const renderer = createRenderer({ dir: shippedTemplatesDir(), defaultLocale: "en" });
const config = (links: Record<string, unknown>) =>
  configSchema.parse({ delivery: { from: "Shop <shop@shop.example>" }, links });
const TRACKED = messageSettings(
  config({ base_url: "https://shop.example/cb/", cart: "https://shop.example/cart?c={{customer}}" }),
  SECRET,
);
const UNTRACKED = messageSettings(config({ cart: "https://shop.example/cart?c={{customer}}" }), SECRET);

const payload: CartPayload = {
  week: "2026-W10",
  week_start: "2026-03-02",
  week_end: "2026-03-08",
  customer: {
    id: 7,
    external_id: "C7",
    first_name: "Ann",
    name: "Ann Lee",
    email: "ann@example.com",
    locale: "en",
  },
  items: [
    {
      group_key: "coffee",
      sku: "COF-1KG",
      name: "Coffee 1 kg",
      quantity: 1,
      unit_price_minor: 1500,
      currency: "EUR",
      line_total_minor: 1500,
      due_on: "2026-03-04",
      reminder_number: 1,
    },
  ],
  item_count: 1,
  currency: "EUR",
  total_minor: 1500,
};
const input = {
  key: "cart:7:2026-W10",
  kind: "cart",
  marketing: true,
  recipient: "ann@example.com",
  payload,
};

function hrefs(html: string): string[] {
  return [...html.matchAll(/href="([^"]+)"/g)].map((m) =>
    m[1]!.replaceAll("&amp;", "&").replaceAll("&#x3D;", "="),
  );
}

describe("tracked emails", () => {
  it("puts the open pixel last in the HTML and wraps the cart button, not the unsubscribe link", () => {
    const { rendered } = buildMessage({ ...input, outboxId: 42 }, renderer, TRACKED, NOW);
    const pixel = /<img src="https:\/\/shop\.example\/cb\/o\/([^"]+)"/.exec(rendered.html);
    expect(pixel, rendered.html).not.toBeNull();
    const open = verifyLink(SECRET, pixel![1]!, "open", Date.parse(NOW) / 1000);
    expect(open).toMatchObject({ ok: true, claims: { outboxId: 42, customerId: 7 } });
    expect(rendered.html.indexOf("/o/")).toBeGreaterThan(rendered.html.lastIndexOf("<a "));

    const links = hrefs(rendered.html);
    const click = links.find((href) => href.startsWith("https://shop.example/cb/r/"));
    expect(click, links.join("\n")).toBeDefined();
    const url = new URL(click!);
    const token = url.pathname.split("/").at(-1)!;
    expect(url.searchParams.get("u")).toBe("https://shop.example/cart?c=C7");
    expect(verifyTarget(SECRET, token, url.searchParams.get("u")!, url.searchParams.get("s")!)).toBe(true);
    // The unsubscribe link stays as it is: it must work without serve and is no sign of interest.
    expect(links.some((href) => href.startsWith("mailto:"))).toBe(true);
    expect(links.filter((href) => href.includes("/r/"))).toHaveLength(1);
    // The text part offers the same redirect.
    expect(rendered.text).toContain("https://shop.example/cb/r/");
  });

  it("without links.base_url, or for a draft with no outbox row, nothing is tracked", () => {
    for (const [settings, outboxId] of [
      [UNTRACKED, 42],
      [TRACKED, undefined],
    ] as const) {
      const { rendered } = buildMessage({ ...input, outboxId }, renderer, settings, NOW);
      expect(rendered.html).not.toContain("/o/");
      expect(hrefs(rendered.html)).toContain("https://shop.example/cart?c=C7");
    }
  });
});

describe("delivered", () => {
  let db: Db;
  beforeEach(() => {
    db = openStore(join(mkdtempSync(join(tmpdir(), "comeback-delivered-")), "d.db"));
    db.prepare(
      `INSERT INTO customers (id, identity_key, email, accepts_marketing, info_as_of, created_at, updated_at)
       VALUES (7, 'id:C7', 'ann@example.com', 1, 'x', 'x', 'x')`,
    ).run();
  });
  afterEach(() => db.close());

  const transport = (status: "sent" | "refused"): Transport => ({
    name: "test",
    turnsToStart: 0,
    async open() {},
    async send() {
      return status === "sent"
        ? { status: "sent", response: "250 ok" }
        : {
            status: "refused",
            verdict: { scope: "recipient", permanent: true, suppress: false, cause: "x", fix: "" },
            error: "550 no",
            response: "550 no",
          };
    },
    async close() {},
  });

  for (const status of ["sent", "refused"] as const) {
    it(`is recorded when the server accepts the message, with its sent_at (${status})`, async () => {
      // A win-back mail: a cart would be skipped here, its reminder not being open in this database.
      const winback = {
        status: "warm",
        contact_number: 1,
        customer: payload.customer,
        favourite_products: [],
      };
      new Outbox(db).enqueue(
        {
          key: "w1",
          kind: "winback-warm",
          marketing: true,
          customerId: 7,
          recipient: input.recipient,
          payload: winback,
        },
        "2026-03-01T08:00:00Z",
      );
      await sendDue(db, {
        now: () => NOW,
        maxAttempts: 5,
        retryMinutes: 5,
        rules: { zone: "UTC", window: { start: 0, end: 1440 }, minHoursBetween: 0, requireOptIn: false },
        renderer,
        settings: TRACKED,
        transport: () => transport(status),
        log: pino({ level: "silent" }),
      });
      const events = db
        .prepare(
          "SELECT e.kind, e.at, e.customer_id, o.sent_at FROM events e JOIN outbox o ON o.id = e.outbox_id",
        )
        .all();
      expect(events).toEqual(
        status === "sent" ? [{ kind: "delivered", at: NOW, customer_id: 7, sent_at: NOW }] : [],
      );
    });
  }
});
