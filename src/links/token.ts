/**
 * Signed links (issue 18): every link that acts for a customer (the cart page, the open pixel, a
 * click redirect, unsubscribe) names what it does, the message it came in (the outbox row), the
 * customer, and when it expires, and carries an HMAC-SHA256 of all four keyed with the config
 * `secret`. So a link works only for its purpose, its message and its customer, until it expires:
 * editing any field, or using one customer's link for another, fails verification.
 *
 * Format, URL-safe as it is: PURPOSE "." outbox(base36) "." customer(base36) "." expires(base36, Unix
 * seconds) "." base64url(first 16 bytes of the MAC). 16 bytes (128 bits) is far beyond guessing; the
 * full 32 would only lengthen every link in every email.
 */
import { createHmac, timingSafeEqual } from "node:crypto";

export const LINK_PURPOSES = ["cart", "open", "click", "unsub"] as const;
export type LinkPurpose = (typeof LINK_PURPOSES)[number];

export interface LinkClaims {
  purpose: LinkPurpose;
  outboxId: number;
  customerId: number;
  /** Unix seconds after which the link no longer works. */
  expiresAt: number;
}

export type LinkCheck =
  | { ok: true; claims: LinkClaims }
  /** `forged`: not made with this secret, or edited. `expired`: genuine but too old. */
  | { ok: false; reason: "forged" | "expired" };

const CONTEXT = "comeback-link-v1\u0000";
const MAC_BYTES = 16;

function mac(secret: string, body: string): Buffer {
  return createHmac("sha256", secret)
    .update(CONTEXT + body)
    .digest()
    .subarray(0, MAC_BYTES);
}

function body(claims: LinkClaims): string {
  return [
    claims.purpose,
    claims.outboxId.toString(36),
    claims.customerId.toString(36),
    claims.expiresAt.toString(36),
  ].join(".");
}

export function signLink(secret: string, claims: LinkClaims): string {
  for (const n of [claims.outboxId, claims.customerId, claims.expiresAt]) {
    if (!Number.isSafeInteger(n) || n < 0)
      throw new RangeError(`signLink: expected a whole number ≥ 0, got ${n}`);
  }
  const text = body(claims);
  return `${text}.${mac(secret, text).toString("base64url")}`;
}

const TOKEN =
  /^(cart|open|click|unsub)\.([0-9a-z]{1,11})\.([0-9a-z]{1,11})\.([0-9a-z]{1,11})\.([A-Za-z0-9_-]{22})$/;

/**
 * Checks a token for one purpose at `nowSeconds`. The MAC is compared before the expiry is read, so
 * an edited expiry is "forged", never "expired": only a genuine link can be told apart as old.
 */
export function verifyLink(
  secret: string,
  token: string,
  purpose: LinkPurpose,
  nowSeconds: number,
): LinkCheck {
  const match = TOKEN.exec(token);
  if (!match || match[1] !== purpose) return { ok: false, reason: "forged" };
  const claims: LinkClaims = {
    purpose,
    outboxId: parseInt(match[2]!, 36),
    customerId: parseInt(match[3]!, 36),
    expiresAt: parseInt(match[4]!, 36),
  };
  // Re-encoding must give the same text: no leading zeros or other spellings of one number.
  const text = body(claims);
  if (`${text}.${match[5]}` !== token) return { ok: false, reason: "forged" };
  const given = Buffer.from(match[5]!, "base64url");
  const expected = mac(secret, text);
  if (given.length !== expected.length || !timingSafeEqual(given, expected))
    return { ok: false, reason: "forged" };
  if (nowSeconds > claims.expiresAt) return { ok: false, reason: "expired" };
  return { ok: true, claims };
}

/** When a link made at `nowSeconds` expires: `links.expiry_days` later. */
export function linkExpiry(nowSeconds: number, expiryDays: number): number {
  return Math.floor(nowSeconds) + Math.round(expiryDays * 86_400);
}
