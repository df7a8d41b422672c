/**
 * Writing many rows with one statement per ROWS_PER_STATEMENT of them: a first plan writes every
 * reminder and every customer's lifecycle, and a statement per row cost a quarter more (better-sqlite3
 * and SQLite pay a fixed price per statement run, whatever its size).
 */
import type { Db } from "./open.js";

export const ROWS_PER_STATEMENT = 32;

type Value = string | number | null;

export class RowWriter {
  private readonly one;
  private readonly many;
  private readonly pending: Value[] = [];

  /** `sql` is an INSERT up to and including VALUES; each row has `width` values. */
  constructor(
    db: Db,
    sql: string,
    private readonly width: number,
  ) {
    const tuple = `(${Array(width).fill("?").join(", ")})`;
    this.one = db.prepare(`${sql} ${tuple}`);
    this.many = db.prepare(`${sql} ${Array(ROWS_PER_STATEMENT).fill(tuple).join(", ")}`);
  }

  /** Queues a row; true when this wrote the queued rows. */
  add(row: readonly Value[]): boolean {
    for (const value of row) this.pending.push(value);
    if (this.pending.length < this.width * ROWS_PER_STATEMENT) return false;
    this.many.run(this.pending);
    this.pending.length = 0;
    return true;
  }

  /** Writes the rows still pending: call it before reading the table, and at the end. */
  flush(): void {
    for (let i = 0; i < this.pending.length; i += this.width)
      this.one.run(this.pending.slice(i, i + this.width));
    this.pending.length = 0;
  }
}
