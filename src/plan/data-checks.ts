/**
 * Two things that make every plan wrong without any error: data that ends long before now (every
 * customer looks lost), and a configured timezone that is not the one the shop's own clock wrote
 * (the send window lands at night for the customers). plan, weekly and status all ask here, so the
 * three say the same, in the same words.
 */
import { storedOffsets, type OffsetCounts } from "../import/offsets.js";
import type { Db } from "../store/open.js";
import { formatOffset, localDate, parseOffset } from "../time.js";
import { proposeZone, writesUtc, zoneFit } from "../zones.js";

/**
 * Stale: the newest order is older than STALE_GAPS of the shop's usual gaps between orders (the mean
 * gap over its last GAP_ORDERS orders), but never before MIN_STALE_DAYS and always after MAX_STALE_DAYS.
 * If orders came at random at the shop's recent pace, a silence of 7 usual gaps would happen by
 * chance about once in a thousand gaps (e^-7): far likelier, the export is old. A week is the floor
 * because a weekly cron imports an export that may be a few days old, and a quiet shop has quiet
 * weeks; past a month the statuses and reminders are a month out of date whatever the shop's pace.
 * The Shopify sample (409 orders): its last 100 orders came every 1.4 days, so it is stale after 9.8.
 */
export const STALE_GAPS = 7;
export const MIN_STALE_DAYS = 7;
export const MAX_STALE_DAYS = 30;
const GAP_ORDERS = 100;

/**
 * The timezone warning needs more than stray orders: more than 1% of those with an offset, in the
 * last year of the data (a year covers both sides of summer time; older orders may predate a move).
 */
const DISAGREEING_SHARE = 0.01;
const OFFSET_WINDOW_DAYS = 365;

const DAY_MS = 86_400_000;

/** As the commands print counts (src/cli/output.ts): 1,234. */
function formatCount(n: number): string {
  return n.toLocaleString("en-US");
}

export interface DataChecks {
  /** The newest order at or before now (UTC), and its day in the shop's timezone. */
  newest_order_at: string | null;
  newest_order_on: string | null;
  age_days: number | null;
  /** The mean gap between the shop's last orders (up to 100), in days. */
  usual_gap_days: number | null;
  stale_after_days: number;
  stale: boolean;
  timezone: string;
  /** Orders per UTC offset their time was written with, over the last year of the data. */
  offsets_seen: Record<string, number>;
  orders_without_offset: number;
  /** Of the orders with an offset (not all +00:00), those whose offset the configured zone does not have on their day. */
  orders_disagreeing: number;
  /** null when there is nothing to compare: no offsets recorded, or the export writes UTC. */
  timezone_fits: boolean | null;
  suggested_timezone: string | null;
  /** One sentence each, for stderr; empty when all is well. */
  warnings: string[];
}

export function checkData(db: Db, timezone: string, now: string): DataChecks {
  const checks: DataChecks = {
    newest_order_at: null,
    newest_order_on: null,
    age_days: null,
    usual_gap_days: null,
    stale_after_days: MAX_STALE_DAYS,
    stale: false,
    timezone,
    offsets_seen: {},
    orders_without_offset: 0,
    orders_disagreeing: 0,
    timezone_fits: null,
    suggested_timezone: null,
    warnings: [],
  };
  checkStaleness(db, timezone, now, checks);
  checkOffsets(db, timezone, now, checks);
  return checks;
}

function days(fromIso: string, toIso: string): number {
  return (Date.parse(toIso) - Date.parse(fromIso)) / DAY_MS;
}

function round1(n: number): number {
  return Math.round(n * 10) / 10;
}

function checkStaleness(db: Db, timezone: string, now: string, checks: DataChecks): void {
  const recent = db
    .prepare<[string, number], string>(
      "SELECT placed_at FROM orders WHERE placed_at <= ? ORDER BY placed_at DESC LIMIT ?",
    )
    .pluck()
    .all(now, GAP_ORDERS);
  if (recent.length === 0) {
    const later = db
      .prepare<[string], { n: number; first: string | null }>(
        "SELECT count(*) AS n, min(placed_at) AS first FROM orders WHERE placed_at > ?",
      )
      .get(now)!;
    if (later.n > 0) {
      checks.stale = true;
      checks.warnings.push(
        `no order was placed by ${now}: all ${formatCount(later.n)} imported orders are later (the first on ` +
          `${localDate(later.first!, timezone)}), so there is nothing to plan from. Check --now.`,
      );
    }
    return;
  }
  const newest = recent[0]!;
  const age = days(newest, now);
  const gap = recent.length >= 2 ? days(recent.at(-1)!, newest) / (recent.length - 1) : null;
  const after =
    gap === null ? MAX_STALE_DAYS : Math.min(MAX_STALE_DAYS, Math.max(MIN_STALE_DAYS, STALE_GAPS * gap));
  const day = localDate(newest, timezone);
  Object.assign(checks, {
    newest_order_at: newest,
    newest_order_on: day,
    age_days: round1(age),
    usual_gap_days: gap === null ? null : round1(gap),
    stale_after_days: round1(after),
    stale: age > after,
  });
  if (!checks.stale) return;
  const pace =
    gap === null
      ? `comeback warns after ${MAX_STALE_DAYS} days without one`
      : `the shop's last orders came about every ${describeDays(gap)}, so comeback warns after ${describeDays(after)} without one`;
  const nextDay = new Date(Date.parse(`${day}T00:00:00Z`) + DAY_MS).toISOString().slice(0, 10);
  checks.warnings.push(
    `the data looks stale: the newest order is from ${day}, ${describeDays(age)} before ${localDate(now, timezone)} ` +
      `(${pace}). Everything is worked out as of now, so customers look lapsed or lost who may only be ` +
      `missing from the export. Import a current export (comeback import orders FILE), or work as of the ` +
      `export's end with --now ${nextDay}.`,
  );
}

