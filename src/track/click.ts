/**
 * Tracking URLs (issue 18): the open pixel `/o/TOKEN` and click redirects `/r/TOKEN?u=URL&s=SIG`.
 *
 * No open redirect: the click token (purpose `click`, the message, the customer, the expiry) says
 * who clicked in which message, and `s` is an HMAC-SHA256 of the token and the target URL keyed
 * with the secret. Only URLs that comeback put into a message verify, and only with that message's
 * token: a link edited to point elsewhere, or a target moved into another message's link, fails.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { signLink, type LinkClaims } from "../links/token.js";

const CONTEXT = "comeback-click-target-v1\u0000";
const MAC_BYTES = 16;

function targetMac(secret: string, token: string, url: string): Buffer {
  return createHmac("sha256", secret)
    .update(CONTEXT + token + "\u0000" + url)
    .digest()
    .subarray(0, MAC_BYTES);
}

export function signTarget(secret: string, token: string, url: string): string {
  return targetMac(secret, token, url).toString("base64url");
}

/** Whether `sig` is the signature of `url` in the link `token` (compared in constant time). */
export function verifyTarget(secret: string, token: string, url: string, sig: string): boolean {
  if (!/^[A-Za-z0-9_-]{22}$/.test(sig)) return false;
  const given = Buffer.from(sig, "base64url");
  const expected = targetMac(secret, token, url);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** Only http(s) targets are ever wrapped or followed. */
export function isHttpUrl(url: string): boolean {
  try {
    const parsed = new URL(url);
    return parsed.protocol === "http:" || parsed.protocol === "https:";
  } catch {
    return false;
  }
}

type Claims = Omit<LinkClaims, "purpose">;

/** The open pixel's URL under serve's public address. */
export function pixelUrl(baseUrl: string, secret: string, claims: Claims): string {
  return `${baseUrl}/o/${signLink(secret, { ...claims, purpose: "open" })}`;
}

/** A click redirect to `target` (an http(s) URL) under serve's public address. */
export function clickUrl(baseUrl: string, secret: string, claims: Claims, target: string): string {
  const token = signLink(secret, { ...claims, purpose: "click" });
  const sig = signTarget(secret, token, target);
  return `${baseUrl}/r/${token}?u=${encodeURIComponent(target)}&s=${sig}`;
}
