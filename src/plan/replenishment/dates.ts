/**
 * ISO weeks for reminders and the Monday batch, on day numbers (src/plan/days.ts).
 */
import { DateTime } from "luxon";
import { UsageError } from "../../errors.js";
import { MS_PER_DAY } from "../days.js";

export interface IsoWeek {
  /** `2026-W10` */
  label: string;
  /** Day numbers of its Monday and Sunday. */
  monday: number;
  sunday: number;
}

/** The ISO week holding a day. */
export function isoWeekOf(day: number): IsoWeek {
  const date = DateTime.fromMillis(day * MS_PER_DAY, { zone: "UTC" });
  const monday = day - (date.weekday - 1);
  return {
    label: `${date.weekYear}-W${String(date.weekNumber).padStart(2, "0")}`,
    monday,
    sunday: monday + 6,
  };
}

/** `2026-W10` (or `2026-w10`, `2026W10`) → that ISO week. Throws UsageError otherwise. */
export function parseIsoWeek(text: string): IsoWeek {
  const match = /^(\d{4})-?[Ww](\d{1,2})$/.exec(text.trim());
  const date = match
    ? DateTime.fromObject(
        { weekYear: Number(match[1]), weekNumber: Number(match[2]), weekday: 1 },
        { zone: "UTC" },
      )
    : null;
  if (!date?.isValid || date.weekNumber !== Number(match?.[2])) {
    throw new UsageError(`--week "${text}": expected an ISO week such as 2026-W10`);
  }
  return isoWeekOf(Math.round(date.toMillis() / MS_PER_DAY));
}
