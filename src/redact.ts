/**
 * Personal data out of log lines: every value logged at info and above passes through here (see
 * createLogger in log.ts), so no caller has to remember. Three things carry it into a log:
 *
 * - an import error quotes the cell it could not read (`column "ordered_at": "anna@shop.de" is not a
 *   date`): a column shifted by a stray delimiter puts an address, a phone or a name in any column.
 *   The quoted cell becomes its shape (`[text of 12 characters]`); the file:line and column stay.
 * - an SMTP answer names the recipient (`550 5.1.1 <anna@shop.de>: user unknown`), sometimes with a
 *   display name (`"Anna Schmidt" <anna@shop.de>`): the address and the display name go.
 * - a field named for what it holds (`email`, `phone`, `name`, `recipient`, `to`): its value goes.
 *
 * Phones are found by their look: a `+` and 7 or more digits, or 7 or more digits grouped by spaces,
 * dashes, dots or brackets (not a date or a time, which look alike: 2026-03-02, 08:00:00).
 */
import { describeShape } from "./import/normalize/values.js";

const EMAIL = /[\p{L}\p{N}._%+'!#$&*=?^`{|}~-]+@[\p{L}\p{N}-]+(?:\.[\p{L}\p{N}-]+)*\.\p{L}{2,}/gu;
/** A display name before an address in angle brackets: `"Anna Schmidt" <…>` or `Anna Schmidt <…>`. */
const DISPLAY_NAME = /(?:"[^"\n]*"|[\p{L}\p{M}][\p{L}\p{M}'. -]*[\p{L}\p{M}.])\s*(?=<\[email\]>)/gu;
/** The cell an import problem quotes: `column "HEADER": "VALUE" is not …` / `… must be …`. */
const QUOTED_CELL = /(column "(?:[^"\n]|"")*": )"(.*?)"(?= is not | must be )/g;
const PHONE_LIKE = /(?<![\p{L}\p{N}_:/.-])\+?\(?\d[\d ()./-]{5,}\d(?![\p{L}\p{N}_:])/gu;
const DATE_OR_TIME = /^\d{4}-\d{2}-\d{2}|^\d{1,2}[./-]\d{1,2}[./-]\d{2,4}$|^\d+(?:\.\d+)+$/;

/** Fields whose whole value is personal, whatever it looks like. */
const PERSONAL_KEYS = new Set([
  "email",
  "phone",
  "name",
  "customer_name",
  "first_name",
  "last_name",
  "recipient",
  "to",
  "address",
]);

/** Fields that look like an address but are none: a Message-ID is made from the key and the shop's domain. */
const NOT_PERSONAL_KEYS = new Set(["message_id", "messageid"]);

export const REDACTED = "[redacted]";

/** The text with addresses, display names, phones and quoted import cells masked. */
export function maskPersonal(text: string): string {
  if (text === "") return text;
  return text
    .replace(QUOTED_CELL, (_all, head: string, value: string) => `${head}[${describeShape(value)}]`)
    .replace(EMAIL, "[email]")
    .replace(DISPLAY_NAME, "[name] ")
    .replace(PHONE_LIKE, (match) => (isPhone(match) ? "[phone]" : match));
}

function isPhone(match: string): boolean {
  const digits = match.replace(/\D/g, "").length;
  if (digits < 7) return false;
  if (match.startsWith("+")) return true;
  if (DATE_OR_TIME.test(match)) return false;
  // Bare digits are an id or a number; a phone written for people is grouped.
  return /[ ()-]/.test(match.trim());
}

/** A logged value with everything personal masked: strings, errors, arrays and plain objects. */
export function redactValue(value: unknown, depth = 0): unknown {
  if (typeof value === "string") return maskPersonal(value);
  if (value === null || typeof value !== "object" || depth > 8) return value;
  if (value instanceof Error) {
    const out: Record<string, unknown> = { type: value.name, message: maskPersonal(value.message) };
    if (value.stack) out.stack = maskPersonal(value.stack);
    const code = (value as { code?: unknown }).code;
    if (code !== undefined) out.code = code;
    return out;
  }
  if (Array.isArray(value)) return value.map((item) => redactValue(item, depth + 1));
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    const lower = key.toLowerCase();
    if (NOT_PERSONAL_KEYS.has(lower)) out[key] = item;
    else if (PERSONAL_KEYS.has(lower) && item !== null && item !== undefined) out[key] = REDACTED;
    else out[key] = redactValue(item, depth + 1);
  }
  return out;
}

/** The arguments of one pino call, redacted; an Error first argument becomes `{ err }` as pino would. */
export function redactLogArguments(args: unknown[]): unknown[] {
  return args.map((arg, index) =>
    index === 0 && arg instanceof Error ? { err: redactValue(arg) } : redactValue(arg),
  );
}
