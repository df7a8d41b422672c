/** What commands print: human text on stdout, progress on stderr only when a person is watching. */
import { JSON_ARRAY } from "../store/listing.js";

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Rows as a listing's JSON array (JSON_ARRAY: an object per line). */
export function printJsonRows(rows: readonly unknown[]): void {
  const { open, separator, close, empty } = JSON_ARRAY;
  const texts = rows.map((row) => JSON.stringify(row));
  process.stdout.write(texts.length === 0 ? empty : `${open}${texts.join(separator)}${close}`);
}

/** The same array, written whole by SQLite as UTF-8 bytes (src/store/listing.ts). */
export function printJsonBytes(json: Uint8Array): void {
  process.stdout.write(json);
}

/** A warning on stderr, for the admin (cron mails stderr). */
export function warn(message: string): void {
  process.stderr.write(`comeback: warning: ${message}\n`);
}

export function print(text = ""): void {
  process.stdout.write(`${text}\n`);
}

/** A one-line progress display on a terminal, redrawn at most a few times a second; silent under cron. */
export class Progress {
  private last = 0;
  private shown = false;
  private readonly enabled = Boolean(process.stderr.isTTY) && !process.env.CI;

  update(text: string): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (now - this.last < 200) return;
    this.last = now;
    this.shown = true;
    process.stderr.write(`\r\x1b[2K${text}`);
  }

  done(): void {
    if (this.shown) process.stderr.write("\r\x1b[2K");
    this.shown = false;
  }
}

export function formatCount(n: number): string {
  return n.toLocaleString("en-US");
}

/** Lays out label/value pairs in two aligned columns. */
export function table(rows: [string, string | number][], indent = "  "): string {
  const width = Math.max(...rows.map(([label]) => label.length));
  return rows.map(([label, value]) => `${indent}${label.padEnd(width)}  ${value}`).join("\n");
}
