/**
 * Parsers for single cell values: numbers, yes/no, emails, phones, spreadsheet artefacts.
 *
 * Every cell of every imported row passes through here, so each function has a fast path for
 * the common, already-clean value that allocates nothing, and regexes are built once per
 * module or per profile, never per call.
 */

export type DecimalSeparator = "." | ",";

/** Symbols shops put next to amounts; a 3-letter upper-case code (EUR, RUB) is allowed too. */
const CURRENCY = "(?:[£$€₽¥₴₸]|zł|Kč|[A-Z]{3})";
/** Between a currency and the number: a space, or the no-break spaces locale formatting emits. */
const GAP = "[ \\u00A0\\u202F]?";
/** Characters used to group thousands, besides the "other" separator: 1 234, 1'234, 1’234. */
const GROUPING = " \\u00A0\\u202F'\\u2019";

interface NumberSyntax {
  /** Plain `-12.5` / `-12,5`: the bulk of real cells, matched without the full pattern's captures. */
  readonly plain: RegExp;
  readonly full: RegExp;
}

/**
 * Grouping characters are dropped only when the grouping is well-formed: 1–3 leading digits,
 * then groups of exactly three, all with the same character (the backreference). That's what
 * makes "12,50" under a decimal point an error instead of a silent 1250 — the most common way
 * a profile with the wrong separator would otherwise corrupt every amount.
 *
 * Groups: 1 sign, 2 currency before, 3 sign after that currency, 4 grouped integer part,
 * 5 its grouping character, 6 plain integer part, 7 fraction, 8 currency after.
 */
function numberSyntax(separator: DecimalSeparator): NumberSyntax {
  const other = separator === "." ? "," : ".";
  const sep = "\\" + separator;
  const group = `[${GROUPING}\\${other}]`;
  return {
    plain: new RegExp(`^-?\\d+(?:${sep}\\d+)?$`),
    full: new RegExp(
      `^\\s*([+-])?(?:(${CURRENCY})${GAP})?([+-])?` +
        `(?:(\\d{1,3}(${group})\\d{3}(?:\\5\\d{3})*)|(\\d+))?(?:${sep}(\\d+))?` +
        `(?:${GAP}(${CURRENCY}))?\\s*$`,
    ),
  };
}

const SYNTAX: Readonly<Record<DecimalSeparator, NumberSyntax>> = {
  ".": numberSyntax("."),
  ",": numberSyntax(","),
};

/**
 * A parser for the profile's decimal separator. Returns a canonical decimal (`-1234.5`: no `+`,
 * no grouping, `.` as the point) so that money.ts does exact arithmetic on a single form, or
 * null when the text isn't a number (exponents like `1e5` aren't: no shop export writes them,
 * and a spreadsheet that did has already lost digits).
 */
export function makeNumberParser(decimalSeparator: DecimalSeparator): (text: string) => string | null {
  const { plain, full } = SYNTAX[decimalSeparator];
  const comma = decimalSeparator === ",";
  return (text) => {
    if (plain.test(text)) return comma ? text.replace(",", ".") : text;
    const m = full.exec(text);
    if (m === null) return null;
    const [, sign, currencyBefore, signAfterCurrency, grouped, groupChar, integer, fraction, currencyAfter] =
      m;
    if (sign !== undefined && signAfterCurrency !== undefined) return null;
    if (currencyBefore !== undefined && currencyAfter !== undefined) return null;
    if (grouped === undefined && integer === undefined && fraction === undefined) return null;
    const negative = (sign ?? signAfterCurrency) === "-";
    const whole = grouped !== undefined ? grouped.replaceAll(groupChar!, "") : (integer ?? "0");
    return (negative ? "-" : "") + whole + (fraction === undefined ? "" : "." + fraction);
  };
}

/** Words seen in accepts-marketing style columns, across the languages of the shops we import from. */
const BOOLEAN_WORDS: ReadonlyMap<string, boolean> = new Map([
  ...["yes", "y", "true", "1", "on", "subscribed", "да", "ja", "oui", "si", "sí"].map(
    (w) => [w, true] as const,
  ),
  ...["no", "n", "false", "0", "off", "unsubscribed", "нет", "nein", "non"].map((w) => [w, false] as const),
]);

/** true / false for a recognised yes/no word; null for empty or unrecognised (see isBooleanText). */
export function parseBoolean(text: string): boolean | null {
  return BOOLEAN_WORDS.get(text.trim().toLowerCase()) ?? null;
}

/** Whether parseBoolean recognises the text, so callers can report "maybe" as an error rather than as no. */
export function isBooleanText(text: string): boolean {
  return BOOLEAN_WORDS.has(text.trim().toLowerCase());
}

/**
 * Deliberately loose: a reminder to a valid-but-unusual address beats rejecting it, so this only
 * catches what is plainly not an address (a name, a phone, "n/a" typed into the email column).
 */
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export function looksLikeEmail(text: string): boolean {
  return EMAIL.test(text.trim());
}

/** The lower-cased address, or null when empty or not an address. */
export function normalizeEmail(text: string): string | null {
  const email = text.trim().toLowerCase();
  return email !== "" && EMAIL.test(email) ? email : null;
}

const NON_DIGITS = /\D+/g;

/** `+7 (912) 345-67-89` → `79123456789`: digits only, so the same phone matches however it was typed. */
export function phoneDigits(text: string): string | null {
  const digits = text.replace(NON_DIGITS, "");
  // Fewer than 5 digits is a placeholder or an extension, not a number anyone can be reached on.
  return digits.length >= 5 ? digits : null;
}

/**
 * Trims and removes the marks spreadsheets add to keep a value as text: a leading apostrophe
 * (`'+1 555…`, written by Shopify and Excel) and the `="00123"` formula Excel uses to keep
 * leading zeros. Called on every non-empty cell, so a cell that starts and ends with a plain
 * printable ASCII character other than `'` and `=` — nearly all of them — returns at once.
 */
export function cleanCell(text: string): string {
  const first = text.charCodeAt(0);
  const last = text.charCodeAt(text.length - 1);
  if (first > 0x20 && first < 0x7f && first !== 0x27 && first !== 0x3d && last > 0x20 && last < 0x7f) {
    return text;
  }
  const value = text.trim();
  if (value.charCodeAt(0) === 0x27 /* ' */) return value.slice(1).trim();
  if (value.length >= 3 && value.startsWith('="') && value.endsWith('"')) {
    const inner = value.slice(2, -1);
    // Inside the formula a quote is written twice, as in any Excel string literal.
    return (inner.includes('"') ? inner.replaceAll('""', '"') : inner).trim();
  }
  return value;
}

/**
 * What a cell looks like, without what it says: "3 digits", "text of 12 characters". Warnings name
 * the shape so the admin can find the cell, and no phone, name or address reaches a log or a report.
 */
export function describeShape(text: string): string {
  const value = text.trim();
  let digits = 0;
  let letters = 0;
  let length = 0;
  for (const char of value) {
    length += 1;
    if (char >= "0" && char <= "9") digits += 1;
    else if (LETTER.test(char)) letters += 1;
  }
  if (digits > 0 && letters === 0) return `${digits} digit${digits === 1 ? "" : "s"}`;
  return `text of ${length} character${length === 1 ? "" : "s"}`;
}

const LETTER = /\p{L}/u;
