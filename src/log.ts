/**
 * Structured logs: to the file set in config, or to stderr with --verbose; otherwise nowhere, so
 * cron mail stays quiet. Every line carries the run id. Personal data (emails, phones, names) is
 * never logged at info level or above.
 */
import { randomUUID } from "node:crypto";
import pino, { type Logger } from "pino";

export type { Logger };

export function createLogger(options: { level: string; file: string | null; verbose: boolean }): Logger {
  const runId = randomUUID().slice(0, 8);
  const base = { run: runId };
  if (options.verbose) {
    return pino(
      { level: options.level === "silent" ? "info" : options.level, base },
      pino.destination({ dest: 2, sync: true }),
    );
  }
  if (options.file) {
    return pino(
      { level: options.level, base },
      pino.destination({ dest: options.file, mkdir: true, sync: true }),
    );
  }
  return pino({ level: "silent", base });
}
