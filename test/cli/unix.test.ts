/**
 * Unix habits: `--csv -` is stdout, `--quiet` leaves only errors, `-v` is readable on a terminal and
 * never costs the log file, progress is in lines and bytes and only on a terminal, counts are
 * singular when they are one. On the demo shop (fixtures/demo), as of the demo's Monday.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { formatBytes, importProgress, plural } from "../../src/cli/output.js";
import { formatLogLine } from "../../src/log.js";
import { BIN, fixture, run, workspace } from "../helpers.js";

const NOW = "2026-03-02";
const ORDERS = fixture("demo", "orders.csv");
let dir = "";

beforeAll(async () => {
  dir = workspace("database: comeback-demo.db\nlog:\n  file: logs/comeback.log\n");
  const demo = await run(["demo"], { cwd: dir });
  expect(demo.code, demo.stderr).toBe(0);
});

/** Runs the built binary with stdin, stdout and stderr on a terminal (util-linux `script`). */
function onTerminal(args: string[], cwd: string): string | null {
  if (spawnSync("script", ["--version"]).status !== 0) return null;
  const command = [process.execPath, BIN, ...args].map((a) => `'${a}'`).join(" ");
  const result = spawnSync("script", ["-qec", command, "/dev/null"], {
    cwd,
    encoding: "utf8",
    // Progress is off under CI=true (output.ts), which CI sets: a person at a terminal has no CI.
    env: { ...process.env, CI: undefined, COMEBACK_CONFIG: undefined },
  });
  expect(result.status, result.stdout).toBe(0);
  return result.stdout;
}

describe("--csv -", () => {
  it.each([
    ["lost", "customer_id,email,comeback_id,phone,name,status"],
    ["tasks", "task_id,due_on,status"],
    ["due", "customer_id,email,comeback_id,name,group"],
  ])("comeback %s --csv - writes the CSV to stdout and no file named -", async (command, header) => {
    const result = await run([command, "--now", NOW, "--csv", "-"], { cwd: dir });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.startsWith(header), result.stdout).toBe(true); // no byte-order mark in a pipe
    expect(result.stdout).not.toContain("written to");
    expect(existsSync(join(dir, "-"))).toBe(false);
  });

  it("a file name still writes the file, with the byte-order mark spreadsheets need", async () => {
    const result = await run(["lost", "--now", NOW, "--csv", "lost.csv"], { cwd: dir });
    expect(result.stdout).toMatch(/^\d+ customers? written to lost\.csv$/m);
    expect(readFileSync(join(dir, "lost.csv"), "utf8").startsWith("\uFEFFcustomer_id,")).toBe(true);
  });
});

describe("--quiet", () => {
  it("prints nothing when all goes well", async () => {
    const result = await run(["import", "orders", ORDERS, "--force", "--quiet"], { cwd: dir });
    expect(result).toEqual({ code: 0, stdout: "", stderr: "" });
    const plan = await run(["plan", "--now", NOW, "-q"], { cwd: dir });
    expect(plan).toEqual({ code: 0, stdout: "", stderr: "" });
  });

  it("still prints what --json and --csv - ask for", async () => {
    const json = await run(["lost", "--now", NOW, "--json", "--quiet"], { cwd: dir });
    expect(Array.isArray(JSON.parse(json.stdout))).toBe(true);
    const csv = await run(["tasks", "--now", NOW, "--csv", "-", "--quiet"], { cwd: dir });
    expect(csv.stdout.startsWith("task_id,")).toBe(true);
    expect(csv.stderr).toBe("");
  });

  it("still prints errors, with their exit code", async () => {
    const result = await run(["import", "orders", "no-such-file.csv", "--quiet"], { cwd: dir });
    expect(result.code).toBe(66);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(/^comeback: .*no-such-file\.csv/);
  });

  it("and --verbose together are a usage error", async () => {
    const result = await run(["plan", "--quiet", "--verbose"], { cwd: dir });
    expect(result.code).toBe(2);
  });
});

describe("-v and log.file", () => {
  it("log.file gets the logs with -v too, and stderr gets them as JSON lines when it is not a terminal", async () => {
    const log = join(dir, "logs", "comeback.log");
    const before = existsSync(log) ? readFileSync(log, "utf8").split("\n").length : 0;
    const result = await run(["import", "orders", ORDERS, "--force", "-v"], { cwd: dir });
    expect(result.code, result.stderr).toBe(0);
    const lines = readFileSync(log, "utf8")
      .trim()
      .split("\n")
      .slice(before - 1);
    expect(lines.some((line) => (JSON.parse(line) as { msg: string }).msg === "import finished")).toBe(true);
    const stderr = result.stderr.trim().split("\n");
    expect(stderr.some((line) => (JSON.parse(line) as { msg: string }).msg === "import started")).toBe(true);
  });

  it("on a terminal, -v prints readable lines: time, level, message, fields", () => {
    const screen = onTerminal(["import", "orders", ORDERS, "--force", "-v"], dir);
    if (screen === null) return console.warn("SKIPPED: no util-linux script to give comeback a terminal");
    expect(screen).toMatch(/\d\d:\d\d:\d\d\.\d{3} INFO {2}import started {2}file=\S+orders\.csv kind=orders/);
    expect(screen).not.toContain('"msg"');
  });

  it("formats an error's stack under its line", () => {
    const line = JSON.stringify({
      level: 50,
      time: 0,
      run: "ab12",
      msg: "failed",
      err: { stack: "Error: x\n    at y" },
    });
    expect(formatLogLine(line)).toBe("00:00:00.000 ERROR failed\n    Error: x\n        at y\n");
  });
});

describe("import progress", () => {
  it("is in lines and bytes on a terminal, and absent when stderr is not one", async () => {
    const screen = onTerminal(["import", "orders", ORDERS, "--force"], dir);
    if (screen === null) return console.warn("SKIPPED: no util-linux script to give comeback a terminal");
    expect(screen).toMatch(/importing orders\.csv: \d+ lines, \d+ kB of \d+ kB/);
    expect(screen).not.toMatch(/importing[^\n]*rows/);
    const piped = await run(["import", "orders", ORDERS, "--force"], { cwd: dir });
    expect(piped.stderr).toBe("");
  });

  it("reads as a person reads a file's size", () => {
    expect(importProgress(412_000, 38_200_000, 91_000_000)).toBe("412,000 lines, 38 MB of 91 MB");
    expect(importProgress(1, 300, 2_500)).toBe("1 line, 1 kB of 3 kB");
    expect(formatBytes(9_540_000)).toBe("9.5 MB");
  });
});

describe("plural", () => {
  it("is singular for one and plural otherwise, with thousands separated", () => {
    expect(plural(1, "order")).toBe("1 order");
    expect(plural(0, "order")).toBe("0 orders");
    expect(plural(1234, "address", "addresses")).toBe("1,234 addresses");
  });

  it("the human output says 1 of a thing, not 1 things", async () => {
    const result = await run(["tasks", "--now", NOW], { cwd: dir });
    expect(result.stdout, result.stdout).not.toMatch(/\b1 (orders|tasks|customers|messages|reminders)\b/);
    expect(readdirSync(dir)).not.toContain("-");
  });
});
