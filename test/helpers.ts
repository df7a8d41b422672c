/** Shared by the CLI tests: run the built binary as a user would, in a temp folder of its own. */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const BIN = join(ROOT, "dist", "bin", "comeback.js");
export const FIXTURES = join(ROOT, "fixtures");
export const SHARED_DATA = resolve(ROOT, "..", "shared", "data");

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function run(
  args: string[],
  options: { cwd: string; env?: Record<string, string | undefined> },
): Promise<RunResult> {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run "npm run build" (npm test does it first)`);
  return new Promise((resolvePromise, reject) => {
    const env: Record<string, string | undefined> = {
      ...process.env,
      COMEBACK_CONFIG: undefined,
      // As a user types `comeback`, not through npx (which sets it, and the demo then prints npx commands).
      npm_command: undefined,
      ...options.env,
    };
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: options.cwd,
      env: env as NodeJS.ProcessEnv,
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolvePromise({ code: code ?? -1, stdout, stderr }));
  });
}

/** A fresh folder, optionally with a comeback.yaml in it. */
export function workspace(config?: string): string {
  const dir = mkdtempSync(join(tmpdir(), "comeback-test-"));
  if (config !== undefined) writeFileSync(join(dir, "comeback.yaml"), config);
  return dir;
}

export function query<T = Record<string, unknown>>(dbPath: string, sql: string, ...params: unknown[]): T[] {
  const db = new Database(dbPath, { readonly: true });
  try {
    return db.prepare(sql).all(...params) as T[];
  } finally {
    db.close();
  }
}

/** Everything stored, as one comparable value: for "nothing changed" assertions. */
export function snapshot(dbPath: string): string {
  const tables = ["customers", "products", "orders", "order_lines", "order_status_history"];
  return JSON.stringify(tables.map((table) => query(dbPath, `SELECT * FROM ${table} ORDER BY 1, 2`)));
}

export function fixture(...parts: string[]): string {
  return join(FIXTURES, ...parts);
}
