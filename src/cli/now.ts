/** `--now`: the moment a command acts as of, for tests, backfills and "what would Monday do" previews. */
import { UsageError } from "../errors.js";
import { makeDateParser, nowIso } from "../time.js";

/** The help of every `--now` option. */
export const NOW_HELP =
  "the time to act as if it were: 2026-03-02 (midnight), 2026-03-02T09:30 (shop time) or …Z";

/**
 * An ISO date or date-time; without an offset it is the shop's local time, and a date alone is
 * that day's start (00:00) in the shop's timezone. Returns UTC ISO text; the clock when absent.
 */
export function parseNow(text: string | undefined, zone: string): string {
  if (text === undefined) return nowIso();
  const parsed = makeDateParser("iso", zone)(text);
  if (parsed === null) {
    throw new UsageError(
      `--now "${text}": expected an ISO date or date-time such as 2026-03-02 or 2026-03-02T08:00:00Z`,
    );
  }
  return parsed;
}
