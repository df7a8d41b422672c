/**
 * Whole days in the shop's timezone as day numbers (days since 1970-01-01), the unit the lifecycle
 * counts in. Converting a few hundred thousand order times must not ask Intl for each one: the
 * zone's offset is looked up once per UTC day (twice, at its start and end) and only days with a
 * daylight-saving change are looked up per timestamp.
 */
import { IANAZone } from "luxon";
import { ConfigError } from "../errors.js";

const MS_PER_DAY = 86_400_000;

/** A function from a UTC ISO timestamp (or epoch ms) to the day number of the shop's calendar day. */
export function makeDayOf(zone: string): (utc: string | number) => number {
  if (!IANAZone.isValidZone(zone)) throw new ConfigError(`"${zone}" is not a known time zone`);
  const tz = IANAZone.create(zone);
  const offsetByUtcDay = new Map<number, number | null>(); // minutes, or null: it changes that day
  return (utc) => {
    const ms = typeof utc === "number" ? utc : Date.parse(utc);
    const utcDay = Math.floor(ms / MS_PER_DAY);
    let offset = offsetByUtcDay.get(utcDay);
    if (offset === undefined) {
      const start = tz.offset(utcDay * MS_PER_DAY);
      const end = tz.offset((utcDay + 1) * MS_PER_DAY - 1);
      offset = start === end ? start : null;
      offsetByUtcDay.set(utcDay, offset);
    }
    const minutes = offset ?? tz.offset(ms);
    return Math.floor((ms + minutes * 60_000) / MS_PER_DAY);
  };
}

const dates = new Map<number, string>();

/** `YYYY-MM-DD` of a day number (cached: a shop's orders fall on a few thousand distinct days). */
export function dayToDate(day: number): string {
  let date = dates.get(day);
  if (date === undefined) {
    date = new Date(day * MS_PER_DAY).toISOString().slice(0, 10);
    if (dates.size < 100_000) dates.set(day, date);
  }
  return date;
}

/** The day number of a `YYYY-MM-DD` date. */
export function dateToDay(date: string): number {
  return Math.floor(Date.parse(`${date}T00:00:00Z`) / MS_PER_DAY);
}
