/** What every command starts from: the global flags, the loaded config, a logger, the store. */
import { existsSync } from "node:fs";
import { loadConfig, type LoadedConfig } from "../config/load.js";
import { InputMissingError, UsageError } from "../errors.js";
import { demoConfig } from "./demo-mode.js";
import { createLogger, type Logger } from "../log.js";
import { setWarningLog } from "./output.js";
import { openStore, type Db } from "../store/open.js";

export interface GlobalOptions {
  config?: string;
  verbose?: boolean;
  quiet?: boolean;
  /** The database `comeback demo` made in this folder, with the demo's config (src/cli/demo-mode.ts). */
  demo?: boolean;
  /** With --demo: the demo database, when `comeback demo --db` named another. */
  db?: string;
}

export interface Context {
  config: LoadedConfig;
  log: Logger;
}

/** `port`: serve's, which the demo's links (links.base_url) name. */
export async function createContext(options: GlobalOptions, port?: number): Promise<Context> {
  if (options.db !== undefined && !options.demo) {
    throw new UsageError("--db goes with --demo; a shop's database is `database:` in its config");
  }
  const config = options.demo
    ? demoConfig(process.cwd(), options.db, port)
    : await loadConfig({ configPath: options.config });
  // Even the writing commands (send, serve) don't make an empty demo database: the demo makes it.
  if (options.demo && !existsSync(config.database)) {
    throw new InputMissingError(
      `no demo database at ${config.database}: run comeback demo${options.db ? ` --db ${options.db}` : ""} in this folder first`,
    );
  }
  const log = createLogger({
    level: config.log.level,
    file: config.log.file,
    verbose: Boolean(options.verbose),
  });
  // Warnings printed for the admin are events of the run too: log.file keeps them, even under --quiet.
  setWarningLog((message) => log.warn(message));
  log.debug({ config: config.source, database: config.database }, "config loaded");
  return { config, log };
}

export function openForWriting(config: LoadedConfig): Db {
  return openStore(config.database);
}

/** Reading commands don't create a database where there is none: that is almost always a wrong path. */
export function openForReading(config: LoadedConfig): Db {
  if (!existsSync(config.database)) {
    throw new InputMissingError(
      `no database at ${config.database} (from ${config.source}): import an export first, e.g. comeback import orders orders.csv`,
    );
  }
  return openStore(config.database);
}
