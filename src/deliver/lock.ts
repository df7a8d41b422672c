/**
 * The run lock (DESIGN, idempotency rule 4): `weekly` and `send` hold it while they work, so a
 * second run started meanwhile (cron firing while last week's batch still hangs) stops at once.
 *
 * The lock is a row in the database itself, taken in an IMMEDIATE transaction, so two runs can't
 * both see it free. It names the pid, host and start time of its holder, and a heartbeat the holder
 * renews every HEARTBEAT_SECONDS. A lock can always be cleared:
 * - same host: a holder that is gone (`kill(pid, 0)` says no such process), a zombie, or a pid now
 *   belonging to a process that started later, is stale at once;
 * - another host (a replaced container), whose process can't be checked: stale once its heartbeat
 *   is older than `delivery.lock_expiry_minutes`;
 * - `comeback unlock` clears a stale lock, and with --force any lock.
 * A stale lock is taken over by the next run, which says so (cli/run-lock.ts).
 *
 * Not flock(2): Node has none, and the packages that add it are native addons (a compiler at
 * install); the row also lets `status` show who holds the lock, from any host sharing the file.
 */
import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import { LockedError } from "../errors.js";
import type { Db } from "../store/open.js";
import { nowIso } from "../time.js";

const LOCK_NAME = "deliver";

/**
 * How often a holder writes its heartbeat. The bound after which another host's lock expires
 * (`delivery.lock_expiry_minutes`, default 15) is 30 of these: a batch that blocks the event loop
 * for a while (a long render) still beats well within it.
 */
export const HEARTBEAT_SECONDS = 30;

export interface LockHolder {
  pid: number;
  host: string;
  command: string;
  started_at: string;
  process_start: string | null;
  /** When the holder last said it was alive (null for a lock taken before heartbeats existed). */
  heartbeat_at: string | null;
}

export interface LockView extends LockHolder {
  /** null: the holder may still be running. Otherwise why the lock is free to take. */
  stale: string | null;
}

export interface RunLock {
  /** The holder this lock replaced, and why it was free, if any. */
  tookOverFrom: LockView | null;
  release(): void;
}

export interface LockOptions {
  /** `delivery.lock_expiry_minutes`: a lock from another host whose heartbeat is older is stale. */
  expiryMinutes: number;
  /** Real milliseconds since the epoch; the lock lives in real time, whatever --now says. */
  nowMs?: number;
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

/** Fields 3… of /proc/PID/stat (state, ppid, …), or null where there is no /proc or no such pid. */
function procStat(pid: number): string[] | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may hold spaces and parentheses: count fields after the last ")".
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  } catch {
    return null;
  }
}

/**
 * When a process started, in clock ticks since boot (field 22 of /proc/PID/stat), or null where
 * there is no /proc. A pid whose start time differs from the one recorded was reused by another
 * process after the holder died.
 */
export function processStart(pid: number): string | null {
  return procStat(pid)?.[19] ?? null;
}

/**
 * Whether the pid is a zombie (Z) or dead (X): it has exited and only waits for its parent to
 * collect it, which, when the parent died too, can take a moment. kill(pid, 0) still succeeds.
 */
export function isZombie(pid: number): boolean {
  const state = procStat(pid)?.[0];
  return state === "Z" || state === "X";
}

const ageText = (ms: number) => {
  const minutes = Math.floor(ms / 60_000);
  return minutes < 1 ? `${Math.round(ms / 1000)} s` : `${minutes} min`;
};

/** null while the holder may be running; else why its lock is free. One place for the rule. */
export function staleness(holder: LockHolder, options: LockOptions & { host?: string }): string | null {
  const host = options.host ?? hostname();
  if (holder.host === host) {
    if (holder.pid === process.pid) return "it is this process's own lock";
    if (!isProcessAlive(holder.pid)) return `pid ${holder.pid} is no longer running`;
    if (isZombie(holder.pid)) return `pid ${holder.pid} has exited (a zombie waiting for its parent)`;
    if (holder.process_start !== null) {
      const start = processStart(holder.pid);
      if (start !== null && start !== holder.process_start)
        return `pid ${holder.pid} now belongs to a process started later`;
    }
    return null;
  }
  const beat = Date.parse(holder.heartbeat_at ?? holder.started_at);
  const age = (options.nowMs ?? Date.now()) - beat;
  if (!Number.isFinite(beat) || age > options.expiryMinutes * 60_000) {
    return `its last heartbeat on ${holder.host} is ${Number.isFinite(beat) ? ageText(age) : "unknown"} old, over delivery.lock_expiry_minutes (${options.expiryMinutes})`;
  }
  return null;
}

