/** Writing CSV for spreadsheets: RFC 4180 quoting, and no formulas smuggled in through product names. */

/**
 * A cell a spreadsheet would run as a formula (starting with = + - @, or a tab or carriage return that
 * some programs skip before looking) gets a leading apostrophe, which spreadsheets show as text.
 */
export function neutralise(text: string): string {
  return /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
}

export function csvCell(value: unknown): string {
  if (value === null || value === undefined) return "";
  const text = typeof value === "string" ? neutralise(value) : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function toCsv(keys: readonly string[], rows: readonly Record<string, unknown>[]): string {
  const lines = [keys.join(",")];
  for (const row of rows) lines.push(keys.map((key) => csvCell(row[key])).join(","));
  return `${lines.join("\r\n")}\r\n`;
}
