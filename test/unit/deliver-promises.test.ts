/**
 * The delivery promises, checked on the core modules themselves (not through the built CLI), so a
 * one-line mistake in outbox, rules, send or unsubscribe fails a named test here, and so Stryker,
 * which mutates src/ in place and counts only tests that import the mutated code, sees them.
 */
import { createHmac } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { configSchema } from "../../src/config/schema.js";
import { messageSettings } from "../../src/deliver/message.js";
import { Outbox, type OutboxRow } from "../../src/deliver/outbox.js";
import { createRenderer } from "../../src/deliver/render.js";
import { Rules, type RuleSettings } from "../../src/deliver/rules.js";
import { sendDue, type SendOptions } from "../../src/deliver/send.js";
import { shippedTemplatesDir } from "../../src/deliver/setup.js";
import type { SendOutcome, Transport } from "../../src/deliver/transports.js";
import {
  referenceMac,
  requireSecret,
  unsubscribeToken,
  verifyUnsubscribeToken,
} from "../../src/deliver/unsubscribe.js";
import { ConfigError } from "../../src/errors.js";
import { openStore, type Db } from "../../src/store/open.js";

const NOW = "2026-03-02T09:00:00Z";

let db: Db;
beforeEach(() => {
  db = openStore(join(mkdtempSync(join(tmpdir(), "comeback-deliver-")), "d.db"));
});
afterEach(() => db.close());

function addCustomer(id: number, acceptsMarketing: number | null): void {
  db.prepare(
    `INSERT INTO customers (id, identity_key, email, accepts_marketing, info_as_of, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?)`,
  ).run(id, `id:C${id}`, `c${id}@example.com`, acceptsMarketing, NOW, NOW, NOW);
}

function row(key: string): OutboxRow {
  const found = db.prepare<[string], OutboxRow>("SELECT * FROM outbox WHERE idempotency_key = ?").get(key);
  if (!found) throw new Error(`no outbox row ${key}`);
  return found;
}

/** A marketing message (a kind the purpose rules don't look into) to customer `id`. */
function enqueueMarketing(outbox: Outbox, key: string, customerId: number): OutboxRow {
  outbox.enqueue(
    { key, kind: "note", marketing: true, customerId, recipient: `c${customerId}@example.com`, payload: {} },
    NOW,
  );
  return row(key);
}

const RULES: RuleSettings = {
  zone: "UTC",
  window: { start: 0, end: 24 * 60 },
  minHoursBetween: 72,
  requireOptIn: false,
};

describe("outbox claims", () => {
  it("a claim of a message another run already claimed reports failure", () => {
    addCustomer(1, 1);
    const outbox = new Outbox(db);
    const queued = enqueueMarketing(outbox, "m1", 1);
    // Two runs read the same queued row; the first claims it.
    expect(outbox.claim(queued, NOW)).toBe(true);
    expect(new Outbox(db).claim(queued, NOW)).toBe(false);
    expect(row("m1")).toMatchObject({ state: "sending", attempts: 1 });
  });
});

describe("consent", () => {
  it("an opted-out customer gets no marketing with the default config (require_opt_in off)", () => {
    addCustomer(1, 0);
    const outbox = new Outbox(db);
    const message = enqueueMarketing(outbox, "m1", 1);
    expect(new Rules(db, outbox, { ...RULES, requireOptIn: false }).check(message, NOW)).toMatchObject({
      action: "skip",
      reason: "opted out",
    });
  });

  it("a customer who never said goes only when require_opt_in is off", () => {
    addCustomer(1, null);
    const outbox = new Outbox(db);
    const message = enqueueMarketing(outbox, "m1", 1);
    expect(new Rules(db, outbox, { ...RULES, requireOptIn: false }).check(message, NOW)).toEqual({
      action: "send",
    });
    expect(new Rules(db, outbox, { ...RULES, requireOptIn: true }).check(message, NOW)).toEqual({
      action: "skip",
      reason: "no opt-in",
      detail: "the customer never opted in, and consent.require_opt_in is true",
    });
  });
});

describe("frequency cap", () => {
  it("a marketing message still in sending (unknown) holds the next one to the same customer", () => {
    addCustomer(1, 1);
    const outbox = new Outbox(db);
    const first = enqueueMarketing(outbox, "m1", 1);
    const second = enqueueMarketing(outbox, "m2", 1);
    expect(outbox.claim(first, "2026-03-02T08:00:00Z")).toBe(true); // a killed run left it in sending
    expect(outbox.lastMarketingAt(1, second.id)).toBe("2026-03-02T08:00:00Z");
    expect(new Rules(db, outbox, RULES).check(second, NOW)).toEqual({
      action: "defer",
      until: "2026-03-05T08:00:00Z",
      reason: "frequency cap",
    });
  });
});

/** A transport that answers every message with a temporary failure. */
function failingTransport(): Transport & { sent: string[] } {
  const sent: string[] = [];
  return {
    name: "test",
    turnsToStart: 0,
    sent,
    async open() {},
    async send(message): Promise<SendOutcome> {
      sent.push(message.key);
      return {
        status: "refused",
        verdict: { scope: "message", permanent: false, suppress: false, cause: "try later", fix: "" },
        error: "451 try later",
        response: "451 try later",
      };
    },
    async close() {},
  };
}

