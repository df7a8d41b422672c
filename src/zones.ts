/**
 * Which IANA timezones fit the UTC offsets an export's order times were written with. A shop system
 * that writes offsets (Shopify: `-0500` in winter, `-0400` in summer) writes its own zone's, so the
 * zones whose offsets on those days are the same are the shop's candidates. Used by `init --from` to
 * propose a timezone, and by the data checks to say which zone would fit when the configured one does not.
 */
import { IANAZone } from "luxon";
import type { OffsetCounts } from "./import/offsets.js";
import { parseOffset } from "./time.js";

/**
 * Zones preferred when several fit the same offsets, most used first within each region: among the
 * zones that keep -05:00 in winter and -04:00 in summer on the US dates, America/New_York, not
 * America/Nassau. The first that fits wins; the others are listed as alternatives.
 */
export const COMMON_ZONES: readonly string[] = [
  "America/New_York",
  "America/Chicago",
  "America/Denver",
  "America/Phoenix",
  "America/Los_Angeles",
  "America/Anchorage",
  "Pacific/Honolulu",
  "America/Toronto",
  "America/Vancouver",
  "America/Edmonton",
  "America/Winnipeg",
  "America/Halifax",
  "America/St_Johns",
  "America/Mexico_City",
  "America/Bogota",
  "America/Lima",
  "America/Santiago",
  "America/Argentina/Buenos_Aires",
  "America/Sao_Paulo",
  "Europe/London",
  "Europe/Dublin",
  "Europe/Lisbon",
  "Europe/Berlin",
  "Europe/Paris",
  "Europe/Madrid",
  "Europe/Rome",
  "Europe/Amsterdam",
  "Europe/Brussels",
  "Europe/Vienna",
  "Europe/Zurich",
  "Europe/Stockholm",
  "Europe/Oslo",
  "Europe/Copenhagen",
  "Europe/Warsaw",
  "Europe/Prague",
  "Europe/Budapest",
  "Europe/Helsinki",
  "Europe/Athens",
  "Europe/Bucharest",
  "Europe/Kyiv",
  "Europe/Istanbul",
  "Europe/Minsk",
  "Europe/Moscow",
  "Asia/Jerusalem",
  "Asia/Dubai",
  "Asia/Tehran",
  "Asia/Karachi",
  "Asia/Kolkata",
  "Asia/Kathmandu",
  "Asia/Dhaka",
  "Asia/Bangkok",
  "Asia/Jakarta",
  "Asia/Singapore",
  "Asia/Shanghai",
  "Asia/Hong_Kong",
  "Asia/Taipei",
  "Asia/Manila",
  "Asia/Seoul",
  "Asia/Tokyo",
  "Australia/Perth",
  "Australia/Adelaide",
  "Australia/Darwin",
  "Australia/Brisbane",
  "Australia/Sydney",
  "Australia/Melbourne",
  "Pacific/Auckland",
  "Africa/Casablanca",
  "Africa/Lagos",
  "Africa/Cairo",
  "Africa/Johannesburg",
  "Africa/Nairobi",
  "Asia/Yekaterinburg",
  "Asia/Novosibirsk",
  "Asia/Vladivostok",
];

const DAY_MS = 86_400_000;

/** Days since 1970-01-01 of `2022-01-11`. */
function dayNumber(day: string): number {
  return Math.floor(Date.parse(`${day}T00:00:00Z`) / DAY_MS);
}

/** Orders per offset and day, as numbers, from stored counts. */
interface Observations {
  entries: { offset: number; day: number; orders: number }[];
  total: number;
  firstDay: number;
  lastDay: number;
}

function observations(counts: OffsetCounts): Observations {
  const entries: Observations["entries"] = [];
  for (const [offset, days] of Object.entries(counts.offsets)) {
    for (const [day, orders] of Object.entries(days))
      entries.push({ offset: parseOffset(offset), day: dayNumber(day), orders });
  }
  const days = entries.map((e) => e.day);
  return {
    entries,
    total: entries.reduce((n, e) => n + e.orders, 0),
    firstDay: days.length ? Math.min(...days) : 0,
    lastDay: days.length ? Math.max(...days) : 0,
  };
}

