/**
 * issue 17, point 7: a run lock can always be cleared. `status` shows it, `unlock` clears a stale one
 * (and a live one only with --force), and a command that takes over a stale lock says so.
 */
import { spawnSync } from "node:child_process";
import { hostname } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { fixture, query, run, workspace } from "../helpers.js";
import { SECRET } from "../deliver-helpers.js";

const env = { COMEBACK_SECRET: SECRET };
const iso = (ms: number) => new Date(ms).toISOString().slice(0, 19) + "Z";

function hold(db: string, pid: number, host: string, heartbeat: string) {
  const handle = new Database(db);
  handle
    .prepare(
      "INSERT OR REPLACE INTO run_lock (name, pid, host, command, started_at, process_start, heartbeat_at) VALUES ('deliver', ?, ?, 'comeback weekly', ?, NULL, ?)",
    )
    .run(pid, host, heartbeat, heartbeat);
  handle.close();
}

async function shop() {
  const dir = workspace("secret: ${COMEBACK_SECRET}\ndelivery:\n  lock_expiry_minutes: 10\n");
  const result = await run(["import", "customers", fixture("demo", "customers.csv")], { cwd: dir });
  expect(result.code, result.stderr).toBe(0);
  return { dir, db: join(dir, "comeback.db") };
}

describe("the run lock from the command line", () => {
  it("status shows another host's lock; unlock leaves it while fresh, clears it with --force", async () => {
    const { dir, db } = await shop();
    const beat = iso(Date.now() - 60_000);
    hold(db, 4242, "old-container", beat);
    const status = await run(["status", "--json"], { cwd: dir });
    expect(JSON.parse(status.stdout).lock).toEqual({
      pid: 4242,
      host: "old-container",
      command: "comeback weekly",
      started_at: beat,
      process_start: null,
      heartbeat_at: beat,
      stale: null,
    });
    const text = await run(["status"], { cwd: dir });
    expect(text.stdout).toContain(
      `Run lock: "comeback weekly", pid 4242 on old-container, since ${beat}, last heartbeat ${beat} (held)`,
    );
    const refused = await run(["unlock"], { cwd: dir });
    expect(refused.code).toBe(75);
    expect(refused.stderr).toMatch(
      /on old-container.*once its heartbeat is 10 min old.*comeback unlock --force/,
    );
    const send = await run(["send", "--now", "2026-03-02T09:00"], { cwd: dir, env });
    expect(send.code).toBe(75);
    const forced = await run(["unlock", "--force"], { cwd: dir });
    expect(forced.code, forced.stderr).toBe(0);
    expect(forced.stderr).toMatch(
      /warning: forced: cleared the run lock of "comeback weekly", pid 4242 on old-container/,
    );
    expect(query(db, "SELECT * FROM run_lock")).toEqual([]);
    expect((await run(["unlock"], { cwd: dir })).stdout).toBe("No run lock is held.\n");
  });

  it("clears an expired lock of another host, and send takes over a dead pid's lock saying so", async () => {
    const { dir, db } = await shop();
    hold(db, 4242, "old-container", iso(Date.now() - 11 * 60_000));
    const status = await run(["status", "--json"], { cwd: dir });
    expect(JSON.parse(status.stdout).lock.stale).toMatch(
      /^its last heartbeat on old-container is 1[12] min old, over delivery.lock_expiry_minutes \(10\)$/,
    );
    const unlock = await run(["unlock"], { cwd: dir });
    expect(unlock.code, unlock.stderr).toBe(0);
    expect(unlock.stdout).toMatch(
      /^Cleared the run lock of "comeback weekly", pid 4242 on old-container, since .*: its last heartbeat/,
    );

    const dead = spawnSync(process.execPath, ["-e", "0"]).pid!;
    hold(db, dead, hostname(), iso(Date.now()));
    const send = await run(["send", "--now", "2026-03-02T09:00"], { cwd: dir, env });
    expect(send.code, send.stderr).toBe(0);
    expect(send.stderr).toContain(
      `comeback: warning: took over the run lock of pid ${dead} on ${hostname()} ("comeback weekly", since `,
    );
    expect(send.stderr).toContain(`pid ${dead} is no longer running`);
    expect(query(db, "SELECT * FROM run_lock")).toEqual([]);
  });
});
