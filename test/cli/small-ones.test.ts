/** issue 17, point 8: the smaller ones, each reproduced as the admin would meet it. */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { fixture, query, run, workspace } from "../helpers.js";

const HEADER = "order_id,ordered_at,sku,quantity,unit_price,email";
const row = (id: number, extra = "") => `${id},2024-08-01,A-1,1,2.00,c${id}@example.com${extra}`;

async function importText(name: string, text: string, args: string[] = []) {
  const dir = workspace();
  writeFileSync(join(dir, name), text);
  return { dir, result: await run(["import", "orders", name, ...args], { cwd: dir }) };
}

describe("reading CSV", () => {
  it("reads a CRLF header with LF and CR rows as separate rows", async () => {
    const text = `${HEADER}\r\n${row(1)}\n${row(2)}\n${row(3)}\r${row(4)}\r\n${row(5)}\r`;
    const { dir, result } = await importText("mixed.csv", text);
    expect(result.code, result.stderr).toBe(0);
    expect(query(join(dir, "comeback.db"), "SELECT external_id FROM orders ORDER BY 1")).toEqual(
      [1, 2, 3, 4, 5].map((id) => ({ external_id: String(id) })),
    );
  });

  it("refuses a header that names a column twice, naming both", async () => {
    const { result } = await importText("dup.csv", `${HEADER},Email\n${row(1)},other@example.com\n`);
    expect(result.code).toBe(65);
    expect(result.stderr).toContain(
      'dup.csv:1: the header "Email" names two columns, 6 and 7 ("email" and "Email"): rename one',
    );
  });

  it("says which columns a ragged row lacks or adds", async () => {
    const text = `${HEADER}\n1,2024-08-01,A-1,1,2.00\n${row(2, ",extra")}\n`;
    const { result } = await importText("ragged.csv", text);
    expect(result.code).toBe(65);
    expect(result.stderr).toContain(
      'ragged.csv:2: has 5 fields, the header has 6: no cell for "email" (column 6)',
    );
    expect(result.stderr).toContain(
      'ragged.csv:3: has 7 fields, the header has 6: text in column 7, past the last header "email" (column 6)',
    );
  });

  it("names file:line for an amount too large to store", async () => {
    const text = `${HEADER}\n${row(1)}\n2,2024-08-01,A-1,1,99999999999999999999.00,c2@example.com\n`;
    const { result } = await importText("big.csv", text);
    expect(result.code).toBe(65);
    expect(result.stderr).toContain(
      "big.csv:3: the amount 99999999999999999999.00 is too large to store exactly",
    );
  });

  it("removes the rejected file's temporary left by a killed --skip-bad-rows import, not a live run's", async () => {
    const dir = workspace();
    const dead = spawnSync(process.execPath, ["-e", "0"]).pid!;
    const leftover = join(dir, `bad.rejected.csv.${dead}.tmp`);
    const live = join(dir, `bad.rejected.csv.${process.pid}.tmp`);
    writeFileSync(leftover, "half");
    writeFileSync(live, "being written");
    writeFileSync(join(dir, "bad.csv"), `${HEADER}\n${row(1)}\n2,2024-02-31,A-1,1,2.00,c2@example.com\n`);
    const result = await run(["import", "orders", "bad.csv", "--skip-bad-rows"], { cwd: dir });
    expect(result.code, result.stderr).toBe(0);
    expect(existsSync(leftover)).toBe(false);
    expect(existsSync(live)).toBe(true);
    expect(existsSync(join(dir, "bad.rejected.csv"))).toBe(true);
  });
});

describe("listings", () => {
  it("show terminal escape codes in names escaped, never raw", async () => {
    const dir = workspace();
    const orders = readFileSync(fixture("demo", "orders.csv"), "utf8").replaceAll(
      "Clara Jones",
      "Clara \u001b]52;c;aGk=\u0007\u001b[2J\u009bJones",
    );
    writeFileSync(join(dir, "orders.csv"), orders);
    expect((await run(["import", "orders", "orders.csv"], { cwd: dir })).code).toBe(0);
    expect((await run(["plan", "--now", "2026-09-01"], { cwd: dir })).code).toBe(0);
    const lost = await run(["lost", "--now", "2026-09-01"], { cwd: dir });
    expect(lost.code, lost.stderr).toBe(0);
    expect(lost.stdout).toContain("Clara \\x1b]52;c;aGk=\\x07\\x1b[2J\\x9bJones");
    for (const raw of ["\u001b", "\u0007", "\u009b"]) expect(lost.stdout).not.toContain(raw);
  });

  it("writes due.csv with a byte-order mark, as the other CSVs", async () => {
    const dir = workspace();
    for (const kind of ["products", "customers", "orders"]) {
      expect((await run(["import", kind, fixture("demo", `${kind}.csv`)], { cwd: dir })).code).toBe(0);
    }
    const due = await run(["due", "--now", "2026-03-02", "--csv", "due.csv"], { cwd: dir });
    expect(due.code, due.stderr).toBe(0);
    expect(readFileSync(join(dir, "due.csv")).subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
    expect(readFileSync(join(dir, "due.csv"), "utf8")).toMatch(/^\uFEFF[a-z_]+,/);
  });
});
