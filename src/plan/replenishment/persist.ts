/**
 * Writing a plan, one batch of customers at a time: the batch's stored rows are read back as
 * (key, fingerprint) pairs, and only what differs is written. An unchanged row is never rewritten
 * (its updated_at stays), and a row nothing derives any more is deleted. Comparing (ReminderDiff)
 * and writing (ReminderWriter) are apart, so planner threads can compare while one connection writes.
 */
import type { Db } from "../../store/open.js";
import { RowWriter } from "../../store/rows.js";
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
  /** Reminders deleted because nothing derives them any more (a cancelled purchase, an earlier --now). */
  removed: number;
  satisfied: number;
  expired: number;
}

/** What the counts need to know of a stored reminder that the plan changes or ends. */
interface StoredState {
  state: string;
  last_purchase_on: string;
  purchase_order_id: number;
}

/** Values of one reminders row, in REMINDER_COLUMNS order, then fingerprint. */
export type ReminderValues = (string | number | null)[];

/**
 * What one batch's plan changes: rows to insert and update (REMINDER_COLUMNS values, then the
 * fingerprint) and keys to delete. Plain arrays, so a planner thread can hand them to the writer.
 */
export interface ReminderChanges {
  inserts: ReminderValues[];
  updates: ReminderValues[];
  deletes: [customerId: number, groupKey: string][];
  counts: MergeCounts;
}

export function emptyCounts(): MergeCounts {
  return { new: 0, changed: 0, unchanged: 0, removed: 0, satisfied: 0, expired: 0 };
}

export function addCounts(into: MergeCounts, counts: MergeCounts): void {
  for (const key of Object.keys(into) as (keyof MergeCounts)[]) into[key] += counts[key];
}

/**
 * Compares planned reminders with the stored ones, a batch of customers at a time, reading back
 * only (key, fingerprint, and what the counts need). Reads only: it runs on any connection.
 */
export class ReminderDiff {
  private readonly stored;
  private readonly before;

  constructor(db: Db) {
    // Only key and fingerprint for every row: the rest is looked up for the few rows that differ
    // (better-sqlite3 hands each value to JavaScript separately; a replan reads 164,000 rows).
    this.stored = db
      .prepare<[number, number], [number, string, string]>(
        "SELECT customer_id, group_key, fingerprint FROM reminders WHERE customer_id BETWEEN ? AND ?",
      )
      .raw();
    this.before = db.prepare<[number, string], StoredState>(
      "SELECT state, last_purchase_on, purchase_order_id FROM reminders WHERE customer_id = ? AND group_key = ?",
    );
  }

  private stateOf(outcome: GroupOutcome): StoredState {
    return this.before.get(outcome.customerId, outcome.groupKey) as StoredState;
  }

  /**
   * Starts comparing the batch of customers `from`…`to`: `add` each planned group (all of theirs,
   * in any order), then `finish` gives the changes that make the stored reminders equal to them. An
   * outcome with keep = false is planned but not stored. Outcomes are compared as they come, so a
   * batch's thousands of mostly long-expired groups are never held in a list.
   */
  batch(from: number, to: number): { add(outcome: GroupOutcome): void; finish(): ReminderChanges } {
    /** Stored fingerprints by customer and group; an entry is deleted once a planned row claims it. */
    const stored = new Map<number, Map<string, string>>();
    for (const [customerId, groupKey, print] of this.stored.all(from, to)) {
      let groups = stored.get(customerId);
      if (groups === undefined) stored.set(customerId, (groups = new Map()));
      groups.set(groupKey, print);
    }
    const changes: ReminderChanges = { inserts: [], updates: [], deletes: [], counts: emptyCounts() };
    const { counts } = changes;
    const add = (outcome: GroupOutcome): void => {
      if (!outcome.planned) return;
      const groups = stored.get(outcome.customerId);
      const storedPrint = groups?.get(outcome.groupKey);
      if (!outcome.keep) {
        // Long expired: not stored (the stored row, if any, is deleted at the end). A stored live
        // one that is now over still counts as expired.
        if (storedPrint !== undefined && isLive(this.stateOf(outcome).state)) counts.expired++;
        return;
      }
      const row = outcome.row as ReminderRow;
      const print = fingerprint(row);
      if (storedPrint === undefined) {
        counts.new++;
        if (row.state === "expired") counts.expired++;
        changes.inserts.push([...values(row), print]);
        return;
      }
      groups?.delete(outcome.groupKey);
      if (storedPrint === print) {
        counts.unchanged++;
        return;
      }
      counts.changed++;
      const old = this.stateOf(outcome);
      if (isLive(old.state) && (row.state === "satisfied" || row.last_purchase_on > old.last_purchase_on))
        counts.satisfied++;
      if (
        row.state === "expired" &&
        (old.state !== "expired" || old.purchase_order_id !== row.purchase_order_id)
      )
        counts.expired++;
      changes.updates.push([...values(row), print]);
    };
    const finish = (): ReminderChanges => {
      for (const [customerId, groups] of stored) {
        for (const groupKey of groups.keys()) {
          changes.deletes.push([customerId, groupKey]);
          counts.removed++;
        }
      }
      return changes;
    };
    return { add, finish };
  }
}

const isLive = (state: string) => state === "open" || state === "paused";

/** Writes reminder changes on the writing connection, stamping changed rows with the plan's `now`. */
export class ReminderWriter {
  readonly counts: MergeCounts = emptyCounts();
  private readonly insert;
  private readonly update;
  private readonly remove;

  constructor(
    db: Db,
    private readonly now: string,
  ) {
    const all = [...REMINDER_COLUMNS, "fingerprint", "updated_at"];
    this.insert = new RowWriter(db, `INSERT INTO reminders (${all.join(", ")}) VALUES`, all.length);
    this.update = db.prepare(
      `UPDATE reminders SET ${all
        .slice(2)
        .map((column) => `${column} = ?`)
        .join(", ")} WHERE customer_id = ? AND group_key = ?`,
    );
    this.remove = db.prepare("DELETE FROM reminders WHERE customer_id = ? AND group_key = ?");
  }

  write(changes: ReminderChanges): void {
    for (const row of changes.inserts) this.insert.add([...row, this.now]);
    this.insert.flush();
    for (const [customerId, groupKey, ...rest] of changes.updates)
      this.update.run(...rest, this.now, customerId, groupKey);
    for (const [customerId, groupKey] of changes.deletes) this.remove.run(customerId, groupKey);
    addCounts(this.counts, changes.counts);
  }
}

function values(row: ReminderRow): ReminderValues {
  return REMINDER_COLUMNS.map((column) => row[column]);
}
