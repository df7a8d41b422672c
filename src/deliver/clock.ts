/**
 * The delivery clock: ISO weeks and the send window, in the shop's timezone (`--now` is src/cli/now.ts).
 * Instants are UTC ISO text with whole seconds (`2026-03-02T08:00:00Z`), as stored everywhere.
 */
import { DateTime } from "luxon";

const toIso = (dt: DateTime): string => dt.toUTC().toISO({ suppressMilliseconds: true })!.replace(".000", "");

export interface IsoWeek {
  /** `2026-W10` */
  week: string;
  /** Monday and Sunday of it, `YYYY-MM-DD`. */
  monday: string;
  sunday: string;
}

/** The ISO week an instant falls in, in the shop's timezone. */
export function isoWeekOf(instant: string, zone: string): IsoWeek {
  const local = DateTime.fromISO(instant, { zone: "utc" }).setZone(zone);
  const monday = local.startOf("week");
  return {
    week: `${local.weekYear}-W${String(local.weekNumber).padStart(2, "0")}`,
    monday: monday.toISODate()!,
    sunday: monday.plus({ days: 6 }).toISODate()!,
  };
}

export interface SendWindow {
  /** Minutes after local midnight; `end` may be below `start` for a window that spans midnight. */
  start: number;
  end: number;
}

/**
 * null when `instant` is inside the window, else the next instant the window opens. Computed on
 * the local wall clock, so a DST change moves the window with the shop's day.
 */
export function nextWindowOpening(instant: string, window: SendWindow, zone: string): string | null {
  const local = DateTime.fromISO(instant, { zone: "utc" }).setZone(zone);
  const minute = local.hour * 60 + local.minute;
  const inside =
    window.start < window.end
      ? minute >= window.start && minute < window.end
      : minute >= window.start || minute < window.end;
  if (inside) return null;
  const todayStart = local.startOf("day").plus({ minutes: window.start });
  const opening = minute < window.start ? todayStart : todayStart.plus({ days: 1 });
  return toIso(opening);
}

export function addHours(instant: string, hours: number): string {
  return toIso(
    DateTime.fromISO(instant, { zone: "utc" }).plus({ milliseconds: Math.round(hours * 3_600_000) }),
  );
}
