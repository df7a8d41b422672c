import { afterEach, describe, expect, it, vi } from "vitest";
import { ConfigError } from "../../src/errors.js";
import { describeDateFormat, isValidZone, localDate, makeDateParser, nowIso } from "../../src/time.js";

describe("makeDateParser: iso", () => {
  const utc = makeDateParser("iso", "UTC");

  it.each([
    ["2024-03-01", "2024-03-01T00:00:00Z"],
    ["2024-03-01T10:00", "2024-03-01T10:00:00Z"],
    ["2024-03-01 10:00", "2024-03-01T10:00:00Z"],
    ["2024-03-01T10:00:00", "2024-03-01T10:00:00Z"],
    ["2024-03-01 10:00:00.123", "2024-03-01T10:00:00Z"],
    ["2024-03-01T23:59:59.999999", "2024-03-01T23:59:59Z"],
    ["  2024-03-01 10:00:05\t", "2024-03-01T10:00:05Z"],
  ])("reads %j as %s", (text, expected) => {
    expect(utc(text)).toBe(expected);
  });

  it.each([
    ["2024-03-01T10:00:00Z", "2024-03-01T10:00:00Z"],
    ["2024-03-01T10:00:00z", "2024-03-01T10:00:00Z"],
    ["2024-03-01T10:00:00+03:00", "2024-03-01T07:00:00Z"],
    ["2024-03-01T10:00:00+0300", "2024-03-01T07:00:00Z"],
    ["2024-03-01T10:00-05", "2024-03-01T15:00:00Z"],
    ["2024-03-01 10:00:00.500 +05:30", "2024-03-01T04:30:00Z"],
    // Shopify's form: a space, then ±hhmm.
    ["2022-01-11 04:32:30 -0500", "2022-01-11T09:32:30Z"],
    ["2024-03-01Z", "2024-03-01T00:00:00Z"],
    ["2024-03-01T01:00:00+02:00", "2024-02-29T23:00:00Z"],
  ])("applies the offset in %j", (text, expected) => {
    expect(utc(text)).toBe(expected);
  });

  it("prefers the offset in the value over the profile's zone", () => {
    const berlin = makeDateParser("iso", "Europe/Berlin");
    expect(berlin("2024-07-01 12:00:00 +00:00")).toBe("2024-07-01T12:00:00Z");
    expect(berlin("2024-07-01 12:00:00")).toBe("2024-07-01T10:00:00Z");
  });

  it.each([
    "",
    "   ",
    "2024-3-01",
    "24-03-01",
    "2024/03/01",
    "2024-03-01T10",
    "2024-03-01 10:0",
    "2024-03-01T10:00:00.",
    "2024-03-01T10:00:00 junk",
    "2024-03-01T10:00:00+3",
    "2024-03-01T10:00:00+03:",
    "2024-03-01T10:00:00+030",
    "2024-03-01T10:00:00+24:00",
    "2024-03-01T10:00:00+03:60",
    "2024-03-01  10:00",
    "x2024-03-01",
  ])("rejects %j", (text) => {
    expect(utc(text)).toBeNull();
  });

  it.each([
    ["2024-02-30", "day 30 of February"],
    ["2024-04-31", "day 31 of April"],
    ["2024-13-01", "month 13"],
    ["2024-00-10", "month 0"],
    ["2024-03-00", "day 0"],
    ["2024-03-01 24:00", "hour 24"],
    ["2024-03-01 25:00", "hour 25"],
    ["2024-03-01 10:60", "minute 60"],
    ["2024-03-01 10:00:60", "second 60"],
  ])("rejects %j (%s)", (text) => {
    expect(utc(text)).toBeNull();
  });

  it("knows leap years, including the century rules", () => {
    expect(utc("2024-02-29")).toBe("2024-02-29T00:00:00Z");
    expect(utc("2000-02-29")).toBe("2000-02-29T00:00:00Z");
    expect(utc("2023-02-29")).toBeNull();
    expect(utc("1900-02-29")).toBeNull();
    expect(utc("2100-02-29")).toBeNull();
  });

  it("returns null when an offset pushes the instant past year 9999", () => {
    expect(utc("9999-12-31T23:00:00-05:00")).toBeNull();
    expect(utc("9999-12-31T23:00:00+05:00")).toBe("9999-12-31T18:00:00Z");
  });

  it("gives the same answer for a repeated value and recovers after a bad one", () => {
    expect(utc("2024-03-01 10:00")).toBe("2024-03-01T10:00:00Z");
    expect(utc("2024-03-01 10:00")).toBe("2024-03-01T10:00:00Z");
    expect(utc("2024-03-32 10:00")).toBeNull();
    expect(utc("2024-03-32 10:00")).toBeNull();
    expect(utc("2024-03-02 10:00")).toBe("2024-03-02T10:00:00Z");
  });
});

