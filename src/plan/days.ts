/**
 * Whole days in the shop's timezone as day numbers (days since 1970-01-01), the unit every planner
 * counts in: adding days is then plain addition, and `YYYY-MM-DD` text is made only at the edges.
 * The one place for turning instants into the shop's calendar days and back.
 */
import { IANAZone } from "luxon";
import { ConfigError } from "../errors.js";

export const SECONDS_PER_DAY = 86_400;
export const MS_PER_DAY = SECONDS_PER_DAY * 1000;

/** `2026-03-02` → its day number; NaN when the text is not a real date. */
export function dayNumber(date: string): number {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (!match) return Number.NaN;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const ms = Date.UTC(year, month - 1, day);
  const back = new Date(ms);
  // Date.UTC rolls 2026-02-31 over into March: a date that doesn't come back as written is not real.
  if (back.getUTCFullYear() !== year || back.getUTCMonth() !== month - 1 || back.getUTCDate() !== day) {
    return Number.NaN;
  }
  return Math.round(ms / MS_PER_DAY);
}

const dayStrings = new Map<number, string>();

/** Day number → `YYYY-MM-DD`; memoised, because a plan writes the same few thousand dates many times. */
export function dayString(day: number): string {
  let text = dayStrings.get(day);
  if (text === undefined) {
    text = new Date(day * MS_PER_DAY).toISOString().slice(0, 10);
    if (dayStrings.size > 100_000) dayStrings.clear();
    dayStrings.set(day, text);
  }
  return text;
}

/**
 * The shop's calendar day of an instant, fast enough to run once per order line. A zone's offset only
 * changes at a transition, so it is looked up once per UTC day when the day has none, and per quarter
 * hour (the finest step any zone's transitions take) on the few days that do.
 */
export class LocalDays {
  private readonly zone: IANAZone | null;
  private readonly byDay = new Map<number, number>();
  private readonly byQuarter = new Map<number, number>();

  constructor(zone: string) {
    if (!IANAZone.isValidZone(zone)) throw new ConfigError(`"${zone}" is not a known time zone`);
    this.zone = zone === "UTC" || zone === "Etc/UTC" ? null : IANAZone.create(zone);
  }

  /** Seconds since the epoch → the day number of the shop's calendar date at that instant. */
  dayOf(epochSeconds: number): number {
    return Math.floor((epochSeconds + this.offsetAt(epochSeconds)) / SECONDS_PER_DAY);
  }

  private offsetAt(epochSeconds: number): number {
    if (this.zone === null) return 0;
    const utcDay = Math.floor(epochSeconds / SECONDS_PER_DAY);
    let offset = this.byDay.get(utcDay);
    if (offset === undefined) {
      const start = this.zoneOffset(utcDay * SECONDS_PER_DAY);
      const end = this.zoneOffset((utcDay + 1) * SECONDS_PER_DAY - 1);
      offset = start === end ? start : Number.NaN;
      this.byDay.set(utcDay, offset);
    }
    if (offset === offset) return offset;
    const quarter = Math.floor(epochSeconds / 900);
    let exact = this.byQuarter.get(quarter);
    if (exact === undefined) {
      exact = this.zoneOffset(quarter * 900);
      this.byQuarter.set(quarter, exact);
    }
    return exact;
  }

  private zoneOffset(epochSeconds: number): number {
    return Math.round((this.zone as IANAZone).offset(epochSeconds * 1000) * 60);
  }
}

/** The day number of `utcIso` (a stored UTC timestamp) in the shop's zone. */
export function localDayOf(utcIso: string, zone: string): number {
  const ms = Date.parse(utcIso);
  if (Number.isNaN(ms)) throw new Error(`localDayOf: "${utcIso}" is not an ISO timestamp`);
  return new LocalDays(zone).dayOf(Math.floor(ms / 1000));
}

/**
 * A function from a UTC instant (ISO text or epoch milliseconds) to the day number of the shop's
 * calendar day, for code that holds timestamps rather than unix seconds.
 */
export function makeDayOf(zone: string): (utc: string | number) => number {
  const days = new LocalDays(zone);
  return (utc) => days.dayOf(Math.floor((typeof utc === "number" ? utc : Date.parse(utc)) / 1000));
}
