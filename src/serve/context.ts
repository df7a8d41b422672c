/**
 * What every route of `comeback serve` is given (issue 18). Routes are registered by one function
 * each (`registerCartRoutes(app, ctx)`, `registerTrackRoutes(app, ctx)`, …) so parts of the server
 * are written and tested apart, and the app lists them in one place.
 */
import type { Database } from "better-sqlite3";
import type { Config } from "../config/schema.js";

export interface ServeContext {
  db: Database;
  config: Config;
  /** The config secret, checked (requireSecret): links are signed and verified with it. */
  secret: string;
  /** The clock, so tests and `--now` replays decide expiry and event times. */
  now: () => Date;
}
