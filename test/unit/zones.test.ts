import { describe, expect, it } from "vitest";
import type { OffsetCounts } from "../../src/import/offsets.js";
import { formatOffset, makeOffsetReader, parseOffset } from "../../src/time.js";
import { proposeZone, writesUtc, zoneFit } from "../../src/zones.js";

/** Counts with `orders` orders on each day from `from` to `to` (inclusive), all written with `offset`. */
function days(offset: string, from: string, to: string, orders = 1): OffsetCounts["offsets"] {
  const byDay: Record<string, number> = {};
  for (let t = Date.parse(`${from}T00:00:00Z`); t <= Date.parse(`${to}T00:00:00Z`); t += 86_400_000)
    byDay[new Date(t).toISOString().slice(0, 10)] = orders;
  return { [offset]: byDay };
}

function counts(...parts: OffsetCounts["offsets"][]): OffsetCounts {
  const offsets: OffsetCounts["offsets"] = {};
  for (const part of parts)
    for (const [offset, byDay] of Object.entries(part)) offsets[offset] = { ...offsets[offset], ...byDay };
  return { offsets, without_offset: 0 };
}

// 2021 in the US: summer time from 2021-03-14 to 2021-11-07.
const NEW_YORK_2021 = counts(
  days("-05:00", "2021-01-01", "2021-03-13"),
  days("-04:00", "2021-03-15", "2021-11-06"),
  days("-05:00", "2021-11-08", "2021-12-31"),
);

describe("makeOffsetReader", () => {
  it("reads the offset the date parser applies, and none where there is none", () => {
    const iso = makeOffsetReader("iso");
    expect(iso("2022-01-11 04:32:30 -0500")).toBe(-300);
    expect(iso("2022-07-11T04:32:30+05:30")).toBe(330);
    expect(iso("2022-07-11T04:32:30Z")).toBe(0);
    expect(iso("2022-07-11 04:32:30")).toBeNull();
    expect(iso("2022-07-11")).toBeNull();
    expect(iso("not a date -0500")).toBeNull();
    expect(iso("")).toBeNull();
    const german = makeOffsetReader("dd.MM.yyyy HH:mm");
    expect(german("01.03.2024 10:00 +0100")).toBe(60);
    expect(german("01.03.2024 10:00")).toBeNull();
  });

  it("formats and parses offsets as ISO 8601 writes them", () => {
    expect(formatOffset(-300)).toBe("-05:00");
    expect(formatOffset(330)).toBe("+05:30");
    expect(formatOffset(0)).toBe("+00:00");
    expect(parseOffset("-05:00")).toBe(-300);
    expect(parseOffset("+05:45")).toBe(345);
  });
});

describe("proposeZone", () => {
  it("takes -05:00 in winter and -04:00 in summer on the US dates for America/New_York, with the alternatives", () => {
    const proposal = proposeZone(NEW_YORK_2021)!;
    expect(proposal.zone).toBe("America/New_York");
    expect(proposal.agreeing).toBe(proposal.total);
    expect(proposal.alternatives).toContain("America/Toronto");
    expect(proposal.alternatives).not.toContain("America/Bogota");
    expect(proposal.oneSeason).toBe(false);
  });

  it("tells a zone without summer time from one with it when the data spans a year", () => {
    expect(proposeZone(counts(days("-05:00", "2021-01-01", "2021-12-31")))!.zone).toBe("America/Bogota");
    expect(proposeZone(counts(days("-07:00", "2021-01-01", "2021-12-31")))!.zone).toBe("America/Phoenix");
    const denver = counts(
      days("-07:00", "2021-01-01", "2021-03-13"),
      days("-06:00", "2021-03-15", "2021-11-06"),
    );
    expect(proposeZone(denver)!.zone).toBe("America/Denver");
    const berlin = counts(
      days("+01:00", "2021-01-01", "2021-03-27"),
      days("+02:00", "2021-03-29", "2021-10-30"),
      days("+01:00", "2021-11-01", "2021-12-31"),
    );
    expect(proposeZone(berlin)!.zone).toBe("Europe/Berlin");
    const london = counts(
      days("+00:00", "2021-01-01", "2021-03-27"),
      days("+01:00", "2021-03-29", "2021-10-30"),
    );
    expect(proposeZone(london)!.zone).toBe("Europe/London");
  });

  it("says when one season cannot tell summer time apart", () => {
    const winter = proposeZone(counts(days("-05:00", "2021-12-01", "2022-01-31")))!;
    expect(winter.zone).toBe("America/New_York");
    expect(winter.oneSeason).toBe(true);
    expect(winter.alternatives).toContain("America/Bogota");
  });

  it("counts either offset on the day the clocks change", () => {
    const change = counts({ "-05:00": { "2021-03-14": 3 } }, { "-04:00": { "2021-03-14": 5 } });
    expect(zoneFit("America/New_York", change)).toMatchObject({ agreeing: 8, total: 8 });
    expect(zoneFit("America/Chicago", change).agreeing).toBe(3);
  });

  it("proposes the best partial fit when no zone fits every order", () => {
    const moved = counts(
      days("-05:00", "2021-01-01", "2021-01-10"),
      days("+01:00", "2021-01-11", "2021-12-31"),
    );
    const proposal = proposeZone(moved)!;
    expect(proposal.agreeing).toBeLessThan(proposal.total);
    expect(proposal.agreeing).toBe(355);
  });

  it("proposes nothing from times without an offset, or written in UTC", () => {
    expect(proposeZone({ offsets: {}, without_offset: 40 })).toBeNull();
    const utc = counts(days("+00:00", "2021-01-01", "2021-12-31"));
    expect(writesUtc(utc)).toBe(true);
    expect(proposeZone(utc)).toBeNull();
    expect(writesUtc(NEW_YORK_2021)).toBe(false);
  });

  it("is quick enough for every plan that finds the zone wrong", () => {
    const threeYears = counts(days("-05:00", "2019-01-01", "2021-12-31", 4));
    const started = performance.now();
    proposeZone(threeYears);
    // 418 zones over 1,096 days: weekly sampling keeps it well under a second (4 s asked day by day).
    expect(performance.now() - started).toBeLessThan(3000);
  });
});
