/**
 * What an orders import saw of the shop's clock: the UTC offsets its order times were written with
 * (Shopify writes `2022-01-11 04:32:30 -0500`, the shop's own zone), per day, and the currencies of
 * its orders. Stored with the import (imports.offsets) so that plan, weekly and status can say when
 * the configured timezone disagrees with the export's (src/plan/data-checks.ts), and read by
 * `init --from` to propose a timezone and currency (src/deliver/init.ts).
 */
import type { Db } from "../store/open.js";
import { formatOffset } from "../time.js";
import type { OrderRecord } from "./records.js";

/** imports.offsets as JSON: per offset (`-05:00`), orders per UTC day; and the orders written without one. */
export interface OffsetCounts {
  offsets: Record<string, Record<string, number>>;
  without_offset: number;
}

export class OffsetTally {
  /** Offset in minutes east of UTC → UTC day (`2022-01-11`) → orders. */
  private readonly byOffset = new Map<number, Map<string, number>>();
  private withoutOffset = 0;
  /** Currency → orders: read by `init --from`, not stored. */
  readonly currencies = new Map<string, number>();
  orders = 0;

  add(record: OrderRecord): void {
    this.orders += 1;
    this.currencies.set(record.currency, (this.currencies.get(record.currency) ?? 0) + 1);
    if (record.placedOffset === null) {
      this.withoutOffset += 1;
      return;
    }
    let days = this.byOffset.get(record.placedOffset);
    if (days === undefined) this.byOffset.set(record.placedOffset, (days = new Map()));
    const day = record.placedAt.slice(0, 10);
    days.set(day, (days.get(day) ?? 0) + 1);
  }

  counts(): OffsetCounts {
    const offsets: OffsetCounts["offsets"] = {};
    for (const [offset, days] of [...this.byOffset].sort(([a], [b]) => a - b)) {
      offsets[formatOffset(offset)] = Object.fromEntries([...days].sort(([a], [b]) => a.localeCompare(b)));
    }
    return { offsets, without_offset: this.withoutOffset };
  }
}

/** Records what the import saw; called once, inside the import's transaction. */
export function recordOffsets(db: Db, importId: number, tally: OffsetTally): void {
  db.prepare("UPDATE imports SET offsets = ? WHERE id = ?").run(JSON.stringify(tally.counts()), importId);
}

/**
 * What all order imports saw, together. Exports overlap (a weekly export of the last month, a full
 * export now and then), so a day's orders with an offset are the most any one import saw, not the sum.
 * Imports made before offsets were recorded (NULL) add nothing: import them again with --force.
 */
export function storedOffsets(db: Db): OffsetCounts {
  const merged: OffsetCounts = { offsets: {}, without_offset: 0 };
  const rows = db
    .prepare<[], string>("SELECT offsets FROM imports WHERE kind = 'orders' AND offsets IS NOT NULL")
    .pluck()
    .all();
  for (const text of rows) {
    const counts = JSON.parse(text) as OffsetCounts;
    merged.without_offset = Math.max(merged.without_offset, counts.without_offset);
    for (const [offset, days] of Object.entries(counts.offsets)) {
      const into = (merged.offsets[offset] ??= {});
      for (const [day, n] of Object.entries(days)) into[day] = Math.max(into[day] ?? 0, n);
    }
  }
  return merged;
}
