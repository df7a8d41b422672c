import { describe, expect, it } from "vitest";
import { linkExpiry, signLink, verifyLink, type LinkClaims } from "../../src/links/token.js";

const SECRET = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
const NOW = 1_800_000_000;
const claims: LinkClaims = { purpose: "cart", outboxId: 42, customerId: 7, expiresAt: NOW + 60 * 86_400 };

describe("signed links", () => {
  it("a link made with the secret verifies for its purpose, message and customer", () => {
    const token = signLink(SECRET, claims);
    expect(token).toMatch(/^[A-Za-z0-9._-]+$/);
    expect(verifyLink(SECRET, token, "cart", NOW)).toEqual({ ok: true, claims });
  });

  it("a link made with another secret is forged", () => {
    const token = signLink(SECRET.replace("0", "1"), claims);
    expect(verifyLink(SECRET, token, "cart", NOW)).toEqual({ ok: false, reason: "forged" });
  });

  it("another customer's or message's number in a genuine link is forged", () => {
    const token = signLink(SECRET, claims);
    const parts = token.split(".");
    for (const index of [1, 2]) {
      const edited = [...parts];
      edited[index] = (parseInt(parts[index]!, 36) + 1).toString(36);
      expect(verifyLink(SECRET, edited.join("."), "cart", NOW)).toEqual({ ok: false, reason: "forged" });
    }
  });

  it("a link is valid only for the purpose it was made for", () => {
    const token = signLink(SECRET, { ...claims, purpose: "open" });
    expect(verifyLink(SECRET, token, "cart", NOW).ok).toBe(false);
    expect(verifyLink(SECRET, token.replace(/^open/, "cart"), "cart", NOW)).toEqual({
      ok: false,
      reason: "forged",
    });
    expect(verifyLink(SECRET, token, "open", NOW).ok).toBe(true);
  });

  it("a genuine link past its expiry is expired; a pushed-back expiry is forged", () => {
    const token = signLink(SECRET, claims);
    expect(verifyLink(SECRET, token, "cart", claims.expiresAt).ok).toBe(true);
    expect(verifyLink(SECRET, token, "cart", claims.expiresAt + 1)).toEqual({ ok: false, reason: "expired" });
    const parts = token.split(".");
    parts[3] = (claims.expiresAt + 86_400).toString(36);
    expect(verifyLink(SECRET, parts.join("."), "cart", claims.expiresAt + 1)).toEqual({
      ok: false,
      reason: "forged",
    });
  });

  it("another spelling of the same numbers, or junk, is forged", () => {
    const token = signLink(SECRET, claims);
    const parts = token.split(".");
    parts[1] = `0${parts[1]}`;
    expect(verifyLink(SECRET, parts.join("."), "cart", NOW).ok).toBe(false);
    for (const junk of ["", "cart", `${token}.x`, token.slice(0, -1), token.toUpperCase()]) {
      expect(verifyLink(SECRET, junk, "cart", NOW).ok).toBe(false);
    }
  });

  it("refuses to sign numbers that can't be read back", () => {
    expect(() => signLink(SECRET, { ...claims, outboxId: -1 })).toThrow(RangeError);
    expect(() => signLink(SECRET, { ...claims, customerId: 1.5 })).toThrow(RangeError);
  });

  it("expires expiry_days after it is made", () => {
    expect(linkExpiry(NOW + 0.7, 60)).toBe(NOW + 60 * 86_400);
  });
});
