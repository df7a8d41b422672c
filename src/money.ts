/**
 * Money as integers of the currency's minor unit (cents, kopecks; yen have none).
 *
 * Amounts arrive as canonical decimal strings (see makeNumberParser) and are converted with
 * string and integer arithmetic only: binary floating point can't hold 0.29, so
 * `parseFloat("0.29") * 100` is 28.999999999999996 and a cent goes missing on truncation, or
 * worse, rounds the wrong way at exactly half a cent.
 */
import { DataError } from "./errors.js";

/** `-1234.5`, `0.085`, `12`: what makeNumberParser produces. */
const DECIMAL = /^(-?)(\d+)(?:\.(\d+))?$/;
/** ECMA-402 accepts any well-formed code, so this is also the whole of "Intl accepts it". */
const CURRENCY_CODE = /^[A-Za-z]{3}$/;

/** Exact powers of ten as doubles (10^22 is the largest that is). */
const POW10 = Array.from({ length: 23 }, (_, i) => 10 ** i);

/** Building an Intl.NumberFormat costs far more than the lookup, and an import asks per row. */
const digitsByCode = new Map<string, number>();

/** ISO 4217 minor-unit digits: 2 for EUR, 0 for JPY, 3 for KWD; 2 for codes Intl doesn't know. */
export function minorDigits(currency: string): number {
  const cached = digitsByCode.get(currency);
  if (cached !== undefined) return cached;
  let digits = 2;
  try {
    digits =
      new Intl.NumberFormat("en", { style: "currency", currency }).resolvedOptions().maximumFractionDigits ??
      2;
  } catch {
    // RangeError for a malformed code: 2 is what most currencies use, and the code itself is
    // validated (with a message) where it is read.
  }
  // Only well-formed codes are cached, so a column of junk can't grow the map without bound.
  if (CURRENCY_CODE.test(currency)) digitsByCode.set(currency, digits);
  return digits;
}

/** The ISO 4217 codes this Node knows; a Set because an import asks once per row. */
const KNOWN_CURRENCIES = new Set(Intl.supportedValuesOf("currency"));

export function isCurrencyCode(text: string): boolean {
  // Checked on the original text: upper-casing "ß" gives "SS", which would sneak a 2-letter string in.
  return CURRENCY_CODE.test(text) && KNOWN_CURRENCIES.has(text.toUpperCase());
}

function checkDigits(digits: number): void {
  if (!Number.isInteger(digits) || digits < 0 || digits > 20) {
    throw new RangeError(`minor-unit digits must be an integer 0–20, got ${digits}`);
  }
}

function parseDecimal(decimal: string): RegExpExecArray {
  const match = DECIMAL.exec(decimal);
  // Callers pass makeNumberParser's output, so anything else is a bug, not bad input.
  if (match === null) throw new TypeError(`not a canonical decimal: "${decimal}"`);
  return match;
}

function tooLarge(text: string): DataError {
  return new DataError(`the amount ${text} is too large to store exactly`);
}

/** `-0` reads as 0 everywhere except Object.is and the database's eyes; never return it. */
function signed(negative: boolean, magnitude: number): number {
  return negative && magnitude !== 0 ? -magnitude : magnitude;
}

/** A decimal string in minor units: `("12.5", 2)` → 1250; extra decimals round half away from zero. */
export function decimalToMinor(decimal: string, digits: number): number {
  checkDigits(digits);
  const match = parseDecimal(decimal);
  const fraction = match[3] ?? "";
  const kept = fraction.length >= digits ? fraction.slice(0, digits) : fraction.padEnd(digits, "0");
  let magnitude = Number(match[2]! + kept);
  // Half away from zero on the magnitude: the first dropped digit alone decides.
  if (fraction.length > digits && fraction.charCodeAt(digits) >= 53 /* "5" */) magnitude += 1;
  if (!Number.isSafeInteger(magnitude)) throw tooLarge(decimal);
  return signed(match[1] === "-", magnitude);
}

/**
 * `quantity × unit price` in minor units, rounded half away from zero once, on the total: rounding
 * the unit price first would make 3 × 0.335 (1.005) come to 1.02 instead of 1.01.
 * Both factors become integers with a decimal scale and are multiplied exactly; a decimal
 * quantity (0.5 kg) is read back as the shortest decimal that prints it, so 0.1 is 1 × 10⁻¹,
 * not 0.1000000000000000055…
 */
export function lineTotalMinor(quantity: number, unitDecimal: string, digits: number): number {
  checkDigits(digits);
  if (!Number.isFinite(quantity)) throw new RangeError(`quantity must be a finite number, got ${quantity}`);
  const unit = parseDecimal(unitDecimal);
  const unitFraction = unit[3] ?? "";
  const unitMantissa = unit[2]! + unitFraction;
  const negative = quantity < 0 !== (unit[1] === "-");
  const quantityAbs = Math.abs(quantity);

  let quantityMantissa: string;
  let scale = unitFraction.length;
  if (Number.isInteger(quantityAbs) && quantityAbs <= Number.MAX_SAFE_INTEGER) {
    quantityMantissa = "" + quantityAbs;
  } else {
    const printed = "" + quantityAbs;
    const point = printed.indexOf(".");
    if (point === -1 || printed.includes("e")) {
      // Exponent notation (below 1e-6 or beyond 1e21): no quantity a shop sells, so floating
      // point is good enough here.
      const total = Math.round(quantityAbs * Number(unitDecimal.replace("-", "")) * POW10[digits]!);
      if (!Number.isSafeInteger(total)) throw tooLarge(`${quantity} × ${unitDecimal}`);
      return signed(negative, total);
    }
    quantityMantissa = printed.slice(0, point) + printed.slice(point + 1);
    scale += printed.length - point - 1;
  }

  const product = Number(quantityMantissa) * Number(unitMantissa);
  const total =
    Number.isSafeInteger(product) && scale - digits <= 22
      ? rescale(product, scale, digits)
      : rescaleBig(BigInt(quantityMantissa) * BigInt(unitMantissa), scale, digits);
  if (!Number.isSafeInteger(total)) throw tooLarge(`${quantity} × ${unitDecimal}`);
  return signed(negative, total);
}

/** An integer count of 10^-scale units as 10^-digits units, half away from zero (input ≥ 0). */
function rescale(value: number, scale: number, digits: number): number {
  if (scale <= digits) return value * POW10[digits - scale]!;
  const divisor = POW10[scale - digits]!;
  let quotient = Math.floor(value / divisor);
  let remainder = value - quotient * divisor;
  // The float division can land one over near 2^53; the exact remainder tells.
  if (remainder < 0) {
    quotient -= 1;
    remainder += divisor;
  }
  return remainder * 2 >= divisor ? quotient + 1 : quotient;
}

/** rescale for products beyond 2^53; only the final result has to fit a double. */
function rescaleBig(value: bigint, scale: number, digits: number): number {
  if (scale <= digits) return Number(value * 10n ** BigInt(digits - scale));
  const divisor = 10n ** BigInt(scale - digits);
  const quotient = value / divisor;
  return Number((value % divisor) * 2n >= divisor ? quotient + 1n : quotient);
}
