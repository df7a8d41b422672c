import { execFileSync, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  acquireRunLock,
  clearRunLock,
  HEARTBEAT_SECONDS,
  isProcessAlive,
  isZombie,
  processStart,
} from "../../src/deliver/lock.js";
import { LockedError } from "../../src/errors.js";
import { openStore, type Db } from "../../src/store/open.js";

let db: Db;
beforeEach(() => {
  db = openStore(join(mkdtempSync(join(tmpdir(), "comeback-lock-")), "lock.db"));
});
afterEach(() => db.close());

const OPTIONS = { expiryMinutes: 15 };

function holdAs(
  pid: number,
  processStartValue: string | null,
  host = hostname(),
  heartbeat: string | null = new Date().toISOString().slice(0, 19) + "Z",
) {
  db.prepare(
    "INSERT OR REPLACE INTO run_lock (name, pid, host, command, started_at, process_start, heartbeat_at) VALUES ('deliver', ?, ?, 'comeback weekly', '2026-03-02T08:00:00Z', ?, ?)",
  ).run(pid, host, processStartValue, heartbeat);
}

/** A pid that has exited but is not reaped: a zombie, for as long as its parent (sleep) lives. */
function zombie(): { pid: number; parent: ChildProcess } {
  const file = join(mkdtempSync(join(tmpdir(), "comeback-zombie-")), "pid");
  // sh starts a short child, then becomes `sleep 30`, which never reaps it.
  const parent = spawn("sh", ["-c", `sleep 0.05 & echo $! > ${file}; exec sleep 30`], { stdio: "ignore" });
  execFileSync("sleep", ["0.5"]);
  return { pid: Number(readFileSync(file, "utf8").trim()), parent };
}

describe("run lock", () => {
  it("is held until released, and a second taker is refused naming the holder", () => {
    const lock = acquireRunLock(db, "comeback weekly", OPTIONS);
    expect(lock.tookOverFrom).toBeNull();
    // Another live process (our parent) holding it:
    holdAs(process.ppid, processStart(process.ppid));
    expect(() => acquireRunLock(db, "comeback send", OPTIONS)).toThrow(LockedError);
    expect(() => acquireRunLock(db, "comeback send", OPTIONS)).toThrow(
      new RegExp(`pid ${process.ppid} on ${hostname()}.*last heartbeat`),
    );
    lock.release(); // releases only its own row
    expect(db.prepare("SELECT pid FROM run_lock").pluck().get()).toBe(process.ppid);
  });

  it("takes over the lock of a process that is gone", () => {
    const dead = spawnSync(process.execPath, ["-e", "0"]).pid!;
    holdAs(dead, "123");
    const lock = acquireRunLock(db, "comeback weekly", OPTIONS);
    expect(lock.tookOverFrom).toMatchObject({ pid: dead, command: "comeback weekly" });
    expect(lock.tookOverFrom!.stale).toBe(`pid ${dead} is no longer running`);
    lock.release();
    expect(db.prepare("SELECT count(*) FROM run_lock").pluck().get()).toBe(0);
  });

  it.skipIf(!existsSync("/proc/self/stat"))(
    "takes over the lock of a zombie (exited, not yet reaped)",
    () => {
      const { pid, parent } = zombie();
      try {
        expect(isZombie(pid)).toBe(true);
        holdAs(pid, processStart(pid));
        const lock = acquireRunLock(db, "comeback weekly", OPTIONS);
        expect(lock.tookOverFrom?.stale).toMatch(new RegExp(`pid ${pid} has exited \\(a zombie`));
      } finally {
        parent.kill();
      }
    },
  );

  it("takes over when the pid now belongs to a process started later", () => {
    if (processStart(process.ppid) === null) return; // no /proc here
    holdAs(process.ppid, "1");
    expect(acquireRunLock(db, "comeback weekly", OPTIONS).tookOverFrom).toMatchObject({ pid: process.ppid });
  });

  it("treats a lock from another host as held while its heartbeat is fresh, and takes it over after the bound", () => {
    // The pid means nothing on this host: a pid that is surely not running here, not pid 1.
    const dead = spawnSync(process.execPath, ["-e", "0"]).pid!;
    holdAs(dead, null, "elsewhere.example");
    expect(() => acquireRunLock(db, "comeback weekly", OPTIONS)).toThrow(
      /on elsewhere\.example.*another host: comeback takes it over once its heartbeat is 15 min old/,
    );
    const nowMs = Date.now() + 16 * 60_000;
    const lock = acquireRunLock(db, "comeback weekly", { ...OPTIONS, nowMs });
    expect(lock.tookOverFrom?.stale).toMatch(
      /^its last heartbeat on elsewhere\.example is 1[56] min old, over delivery.lock_expiry_minutes \(15\)$/,
    );
  });

  it("expires another host's lock taken before heartbeats by its start time", () => {
    holdAs(4242, null, "elsewhere.example", null);
    expect(acquireRunLock(db, "comeback weekly", OPTIONS).tookOverFrom?.stale).toMatch(/its last heartbeat/);
  });

  it("writes a heartbeat while held", () => {
    vi.useFakeTimers({ toFake: ["setInterval", "clearInterval", "Date"] });
    try {
      vi.setSystemTime(new Date("2026-03-02T08:00:00Z"));
      const lock = acquireRunLock(db, "comeback weekly", OPTIONS);
      vi.advanceTimersByTime(HEARTBEAT_SECONDS * 1000 * 2);
      expect(db.prepare("SELECT heartbeat_at FROM run_lock").pluck().get()).toBe("2026-03-02T08:01:00Z");
      lock.release();
    } finally {
      vi.useRealTimers();
    }
  });

  it("unlock clears a stale lock, refuses a live one without --force, and clears it with", () => {
    expect(clearRunLock(db, { ...OPTIONS, force: false })).toEqual({ cleared: null, forced: false });
    holdAs(process.ppid, processStart(process.ppid));
    expect(() => clearRunLock(db, { ...OPTIONS, force: false })).toThrow(LockedError);
    expect(clearRunLock(db, { ...OPTIONS, force: true })).toMatchObject({
      forced: true,
      cleared: { pid: process.ppid },
    });
    holdAs(4242, null, "elsewhere.example", "2020-01-01T00:00:00Z");
    expect(clearRunLock(db, { ...OPTIONS, force: false })).toMatchObject({
      forced: false,
      cleared: { host: "elsewhere.example", stale: expect.stringMatching(/heartbeat/) },
    });
    expect(db.prepare("SELECT count(*) FROM run_lock").pluck().get()).toBe(0);
  });
});

