/**
 * Writing a CSV for people who open it in a spreadsheet: the cells as csv.ts writes them
 * (formulas neutralised), after a UTF-8 byte-order mark so Excel reads accents and Cyrillic right.
 * Written to a temporary file and renamed, so a failed write leaves no half file.
 *
 * `--csv -` writes to stdout instead, as Unix tools do, for a pipe (`comeback lost --csv - | …`):
 * the same cells, without the byte-order mark, which only spreadsheets want and pipes trip over, and
 * without the "written to" line, which would land inside the CSV.
 */
import { renameSync, rmSync, writeFileSync } from "node:fs";
import { InputMissingError } from "../errors.js";
import { toCsv } from "./csv.js";
import { print } from "./output.js";

export const STDOUT = "-";

export function writeCsvFile(
  path: string,
  keys: readonly string[],
  rows: readonly Record<string, unknown>[],
): void {
  const temporary = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(temporary, "\uFEFF" + toCsv(keys, rows));
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw new InputMissingError(
      `can't write ${path}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

/**
 * What every `--csv TARGET` does: TARGET "-" is stdout, anything else a file, after which the
 * command says `WHAT written to FILE` (e.g. "12 customers written to lost.csv").
 */
export function writeCsv(
  target: string,
  keys: readonly string[],
  rows: readonly Record<string, unknown>[],
  what: string,
): void {
  if (target === STDOUT) {
    process.stdout.write(toCsv(keys, rows));
    return;
  }
  writeCsvFile(target, keys, rows);
  print(`${what} written to ${target}`);
}