describe("makeDateParser: patterns", () => {
  it("reads dd.MM.yyyy HH:mm, and a value without the time as midnight", () => {
    const parse = makeDateParser("dd.MM.yyyy HH:mm", "Europe/Moscow");
    expect(parse("01.03.2024 10:00")).toBe("2024-03-01T07:00:00Z");
    expect(parse("01.03.2024")).toBe("2024-02-29T21:00:00Z");
    expect(parse(" 01.03.2024 10:00 ")).toBe("2024-03-01T07:00:00Z");
    expect(parse("01.03.2024 10:00 +0000")).toBe("2024-03-01T10:00:00Z");
    expect(parse("01.03.2024+01:00")).toBe("2024-02-29T23:00:00Z");
  });

  it("rejects impossible dates and times", () => {
    const parse = makeDateParser("dd.MM.yyyy HH:mm", "UTC");
    expect(parse("31.02.2024")).toBeNull();
    expect(parse("29.02.2023")).toBeNull();
    expect(parse("29.02.2024")).toBe("2024-02-29T00:00:00Z");
    expect(parse("01.03.2024 25:00")).toBeNull();
    expect(parse("01.03.2024 10:61")).toBeNull();
    expect(parse("01.13.2024")).toBeNull();
  });

  it("rejects values in another layout", () => {
    const parse = makeDateParser("dd.MM.yyyy HH:mm", "UTC");
    expect(parse("2024-03-01")).toBeNull();
    expect(parse("1.3.2024")).toBeNull();
    expect(parse("01/03/2024")).toBeNull();
    expect(parse("01.03.2024 10")).toBeNull();
    expect(parse("01.03.2024 10:00:00")).toBeNull();
    expect(parse("01.03.2024T10:00")).toBeNull();
  });

  it("makes seconds and fractions optional, but not minutes", () => {
    const parse = makeDateParser("dd.MM.yyyy HH:mm:ss.SSS", "UTC");
    expect(parse("01.03.2024 10:15:30.250")).toBe("2024-03-01T10:15:30Z");
    expect(parse("01.03.2024 10:15:30")).toBe("2024-03-01T10:15:30Z");
    expect(parse("01.03.2024 10:15")).toBe("2024-03-01T10:15:00Z");
    expect(parse("01.03.2024")).toBe("2024-03-01T00:00:00Z");
    expect(parse("01.03.2024 10")).toBeNull();
    expect(parse("01.03.2024 10:15:3")).toBeNull();
  });

  it("reads yy as 20yy", () => {
    const parse = makeDateParser("dd/MM/yy", "UTC");
    expect(parse("01/03/24")).toBe("2024-03-01T00:00:00Z");
    expect(parse("31/12/99")).toBe("2099-12-31T00:00:00Z");
    expect(parse("29/02/00")).toBe("2000-02-29T00:00:00Z");
    expect(parse("01/03/2024")).toBeNull();
  });

  it("accepts one or two digits for M, d and H, exactly two for MM, dd and HH", () => {
    const loose = makeDateParser("M/d/yyyy H:mm", "UTC");
    expect(loose("3/1/2024 9:05")).toBe("2024-03-01T09:05:00Z");
    expect(loose("12/31/2024 23:59")).toBe("2024-12-31T23:59:00Z");
    expect(loose("03/01/2024 09:05")).toBe("2024-03-01T09:05:00Z");
    expect(loose("3/1/2024 9:5")).toBeNull();
    const strict = makeDateParser("MM/dd/yyyy HH:mm", "UTC");
    expect(strict("3/1/2024 09:05")).toBeNull();
    expect(strict("03/01/2024 9:05")).toBeNull();
  });

  it("uses luxon's letters: MM is the month, mm the minutes", () => {
    const parse = makeDateParser("yyyy-MM-dd HH:mm", "UTC");
    expect(parse("2024-05-06 07:08")).toBe("2024-05-06T07:08:00Z");
  });

  it("treats other characters, and quoted text, as literals", () => {
    expect(makeDateParser("yyyyMMdd", "UTC")("20240301")).toBe("2024-03-01T00:00:00Z");
    expect(makeDateParser("yyyy-MM-ddTHH:mm", "UTC")("2024-03-01T10:00")).toBe("2024-03-01T10:00:00Z");
    expect(makeDateParser("yyyy-MM-dd'T'HH:mm", "UTC")("2024-03-01T10:00")).toBe("2024-03-01T10:00:00Z");
    expect(makeDateParser("dd.MM.yyyy 'um' HH:mm 'Uhr'", "UTC")("01.03.2024 um 10:00 Uhr")).toBe(
      "2024-03-01T10:00:00Z",
    );
    expect(makeDateParser("dd.MM.yyyy 'um' HH:mm 'Uhr'", "UTC")("01.03.2024")).toBe("2024-03-01T00:00:00Z");
    expect(makeDateParser("dd.MM.yyyy (HH:mm)", "UTC")("01.03.2024 (10:00)")).toBe("2024-03-01T10:00:00Z");
    expect(makeDateParser("dd.MM.yyyy (HH:mm)", "UTC")("01.03.2024 (10:00")).toBeNull();
  });

  it("does not make time tokens before the date optional", () => {
    const parse = makeDateParser("HH:mm dd.MM.yyyy", "UTC");
    expect(parse("10:00 01.03.2024")).toBe("2024-03-01T10:00:00Z");
    expect(parse("01.03.2024")).toBeNull();
  });

  it("accepts any pattern, but one without year, month and day matches nothing", () => {
    expect(makeDateParser("foo", "UTC")("foo")).toBeNull();
    expect(makeDateParser("HH:mm", "UTC")("10:00")).toBeNull();
    expect(makeDateParser("dd.MM", "UTC")("01.03")).toBeNull();
  });

  it("rejects letter runs it can't read, such as month names", () => {
    expect(() => makeDateParser("dd MMM yyyy", "UTC")).toThrow(ConfigError);
    expect(() => makeDateParser("dd MMM yyyy", "UTC")).toThrow(/"MMM" is not supported/);
    expect(() => makeDateParser("yyy-MM-dd", "UTC")).toThrow(ConfigError);
  });

  it("throws a ConfigError naming an unknown zone", () => {
    expect(() => makeDateParser("iso", "Mars/Olympus_Mons")).toThrow(ConfigError);
    expect(() => makeDateParser("iso", "Mars/Olympus_Mons")).toThrow(/Mars\/Olympus_Mons/);
    expect(() => makeDateParser("iso", "")).toThrow(ConfigError);
  });
});

