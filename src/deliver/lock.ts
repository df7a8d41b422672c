/**
 * The run lock (DESIGN, idempotency rule 4): `weekly` and `send` hold it while they work, so a
 * second run started meanwhile (cron firing while last week's batch still hangs) stops at once.
 *
 * The lock is a row in the database itself, taken in an IMMEDIATE transaction, so two runs can't
 * both see it free. It names the pid, host and start time of its holder. A row whose process is
 * gone (same host, `kill(pid, 0)` says no such process, or the pid now belongs to a process that
 * started later) is stale: it is taken over, and the run says so. A row from another host can't be
 * checked and is treated as held.
 */
import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import { LockedError } from "../errors.js";
import type { Db } from "../store/open.js";
import { nowIso } from "../time.js";

const LOCK_NAME = "deliver";

interface LockRow {
  pid: number;
  host: string;
  command: string;
  started_at: string;
  process_start: string | null;
}

export interface RunLock {
  /** The holder this lock replaced because its process was gone, if any. */
  tookOverFrom: LockRow | null;
  release(): void;
}

export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * When a process started, in clock ticks since boot (field 22 of /proc/PID/stat), or null where
 * there is no /proc. A pid whose start time differs from the one recorded was reused by another
 * process after the holder died.
 */
export function processStart(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may hold spaces and parentheses: count fields after the last ")".
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return fields[19] ?? null;
  } catch {
    return null;
  }
}

function holderAlive(held: LockRow): boolean {
  if (held.pid === process.pid || !isProcessAlive(held.pid)) return false;
  if (held.process_start === null) return true;
  const start = processStart(held.pid);
  return start === null || start === held.process_start;
}

export function acquireRunLock(db: Db, command: string): RunLock {
  const host = hostname();
  const take = db.transaction((): LockRow | null => {
    const held = db
      .prepare<[string], LockRow>(
        "SELECT pid, host, command, started_at, process_start FROM run_lock WHERE name = ?",
      )
      .get(LOCK_NAME);
    if (held) {
      const alive = held.host !== host || holderAlive(held);
      if (alive) {
        throw new LockedError(
          `another comeback run holds the lock: "${held.command}", pid ${held.pid} on ${held.host}, since ${held.started_at}; ` +
            `try again when it has finished` +
            (held.host !== host
              ? ` (it runs on another host, so comeback can't tell whether it is still alive)`
              : ""),
        );
      }
    }
    db.prepare(
      "INSERT OR REPLACE INTO run_lock (name, pid, host, command, started_at, process_start) VALUES (?, ?, ?, ?, ?, ?)",
    ).run(LOCK_NAME, process.pid, host, command, nowIso(), processStart(process.pid));
    return held ?? null;
  });
  const tookOverFrom = take.immediate();
  let released = false;
  return {
    tookOverFrom,
    release() {
      if (released) return;
      released = true;
      db.prepare("DELETE FROM run_lock WHERE name = ? AND pid = ? AND host = ?").run(
        LOCK_NAME,
        process.pid,
        host,
      );
    },
  };
}