describe("run lock, more closely", () => {
  it("names the holder and says to try again, and only another host's lock says it can't be checked", () => {
    holdAs(process.ppid, processStart(process.ppid));
    const error = (() => {
      try {
        acquireRunLock(db, "comeback send", OPTIONS);
      } catch (e) {
        return e as Error;
      }
      throw new Error("not refused");
    })();
    expect(error.message).toMatch(
      new RegExp(
        `^another comeback run holds the lock: "comeback weekly", pid ${process.ppid} on ${hostname()}, since 2026-03-02T08:00:00Z, ` +
          `last heartbeat .*; try again when it has finished\\. If it hangs, stop it \\(kill ${process.ppid}\\)`,
      ),
    );
  });

  it("a live local holder whose start time was not recorded is taken as holding it", () => {
    holdAs(process.ppid, null);
    expect(() => acquireRunLock(db, "comeback send", OPTIONS)).toThrow(LockedError);
  });

  it("a lock left by this very process is taken over", () => {
    holdAs(process.pid, processStart(process.pid));
    expect(acquireRunLock(db, "comeback send", OPTIONS).tookOverFrom).toMatchObject({ pid: process.pid });
  });

  it("releasing twice does not release a lock taken again since", () => {
    const first = acquireRunLock(db, "comeback weekly", OPTIONS);
    first.release();
    const second = acquireRunLock(db, "comeback send", OPTIONS);
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
    expect(result.status).toBe("sent");
    expect(readdirSync(dir).sort()).toEqual([
      `.cart_2_2026-W10.eml.${process.pid}.7.tmp`,
      "cart_3_2026-W10.eml",
    ]);
    expect(readFileSync(join(dir, "cart_3_2026-W10.eml"), "utf8")).toBe("Subject: x\r\n\r\nbody\r\n");
  });
});
