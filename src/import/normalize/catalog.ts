/** Products and customers exports and call logs: one row is one fact, no grouping. */
import type { CallRecord, CustomerRecord, ProductRecord } from "../records.js";
import { phoneDigits } from "./values.js";
import type { RowReader } from "./row.js";

/** Only http(s) pictures: anything else (javascript:, data:, a path) is no picture on the page. */
export function imageUrl(text: string | null): string | null {
  return text !== null && /^https?:\/\/\S+$/i.test(text) ? text : null;
}

export function readProductRow(row: RowReader, defaultCurrency: string): ProductRecord | null {
  const sku = row.requiredText("sku");
  const currency = row.currency("currency") ?? defaultCurrency;
  const record: ProductRecord = {
    line: row.line,
    sku: sku ?? "",
    name: row.optionalText("name"),
    unitPriceMinor: row.money("unit_price", currency),
    currency: row.has("unit_price") ? currency : null,
    daysPerUnit: row.number("days_per_unit", { positive: true }),
    group: row.optionalText("group"),
    variantId: row.optionalText("variant_id"),
    imageUrl: imageUrl(row.optionalText("image_url")),
  };
  return row.problems.length === 0 ? record : null;
}

export function readCustomerRow(row: RowReader): CustomerRecord | null {
  const customer = row.customer();
  if (customer === null && row.problems.length === 0) {
    row.problems.push({ line: row.line, column: null, message: "has no customer id, email or phone" });
    // An odd email or phone was the row's only way to name the customer: say which.
    row.problems.push(...row.warnings);
  }
  if (row.problems.length > 0 || customer === null) return null;
  return row.warnings.length > 0
    ? { line: row.line, customer, warnings: row.warnings }
    : { line: row.line, customer };
}

/** `85`, `85.4`, `1:25` (m:ss) or `0:01:25` (h:mm:ss), as phone systems write durations; null if none of these. */
export function parseDuration(text: string): number | null {
  const value = text.trim();
  if (/^\d+(?:[.,]\d+)?$/.test(value)) return Math.round(Number(value.replace(",", ".")));
  const m = /^(?:(\d+):)?(\d{1,2}):(\d{2})$/.exec(value);
  if (m === null) return null;
  const [, hours, minutes, seconds] = m;
  if (Number(seconds) > 59 || (hours !== undefined && Number(minutes) > 59)) return null;
  return Number(hours ?? 0) * 3600 + Number(minutes) * 60 + Number(seconds);
}

export function readCallRow(row: RowReader): CallRecord | null {
  const phoneText = row.requiredText("phone");
  const phone = phoneText === null ? null : phoneDigits(phoneText);
  if (phoneText !== null && phone === null) {
    row.problems.push({
      line: row.line,
      column: row.header("phone"),
      message: `"${phoneText}" is not a phone number`,
    });
  }
  const startedAt = row.requiredText("started_at") === null ? null : row.date("started_at");
  const durationText = row.requiredText("duration_seconds");
  const duration = durationText === null ? null : parseDuration(durationText);
  if (durationText !== null && duration === null) {
    row.problems.push({
      line: row.line,
      column: row.header("duration_seconds"),
      message: `"${durationText}" is not a duration; expected seconds (85) or m:ss / h:mm:ss (1:25)`,
    });
  }
  if (row.problems.length > 0 || phone === null || startedAt === null || duration === null) return null;
  return {
    line: row.line,
    phone,
    startedAt,
    durationSeconds: duration,
    direction: row.optionalText("direction")?.toLowerCase() ?? null,
    agent: row.optionalText("agent"),
  };
}
