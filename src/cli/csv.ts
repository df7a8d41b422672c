/**
 * CSV files for people who open them in a spreadsheet: RFC 4180 quoting, a UTF-8 BOM so Excel
 * reads accents right, CRLF line ends, and cells that a spreadsheet would run as a formula
 * (starting with = + - @, or a tab or carriage return) prefixed with an apostrophe, which
 * spreadsheets show as text. Written to a temporary file and renamed, so a failed write leaves
 * no half file.
 */
import { renameSync, rmSync, writeFileSync } from "node:fs";
import { InputMissingError } from "../errors.js";

const FORMULA_START = /^[=+\-@\t\r]/;

export function csvCell(value: unknown): string {
  if (value === null || value === undefined) return "";
  let text = String(value);
  if (typeof value === "string" && FORMULA_START.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function toCsv(keys: readonly string[], rows: readonly Record<string, unknown>[]): string {
  const lines = [keys.map(csvCell).join(",")];
  for (const row of rows) lines.push(keys.map((key) => csvCell(row[key])).join(","));
  return "\uFEFF" + lines.join("\r\n") + "\r\n";
}

export function writeCsvFile(
  path: string,
  keys: readonly string[],
  rows: readonly Record<string, unknown>[],
): void {
  const temporary = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(temporary, toCsv(keys, rows));
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw new InputMissingError(
      `cannot write ${path}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}
