/**
 * Form tokens (issue 18): every state-changing request is a POST carrying a token from the page it
 * was sent from: an HMAC-SHA256 (secret) of the link token and the form's purpose, in a hidden field.
 * No cookie and no server state: a page can only be posted from by someone who could read it, that is
 * who holds the link, and a token for one form or one link works for no other.
 */
import { createHmac, timingSafeEqual } from "node:crypto";

export const FORM_PURPOSES = ["cart", "later", "unsub"] as const;
export type FormPurpose = (typeof FORM_PURPOSES)[number];

const CONTEXT = "comeback-form-v1\u0000";

export function formToken(secret: string, linkToken: string, purpose: FormPurpose): string {
  return createHmac("sha256", secret)
    .update(`${CONTEXT}${purpose}\u0000${linkToken}`)
    .digest()
    .subarray(0, 16)
    .toString("base64url");
}

export function checkFormToken(
  secret: string,
  linkToken: string,
  purpose: FormPurpose,
  given: unknown,
): boolean {
  if (typeof given !== "string") return false;
  const expected = Buffer.from(formToken(secret, linkToken, purpose));
  const actual = Buffer.from(given);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}
