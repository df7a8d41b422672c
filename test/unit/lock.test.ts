import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { acquireRunLock, isProcessAlive, processStart } from "../../src/deliver/lock.js";
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

  it("treats a lock from another host as held, even when no process here has its pid", () => {
    // A pid that is gone here: checked as if local, the lock would be taken over. (pid 1 would not
    // do: it is always alive, so the lock would look held either way.)
    const dead = spawnSync(process.execPath, ["-e", "0"]).pid!;
    holdAs(dead, "123", "elsewhere.example");
    expect(() => acquireRunLock(db, "comeback weekly")).toThrow(/on elsewhere\.example.*another host/);
    expect(db.prepare("SELECT host FROM run_lock").pluck().get()).toBe("elsewhere.example");
  });
});

describe("run lock, more closely", () => {
  it("names the holder and says to try again, and only another host's lock says it can't be checked", () => {
    holdAs(process.ppid, processStart(process.ppid));
    const error = (() => {
      try {
        acquireRunLock(db, "comeback send");
      } catch (e) {
        return e as Error;
      }
      throw new Error("not refused");
    })();
    expect(error.message).toBe(
      `another comeback run holds the lock: "comeback weekly", pid ${process.ppid} on ${hostname()}, since 2026-03-02T08:00:00Z; try again when it has finished`,
    );
  });

  it("a live local holder whose start time was not recorded is taken as holding it", () => {
    holdAs(process.ppid, null);
    expect(() => acquireRunLock(db, "comeback send")).toThrow(LockedError);
  });

  it("a lock left by this very process is taken over", () => {
    holdAs(process.pid, processStart(process.pid));
    expect(acquireRunLock(db, "comeback send").tookOverFrom).toMatchObject({ pid: process.pid });
  });

  it("releasing twice does not release a lock taken again since", () => {
    const first = acquireRunLock(db, "comeback weekly");
    first.release();
    const second = acquireRunLock(db, "comeback send");
    first.release();
    expect(db.prepare("SELECT command FROM run_lock").pluck().get()).toBe("comeback send");
    second.release();
    expect(db.prepare("SELECT count(*) FROM run_lock").pluck().get()).toBe(0);
  });

  it("reads a process's start time from /proc, and none for a process that is gone", () => {
    if (!existsSync("/proc/self/stat")) return; // no /proc here
    // Field 22 of /proc/PID/stat, counted after the command name in parentheses (which may hold spaces).
    const stat = readFileSync(`/proc/${process.pid}/stat`, "utf8");
    const expected = stat.split(") ")[1]!.split(" ")[19];
    expect(processStart(process.pid)).toBe(expected);
    expect(processStart(process.pid)).toMatch(/^\d+$/);
    const dead = spawnSync(process.execPath, ["-e", "0"]).pid!;
    expect(processStart(dead)).toBeNull();
    expect(isProcessAlive(dead)).toBe(false);
    expect(isProcessAlive(process.pid)).toBe(true);
  });
});

describe("outbox folder transport", () => {
  it("writes <key>.eml atomically and clears temporary files left by a killed run", async () => {
    const { outboxDirTransport } = await import("../../src/deliver/transports.js");
    const { readdirSync, writeFileSync, readFileSync } = await import("node:fs");
    const dir = join(mkdtempSync(join(tmpdir(), "comeback-outbox-")), "outbox");
    const dead = spawnSync(process.execPath, ["-e", "0"]).pid!;
    const transport = outboxDirTransport(dir);
    await transport.open();
    writeFileSync(join(dir, `.cart_1_2026-W10.eml.${dead}.0.tmp`), "half");
    writeFileSync(join(dir, `.cart_2_2026-W10.eml.${process.pid}.7.tmp`), "being written");
    await transport.open();
    const result = await transport.send({
      key: "cart:3:2026-W10",
      raw: "Subject: x\r\n\r\nbody\r\n",
      envelope: { from: "a@b.example", to: "c@d.example" },
    });
    expect(result.ok).toBe(true);
    expect(readdirSync(dir).sort()).toEqual([
      `.cart_2_2026-W10.eml.${process.pid}.7.tmp`,
      "cart_3_2026-W10.eml",
    ]);
    expect(readFileSync(join(dir, "cart_3_2026-W10.eml"), "utf8")).toBe("Subject: x\r\n\r\nbody\r\n");
  });
});
