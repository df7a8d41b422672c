/**
 * Unsubscribe tokens: the address, and an HMAC-SHA256 of it keyed with the config `secret`, so a
 * link works only for the address it was made for: one customer can't unsubscribe another by
 * editing the link. A shop's unsubscribe page (or `comeback unsubscribe TOKEN`) verifies it.
 *
 * Format: base64url(address) "." base64url(first 16 bytes of the HMAC).
 */
import { createHash, createHmac, timingSafeEqual, type Hash } from "node:crypto";
import { MIN_SECRET_BYTES } from "../config/schema.js";
import { ConfigError } from "../errors.js";

const CONTEXT = "comeback-unsubscribe\u0000";

/**
 * HMAC-SHA256, with the keyed inner and outer hash states computed once per secret and copied per
 * token: building an Hmac object costs more than hashing a short address (a batch makes thousands).
 */
const keyed = new Map<string, { inner: Hash; outer: Hash }>();

function mac(secret: string, address: string): Buffer {
  let state = keyed.get(secret);
  if (state === undefined) {
    let key = Buffer.from(secret, "utf8");
    if (key.length > 64) key = createHash("sha256").update(key).digest();
    const pad = (byte: number) => Buffer.from(Array.from({ length: 64 }, (_, i) => (key[i] ?? 0) ^ byte));
    state = { inner: createHash("sha256").update(pad(0x36)), outer: createHash("sha256").update(pad(0x5c)) };
    keyed.set(secret, state);
  }
  const inner = state.inner
    .copy()
    .update(CONTEXT + address)
    .digest();
  return state.outer.copy().update(inner).digest().subarray(0, 16);
}

/** The same MAC the plain way, to check the fast path against. */
export function referenceMac(secret: string, address: string): Buffer {
  return createHmac("sha256", secret)
    .update(CONTEXT + address)
    .digest()
    .subarray(0, 16);
}

export function unsubscribeToken(secret: string, address: string): string {
  const normalized = address.trim().toLowerCase();
  return `${Buffer.from(normalized).toString("base64url")}.${mac(secret, normalized).toString("base64url")}`;
}

/** The address a token was made for, or null when it was not made with this secret. */
export function verifyUnsubscribeToken(secret: string, token: string): string | null {
  const [encoded, signature, extra] = token.trim().split(".");
  if (!encoded || !signature || extra !== undefined) return null;
  const address = Buffer.from(encoded, "base64url").toString("utf8");
  if (Buffer.from(address).toString("base64url") !== encoded) return null;
  const given = Buffer.from(signature, "base64url");
  const expected = mac(secret, address);
  return given.length === expected.length && timingSafeEqual(given, expected) ? address : null;
}

/** The secret, or a config error saying how to set it, for the commands that sign links. */
export function requireSecret(secret: string | null): string {
  if (secret === null || secret === "") {
    throw new ConfigError(
      "secret is not set (or the environment variable it names is unset): unsubscribe links are signed with it. " +
        "Write `secret: ${COMEBACK_SECRET}` in comeback.yaml " +
        `and set COMEBACK_SECRET in the environment to a random key of at least ${MIN_SECRET_BYTES} bytes ` +
        "(e.g. openssl rand -hex 32)",
    );
  }
  const bytes = Buffer.byteLength(secret, "utf8");
  if (bytes < MIN_SECRET_BYTES) {
    throw new ConfigError(
      `secret: expected at least ${MIN_SECRET_BYTES} bytes (e.g. openssl rand -hex 32), got ${bytes}`,
    );
  }
  return secret;
}
