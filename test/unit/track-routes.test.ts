/**
 * The tracking routes (src/serve/routes/track.ts) on a bare Fastify app with only them, over a real
 * database: what the pixel and click redirects record, and what they refuse.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Fastify, { type FastifyInstance } from "fastify";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { configSchema } from "../../src/config/schema.js";
import { signLink } from "../../src/links/token.js";
import { PIXEL_GIF, registerTrackRoutes } from "../../src/serve/routes/track.js";
import { clickUrl, pixelUrl } from "../../src/track/click.js";
import { openStore, type Db } from "../../src/store/open.js";

const SECRET = "0123456789abcdef0123456789abcdef0123456789abcdef";
const SENT = "2026-03-02T09:00:00.000Z";
const LATER = new Date("2026-03-02T12:00:00.000Z");
const BASE = "https://shop.example/cb";
const BROWSER =
  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko)";
const EXPIRES = Math.floor(LATER.getTime() / 1000) + 86_400;
const CLAIMS = { outboxId: 1, customerId: 7, expiresAt: EXPIRES };

let db: Db;
let app: FastifyInstance;
let now: Date;

beforeEach(async () => {
  db = openStore(join(mkdtempSync(join(tmpdir(), "comeback-track-")), "t.db"));
  for (const id of [7, 8])
    db.prepare(
      `INSERT INTO customers (id, identity_key, email, info_as_of, created_at, updated_at) VALUES (?, ?, ?, 'x', 'x', 'x')`,
    ).run(id, `id:C${id}`, `c${id}@example.com`);
  db.prepare(
    `INSERT INTO outbox (id, idempotency_key, kind, marketing, customer_id, recipient, payload, state, next_attempt_at,
                         created_at, sent_at, updated_at)
     VALUES (1, 'cart:7:2026-W10', 'cart', 1, 7, 'c7@example.com', '{}', 'sent', ?, ?, ?, ?)`,
  ).run(SENT, SENT, SENT, SENT);
  now = LATER;
  app = Fastify();
  await registerTrackRoutes(app, {
    db,
    config: configSchema.parse({}),
    secret: SECRET,
    now: () => now,
  });
});
afterEach(async () => {
  await app.close();
  db.close();
});

const events = () =>
  db.prepare("SELECT outbox_id, customer_id, kind, machine, detail FROM events ORDER BY id").all() as {
    outbox_id: number;
    customer_id: number;
    kind: string;
    machine: number;
    detail: string | null;
  }[];

const path = (url: string) => url.slice(BASE.length);

describe("the open pixel", () => {
  it("answers a GIF that is never cached and records a human open", async () => {
    const response = await app.inject({
      url: path(pixelUrl(BASE, SECRET, CLAIMS)),
      headers: { "user-agent": BROWSER },
    });
    expect(response.statusCode).toBe(200);
    expect(response.headers["content-type"]).toBe("image/gif");
    expect(response.headers["cache-control"]).toMatch(/no-store/);
    // Loaded from the email's page (webmail): another origin.
    expect(response.headers["cross-origin-resource-policy"]).toBe("cross-origin");
    expect(response.rawPayload.equals(PIXEL_GIF)).toBe(true);
    expect(events()).toEqual([{ outbox_id: 1, customer_id: 7, kind: "opened", machine: 0, detail: "{}" }]);
  });

  it("records Apple's proxy fetch as a machine open", async () => {
    await app.inject({ url: path(pixelUrl(BASE, SECRET, CLAIMS)), headers: { "user-agent": "Mozilla/5.0" } });
    expect(events()).toMatchObject([{ kind: "opened", machine: 1, detail: '{"machine":"apple proxy"}' }]);
  });

  it("a HEAD (a scanner checking the image) is a machine open", async () => {
    const response = await app.inject({
      method: "HEAD",
      url: path(pixelUrl(BASE, SECRET, CLAIMS)),
      headers: { "user-agent": BROWSER },
    });
    expect(response.statusCode).toBe(200);
    expect(events()).toMatchObject([{ kind: "opened", machine: 1, detail: '{"machine":"head request"}' }]);
  });

  it("still answers the GIF for a forged, expired or other customer's token, recording nothing", async () => {
    const tokens = [
      signLink("another-secret-0123456789abcdef0123", { ...CLAIMS, purpose: "open" }),
      signLink(SECRET, { ...CLAIMS, purpose: "open", expiresAt: Math.floor(LATER.getTime() / 1000) - 1 }),
      signLink(SECRET, { ...CLAIMS, purpose: "open", customerId: 8 }),
      signLink(SECRET, { ...CLAIMS, purpose: "open", outboxId: 99 }),
      signLink(SECRET, { ...CLAIMS, purpose: "click" }),
      "not-a-token",
    ];
    for (const token of tokens) {
      const response = await app.inject({ url: `/o/${token}`, headers: { "user-agent": BROWSER } });
      expect(response.statusCode).toBe(200);
      expect(response.headers["content-type"]).toBe("image/gif");
    }
    expect(events()).toEqual([]);
  });
});

describe("click redirects", () => {
  const TARGET = "https://shop.example/cart/123:2?ref=comeback";

  it("redirects to the URL the message carried and records the click", async () => {
    const response = await app.inject({
      url: path(clickUrl(BASE, SECRET, CLAIMS, TARGET)),
      headers: { "user-agent": BROWSER },
    });
    expect(response.statusCode).toBe(302);
    expect(response.headers.location).toBe(TARGET);
    expect(events()).toEqual([
      { outbox_id: 1, customer_id: 7, kind: "clicked", machine: 0, detail: JSON.stringify({ url: TARGET }) },
    ]);
  });

  it("a scanner following the link at delivery is a machine click, and still redirected", async () => {
    now = new Date(Date.parse(SENT) + 5_000);
    const response = await app.inject({
      url: path(clickUrl(BASE, SECRET, CLAIMS, TARGET)),
      headers: { "user-agent": BROWSER },
    });
    expect(response.statusCode).toBe(302);
    expect(events()).toMatchObject([{ kind: "clicked", machine: 1 }]);
  });

  it("never redirects to a URL the message did not carry (no open redirect)", async () => {
    const url = new URL(clickUrl(BASE, SECRET, CLAIMS, TARGET));
    url.searchParams.set("u", "https://evil.example/");
    const response = await app.inject({ url: url.pathname.slice(3) + url.search });
    expect(response.statusCode).toBe(403);
    expect(response.headers.location).toBeUndefined();
    expect(response.body).toMatch(/This link does not work/);
    // The same target signed for another message's token does not verify with this one.
    const other = new URL(clickUrl(BASE, SECRET, { ...CLAIMS, outboxId: 2 }, TARGET));
    const mine = new URL(clickUrl(BASE, SECRET, CLAIMS, TARGET));
    mine.searchParams.set("s", other.searchParams.get("s")!);
    expect((await app.inject({ url: mine.pathname.slice(3) + mine.search })).statusCode).toBe(403);
    expect(events()).toEqual([]);
  });

  it("a forged or expired token gets the 403 page; a link without a target 400", async () => {
    const expired = clickUrl(
      BASE,
      SECRET,
      { ...CLAIMS, expiresAt: Math.floor(LATER.getTime() / 1000) - 1 },
      TARGET,
    );
    const forged = clickUrl(BASE, "another-secret-0123456789abcdef0123", CLAIMS, TARGET);
    for (const url of [expired, forged]) {
      const response = await app.inject({ url: path(url) });
      expect(response.statusCode).toBe(403);
      expect(response.headers.location).toBeUndefined();
    }
    const token = signLink(SECRET, { ...CLAIMS, purpose: "click" });
    expect((await app.inject({ url: `/r/${token}` })).statusCode).toBe(400);
    expect((await app.inject({ url: `/r/${token}?u=javascript:alert(1)&s=x` })).statusCode).toBe(400);
    expect(events()).toEqual([]);
  });
});
