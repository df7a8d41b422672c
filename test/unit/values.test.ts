import { describe, expect, it } from "vitest";
import {
  cleanCell,
  isBooleanText,
  looksLikeEmail,
  makeNumberParser,
  normalizeEmail,
  parseBoolean,
  phoneDigits,
} from "../../src/import/normalize/values.js";

describe("makeNumberParser with a decimal point", () => {
  const parse = makeNumberParser(".");

  it.each([
    ["12.50", "12.50"],
    ["12", "12"],
    ["-1234.5", "-1234.5"],
    ["+5", "5"],
    ["+0.75", "0.75"],
    ["  42 ", "42"],
    ["0.085", "0.085"],
    [".5", "0.5"],
    ["-.5", "-0.5"],
  ])("reads %j as %s", (text, expected) => {
    expect(parse(text)).toBe(expected);
  });

  it.each([
    ["1,234.50", "1234.50"],
    ["1,234", "1234"],
    ["-1,234,567.8", "-1234567.8"],
    ["1 234.5", "1234.5"],
    ["1\u00A0234.5", "1234.5"],
    ["1\u202F234.5", "1234.5"],
    ["1'234.50", "1234.50"],
    ["1\u2019234.50", "1234.50"],
    ["12'345'678", "12345678"],
  ])("drops well-formed grouping in %j", (text, expected) => {
    expect(parse(text)).toBe(expected);
  });

  it.each([
    ["12,50", "a decimal comma under a decimal point"],
    ["1,23", "a group of two"],
    ["1,2345", "a group of four"],
    ["1234,567", "a first group of four"],
    ["1,234,56", "a short last group"],
    ["1,234 567.00", "mixed grouping characters"],
    [",123", "no leading group"],
    ["1,", "a dangling separator"],
    ["12.5.3", "two points"],
    ["5.", "a point without decimals"],
  ])("rejects %j (%s)", (text) => {
    expect(parse(text)).toBeNull();
  });

  it.each([
    ["£2.55", "2.55"],
    ["$-3.00", "-3.00"],
    ["-$3.00", "-3.00"],
    ["$ 1,234.00", "1234.00"],
    ["12.00 EUR", "12.00"],
    ["EUR 12.00", "12.00"],
    ["USD12", "12"],
    ["€12.00", "12.00"],
    ["12.00€", "12.00"],
    ["¥1,500", "1500"],
    ["-5 ₴", "-5"],
    ["100 ₸", "100"],
  ])("strips the currency in %j", (text, expected) => {
    expect(parse(text)).toBe(expected);
  });

  it.each([
    "",
    "   ",
    "-",
    "+",
    "$",
    "EUR",
    "1e5",
    "1E5",
    "1.5e3",
    "abc",
    "12abc",
    "--5",
    "+-5",
    "-$-3",
    "$3 EUR",
    "12 eur",
    "12 EURO",
    "0x1F",
    "Infinity",
    "NaN",
    "(3.00)",
  ])("rejects %j", (text) => {
    expect(parse(text)).toBeNull();
  });
});

describe("makeNumberParser with a decimal comma", () => {
  const parse = makeNumberParser(",");

  it.each([
    ["12,5", "12.5"],
    ["12", "12"],
    ["-7", "-7"],
    ["-0,29", "-0.29"],
    ["1.234,50", "1234.50"],
    ["1.234", "1234"],
    ["-1.234.567,89", "-1234567.89"],
    ["1 234,5", "1234.5"],
    ["1\u00A0234,5", "1234.5"],
    ["1\u202F234,5", "1234.5"],
    ["1'234,5", "1234.5"],
    [",5", "0.5"],
  ])("reads %j as %s", (text, expected) => {
    expect(parse(text)).toBe(expected);
  });

  it.each([
    ["2,55 ₽", "2.55"],
    ["2,55\u00A0₽", "2.55"],
    ["€ 12,00", "12.00"],
    ["12,50 zł", "12.50"],
    ["100 Kč", "100"],
    ["1.234,00 RUB", "1234.00"],
    ["-12,00 €", "-12.00"],
  ])("strips the currency in %j", (text, expected) => {
    expect(parse(text)).toBe(expected);
  });

  it.each([
    ["12.5", "a point that is not valid grouping"],
    ["1.23", "a group of two"],
    ["1,234.50", "the other convention"],
    ["1,2,3", "two commas"],
    ["1e5", "an exponent"],
    ["", "empty"],
  ])("rejects %j (%s)", (text) => {
    expect(parse(text)).toBeNull();
  });
});

