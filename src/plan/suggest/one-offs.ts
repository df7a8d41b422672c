/**
 * What never gets a rule: lines that are not products at all (a tip, postage, a gift card, a manual
 * correction), and products nobody comes back for (a car seat).
 */

/** What is known of a product's lines, enough to tell a product from a fee. */
export interface LineFacts {
  sku: string | null;
  name: string | null;
  /** Lines with a known price, and how many of them are 0 or below. */
  pricedLines: number;
  freeLines: number;
  negativeLines: number;
}

/**
 * Whole names (after dropping digits, currency signs and punctuation) that are a charge or a
 * correction, never something a customer uses up: `Tip`, `POSTAGE`, `Manual`, `CARRIAGE`, `SAMPLES`.
 * Matched as the whole name because the same words inside a product's name are innocent (`Felt tip
 * pens`, `Manual coffee grinder`).
 */
const NON_PRODUCT_NAMES = new Set([
  "tip",
  "tips",
  "gratuity",
  "manual",
  "post",
  "postage",
  "shipping",
  "delivery",
  "carriage",
  "freight",
  "discount",
  "adjustment",
  "sample",
  "samples",
  "fee",
  "fees",
  "deposit",
  "insurance",
  "handling",
  "donation",
  "bank charges",
  "service charge",
  "versand",
  "porto",
  "rabatt",
  "pfand",
  "trinkgeld",
  "доставка",
  "скидка",
  "чаевые",
]);

/**
 * Words that mark a line as a charge wherever they stand in the name: `DOTCOM POSTAGE`, `AMAZON
 * FEE`, `Dotcomgiftshop Gift Voucher £10.00`, `Bank Charges`, `CRUK Commission`, `Adjust bad debt`;
 * and the same in the German and Russian of the shops comeback imports (`Versandkosten`, `Gutschein`,
 * `Доставка`, `Подарочный сертификат`). Word edges are written as lookarounds: `\b` knows no Cyrillic.
 */
const NON_PRODUCT_WORDS = new RegExp(
  "(?<![\\p{L}\\p{N}])(?:" +
    [
      "shipping",
      "postage",
      "gratuity",
      "gift ?cards?",
      "gift ?vouchers?",
      "gift ?certificates?",
      "e-?gift",
      "fees?",
      "surcharges?",
      "commission",
      "bank charges?",
      "bad debt",
      "adjust(?:ment)?",
      "versand(?:kosten)?",
      "porto",
      "trinkgeld",
      "(?:geschenk)?gutschein",
      "gebühr(?:en)?",
      "доставка",
      "доставки",
      "чаевые",
      "подарочн\\p{L}* (?:сертификат|карт)\\p{L}*",
      "комиссия",
    ].join("|") +
    ")(?![\\p{L}\\p{N}])",
  "iu",
);

function bareName(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^\p{L}\s]+/gu, " ")
    .replace(/\s+/g, " ")
    .trim();
}

/** Why a line is not a product, or null when it looks like one. */
export function nonProductReason(facts: LineFacts): string | null {
  for (const text of [facts.name, facts.sku]) {
    if (text === null) continue;
    const bare = bareName(text);
    if (NON_PRODUCT_NAMES.has(bare)) return `not a product: "${text}" is a charge or a correction`;
    if (NON_PRODUCT_WORDS.test(text))
      return `not a product: "${text}" names a charge, a voucher or a correction`;
  }
  if (facts.pricedLines > 0 && facts.negativeLines > 0)
    return "not a product: a negative price (a discount or a credit)";
  if (facts.pricedLines > 0 && facts.freeLines === facts.pricedLines)
    return "not a product: always free (a sample or a gift with an order)";
  return null;
}

/**
 * A one-off: enough of its buyers came back to the shop that a habit would show, and almost none of
 * them came back for it. 10 returning buyers with no repeat, or fewer than 1 in 20 repeating, is a
 * car seat, a pram, a jacket: a reminder for it would be noise. Only buyers who ordered again count,
 * so a product launched weeks before the export's end is not called a one-off for want of time. On
 * the UK retailer this calls 146 products one-offs; counting every buyer would add 129 (29 of them
 * first sold in the export's last three months): 58 with fewer than 10 buyers who ever came back,
 * too few to judge, and 71 that 1 in 20 or more of those who came back did buy again.
 */
export const ONE_OFF_MIN_RETURNING = 10;
export const ONE_OFF_MAX_REPEAT_SHARE = 0.05;

export function oneOffReason(returningBuyers: number, repeatCustomers: number): string | null {
  if (returningBuyers < ONE_OFF_MIN_RETURNING) return null;
  if (repeatCustomers / returningBuyers >= ONE_OFF_MAX_REPEAT_SHARE) return null;
  const who = `of the ${returningBuyers} buyers who came back to the shop`;
  return repeatCustomers === 0
    ? `a one-off: ${who}, none bought it again`
    : `a one-off: ${who}, only ${repeatCustomers} bought it again`;
}
