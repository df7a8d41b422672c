/**
 * `comeback serve` as a shop runs it: the demo writes its emails, the server is spawned on a free
 * port on 127.0.0.1, and the links in the real .eml files work: the cart page, confirming (the
 * operator's email queued, `comeback reorders` lists it), one-click unsubscribe; SIGTERM stops it.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { cartPageIn } from "../../src/cli/commands/demo.js";
import { BIN, query, run, workspace } from "../helpers.js";

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

interface Served {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

async function serve(dir: string, args: string[]): Promise<Served> {
  const child = spawn(process.execPath, [BIN, "serve", ...args], {
    cwd: dir,
    env: { ...process.env, COMEBACK_CONFIG: undefined },
  });
  children.push(child);
  let output = "";
  child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  const deadline = Date.now() + 30_000;
  while (!output.includes("listening on")) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`serve did not start:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { child, output: () => output, exited };
}

/** The .eml's link, sent to this test's port instead of the demo's 8080. */
const onPort = (url: string, port: number) =>
  url.replace("http://127.0.0.1:8080", `http://127.0.0.1:${port}`);

describe("comeback serve", () => {
  it("serves the cart page of a demo email; confirm and one-click unsubscribe work; SIGTERM stops it", async () => {
    const dir = workspace();
    const demo = await run(["demo"], { cwd: dir });
    expect(demo.code, demo.stderr).toBe(0);
    expect(demo.stdout).toContain("comeback serve --demo");
    const outbox = join(dir, "outbox");
    const file = readdirSync(outbox).find((name) => name.startsWith("cart_"))!;
    const eml = readFileSync(join(outbox, file), "utf8");
    const cartLink = cartPageIn(eml)!;
    expect(cartLink).toMatch(/^http:\/\/127\.0\.0\.1:8080\/c\/cart\./);
    expect(demo.stdout).toContain(cartLink);

    const port = await freePort();
    const server = await serve(dir, ["--demo", "--port", String(port)]);
    expect(server.output()).toContain(`listening on http://127.0.0.1:${port}`);

    const page = await fetch(onPort(cartLink, port));
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('<form method="post"');
    expect(page.headers.get("content-security-policy")).toContain("default-src 'none'");
    const css = await fetch(new URL("../static/comeback.css", onPort(cartLink, port)));
    expect(css.status).toBe(200);

    const forged = await fetch(
      onPort(
        cartLink.replace(/.$/, (c) => (c === "A" ? "B" : "A")),
        port,
      ),
    );
    expect(forged.status).toBe(403);

    // Confirm: the form as a browser posts it (the page's relative action, its hidden token).
    const action = /<form method="post" action="([^"]+)" class="cart">/.exec(html)![1]!;
    const csrf = /name="csrf" value="([^"]+)"/.exec(html)![1]!;
    const confirmed = await fetch(new URL(action, onPort(cartLink, port)), {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ csrf, action: "confirm", qty_0: "2" }).toString(),
    });
    expect(confirmed.status).toBe(200);
    const db = join(dir, "comeback-demo.db");
    expect(query(db, "SELECT idempotency_key, state FROM outbox WHERE kind = 'reorder'")).toEqual([
      { idempotency_key: "reorder:1", state: "queued" },
    ]);

    // One click, as a mail client does it, at the address List-Unsubscribe names.
    const header = /^List-Unsubscribe: (.*(?:\r\n[ \t].*)*)/m.exec(eml)![1]!.replace(/\r\n[ \t]/g, " ");
    const oneClick = /<(http:\/\/127\.0\.0\.1:8080\/u\/[^>]+)>/.exec(header)![1]!;
    const unsubscribed = await fetch(onPort(oneClick, port), {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "List-Unsubscribe=One-Click",
    });
    expect(unsubscribed.status).toBe(200);
    const recipient = /^To: .*<([^>]+)>$/m.exec(eml)?.[1] ?? /^To: (\S+)$/m.exec(eml)![1]!;
    expect(query(db, "SELECT address, source FROM suppressions")).toEqual([
      { address: recipient.toLowerCase(), source: "unsubscribe" },
    ]);
    expect(
      query(db, "SELECT kind FROM events WHERE kind <> 'delivered' ORDER BY id").map((e) => e.kind),
    ).toEqual(["cart_viewed", "confirmed", "unsubscribed"]);

    server.child.kill("SIGTERM");
    expect(await server.exited).toBe(0);
    expect(server.output()).toContain("comeback serve: stopped.");
    // No address, name or token in what it printed.
    expect(server.output()).not.toMatch(/@|cart\.\d|unsub\./);

    // The operator's list, from a config naming the demo's database; and the operator's email, delivered
    // by the next send into the outbox folder.
    writeFileSync(
      join(dir, "comeback.yaml"),
      "database: comeback-demo.db\nsecret: ${COMEBACK_SECRET}\noperator:\n  email: Owner <owner@shop.example>\n",
    );
    const sent = await run(["send", "--now", "2026-03-02T10:00:00Z"], {
      cwd: dir,
      env: { COMEBACK_SECRET: "demo-secret-NOT-FOR-PRODUCTION-0123456789" },
    });
    expect(sent.code, sent.stderr).toBe(0);
    const operatorEmail = readFileSync(join(outbox, "reorder_1.eml"), "utf8");
    expect(operatorEmail).toMatch(/^To: .*owner@shop\.example>?$/m);
    const text = Buffer.from(
      /Content-Transfer-Encoding: base64\r?\n\r?\n([A-Za-z0-9+/=\r\n]+)/.exec(operatorEmail)![1]!,
      "base64",
    ).toString("utf8");
    expect(text).toMatch(/^Please call .+ about reorder 1: they confirmed the cart of 2026-W10/);
    expect(text).toContain("comeback reorders done 1");
    expect(query(db, "SELECT state FROM outbox WHERE kind = 'reorder'")).toEqual([{ state: "sent" }]);
    const listed = await run(["reorders", "--json"], { cwd: dir });
    expect(listed.code, listed.stderr).toBe(0);
    const reorders = JSON.parse(listed.stdout) as {
      id: number;
      status: string;
      items: { quantity: number }[];
    }[];
    expect(reorders).toMatchObject([{ id: 1, status: "open", items: [{ quantity: 2 }] }]);
    const done = await run(["reorders", "done", "1"], { cwd: dir });
    expect(done.stdout).toContain("Reorder 1 closed.");
    expect((await run(["reorders"], { cwd: dir })).stdout).toContain("No open reorders.");
    expect((await run(["reorders", "--status", "done", "--csv", "-"], { cwd: dir })).stdout).toMatch(
      /^reorder_id,status,confirmed_at,customer_id,name,phone,email,sku,product_name,quantity,/,
    );
  }, 120_000);

  it("refuses a port in use with a usage error, and a config without a secret", async () => {
    const dir = workspace("database: ./comeback.db\n");
    const nosecret = await run(["serve", "--port", "0"], { cwd: dir });
    expect(nosecret.code).toBe(78);
    expect(nosecret.stderr).toContain("secret is not set");
    const bad = await run(["serve", "--port", "http"], { cwd: dir });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--port "http"');
    // A port another program holds.
    const held = createServer();
    await new Promise<void>((resolve) => held.listen(0, "127.0.0.1", resolve));
    const port = (held.address() as { port: number }).port;
    const withSecret = workspace("database: ./comeback.db\nsecret: ${COMEBACK_SECRET}\n");
    const busy = await run(["serve", "--port", String(port)], {
      cwd: withSecret,
      env: { COMEBACK_SECRET: "0123456789abcdef0123456789abcdef-busy" },
    });
    held.close();
    expect(busy.code).toBe(2);
    expect(busy.stderr).toContain(`can't listen on 127.0.0.1:${port}`);
  }, 60_000);
});