/**
 * A zone's offset (minutes) at 00:00 UTC of each day from `first` to `last + 1`. Offsets change at
 * most a few times a year, so it asks luxon once a week and day by day only in a week where the
 * offset changed: 418 zones over three years take about 0.3 s instead of 4.
 */
function dailyOffsets(zone: IANAZone, first: number, last: number): Int16Array {
  const days = last + 1 - first;
  const out = new Int16Array(days + 1);
  const at = (d: number) => Math.round(zone.offset((first + d) * DAY_MS));
  const WEEK = 7;
  let previous = 0;
  out[0] = at(0);
  while (previous < days) {
    const next = Math.min(previous + WEEK, days);
    out[next] = at(next);
    for (let d = previous + 1; d < next; d++) out[d] = out[next] === out[previous] ? out[previous]! : at(d);
    previous = next;
  }
  return out;
}

export interface ZoneFit {
  zone: string;
  /** Orders whose offset the zone has on their day (either offset on a day the clocks change). */
  agreeing: number;
  /** The zone's offsets on the days seen, in minutes, ascending. */
  zoneOffsets: number[];
}

function fit(zoneName: string, seen: Observations): ZoneFit {
  const zone = IANAZone.create(zoneName);
  const offsets = dailyOffsets(zone, seen.firstDay, seen.lastDay);
  let agreeing = 0;
  const zoneOffsets = new Set<number>();
  for (const { offset, day, orders } of seen.entries) {
    const start = offsets[day - seen.firstDay]!;
    const end = offsets[day - seen.firstDay + 1]!;
    zoneOffsets.add(start);
    if (offset === start || offset === end) agreeing += orders;
  }
  return { zone: zoneName, agreeing, zoneOffsets: [...zoneOffsets].sort((a, b) => a - b) };
}

/** How well one zone fits what the imports saw (used for the configured zone). */
export function zoneFit(zone: string, counts: OffsetCounts): ZoneFit & { total: number } {
  const seen = observations(counts);
  return { ...fit(zone, seen), total: seen.total };
}

/** True when every offset seen is +00:00: the system wrote UTC, which says nothing of the shop's zone. */
export function writesUtc(counts: OffsetCounts): boolean {
  const offsets = Object.keys(counts.offsets);
  return offsets.length > 0 && offsets.every((offset) => parseOffset(offset) === 0);
}

export interface ZoneProposal {
  zone: string;
  agreeing: number;
  total: number;
  /** Other zones that fit as well (or, when none fits every order, next best), most common first. */
  alternatives: string[];
  firstDay: string;
  lastDay: string;
  /** One offset seen over less than a year: zones with and without summer time fit alike. */
  oneSeason: boolean;
}

/** The most likely zone for what the imports saw; null when no order time had an offset, or all were UTC. */
export function proposeZone(counts: OffsetCounts): ZoneProposal | null {
  if (Object.keys(counts.offsets).length === 0 || writesUtc(counts)) return null;
  const seen = observations(counts);
  const rank = new Map(COMMON_ZONES.map((zone, i) => [zone, i]));
  const others = Intl.supportedValuesOf("timeZone").filter((zone) => !rank.has(zone));
  const candidates = [...COMMON_ZONES, ...others].filter((zone) => IANAZone.isValidZone(zone));
  // Sorted by fit, then by how common the zone is (the list's order), then by name.
  const fits = candidates
    .map((zone, i) => ({ ...fit(zone, seen), order: i }))
    .sort((a, b) => b.agreeing - a.agreeing || a.order - b.order);
  const best = fits[0]!;
  const alternatives = fits
    .slice(1)
    .filter((f) => f.agreeing === best.agreeing || best.agreeing < seen.total)
    .slice(0, 6)
    .map((f) => f.zone);
  const day = (n: number) => new Date(n * DAY_MS).toISOString().slice(0, 10);
  return {
    zone: best.zone,
    agreeing: best.agreeing,
    total: seen.total,
    alternatives,
    firstDay: day(seen.firstDay),
    lastDay: day(seen.lastDay),
    oneSeason: Object.keys(counts.offsets).length === 1 && seen.lastDay - seen.firstDay < 365,
  };
}
