/**
 * The field delimiter: sniffed from the header line, or set by the profile.
 */
import { ConfigError } from "../../errors.js";

export type Delimiter = "," | ";" | "\t" | "|";

/** Candidates in tie-break order. */
const CANDIDATES: readonly Delimiter[] = [",", ";", "\t", "|"];

/**
 * The most frequent candidate outside double-quoted sections of the header line; ties go in the order
 * `,` `;` tab `|`; a header with none of them (a single column) gives ",".
 */
export function sniffDelimiter(headerLine: string): Delimiter {
  const counts = new Map<string, number>(CANDIDATES.map((d) => [d, 0]));
  let quoted = false;
  for (const ch of headerLine) {
    if (ch === '"') quoted = !quoted;
    else if (!quoted && counts.has(ch)) counts.set(ch, counts.get(ch)! + 1);
  }
  let best: Delimiter = ",";
  let bestCount = 0;
  for (const d of CANDIDATES) {
    const n = counts.get(d)!;
    if (n > bestCount) {
      best = d;
      bestCount = n;
    }
  }
  return best;
}

/** A profile's delimiter setting: "auto", ",", ";", "|", or a tab ("\t", "tab", or the two characters \t). */
export function parseDelimiterSetting(setting: string): Delimiter | "auto" {
  if (setting === "\t") return "\t";
  const s = setting.trim();
  const lower = s.toLowerCase();
  if (lower === "auto") return "auto";
  if (lower === "tab" || s === "\\t") return "\t";
  if (s === "," || s === ";" || s === "|") return s;
  throw new ConfigError(
    `unknown delimiter ${JSON.stringify(setting)}: use "auto", ",", ";", "|" or "tab" (a tab character)`,
  );
}

/** The text up to the first CR or LF outside double quotes (a quoted header may contain a line break). */
export function firstLine(text: string): string {
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (ch === 0x22) quoted = !quoted;
    else if (!quoted && (ch === 0x0a || ch === 0x0d)) return text.slice(0, i);
  }
  return text;
}
