/**
 * A new user following `comeback demo`'s closing text, in the folder it ran in, with no config: serve
 * the demo, confirm a cart on its page, then the operator's side with `--demo` (send, reorders,
 * report). Each command is taken from what the demo printed, so the text and the flags agree.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { cartPageIn } from "../../src/cli/commands/demo.js";
import { BIN, run, workspace } from "../helpers.js";

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill("SIGKILL");
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** The commands the demo told the user to run, as argument lists (without "comeback" and the comment). */
function printedCommands(stdout: string): string[][] {
  const next = stdout.slice(stdout.indexOf("\nNext, "));
  return [...next.matchAll(/^ {2}comeback (.+?)(?: {2,}.*)?$/gm)].map((m) => m[1]!.trim().split(/ +/));
}

/** The text part of an .eml as comeback writes it (base64). */
const textOf = (eml: string) =>
  Buffer.from(
    /Content-Transfer-Encoding: base64\r?\n\r?\n([A-Za-z0-9+/=\r\n]+)/.exec(eml)![1]!,
    "base64",
  ).toString("utf8");

describe("after comeback demo, what it says to run next", () => {
  it("serve --demo, confirm, then send/reorders/report --demo work in the demo's folder", async () => {
    const dir = workspace();
    const port = await freePort();
    const demo = await run(["demo", "--port", String(port)], { cwd: dir });
    expect(demo.code, demo.stderr).toBe(0);
    const commands = printedCommands(demo.stdout);
    expect(commands).toEqual([
      ["serve", "--demo", "--port", String(port)],
      ["send", "--demo"],
      ["reorders", "--demo"],
      ["report", "--demo", "--html", "report.html"],
    ]);

    const child = spawn(process.execPath, [BIN, ...commands[0]!], {
      cwd: dir,
      env: { ...process.env, COMEBACK_CONFIG: undefined },
    });
    children.push(child);
    let output = "";
    child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const deadline = Date.now() + 30_000;
    while (!output.includes("listening on")) {
      if (child.exitCode !== null || Date.now() > deadline)
        throw new Error(`serve did not start:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }

    // The customer: the cart page the demo printed (the first email's), Confirm as a browser posts it.
    const outbox = join(dir, "outbox");
    const first = readdirSync(outbox).find((name) => name.startsWith("cart_"))!;
    const page = cartPageIn(readFileSync(join(outbox, first), "utf8"))!;
    expect(page.startsWith(`http://127.0.0.1:${port}/c/`)).toBe(true);
    expect(demo.stdout).toContain(page);
    const html = await (await fetch(page)).text();
    const action = /<form method="post" action="([^"]+)" class="cart">/.exec(html)![1]!;
    const csrf = /name="csrf" value="([^"]+)"/.exec(html)![1]!;
    const confirmed = await fetch(new URL(action, page), {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ csrf, action: "confirm", qty_0: "2" }).toString(),
    });
    expect(confirmed.status).toBe(200);

    // The operator: the call email, delivered into the outbox folder.
    const sent = await run(commands[1]!, { cwd: dir });
    expect(sent.code, sent.stderr).toBe(0);
    expect(sent.stdout).toContain("sent 1");
    const call = readFileSync(join(outbox, "reorder_1.eml"), "utf8");
    expect(call).toMatch(/^To: .*owner@shop\.example>?$/m);
    expect(textOf(call)).toMatch(/^Please call .+ about reorder 1: they confirmed the cart of 2026-W10/);

    // The list, as the README's next step and as JSON for a script.
    const listed = await run(commands[2]!, { cwd: dir });
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(/^Reorder 1 {2}open/m);
    const json = await run([...commands[2]!, "--json"], { cwd: dir });
    expect(JSON.parse(json.stdout)).toMatchObject([{ id: 1, status: "open", items: [{ quantity: 2 }] }]);

    // The owner: the report counts the confirmation; its HTML is written where the text said.
    const report = await run(["report", "--demo", "--json"], { cwd: dir });
    expect(report.code, report.stderr).toBe(0);
    const figures = JSON.parse(report.stdout) as { totals: { kind: string; confirmed: number }[] };
    expect(figures.totals.find((t) => t.kind === "cart")?.confirmed).toBe(1);
    const written = await run(commands[3]!, { cwd: dir });
    expect(written.code, written.stderr).toBe(0);
    expect(readFileSync(join(dir, "report.html"), "utf8")).toContain("<svg");
    expect((await run(["status", "--demo", "--json"], { cwd: dir })).code).toBe(0);

    child.kill("SIGTERM");
  }, 120_000);

  it("--db names the demo's other database; without --demo it is a usage error", async () => {
    const dir = workspace();
    const demo = await run(["demo", "--db", "other.db"], { cwd: dir });
    expect(demo.code, demo.stderr).toBe(0);
    expect(printedCommands(demo.stdout)).toContainEqual(["reorders", "--demo", "--db", "other.db"]);
    const listed = await run(["reorders", "--demo", "--db", "other.db"], { cwd: dir });
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toContain("No open reorders.");
    // The default name is not there: even a writing command says so rather than making an empty one.
    const missing = await run(["send", "--demo"], { cwd: dir });
    expect(missing.code).toBe(66);
    expect(missing.stderr).toContain("run comeback demo in this folder first");
    expect(existsSync(join(dir, "comeback-demo.db"))).toBe(false);
    const alone = await run(["reorders", "--db", "other.db"], { cwd: dir });
    expect(alone.code).toBe(2);
    expect(alone.stderr).toContain("--db goes with --demo");
    const both = await run(["reorders", "--demo", "-c", "x.yaml"], { cwd: dir });
    expect(both.code).toBe(2);
  }, 120_000);
});
