/**
 * issue 17, point 6: storage faults are no bug. Each gets its sysexits code and a message naming the
 * database file and what to do: 73 can't create, 74 I/O (empty, foreign, damaged file, full disk),
 * 77 read-only. Read-only and full disks are made for real: chmod as a user; as root, who writes
 * through chmod, a read-only or tiny tmpfs mount (skipped where mounting is not allowed).
 */
import { execFileSync } from "node:child_process";
import { chmodSync, copyFileSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { fixture, run, workspace } from "../helpers.js";

const ROOT_USER = process.getuid?.() === 0;
const mounts: string[] = [];
const restore: string[] = [];

afterEach(() => {
  for (const dir of mounts.splice(0)) execFileSync("umount", [dir]);
  for (const path of restore.splice(0)) chmodSync(path, 0o755);
});

/** Whether this user can mount a tmpfs (root in most containers and CI runners). */
const canMount = (() => {
  if (!ROOT_USER) return false;
  const dir = workspace();
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", dir], { stdio: "ignore" });
    execFileSync("umount", [dir]);
    return true;
  } catch {
    return false;
  }
})();

function mountTmpfs(dir: string, options: string): void {
  execFileSync("mount", ["-t", "tmpfs", "-o", options, "tmpfs", dir]);
  mounts.push(dir);
}

async function importDemo(dir: string) {
  const result = await run(["import", "customers", fixture("demo", "customers.csv")], { cwd: dir });
  expect(result.code, result.stderr).toBe(0);
}

/** A folder holding a copy of a good database, then made read-only (folder, or file, or both). */
async function readOnlyDatabase(what: "file" | "folder"): Promise<string> {
  const source = workspace();
  await importDemo(source);
  const dir = workspace();
  const db = join(dir, "data", "comeback.db");
  mkdirSync(join(dir, "data"));
  if (ROOT_USER) {
    // root writes through file modes: only a read-only file system stops it (both file and folder).
    mountTmpfs(join(dir, "data"), "size=2m");
    copyFileSync(join(source, "comeback.db"), db);
    execFileSync("mount", ["-o", "remount,ro", join(dir, "data")]);
  } else {
    copyFileSync(join(source, "comeback.db"), db);
    if (what === "file") chmodSync(db, 0o444);
    else {
      chmodSync(join(dir, "data"), 0o555);
      restore.push(join(dir, "data"));
    }
  }
  writeFileSync(join(dir, "comeback.yaml"), "database: ./data/comeback.db\n");
  return dir;
}

const needsMount = ROOT_USER && !canMount;
if (needsMount)
  console.warn("storage-errors: as root without mount rights, the read-only and full-disk cases are skipped");

describe("storage errors", () => {
  it("refuses a 0-byte database file (74) and leaves it as it was", async () => {
    const dir = workspace();
    writeFileSync(join(dir, "comeback.db"), "");
    const result = await run(["import", "customers", fixture("demo", "customers.csv")], { cwd: dir });
    expect(result.code).toBe(74);
    expect(result.stderr).toContain(`the database ${join(dir, "comeback.db")} is an empty file (0 bytes)`);
    expect(result.stderr).toMatch(/restore it from a backup; to start a new database, delete the empty file/);
    expect(statSync(join(dir, "comeback.db")).size).toBe(0);
  });

  it("refuses a file that is not a SQLite database (74), for reading and writing commands", async () => {
    const dir = workspace();
    writeFileSync(join(dir, "comeback.db"), "order_id,email\n1,a@b.de\n");
    for (const args of [["status"], ["import", "customers", fixture("demo", "customers.csv")]]) {
      const result = await run(args, { cwd: dir });
      expect(result.code).toBe(74);
      expect(result.stderr).toContain(`${join(dir, "comeback.db")} is not a SQLite database`);
    }
    expect(readFileSync(join(dir, "comeback.db"), "utf8")).toBe("order_id,email\n1,a@b.de\n");
  });

  it("says a damaged database is damaged (74), naming it and what to do", async () => {
    const dir = workspace();
    await importDemo(dir);
    const orders = await run(["import", "orders", fixture("demo", "orders.csv")], { cwd: dir });
    expect(orders.code, orders.stderr).toBe(0);
    const db = join(dir, "comeback.db");
    const bytes = readFileSync(db);
    bytes.fill(0xff, 4096 * 2, bytes.length); // every page after the schema's
    writeFileSync(db, bytes);
    const result = await run(["status"], { cwd: dir });
    expect(result.code).toBe(74);
    expect(result.stderr).toContain(`the database ${db} is damaged`);
    expect(result.stderr).toMatch(/restore it from a backup/);
    expect(result.stderr).not.toMatch(/bug/);
  });

  it.skipIf(needsMount).each(["file", "folder"] as const)(
    "says a read-only database %s is read-only (77)",
    async (what) => {
      const dir = await readOnlyDatabase(what);
      const result = await run(["import", "orders", fixture("demo", "orders.csv")], { cwd: dir });
      expect(result.code, result.stderr).toBe(77);
      expect(result.stderr).toContain(`can't write the database ${join(dir, "data", "comeback.db")}`);
      expect(result.stderr).toMatch(
        /read-only for this user .*give the user that runs comeback write access/,
      );
    },
  );

  it.skipIf(needsMount)("says it can't create the database in a read-only folder (73)", async () => {
    const dir = workspace("database: ./data/comeback.db\n");
    mkdirSync(join(dir, "data"));
    if (ROOT_USER) mountTmpfs(join(dir, "data"), "size=64k,ro");
    else {
      chmodSync(join(dir, "data"), 0o555);
      restore.push(join(dir, "data"));
    }
    const result = await run(["import", "customers", fixture("demo", "customers.csv")], { cwd: dir });
    expect(result.code, result.stderr).toBe(73);
    expect(result.stderr).toContain(`can't create the database ${join(dir, "data", "comeback.db")}`);
    expect(result.stderr).toMatch(/make it writable for the user that runs comeback/);
  });

  it.skipIf(!canMount)("says the disk is full (74) and what to do", async () => {
    const dir = workspace();
    mkdirSync(join(dir, "data"));
    mountTmpfs(join(dir, "data"), "size=200k");
    writeFileSync(join(dir, "comeback.yaml"), "database: ./data/comeback.db\n");
    const result = await run(["import", "orders", fixture("orders", "online-retail-3k.csv")], { cwd: dir });
    expect(result.code, result.stderr).toBe(74);
    expect(result.stderr).toContain(`the database ${join(dir, "data", "comeback.db")} can't grow: the disk`);
    expect(result.stderr).toMatch(/free some space/);
  });
});