const SELECT_HOLDER =
  "SELECT pid, host, command, started_at, process_start, heartbeat_at FROM run_lock WHERE name = ?";

/** The lock as `status` shows it, or null when none is held. */
export function inspectLock(db: Db, options: LockOptions): LockView | null {
  const holder = db.prepare<[string], LockHolder>(SELECT_HOLDER).get(LOCK_NAME);
  return holder ? { ...holder, stale: staleness(holder, options) } : null;
}

/** The message for a lock that is held: who, where, since when, and what to do. */
export function heldMessage(held: LockView, options: LockOptions): string {
  const beat = held.heartbeat_at ?? held.started_at;
  const age = (options.nowMs ?? Date.now()) - Date.parse(beat);
  return (
    `another comeback run holds the lock: "${held.command}", pid ${held.pid} on ${held.host}, since ${held.started_at}, ` +
    `last heartbeat ${beat}${Number.isFinite(age) ? ` (${ageText(Math.max(0, age))} ago)` : ""}; try again when it has finished` +
    (held.host !== hostname()
      ? `. It runs on another host: comeback takes it over once its heartbeat is ${options.expiryMinutes} min old ` +
        "(delivery.lock_expiry_minutes); if that host is gone for good, comeback unlock --force clears it now"
      : `. If it hangs, stop it (kill ${held.pid}); comeback unlock --force clears the lock of a process you know is gone`)
  );
}

export function acquireRunLock(db: Db, command: string, options: LockOptions): RunLock {
  const host = hostname();
  const take = db.transaction((): LockView | null => {
    const held = inspectLock(db, options);
    if (held && held.stale === null) throw new LockedError(heldMessage(held, options));
    const at = nowIso();
    db.prepare(
      "INSERT OR REPLACE INTO run_lock (name, pid, host, command, started_at, process_start, heartbeat_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
    ).run(LOCK_NAME, process.pid, host, command, at, processStart(process.pid), at);
    return held;
  });
  const tookOverFrom = take.immediate();
  const beat = db.prepare("UPDATE run_lock SET heartbeat_at = ? WHERE name = ? AND pid = ? AND host = ?");
  const timer = setInterval(() => {
    try {
      beat.run(nowIso(), LOCK_NAME, process.pid, host);
    } catch {
      // A busy database (an import writing) skips one beat; the bound allows for 30 of them.
    }
  }, HEARTBEAT_SECONDS * 1000);
  timer.unref();
  let released = false;
  return {
    tookOverFrom,
    release() {
      if (released) return;
      released = true;
      clearInterval(timer);
      db.prepare("DELETE FROM run_lock WHERE name = ? AND pid = ? AND host = ?").run(
        LOCK_NAME,
        process.pid,
        host,
      );
    },
  };
}

export interface UnlockResult {
  /** The lock that was cleared, with why it was free (or null: forced while it looked alive). */
  cleared: LockView | null;
  forced: boolean;
}

/**
 * `comeback unlock`: clears a stale lock; a lock whose holder may still run only with `force`.
 * Checked and deleted in one IMMEDIATE transaction, so a run that takes the lock meanwhile is not
 * cleared by mistake.
 */
export function clearRunLock(db: Db, options: LockOptions & { force: boolean }): UnlockResult {
  const clear = db.transaction((): UnlockResult => {
    const held = inspectLock(db, options);
    if (!held) return { cleared: null, forced: false };
    if (held.stale === null && !options.force) throw new LockedError(heldMessage(held, options));
    db.prepare("DELETE FROM run_lock WHERE name = ? AND pid = ? AND host = ? AND started_at = ?").run(
      LOCK_NAME,
      held.pid,
      held.host,
      held.started_at,
    );
    return { cleared: held, forced: held.stale === null };
  });
  return clear.immediate();
}
