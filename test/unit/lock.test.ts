import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { acquireRunLock, processStart } from "../../src/deliver/lock.js";
import { LockedError } from "../../src/errors.js";
import { openStore, type Db } from "../../src/store/open.js";

let db: Db;
beforeEach(() => {
  db = openStore(join(mkdtempSync(join(tmpdir(), "comeback-lock-")), "lock.db"));
});
afterEach(() => db.close());

function holdAs(pid: number, processStartValue: string | null, host = hostname()) {
  db.prepare(
    "INSERT OR REPLACE INTO run_lock (name, pid, host, command, started_at, process_start) VALUES ('deliver', ?, ?, 'comeback weekly', '2026-03-02T08:00:00Z', ?)",
  ).run(pid, host, processStartValue);
}

describe("run lock", () => {
  it("is held until released, and a second taker is refused naming the holder", () => {
    const lock = acquireRunLock(db, "comeback weekly");
    expect(lock.tookOverFrom).toBeNull();
    // Another live process (our parent) holding it:
    holdAs(process.ppid, processStart(process.ppid));
    expect(() => acquireRunLock(db, "comeback send")).toThrow(LockedError);
    expect(() => acquireRunLock(db, "comeback send")).toThrow(
      new RegExp(`pid ${process.ppid} on ${hostname()}`),
    );
    lock.release(); // releases only its own row
    expect(db.prepare("SELECT pid FROM run_lock").pluck().get()).toBe(process.ppid);
  });

  it("takes over the lock of a process that is gone", () => {
    const dead = spawnSync(process.execPath, ["-e", "0"]).pid!;
    holdAs(dead, "123");
    const lock = acquireRunLock(db, "comeback weekly");
    expect(lock.tookOverFrom).toMatchObject({ pid: dead, command: "comeback weekly" });
    lock.release();
    expect(db.prepare("SELECT count(*) FROM run_lock").pluck().get()).toBe(0);
  });

  it("takes over when the pid now belongs to a process started later", () => {
    if (processStart(process.ppid) === null) return; // no /proc here
    holdAs(process.ppid, "1");
    expect(acquireRunLock(db, "comeback weekly").tookOverFrom).toMatchObject({ pid: process.ppid });
  });

  it("treats a lock from another host as held", () => {
    holdAs(1, null, "elsewhere.example");
    expect(() => acquireRunLock(db, "comeback weekly")).toThrow(/on elsewhere\.example.*another host/);
  });
});
