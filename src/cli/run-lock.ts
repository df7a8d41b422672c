/** Taking the run lock for a command, and `comeback unlock`: the lock rule is in deliver/lock.ts. */
import type { Command } from "commander";
import type { LoadedConfig } from "../config/load.js";
import { acquireRunLock, clearRunLock, type LockView, type RunLock } from "../deliver/lock.js";
import type { Db } from "../store/open.js";
import { createContext, openForReading, type GlobalOptions } from "./context.js";
import { print, printJson, warn } from "./output.js";

export function describeHolder(holder: LockView): string {
  return `"${holder.command}", pid ${holder.pid} on ${holder.host}, since ${holder.started_at}`;
}

/** Takes the run lock for `command`; a stale lock taken over is said on stderr (and logged). */
export function takeRunLock(db: Db, config: LoadedConfig, command: string): RunLock {
  const lock = acquireRunLock(db, command, { expiryMinutes: config.delivery.lock_expiry_minutes });
  if (lock.tookOverFrom) {
    const { pid, host, command: holder, started_at, stale } = lock.tookOverFrom;
    warn(`took over the run lock of pid ${pid} on ${host} ("${holder}", since ${started_at}): ${stale}`);
  }
  return lock;
}

export function registerUnlock(program: Command): void {
  program
    .command("unlock")
    .description("clear the run lock left by a run that is gone")
    .option("--force", "clear it even when its holder may still run (you know it is gone)")
    .option("--json", "print what was cleared as one JSON object")
    .addHelpText(
      "after",
      `
Examples:
  comeback unlock            clears a stale lock: its process is gone, or (another host) its heartbeat is old
  comeback unlock --force    clears it anyway: only when you know the holder is gone

A lock whose holder may still run is left (exit 75) unless --force. comeback status shows the lock.`,
    )
    .action(async (flags: { force?: boolean; json?: boolean }, command: Command) => {
      const { config } = await createContext(command.optsWithGlobals<GlobalOptions>());
      const db = openForReading(config);
      try {
        const result = clearRunLock(db, {
          expiryMinutes: config.delivery.lock_expiry_minutes,
          force: Boolean(flags.force),
        });
        if (result.forced && result.cleared) {
          warn(
            `forced: cleared the run lock of ${describeHolder(result.cleared)}, which may still be running`,
          );
        }
        if (flags.json) return printJson(result);
        if (!result.cleared) print("No run lock is held.");
        else
          print(
            `Cleared the run lock of ${describeHolder(result.cleared)}` +
              (result.cleared.stale ? `: ${result.cleared.stale}.` : " (forced)."),
          );
      } finally {
        db.close();
      }
    });
}
