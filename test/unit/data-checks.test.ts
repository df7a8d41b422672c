import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { OffsetCounts } from "../../src/import/offsets.js";
import { checkData, MAX_STALE_DAYS, MIN_STALE_DAYS, STALE_GAPS } from "../../src/plan/data-checks.js";
import { openStore, type Db } from "../../src/store/open.js";

const DAY = 86_400_000;

function store(): Db {
  return openStore(join(mkdtempSync(join(tmpdir(), "comeback-checks-")), "comeback.db"));
}

/** Orders every `everyDays` days, the last at `last` (UTC ISO). */
function addOrders(db: Db, count: number, everyDays: number, last: string): void {
  const insert = db.prepare(
    `INSERT INTO orders (source, external_id, placed_at, status_class, currency, created_at, updated_at)
     VALUES ('shop', ?, ?, 'completed', 'EUR', ?, ?)`,
  );
  for (let i = 0; i < count; i++) {
    const at = new Date(Date.parse(last) - i * everyDays * DAY).toISOString().slice(0, 19) + "Z";
    insert.run(`O${i}`, at, at, at);
  }
}

function addImport(db: Db, offsets: OffsetCounts | null, sha = "a"): void {
  db.prepare(
    `INSERT INTO imports (file, sha256, kind, profile, encoding, rows, report, started_at, finished_at, offsets)
     VALUES ('orders.csv', ?, 'orders', 'generic', 'utf-8', 0, '{}', '2024-01-01T00:00:00Z', '2024-01-01T00:00:00Z', ?)`,
  ).run(sha, offsets === null ? null : JSON.stringify(offsets));
}

function after(iso: string, days: number): string {
  return new Date(Date.parse(iso) + days * DAY).toISOString().slice(0, 19) + "Z";
}

describe("stale data", () => {
  const last = "2024-06-30T12:00:00Z";

  it("a daily shop is stale after the one-week floor, naming the newest order's day", () => {
    const db = store();
    addOrders(db, 200, 1, last);
    expect(checkData(db, "UTC", after(last, MIN_STALE_DAYS - 0.5))).toMatchObject({
      stale: false,
      usual_gap_days: 1,
      stale_after_days: MIN_STALE_DAYS,
      warnings: [],
    });
    const late = checkData(db, "UTC", after(last, MIN_STALE_DAYS + 0.5));
    expect(late).toMatchObject({ stale: true, newest_order_on: "2024-06-30", age_days: 7.5 });
    expect(late.warnings).toHaveLength(1);
    expect(late.warnings[0]).toMatch(/newest order is from 2024-06-30, 7\.5 days before 2024-07-08/);
    expect(late.warnings[0]).toMatch(/--now 2024-07-01/);
  });

  it("a shop that sells every few days waits seven of its gaps; none waits past a month", () => {
    const db = store();
    addOrders(db, 50, 3, last);
    expect(checkData(db, "UTC", after(last, 3 * STALE_GAPS - 0.5)).stale).toBe(false);
    expect(checkData(db, "UTC", after(last, 3 * STALE_GAPS + 0.5)).stale).toBe(true);
    const weekly = store();
    addOrders(weekly, 50, 7, last);
    expect(checkData(weekly, "UTC", after(last, MAX_STALE_DAYS - 1)).stale).toBe(false);
    expect(checkData(weekly, "UTC", after(last, MAX_STALE_DAYS + 1))).toMatchObject({
      stale: true,
      stale_after_days: MAX_STALE_DAYS,
    });
  });

  it("words a busy shop's pace in minutes", () => {
    const db = store();
    addOrders(db, 200, 6 / 1440, last);
    const late = checkData(db, "UTC", after(last, 10));
    expect(late.warnings[0]).toMatch(
      /came about every 6 minutes, so comeback warns after 7 days without one/,
    );
  });

  it("as of a past --now, compares with that and ignores the later orders", () => {
    const db = store();
    addOrders(db, 200, 1, last);
    // As of 2024-05-01 the newest order is the one of 2024-04-30: fresh.
    const past = checkData(db, "UTC", "2024-05-01T08:00:00Z");
    expect(past).toMatchObject({ stale: false, newest_order_on: "2024-04-30" });
    const before = checkData(db, "UTC", "2020-01-01T00:00:00Z");
    expect(before.stale).toBe(true);
    expect(before.warnings[0]).toMatch(
      /no order was placed by 2020-01-01T00:00:00Z: all 200 imported orders are later/,
    );
  });

  it("says nothing of an empty database", () => {
    expect(checkData(store(), "UTC", last)).toMatchObject({
      stale: false,
      warnings: [],
      newest_order_at: null,
    });
  });
});

describe("offsets against the configured timezone", () => {
  const now = "2022-01-12T00:00:00Z";
  const newYork: OffsetCounts = {
    offsets: { "-05:00": { "2021-12-01": 30, "2022-01-10": 20 }, "-04:00": { "2021-07-01": 50 } },
    without_offset: 0,
  };

  it("warns when the zone has other offsets on those dates, naming both and a zone that fits", () => {
    const db = store();
    addImport(db, newYork);
    const checks = checkData(db, "Europe/Berlin", now);
    expect(checks).toMatchObject({
      timezone_fits: false,
      orders_disagreeing: 100,
      offsets_seen: { "-05:00": 50, "-04:00": 50 },
      suggested_timezone: "America/New_York",
    });
    expect(checks.warnings[0]).toMatch(
      /written with UTC offsets -05:00 \(50 orders\) and -04:00 \(50\), but Europe\/Berlin has \+01:00 and \+02:00/,
    );
    expect(checks.warnings[0]).toMatch(/set "timezone: America\/New_York" in the config/);
    expect(checkData(db, "America/New_York", now)).toMatchObject({ timezone_fits: true, warnings: [] });
    expect(checkData(db, "America/Toronto", now).timezone_fits).toBe(true);
  });

  it("ignores a stray 1% and older years, and counts overlapping exports once", () => {
    const db = store();
    addImport(db, { offsets: { ...newYork.offsets, "+01:00": { "2022-01-05": 1 } }, without_offset: 0 });
    expect(checkData(db, "America/New_York", now).timezone_fits).toBe(true);
    addImport(db, { offsets: { "+01:00": { "2019-01-05": 500 } }, without_offset: 0 }, "b");
    expect(checkData(db, "America/New_York", now).timezone_fits).toBe(true);
    addImport(db, newYork, "c");
    expect(checkData(db, "America/New_York", now).offsets_seen).toEqual({
      "-05:00": 50,
      "-04:00": 50,
      "+01:00": 1,
    });
  });

  it("does not compare an export that writes UTC, times without an offset, or imports from before offsets were kept", () => {
    const db = store();
    addImport(db, { offsets: { "+00:00": { "2021-07-01": 10 } }, without_offset: 3 });
    addImport(db, null, "b");
    expect(checkData(db, "America/New_York", now)).toMatchObject({
      timezone_fits: null,
      orders_without_offset: 3,
      warnings: [],
    });
  });
});
