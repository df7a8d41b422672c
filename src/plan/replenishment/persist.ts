/**
 * Writing a plan, one batch of customers at a time: the batch's stored rows are read back as
 * (key, fingerprint) pairs, and only what differs is written. An unchanged row is never rewritten
 * (its updated_at stays), and a row nothing derives any more is deleted.
 */
import type { Db } from "../../store/open.js";
import type { GroupOutcome, ReminderRow } from "./compute.js";

/** Every column of `reminders` the planner derives, in table order. */
export const REMINDER_COLUMNS = [
  "customer_id",
  "group_key",
  "purchase_order_id",
  "sku",
  "product_name",
  "last_purchase_on",
  "quantity",
  "days_per_unit",
  "usage_factor",
  "supply_days",
  "basis",
  "lead_days",
  "cycle_days",
  "first_due_on",
  "due_on",
  "reminder_number",
  "state",
] as const satisfies readonly (keyof ReminderRow)[];

/**
 * A 64-bit hash (two 32-bit FNV-1a passes with different seeds) of all the derived values: equal
 * fingerprints, equal rows. Comparing one short string per row is what lets a plan skip reading
 * back every column of a million unchanged reminders.
 */
export function fingerprint(row: ReminderRow): string {
  let text = "";
  for (let i = 2; i < REMINDER_COLUMNS.length; i++)
    text += `${row[REMINDER_COLUMNS[i] as keyof ReminderRow]}\u001f`;
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
  }
  return (a >>> 0).toString(36) + "." + (b >>> 0).toString(36);
}

export interface MergeCounts {
  new: number;
  changed: number;
  unchanged: number;
  removed: number;
  satisfied: number;
  expired: number;
}

interface Stored {
  fingerprint: string;
  state: string;
  lastPurchaseOn: string;
  purchaseOrderId: number;
  seen: boolean;
}

export class ReminderWriter {
  readonly counts: MergeCounts = { new: 0, changed: 0, unchanged: 0, removed: 0, satisfied: 0, expired: 0 };
  private readonly stored;
  private readonly insert;
  private readonly update;
  private readonly remove;

  constructor(
    db: Db,
    private readonly now: string,
  ) {
    this.stored = db
      .prepare<[number, number], [number, string, string, string, string, number]>(
        `SELECT customer_id, group_key, fingerprint, state, last_purchase_on, purchase_order_id
         FROM reminders WHERE customer_id BETWEEN ? AND ?`,
      )
      .raw();
    const all = [...REMINDER_COLUMNS, "fingerprint", "updated_at"];
    this.insert = db.prepare(
      `INSERT INTO reminders (${all.join(", ")}) VALUES (${all.map(() => "?").join(", ")})`,
    );
    this.update = db.prepare(
      `UPDATE reminders SET ${all
        .slice(2)
        .map((column) => `${column} = ?`)
        .join(", ")} WHERE customer_id = ? AND group_key = ?`,
    );
    this.remove = db.prepare("DELETE FROM reminders WHERE customer_id = ? AND group_key = ?");
  }

  /**
   * Makes the stored reminders of customers `from`…`to` equal to the planned ones (all of theirs, in
   * any order); an outcome with keep = false is planned but not stored.
   */
  sync(from: number, to: number, outcomes: readonly GroupOutcome[]): void {
    const stored = new Map<string, Stored>();
    for (const [customerId, groupKey, print, state, lastPurchaseOn, purchaseOrderId] of this.stored.all(
      from,
      to,
    )) {
      stored.set(`${customerId}\u001f${groupKey}`, {
        fingerprint: print,
        state,
        lastPurchaseOn,
        purchaseOrderId,
        seen: false,
      });
    }
    const { counts } = this;
    for (const { row, keep } of outcomes) {
      if (row === null) continue;
      const old = stored.get(`${row.customer_id}\u001f${row.group_key}`);
      if (!keep) {
        // Long expired: not stored. A stored live one that is now over still counts as expired.
        if (old !== undefined && (old.state === "open" || old.state === "paused")) counts.expired++;
        continue;
      }
      const print = fingerprint(row);
      if (old === undefined) {
        counts.new++;
        if (row.state === "expired") counts.expired++;
        this.insert.run(...values(row), print, this.now);
        continue;
      }
      old.seen = true;
      if (old.fingerprint === print) {
        counts.unchanged++;
        continue;
      }
      counts.changed++;
      const live = old.state === "open" || old.state === "paused";
      if (live && (row.state === "satisfied" || row.last_purchase_on > old.lastPurchaseOn))
        counts.satisfied++;
      if (
        row.state === "expired" &&
        (old.state !== "expired" || old.purchaseOrderId !== row.purchase_order_id)
      ) {
        counts.expired++;
      }
      this.update.run(...values(row).slice(2), print, this.now, row.customer_id, row.group_key);
    }
    for (const [key, old] of stored) {
      if (old.seen) continue;
      const split = key.indexOf("\u001f");
      this.remove.run(Number(key.slice(0, split)), key.slice(split + 1));
      counts.removed++;
    }
  }
}

function values(row: ReminderRow): (string | number | null)[] {
  return REMINDER_COLUMNS.map((column) => row[column]);
}
