import type { Db } from "./open.js";

/**
 * When a table is empty, a bulk write (a first plan, a shop's first import) inserts every row: its
 * secondary indexes are dropped for the inserts and built again afterwards, once, over all the rows,
 * which costs less than keeping them up to date row by row. Call it inside the writer's transaction:
 * a write that fails restores them with everything else. Returns what rebuilds them (nothing to do
 * when the table was not empty). Indexes that back a UNIQUE constraint are kept.
 */
export function deferIndexesIfEmpty(db: Db, table: string): () => void {
  if (db.prepare(`SELECT 1 FROM "${table}" LIMIT 1`).get() !== undefined) return () => {};
  const indexes = db
    .prepare<[string], { name: string; sql: string }>(
      "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL",
    )
    .all(table);
  for (const { name } of indexes) db.exec(`DROP INDEX "${name}"`);
  return () => {
    for (const { sql } of indexes) db.exec(sql);
  };
}
