import Database from "better-sqlite3";
import { existsSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { ConfigError } from "../errors.js";
import { MIGRATIONS, SCHEMA_VERSION } from "./migrations.js";
import { checkDatabaseFile, storageErrorFrom } from "./storage-errors.js";

export type Db = Database.Database;

/**
 * The SQLite binding the build copied beside the bundle (scripts/ship-native.mjs), so that the
 * packed package, installed with --ignore-scripts, runs without compiling better-sqlite3 again
 * (70 s on the 2-core machine). Absent when run from src/ (vitest): better-sqlite3 finds its own.
 */
const SHIPPED_BINDING = fileURLToPath(new URL("./native/better_sqlite3.node", import.meta.url));
const nativeBinding = existsSync(SHIPPED_BINDING) ? SHIPPED_BINDING : undefined;

/** The database this process opened last: names the file when a later statement hits a storage fault. */
let lastOpened: string | null = null;

export function openedDatabase(): string | null {
  return lastOpened;
}

/**
 * Opens (creating if needed) the SQLite file with the pragmas every command relies on, and brings
 * its schema up to date. WAL lets `status` read while an import writes; busy_timeout makes a
 * second writer wait briefly instead of failing on the first contention. A file that is empty or no
 * SQLite database is refused, never replaced; a read-only, damaged or full one is a StorageError
 * naming the file and what to do.
 */
export function openStore(path: string, options: { readonly?: boolean } = {}): Db {
  lastOpened = path;
  checkDatabaseFile(path);
  try {
    return openChecked(path, options);
  } catch (error) {
    throw storageErrorFrom(error, path) ?? error;
  }
}

function openChecked(path: string, options: { readonly?: boolean }): Db {
  if (!options.readonly) mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path, {
    readonly: options.readonly ?? false,
    fileMustExist: options.readonly ?? false,
    nativeBinding,
  });
  db.pragma("busy_timeout = 5000");
  if (!options.readonly) {
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = NORMAL");
    // Imports touch indexes all over the file: a page cache of 32 MiB keeps the hot ones in memory
    // (64 MiB measured no faster on the 1M-line benchmark, and costs RSS).
    db.pragma("cache_size = -32768");
  }
  db.pragma("foreign_keys = ON");
  migrate(db);
  return db;
}

function migrate(db: Db): void {
  const current = db.pragma("user_version", { simple: true }) as number;
  if (current > SCHEMA_VERSION) {
    throw new ConfigError(
      `the database ${db.name} has schema version ${current}, newer than this comeback (${SCHEMA_VERSION}): upgrade comeback`,
    );
  }
  if (current === SCHEMA_VERSION) return;
  if (db.readonly) {
    throw new ConfigError(`the database ${db.name} needs a schema upgrade: run any writing command first`);
  }
  const apply = db.transaction(() => {
    for (let version = current; version < SCHEMA_VERSION; version++) {
      db.exec(MIGRATIONS[version]!);
    }
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  });
  apply.immediate();
}

export function schemaVersion(db: Db): number {
  return db.pragma("user_version", { simple: true }) as number;
}