describe("makeDateParser: zones and DST", () => {
  it("converts wall-clock time with the offset in force that day", () => {
    const london = makeDateParser("iso", "Europe/London");
    expect(london("2010-12-01 08:26:00")).toBe("2010-12-01T08:26:00Z");
    expect(london("2024-07-01 12:00")).toBe("2024-07-01T11:00:00Z");
    const newYork = makeDateParser("iso", "America/New_York");
    expect(newYork("2024-01-15 09:00")).toBe("2024-01-15T14:00:00Z");
    expect(newYork("2024-07-15 09:00")).toBe("2024-07-15T13:00:00Z");
    const kolkata = makeDateParser("iso", "Asia/Kolkata");
    expect(kolkata("2024-03-01 00:10")).toBe("2024-02-29T18:40:00Z");
  });

  it("Europe/Berlin, spring forward: 02:00–02:59 doesn't exist and moves forward an hour", () => {
    const berlin = makeDateParser("iso", "Europe/Berlin");
    expect(berlin("2024-03-31 01:59:59")).toBe("2024-03-31T00:59:59Z");
    expect(berlin("2024-03-31 02:00")).toBe("2024-03-31T01:00:00Z");
    expect(berlin("2024-03-31 02:30")).toBe("2024-03-31T01:30:00Z");
    expect(berlin("2024-03-31 03:00")).toBe("2024-03-31T01:00:00Z");
    expect(berlin("2024-03-31 03:30")).toBe("2024-03-31T01:30:00Z");
    expect(berlin("2024-03-31")).toBe("2024-03-30T23:00:00Z");
    expect(berlin("2024-03-31 23:00")).toBe("2024-03-31T21:00:00Z");
  });

  it("Europe/Berlin, fall back: 02:00–02:59 happens twice and reads as the first (CEST)", () => {
    const berlin = makeDateParser("iso", "Europe/Berlin");
    expect(berlin("2024-10-27 01:59")).toBe("2024-10-26T23:59:00Z");
    expect(berlin("2024-10-27 02:00")).toBe("2024-10-27T00:00:00Z");
    expect(berlin("2024-10-27 02:30")).toBe("2024-10-27T00:30:00Z");
    expect(berlin("2024-10-27 02:59:59")).toBe("2024-10-27T00:59:59Z");
    expect(berlin("2024-10-27 03:00")).toBe("2024-10-27T02:00:00Z");
    expect(berlin("2024-10-27")).toBe("2024-10-26T22:00:00Z");
    expect(berlin("2024-10-27 12:00")).toBe("2024-10-27T11:00:00Z");
  });

  it("Europe/London: the gap at 01:00 and the repeated 01:00–01:59", () => {
    const london = makeDateParser("iso", "Europe/London");
    expect(london("2024-03-31 00:30")).toBe("2024-03-31T00:30:00Z");
    expect(london("2024-03-31 01:30")).toBe("2024-03-31T01:30:00Z"); // = 02:30 BST
    expect(london("2024-03-31 02:00")).toBe("2024-03-31T01:00:00Z");
    expect(london("2024-10-27 00:59")).toBe("2024-10-26T23:59:00Z");
    expect(london("2024-10-27 01:30")).toBe("2024-10-27T00:30:00Z"); // the BST 01:30
    expect(london("2024-10-27 02:00")).toBe("2024-10-27T02:00:00Z");
  });

  it("applies the same rules in the southern hemisphere", () => {
    const sydney = makeDateParser("iso", "Australia/Sydney");
    expect(sydney("2024-04-07 02:30")).toBe("2024-04-06T15:30:00Z"); // ambiguous: the AEDT one
    expect(sydney("2024-04-07 03:00")).toBe("2024-04-06T17:00:00Z");
    expect(sydney("2024-10-06 02:30")).toBe("2024-10-05T16:30:00Z"); // gap: = 03:30 AEDT
  });

  it("handles a half-hour change that falls inside an hour (Lord Howe)", () => {
    const lordHowe = makeDateParser("iso", "Australia/Lord_Howe");
    expect(lordHowe("2024-10-06 01:59")).toBe("2024-10-05T15:29:00Z"); // +10:30
    expect(lordHowe("2024-10-06 02:15")).toBe("2024-10-05T15:45:00Z"); // in the gap, moved to 02:45
    expect(lordHowe("2024-10-06 02:45")).toBe("2024-10-05T15:45:00Z"); // +11
    expect(lordHowe("2024-04-07 01:45")).toBe("2024-04-06T14:45:00Z"); // ambiguous: the +11 one
    expect(lordHowe("2024-04-07 02:15")).toBe("2024-04-06T15:45:00Z"); // +10:30
  });

  it("resolves ambiguous times the same whatever the season the import runs in", () => {
    vi.useFakeTimers();
    try {
      for (const now of ["2025-01-15T12:00:00Z", "2025-07-15T12:00:00Z"]) {
        vi.setSystemTime(new Date(now));
        const parse = makeDateParser("dd.MM.yyyy HH:mm", "Europe/Paris");
        expect(parse("27.10.2024 02:30")).toBe("2024-10-27T00:30:00Z");
      }
    } finally {
      vi.useRealTimers();
    }
  });
});

