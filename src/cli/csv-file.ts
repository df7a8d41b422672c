/**
 * Writing a CSV file for people who open it in a spreadsheet: the cells as csv.ts writes them
 * (formulas neutralised), after a UTF-8 byte-order mark so Excel reads accents and Cyrillic right.
 * Written to a temporary file and renamed, so a failed write leaves no half file.
 */
import { renameSync, rmSync, writeFileSync } from "node:fs";
import { InputMissingError } from "../errors.js";
import { toCsv } from "./csv.js";

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
