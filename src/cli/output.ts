/**
 * What commands print: human text on stdout, progress on stderr only when a person is watching.
 *
 * `--quiet` (setQuiet) is decided here, once for every command: stdout carries only what was asked
 * for in a machine format (--json, --csv -), stderr only errors (main.ts and the commands' own error
 * lines). The human reports and listings, warnings and progress are dropped; warnings still reach
 * `log.file` when one is configured (setWarningLog). The exit code tells the rest.
 */
import { JSON_ARRAY } from "../store/listing.js";

let quiet = false;
let warningLog: ((message: string) => void) | undefined;

export function setQuiet(on: boolean): void {
  quiet = on;
}

export function isQuiet(): boolean {
  return quiet;
}

/** Where warnings go besides stderr: the run's logger (log.file), so --quiet loses none of them. */
export function setWarningLog(log: ((message: string) => void) | undefined): void {
  warningLog = log;
}

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
  warningLog?.(message);
  if (!quiet) process.stderr.write(`comeback: warning: ${escapeControls(message)}\n`);
}

/**
 * Human output, with control characters shown escaped: a customer name or product name from a CSV
 * may hold terminal escape codes (ESC [ 2 J clears the screen, OSC 52 writes the clipboard), which
 * `lost`, `due`, `tasks` and the other listings would otherwise send raw to the admin's terminal.
 */
export function print(text = ""): void {
  if (!quiet) process.stdout.write(`${escapeControls(text)}\n`);
}

// C0 controls but tab and line feed, DEL, and the C1 controls (U+0080-U+009F; U+009B is a one-character CSI).
// eslint-disable-next-line no-control-regex
const CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

/** Control characters as visible escapes: ESC becomes `\x1b`, CR `\r`. */
export function escapeControls(text: string): string {
  return text.replace(CONTROLS, (char) =>
    char === "\r" ? "\\r" : `\\x${char.charCodeAt(0).toString(16).padStart(2, "0")}`,
  );
}

/** "1 order", "2 orders", "1,234 orders": counts in human output (irregular plurals passed in full). */
export function plural(n: number, singular: string, pluralForm = `${singular}s`): string {
  return `${formatCount(n)} ${n === 1 ? singular : pluralForm}`;
}

/** A one-line progress display on a terminal, redrawn at most a few times a second; silent under cron. */
export class Progress {
  private last = 0;
  private shown = false;
  private readonly enabled = Boolean(process.stderr.isTTY) && !process.env.CI;

  update(text: string): void {
    if (!this.enabled || quiet) return;
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

/** Bytes as a person reads a file size: "840 kB", "9.5 MB", "91 MB" (decimal units, as `ls -h --si`). */
export function formatBytes(n: number): string {
  if (n < 1_000_000) return `${Math.max(1, Math.round(n / 1000))} kB`;
  const mb = n / 1_000_000;
  return `${mb < 10 ? mb.toFixed(1) : formatCount(Math.round(mb))} MB`;
}

/**
 * An import's progress line: "412,000 lines, 38 MB of 91 MB". Lines and bytes, because that is
 * what is known while reading: rows are not orders (an order has several lines), and a quoted cell
 * can span lines, so neither is counted as if it were the other.
 */
export function importProgress(lines: number, bytesRead: number, bytes: number): string {
  return `${plural(lines, "line")}, ${formatBytes(Math.min(bytesRead, bytes))} of ${formatBytes(bytes)}`;
}

/** Lays out label/value pairs in two aligned columns. */
export function table(rows: [string, string | number][], indent = "  "): string {
  const width = Math.max(...rows.map(([label]) => label.length));
  return rows.map(([label, value]) => `${indent}${label.padEnd(width)}  ${value}`).join("\n");
}
