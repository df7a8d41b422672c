/**
 * FILE.rejected.csv: the rows --skip-bad-rows left out, as read, with the line and the reason, so the
 * admin can fix them and import that file again. Written to a temporary name and renamed once the
 * import has committed, so a failed run never leaves a misleading file behind. A run killed before
 * that leaves its FILE.rejected.csv.PID.tmp: the next run beside it removes those of dead pids.
 */
import { createWriteStream, readdirSync, rmSync, type WriteStream } from "node:fs";
import { isProcessAlive } from "../deliver/lock.js";
import { rename, rm } from "node:fs/promises";
import { dirname, extname, basename, join } from "node:path";
import type { RejectedRow } from "./records.js";

export function rejectedPathFor(input: string): string {
  const extension = extname(input);
  const stem = [".csv", ".txt", ".tsv"].includes(extension.toLowerCase())
    ? basename(input, extension)
    : basename(input);
  return join(dirname(input), `${stem}.rejected.csv`);
}

/** RFC 4180 quoting; cells that a spreadsheet would run as a formula are prefixed with an apostrophe. */
export function csvCell(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

export class RejectedFile {
  readonly path: string;
  private readonly temporary: string;
  private stream: WriteStream | null = null;
  private count = 0;

  constructor(input: string) {
    this.path = rejectedPathFor(input);
    this.temporary = `${this.path}.${process.pid}.tmp`;
  }

  start(headers: string[]): void {
    removeLeftovers(this.path);
    this.stream = createWriteStream(this.temporary);
    // A BOM so that Excel opens the UTF-8 file with the right characters.
    this.stream.write(`\uFEFF${["line", "error", ...headers].map(csvCell).join(",")}\n`);
  }

  add(rows: RejectedRow[]): void {
    if (!this.stream) return;
    for (const row of rows) {
      this.stream.write(`${[String(row.line), row.reason, ...row.cells].map(csvCell).join(",")}\n`);
      this.count += 1;
    }
  }

  /** Keeps the file when there is something in it and `keep` is true; returns its path or null. */
  async finish(keep: boolean): Promise<string | null> {
    if (!this.stream) return null;
    await new Promise<void>((resolve, reject) =>
      this.stream!.end((error?: Error | null) => (error ? reject(error) : resolve())),
    );
    if (keep && this.count > 0) {
      await rename(this.temporary, this.path);
      return this.path;
    }
    await rm(this.temporary, { force: true });
    return null;
  }

  async discard(): Promise<void> {
    await this.finish(false).catch(() => undefined);
  }
}

/** Removes PATH.PID.tmp files whose process is gone (a killed import); a live one is another run's. */
function removeLeftovers(path: string): void {
  const prefix = `${basename(path)}.`;
  let names: string[];
  try {
    names = readdirSync(dirname(path));
  } catch {
    return;
  }
  for (const name of names) {
    const pid = name.startsWith(prefix) ? /^(\d+)\.tmp$/.exec(name.slice(prefix.length))?.[1] : undefined;
    if (pid === undefined || Number(pid) === process.pid || isProcessAlive(Number(pid))) continue;
    rmSync(join(dirname(path), name), { force: true });
  }
}
