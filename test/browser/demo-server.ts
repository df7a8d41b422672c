/**
 * Shared by the browser tests: `comeback demo` in a temp folder, `comeback serve --demo` on a free
 * port of 127.0.0.1 over it (both given the port, so the emails link to this server), and the
 * emails the demo wrote, decoded as a mail client would.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { BIN, run, workspace, type RunResult } from "../helpers.js";

/** The demo's secret (src/cli/commands/demo.ts): a config next to the demo needs it for send and report. */
export const DEMO_SECRET = "demo-secret-NOT-FOR-PRODUCTION-0123456789";
/** The demo's Monday batch ran at this time; serve --demo's clock starts here. */
export const DEMO_NOW = "2026-03-02T09:00:00Z";

/** A person's browser: headless chromium says HeadlessChrome, which the tracking takes for a scanner. */
export const PERSON =
  "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

export interface Demo {
  dir: string;
  port: number;
  base: string;
  db: string;
  outbox: string;
  /** Runs the CLI in the demo folder with a config matching the demo (for send and report). */
  comeback(args: string[]): Promise<RunResult>;
}

/** `comeback demo --port P` in a fresh folder, plus a comeback.yaml that says what the demo did. */
export async function makeDemo(): Promise<Demo> {
  const dir = workspace();
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const made = await run(["demo", "--port", String(port)], { cwd: dir });
  if (made.code !== 0) throw new Error(`comeback demo failed: ${made.stderr}`);
  // The demo runs on built-in defaults; send and report read a config: this one is the demo's.
  writeFileSync(
    join(dir, "comeback.yaml"),
    [
      "database: comeback-demo.db",
      "secret: ${COMEBACK_SECRET}",
      "operator:",
      '  email: "Shop owner <owner@shop.example>"',
      "links:",
      `  base_url: ${base}`,
      "",
    ].join("\n"),
  );
  return {
    dir,
    port,
    base,
    db: join(dir, "comeback-demo.db"),
    outbox: join(dir, "outbox"),
    comeback: (args) => run(args, { cwd: dir, env: { COMEBACK_SECRET: DEMO_SECRET } }),
  };
}

export interface Server {
  stop(): Promise<void>;
  output(): string;
}

/** `comeback serve --demo --port P` in the demo folder; resolves once it listens. */
export function serveDemo(demo: Demo, extra: string[] = []): Promise<Server> {
  const child: ChildProcess = spawn(
    process.execPath,
    [BIN, "serve", "--demo", "--port", String(demo.port), ...extra],
    { cwd: demo.dir, env: { ...process.env, COMEBACK_CONFIG: undefined }, stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  const server: Server = {
    output: () => output,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("close", () => resolve());
        child.kill("SIGTERM");
      }),
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`serve did not start in 30 s:\n${output}`));
    }, 30_000);
    const listen = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes("listening on")) {
        clearTimeout(timer);
        resolve(server);
      }
    };
    child.stdout!.on("data", listen);
    child.stderr!.on("data", listen);
    child.once("close", (code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited (${code}) before listening:\n${output}`));
    });
  });
}

export interface Email {
  headers: string;
  text: string;
  html: string;
}

/** One .eml of the outbox folder, its parts decoded (base64 or quoted-printable), as a mail client reads it. */
export function readEmail(path: string): Email {
  const raw = readFileSync(path, "utf8");
  const split = raw.search(/\r?\n\r?\n/);
  const email: Email = { headers: raw.slice(0, split).replace(/\r?\n[ \t]+/g, " "), text: "", html: "" };
  const parts = raw.matchAll(
    /Content-Type: text\/(plain|html)[^\n]*\r?\nContent-Transfer-Encoding: (base64|quoted-printable)\r?\n\r?\n([\s\S]*?)(?=\r?\n--)/gi,
  );
  for (const [, type, encoding, body] of parts) {
    const decoded =
      encoding!.toLowerCase() === "base64"
        ? Buffer.from(body!, "base64").toString("utf8")
        : Buffer.from(
            body!
              .replace(/=\r?\n/g, "")
              .replace(/=([0-9A-F]{2})/gi, (_, hex: string) => String.fromCharCode(parseInt(hex, 16))),
            "latin1",
          ).toString("utf8");
    if (type === "plain") email.text = decoded;
    else email.html = decoded;
  }
  return email;
}

/** The outbox folder's .eml files whose name starts with `prefix` (cart_, reorder_, ...). */
export function emailsIn(demo: Demo, prefix: string): string[] {
  return readdirSync(demo.outbox)
    .filter((file) => file.startsWith(prefix) && file.endsWith(".eml"))
    .sort()
    .map((file) => join(demo.outbox, file));
}

/** The https/http address the List-Unsubscribe header names (the one RFC 8058's POST goes to). */
export function oneClickAddress(email: Email): string {
  const header = /^List-Unsubscribe: (.*)$/im.exec(email.headers)?.[1] ?? "";
  const found = /<(https?:[^>]+)>/.exec(header);
  if (!found) throw new Error(`no http List-Unsubscribe in: ${header}`);
  return found[1]!;
}