function describeDays(n: number): string {
  const [value, unit] =
    n * 24 < 1
      ? [Math.max(1, Math.round(n * 1440)), "minute"]
      : n < 1
        ? [round1(n * 24), "hour"]
        : [n < 10 ? round1(n) : Math.round(n), "day"];
  return `${formatCount(value)} ${unit}${value === 1 ? "" : "s"}`;
}

/** The offsets seen on days within a year before the newest day seen up to now. */
function lastYear(counts: OffsetCounts, now: string): OffsetCounts {
  const today = now.slice(0, 10);
  const seenDays = Object.values(counts.offsets)
    .flatMap((byDay) => Object.keys(byDay))
    .filter((day) => day <= today);
  if (seenDays.length === 0) return { offsets: {}, without_offset: counts.without_offset };
  const last = seenDays.reduce((a, b) => (a > b ? a : b));
  const first = new Date(Date.parse(`${last}T00:00:00Z`) - OFFSET_WINDOW_DAYS * DAY_MS)
    .toISOString()
    .slice(0, 10);
  const offsets: OffsetCounts["offsets"] = {};
  for (const [offset, byDay] of Object.entries(counts.offsets)) {
    const kept = Object.entries(byDay).filter(([day]) => day >= first && day <= today);
    if (kept.length > 0) offsets[offset] = Object.fromEntries(kept);
  }
  return { offsets, without_offset: counts.without_offset };
}

function checkOffsets(db: Db, timezone: string, now: string, checks: DataChecks): void {
  const counts = lastYear(storedOffsets(db), now);
  checks.orders_without_offset = counts.without_offset;
  for (const [offset, byDay] of Object.entries(counts.offsets))
    checks.offsets_seen[offset] = Object.values(byDay).reduce((a, b) => a + b, 0);
  if (Object.keys(counts.offsets).length === 0 || writesUtc(counts)) return;
  const configured = zoneFit(timezone, counts);
  checks.orders_disagreeing = configured.total - configured.agreeing;
  checks.timezone_fits = checks.orders_disagreeing <= configured.total * DISAGREEING_SHARE;
  if (checks.timezone_fits) return;

  const proposal = proposeZone(counts);
  const better = proposal !== null && proposal.agreeing > configured.agreeing ? proposal : null;
  checks.suggested_timezone = better?.zone ?? null;
  const seen = Object.entries(checks.offsets_seen)
    .sort(([a], [b]) => parseOffset(a) - parseOffset(b))
    .map(([offset, n], i) => `${offset} (${formatCount(n)}${i === 0 ? ` order${n === 1 ? "" : "s"}` : ""})`);
  const has = configured.zoneOffsets.map(formatOffset);
  const disagreeing =
    checks.orders_disagreeing === configured.total
      ? ""
      : ` (${formatCount(checks.orders_disagreeing)} of ${formatCount(configured.total)} orders disagree)`;
  const alternatives = better?.alternatives.length
    ? `; so do ${better.alternatives.slice(0, 3).join(", ")}`
    : "";
  const fix = better
    ? `If they live by the shop's clock, set "timezone: ${better.zone}" in the config (its offsets fit ` +
      `${better.agreeing === better.total ? "all" : `${formatCount(better.agreeing)} of`} ${formatCount(better.total)} orders${alternatives}).`
    : "Set timezone in the config to the IANA zone the shop's customers live in.";
  const unzoned =
    counts.without_offset > 0
      ? ` Orders whose times had no offset were read in ${timezone}: after changing it, import their files again with --force.`
      : "";
  checks.warnings.push(
    `the timezone looks wrong: in the last year of orders, the times were written with UTC ` +
      `offset${seen.length === 1 ? "" : "s"} ${joinWords(seen)}, but ${timezone} has ${joinWords(has)} ` +
      `on those dates${disagreeing}. The week, the send window and the dates in emails follow the configured ` +
      `timezone, so emails may arrive at night for these customers. ${fix}${unzoned}`,
  );
}

function joinWords(words: string[]): string {
  return words.length <= 1 ? (words[0] ?? "") : `${words.slice(0, -1).join(", ")} and ${words.at(-1)}`;
}
