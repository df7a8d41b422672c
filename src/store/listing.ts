/**
 * Listings (`lost`, `tasks`) are defined once: their columns (the key each row has in CSV and JSON,
 * and the SQL that computes it), the rows they range over and their order. The same definition
 * makes both the row query and the JSON query.
 *
 * Why JSON is made by SQLite: better-sqlite3 hands each value to JavaScript separately (about 0.4 µs
 * a value here), so 65,000 customers of 13 columns cost more to read, turn into objects and
 * stringify than the query itself. `json_object` writes each row's JSON text in C and
 * `group_concat` joins them into the whole array, which comes back as bytes (a BLOB) for stdout.
 * Turning 19-25 MB of UTF-8 into JavaScript strings and back took a fifth of the command and a
 * quarter of its memory (82,448 customers, alternating runs: 1.33-1.74 s and 260-278 MB with a text
 * per row, 1.08-1.44 s and 213 MB with the bytes).
 */
export type Columns<Key extends string = string> = readonly (readonly [key: Key, sql: string])[];

export function keysOf<Key extends string>(columns: Columns<Key>): Key[] {
  return columns.map(([key]) => key);
}

/** `expr AS "key", …`: rows come back as objects with the listing's keys, in its order. */
function selectColumns(columns: Columns): string {
  return columns.map(([key, sql]) => `${sql} AS "${key}"`).join(", ");
}

/** One JSON object per row, keys in the listing's order; SQL NULL becomes null, numbers stay numbers. */
function selectJsonObject(columns: Columns): string {
  return `json_object(${columns.map(([key, sql]) => `'${key}', ${sql}`).join(", ")})`;
}

/**
 * How a listing prints as JSON: one array, one compact object per line (still one JSON document, and
 * a line per row for grep; indenting every key of 65,000 customers made it a quarter bigger). SQLite
 * writes it for the listings here, printJsonRows for rows from JavaScript: one shape for both. (Only
 * brackets, commas and newlines: safe inside SQL quotes.)
 */
export const JSON_ARRAY = { open: "[\n", separator: ",\n", close: "\n]\n", empty: "[]\n" } as const;

export interface Listing<Key extends string = string> {
  columns: Columns<Key>;
  /** `FROM … [WHERE …]`: the rows listed, with named parameters. */
  from: string;
  /** The ORDER BY terms. */
  orderBy: string;
}

/** The listing's rows, as objects with its keys. */
export function rowsQuery(listing: Listing): string {
  return `SELECT ${selectColumns(listing.columns)} ${listing.from} ORDER BY ${listing.orderBy}`;
}

/**
 * The whole listing as the UTF-8 bytes of a JSON_ARRAY: one row, one BLOB. SQLite caps a value at
 * 1 GB, about 3 million rows of a listing: far beyond a small shop. (ORDER BY inside an aggregate
 * needs SQLite 3.44; better-sqlite3 12 brings its own 3.53.)
 */
export function jsonArrayQuery(listing: Listing): string {
  const { open, separator, close, empty } = JSON_ARRAY;
  const objects = `group_concat(${selectJsonObject(listing.columns)}, '${separator}' ORDER BY ${listing.orderBy})`;
  return `SELECT CAST(COALESCE('${open}' || ${objects} || '${close}', '${empty}') AS BLOB) ${listing.from}`;
}
