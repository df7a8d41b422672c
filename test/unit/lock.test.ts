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

  it("treats a lock from another host as held, even when no process here has its pid", () => {
    // A pid that is gone here: checked as if local, the lock would be taken over. (pid 1 would not
    // do: it is always alive, so the lock would look held either way.)
    const dead = spawnSync(process.execPath, ["-e", "0"]).pid!;
    holdAs(dead, "123", "elsewhere.example");
    expect(() => acquireRunLock(db, "comeback weekly")).toThrow(/on elsewhere\.example.*another host/);
    expect(db.prepare("SELECT host FROM run_lock").pluck().get()).toBe("elsewhere.example");
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
