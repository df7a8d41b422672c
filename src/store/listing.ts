/**
 * Listings (`lost`, `tasks`) are defined once as columns: the key each row has in CSV and JSON, and
 * the SQL that computes it. The same columns make both the row query and the JSON query.
 *
 * Why JSON is made by SQLite: better-sqlite3 hands each value to JavaScript separately (about 0.4 µs
 * a value here), so 65,000 customers of 13 columns cost more to read, turn into objects and
 * stringify than the query itself. `json_object` writes each row's JSON text in C, and the command
 * only joins the texts.
 */
export type Columns<Key extends string = string> = readonly (readonly [key: Key, sql: string])[];

export function keysOf<Key extends string>(columns: Columns<Key>): Key[] {
  return columns.map(([key]) => key);
}

/** `expr AS "key", …`: rows come back as objects with the listing's keys, in its order. */
export function selectColumns(columns: Columns): string {
  return columns.map(([key, sql]) => `${sql} AS "${key}"`).join(", ");
}

/** One JSON object per row, keys in the listing's order; SQL NULL becomes null, numbers stay numbers. */
export function selectJsonObject(columns: Columns): string {
  return `json_object(${columns.map(([key, sql]) => `'${key}', ${sql}`).join(", ")})`;
}