function sendOptions(transport: Transport, maxAttempts: number): SendOptions {
  const config = configSchema.parse({ delivery: { from: "Shop <shop@shop.example>" } });
  return {
    now: () => NOW,
    maxAttempts,
    retryMinutes: 30,
    rules: RULES,
    renderer: createRenderer({ dir: shippedTemplatesDir(), defaultLocale: "en" }),
    settings: messageSettings(config, null),
    transport: () => transport,
    log: pino({ level: "silent" }),
  };
}

const DIGEST = {
  week: "2026-W10",
  week_start: "2026-03-02",
  week_end: "2026-03-08",
  cart_count: 0,
  more: 0,
  currency: "EUR",
  total_minor: 0,
  carts: [],
};

describe("retries", () => {
  it("a message whose temporary failures reach max_attempts fails on that attempt, not one later", async () => {
    const outbox = new Outbox(db);
    outbox.enqueue(
      {
        key: "digest:2026-W10",
        kind: "digest",
        marketing: false,
        customerId: null,
        recipient: "owner@shop.example",
        payload: DIGEST,
      },
      NOW,
    );
    const transport = failingTransport();
    const first = await sendDue(db, sendOptions(transport, 2));
    expect(first).toMatchObject({ retry_later: 1, failed: 0 });
    expect(row("digest:2026-W10")).toMatchObject({ state: "queued", attempts: 1 });
    db.prepare("UPDATE outbox SET next_attempt_at = ?").run(NOW); // due again now
    const second = await sendDue(db, sendOptions(transport, 2));
    expect(second).toMatchObject({ retry_later: 0, failed: 1 });
    expect(row("digest:2026-W10")).toMatchObject({ state: "failed", attempts: 2 });
    expect(row("digest:2026-W10").error).toMatch(/^gave up after 2 attempts: 451/);
    expect(transport.sent).toHaveLength(2);
  });
});

describe("unsubscribe tokens signed with a 64-character secret (openssl rand -hex 32)", () => {
  const secret = "a".repeat(32) + "0123456789abcdef0123456789abcdef"; // 64 bytes
  const other = "b".repeat(64);

  it("carry the standard HMAC-SHA256 of the address, so a shop's own page can verify them", () => {
    expect(Buffer.byteLength(secret)).toBe(64);
    const token = unsubscribeToken(secret, "Ann@Example.com");
    const [, signature] = token.split(".");
    const standard = createHmac("sha256", secret)
      .update("comeback-unsubscribe\u0000ann@example.com")
      .digest()
      .subarray(0, 16);
    expect(Buffer.from(signature!, "base64url")).toEqual(standard);
    expect(referenceMac(secret, "ann@example.com")).toEqual(standard);
    expect(verifyUnsubscribeToken(secret, token)).toBe("ann@example.com");
    expect(verifyUnsubscribeToken(other, token)).toBeNull();
  });

  it.each([15, 16, 63, 65, 100])("agree with the reference HMAC for a %i-byte secret", (length) => {
    const key = "k".repeat(length);
    const [, signature] = unsubscribeToken(key, "bob@example.com").split(".");
    expect(Buffer.from(signature!, "base64url")).toEqual(referenceMac(key, "bob@example.com"));
  });
});

describe("the secret that signs unsubscribe links", () => {
  it("is required, at least 32 bytes, and the error says how to make one", () => {
    for (const missing of [null, ""]) {
      expect(() => requireSecret(missing)).toThrow(ConfigError);
      expect(() => requireSecret(missing)).toThrow(
        "secret is not set (or the environment variable it names is unset): unsubscribe links are signed with it. " +
          "Write `secret: ${COMEBACK_SECRET}` in comeback.yaml and set COMEBACK_SECRET in the environment to a " +
          "random key of at least 32 bytes (e.g. openssl rand -hex 32)",
      );
    }
    expect(() => requireSecret("x".repeat(31))).toThrow(
      new ConfigError("secret: expected at least 32 bytes (e.g. openssl rand -hex 32), got 31"),
    );
    expect(requireSecret("x".repeat(32))).toBe("x".repeat(32));
  });

  it("verifies only tokens of the form address.signature, with the address encoded exactly", () => {
    const secret = "s".repeat(64);
    const token = unsubscribeToken(secret, " Ann@Example.com ");
    expect(verifyUnsubscribeToken(secret, ` ${token}\n`)).toBe("ann@example.com");
    const [address, signature] = token.split(".");
    expect(verifyUnsubscribeToken(secret, `${address}.${signature}.x`)).toBeNull();
    expect(verifyUnsubscribeToken(secret, `.${signature}`)).toBeNull();
    expect(verifyUnsubscribeToken(secret, `${address}.`)).toBeNull();
    expect(verifyUnsubscribeToken(secret, `${address}=.${signature}`)).toBeNull(); // not the canonical encoding
    expect(verifyUnsubscribeToken(secret, `${address}.${signature!.slice(0, -2)}`)).toBeNull(); // truncated
    // A second secret gets its own keyed state, and the first keeps working.
    const other = unsubscribeToken("t".repeat(64), "ann@example.com");
    expect(verifyUnsubscribeToken("t".repeat(64), other)).toBe("ann@example.com");
    expect(verifyUnsubscribeToken(secret, token)).toBe("ann@example.com");
  });
});