describe("parseBoolean and isBooleanText", () => {
  it.each([
    "yes",
    "y",
    "true",
    "1",
    "on",
    "subscribed",
    "да",
    "ja",
    "oui",
    "si",
    "sí",
    "YES",
    " True ",
    "Да",
    "SÍ",
  ])("reads %j as true", (text) => {
    expect(parseBoolean(text)).toBe(true);
    expect(isBooleanText(text)).toBe(true);
  });

  it.each([
    "no",
    "n",
    "false",
    "0",
    "off",
    "unsubscribed",
    "нет",
    "nein",
    "non",
    "NO",
    " Nein ",
    "НЕТ",
    "False",
  ])("reads %j as false", (text) => {
    expect(parseBoolean(text)).toBe(false);
    expect(isBooleanText(text)).toBe(true);
  });

  it.each(["", "  ", "maybe", "2", "yes please", "nope", "t", "f"])("doesn't recognise %j", (text) => {
    expect(parseBoolean(text)).toBeNull();
    expect(isBooleanText(text)).toBe(false);
  });
});

describe("normalizeEmail and looksLikeEmail", () => {
  it("trims and lower-cases", () => {
    expect(normalizeEmail("  John.Smith@Example.COM ")).toBe("john.smith@example.com");
    expect(normalizeEmail("a@b.co")).toBe("a@b.co");
    expect(normalizeEmail("first+tag@mail.example.org")).toBe("first+tag@mail.example.org");
  });

  it.each([
    "",
    "   ",
    "john",
    "john@example",
    "john.example.com",
    "jo hn@example.com",
    "john@exa mple.com",
    "@example.com",
    "john@",
    "john@example.",
    "a@b@c.com",
  ])("rejects %j", (text) => {
    expect(normalizeEmail(text)).toBeNull();
    expect(looksLikeEmail(text)).toBe(false);
  });

  it("looksLikeEmail accepts addresses whatever their case or surrounding space", () => {
    expect(looksLikeEmail("John@Example.com")).toBe(true);
    expect(looksLikeEmail(" john@example.com ")).toBe(true);
  });
});

describe("phoneDigits", () => {
  it.each([
    ["'+1 555 235 5407", "15552355407"],
    ["+7 (912) 345-67-89", "79123456789"],
    ["8 912 345 67 89", "89123456789"],
    ["+44 20 7946 0958", "442079460958"],
    ["12345", "12345"],
  ])("reads %j as %s", (text, expected) => {
    expect(phoneDigits(text)).toBe(expected);
  });

  it.each(["", "n/a", "1234", "ext. 12", "+1-23"])("rejects %j", (text) => {
    expect(phoneDigits(text)).toBeNull();
  });
});

describe("cleanCell", () => {
  it("returns a clean value as it is", () => {
    const value = "SKU-00123";
    expect(cleanCell(value)).toBe(value);
    expect(cleanCell("Привет")).toBe("Привет");
    expect(cleanCell("x")).toBe("x");
  });

  it.each([
    ["  padded  ", "padded"],
    ["\tTabbed\n", "Tabbed"],
    ["\u00A0nbsp\u00A0", "nbsp"],
    ["'+1 555 235 5407", "+1 555 235 5407"],
    [" '00123", "00123"],
    ["''quoted", "'quoted"],
    ["'", ""],
    ['="00123"', "00123"],
    [' ="00123" ', "00123"],
    ['="say ""hi"""', 'say "hi"'],
    ['=""', ""],
    ["", ""],
    ["   ", ""],
  ])("cleans %j to %j", (text, expected) => {
    expect(cleanCell(text)).toBe(expected);
  });

  it.each(["=SUM(A1:A3)", '="open', '="', "=", "it's", "a'"])("leaves %j alone", (text) => {
    expect(cleanCell(text)).toBe(text);
  });
});