describe("describeDateFormat", () => {
  it("describes iso and patterns for error messages", () => {
    expect(describeDateFormat("iso")).toBe("an ISO date like 2024-03-01 or 2024-03-01 10:00:00");
    expect(describeDateFormat("dd.MM.yyyy HH:mm")).toBe("a date in format dd.MM.yyyy HH:mm");
  });
});

describe("isValidZone", () => {
  it.each(["UTC", "Europe/Moscow", "America/Argentina/Buenos_Aires", "Etc/GMT+5"])("accepts %s", (zone) => {
    expect(isValidZone(zone)).toBe(true);
  });
  it.each(["", "Mars/Olympus_Mons", "Europe", "Berlin"])("rejects %j", (zone) => {
    expect(isValidZone(zone)).toBe(false);
  });
});

describe("localDate", () => {
  it("gives the calendar day in the zone", () => {
    expect(localDate("2024-03-01T23:30:00Z", "Europe/Berlin")).toBe("2024-03-02");
    expect(localDate("2024-03-01T23:30:00Z", "UTC")).toBe("2024-03-01");
    expect(localDate("2024-03-01T02:00:00Z", "America/New_York")).toBe("2024-02-29");
    expect(localDate("2024-10-26T22:00:00Z", "Europe/Berlin")).toBe("2024-10-27");
    expect(localDate("2024-10-26T21:59:59Z", "Europe/Berlin")).toBe("2024-10-26");
  });

  it("throws a ConfigError for an unknown zone", () => {
    expect(() => localDate("2024-03-01T00:00:00Z", "Nowhere/Land")).toThrow(ConfigError);
  });

  it("throws for text that isn't a timestamp", () => {
    expect(() => localDate("yesterday", "UTC")).toThrow(/not an ISO timestamp/);
  });
});

describe("nowIso", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("is the current UTC time without milliseconds", () => {
    vi.useFakeTimers();
    vi.setSystemTime(new Date("2026-03-02T08:00:00.789Z"));
    expect(nowIso()).toBe("2026-03-02T08:00:00Z");
  });
});
