import { describe, expect, it } from "vitest";
import { DataError } from "../../src/errors.js";
import { decimalToMinor, isCurrencyCode, lineTotalMinor, minorDigits } from "../../src/money.js";

describe("minorDigits", () => {
  it.each([
    ["EUR", 2],
    ["USD", 2],
    ["RUB", 2],
    ["JPY", 0],
    ["KRW", 0],
    ["KWD", 3],
    ["BHD", 3],
    ["jpy", 0],
  ])("%s has %i", (code, digits) => {
    expect(minorDigits(code)).toBe(digits);
  });

  it("answers 2 for codes Intl doesn't know or can't parse, without throwing", () => {
    expect(minorDigits("XQZ")).toBe(2);
    expect(minorDigits("EURO")).toBe(2);
    expect(minorDigits("")).toBe(2);
    expect(minorDigits("€")).toBe(2);
  });

  it("gives the same answer from the cache", () => {
    expect(minorDigits("JPY")).toBe(0);
    expect(minorDigits("JPY")).toBe(0);
  });
});

describe("isCurrencyCode", () => {
  it.each(["EUR", "usd", "Rub", "JPY"])("accepts %j", (code) => {
    expect(isCurrencyCode(code)).toBe(true);
  });
  it.each(["", "EU", "EURO", "E1R", "€", "ÉUR", "aß", " EUR", "EUR "])("rejects %j", (code) => {
    expect(isCurrencyCode(code)).toBe(false);
  });
});

describe("decimalToMinor", () => {
  it.each([
    ["12", 2, 1200],
    ["12.5", 2, 1250],
    ["-1234.5", 2, -123450],
    ["0", 2, 0],
    ["007.50", 2, 750],
    ["1234", 0, 1234],
    ["0.1", 3, 100],
    ["12.345", 3, 12345],
  ])("%s with %i digits is %i", (decimal, digits, minor) => {
    expect(decimalToMinor(decimal, digits)).toBe(minor);
  });

  it.each([
    // Each of these comes out one cent short as parseFloat(x) * 100, truncated.
    ["0.29", 29],
    ["1.15", 115],
    ["4.35", 435],
    ["19.99", 1999],
    ["-0.29", -29],
  ])("converts %s exactly", (decimal, minor) => {
    expect(decimalToMinor(decimal, 2)).toBe(minor);
  });

  it.each([
    ["0.085", 2, 9],
    ["-0.085", 2, -9],
    ["0.084", 2, 8],
    ["-0.084", 2, -8],
    ["0.005", 2, 1],
    ["-0.005", 2, -1],
    ["0.0049999", 2, 0],
    ["1.005", 2, 101], // 1.005 * 100 is 100.49999999999999 in floating point
    ["2.675", 2, 268],
    ["1234.5", 0, 1235],
    ["-1234.5", 0, -1235],
    ["1234.49", 0, 1234],
    ["-1234.49", 0, -1234],
    ["1.2345", 3, 1235],
    ["-1.2345", 3, -1235],
  ])("rounds %s to %i digits half away from zero: %i", (decimal, digits, minor) => {
    expect(decimalToMinor(decimal, digits)).toBe(minor);
  });

  it("never returns negative zero", () => {
    expect(Object.is(decimalToMinor("-0.004", 2), 0)).toBe(true);
    expect(Object.is(decimalToMinor("-0", 2), 0)).toBe(true);
  });

  it("throws a DataError for amounts beyond exact integers", () => {
    expect(() => decimalToMinor("99999999999999999", 2)).toThrow(DataError);
    expect(decimalToMinor("90071992547409.91", 2)).toBe(9007199254740991);
    expect(() => decimalToMinor("90071992547409.92", 2)).toThrow(DataError);
  });

  it("throws for text that isn't a canonical decimal (a bug in the caller)", () => {
    expect(() => decimalToMinor("12,5", 2)).toThrow(TypeError);
    expect(() => decimalToMinor("1e5", 2)).toThrow(TypeError);
    expect(() => decimalToMinor("+5", 2)).toThrow(TypeError);
    expect(() => decimalToMinor("", 2)).toThrow(TypeError);
    expect(() => decimalToMinor("5", -1)).toThrow(RangeError);
    expect(() => decimalToMinor("5", 1.5)).toThrow(RangeError);
  });
});

describe("lineTotalMinor", () => {
  it.each([
    [3, "19.99", 2, 5997],
    [1, "0.29", 2, 29],
    [100, "0.29", 2, 2900],
    [-2, "4.35", 2, -870],
    [2, "-4.35", 2, -870],
    [-2, "-4.35", 2, 870],
    [0, "12.50", 2, 0],
    [7, "1500", 0, 10500],
    [100000, "999999.99", 2, 9999999900000],
  ])("%i × %s with %i digits is %i", (quantity, unit, digits, minor) => {
    expect(lineTotalMinor(quantity, unit, digits)).toBe(minor);
  });

  it("rounds the total once, not the unit price first", () => {
    expect(lineTotalMinor(3, "0.335", 2)).toBe(101); // 1.005, not 3 × 0.34
    expect(lineTotalMinor(12, "0.085", 2)).toBe(102); // 1.02, not 12 × 0.09
    expect(lineTotalMinor(3, "333.5", 0)).toBe(1001); // 1000.5
  });

  it("rounds half away from zero for negative lines", () => {
    expect(lineTotalMinor(1, "-0.125", 2)).toBe(-13);
    expect(lineTotalMinor(-1, "0.125", 2)).toBe(-13);
    expect(lineTotalMinor(-3, "0.335", 2)).toBe(-101);
    expect(lineTotalMinor(-1, "0.124", 2)).toBe(-12);
    expect(Object.is(lineTotalMinor(-1, "0.001", 2), 0)).toBe(true);
  });

  it("multiplies decimal quantities exactly", () => {
    expect(lineTotalMinor(0.5, "12.99", 2)).toBe(650); // 6.495
    expect(lineTotalMinor(1.5, "0.10", 2)).toBe(15);
    expect(lineTotalMinor(0.1, "0.05", 2)).toBe(1); // 0.005
    expect(lineTotalMinor(0.5, "2.01", 2)).toBe(101); // 1.005; floating point gives 100.4999…
    expect(lineTotalMinor(0.25, "3", 0)).toBe(1); // 0.75 yen
    expect(lineTotalMinor(-0.5, "12.99", 2)).toBe(-650);
  });

  it("stays exact when the product passes 2^53 before rescaling", () => {
    // 3 × 0.123456789012345678 = 0.370370367037037034; the unit's digits alone exceed 2^53.
    expect(lineTotalMinor(3, "0.123456789012345678", 2)).toBe(37);
    expect(lineTotalMinor(5, "0.123456789012345678", 2)).toBe(62);
    expect(lineTotalMinor(-5, "0.123456789012345678", 2)).toBe(-62);
  });

  it("throws a DataError when the total doesn't fit an exact integer", () => {
    expect(() => lineTotalMinor(1_000_000, "99999999999.99", 2)).toThrow(DataError);
  });

  it("throws for a quantity that isn't a finite number or a non-canonical price", () => {
    expect(() => lineTotalMinor(Number.NaN, "1.00", 2)).toThrow(RangeError);
    expect(() => lineTotalMinor(Number.POSITIVE_INFINITY, "1.00", 2)).toThrow(RangeError);
    expect(() => lineTotalMinor(1, "1,00", 2)).toThrow(TypeError);
  });
});
