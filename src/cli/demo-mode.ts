/**
 * The demo's settings, in one place: `comeback demo` writes with them, and every command run with
 * `--demo` (serve, send, reorders, report, status, …) reads the same database with the same config and
 * clock, so a new user can follow the demo without writing a config. Light on purpose: main.ts and
 * context.ts load it for every command (the demo's import machinery stays in commands/demo.ts).
 */
import { resolve } from "node:path";
import { defaultConfig, type LoadedConfig } from "../config/load.js";
import { configSchema, resolveConfigPaths } from "../config/schema.js";

/** The demo's fixed clock: a Monday morning inside the default send window. */
export const DEMO_NOW = "2026-03-02T09:00:00Z";
/**
 * `comeback serve --demo`'s clock starts an hour after the batch: the customer reads the email later,
 * so their opens and clicks are not taken for a scanner's on delivery (src/track/machine.ts, 60 s).
 */
export const DEMO_SERVE_START = "2026-03-02T10:00:00Z";
/**
 * The other commands under `--demo` act as of the next morning: after whatever was confirmed on the
 * served pages that day (serve's clock runs on from 10:00), so `send --demo` finds the operator's email
 * due, yet before the first follow-up for silence (3 days), inside the send window, and within the
 * links' 60 days.
 */
export const DEMO_AFTER = "2026-03-03T09:00:00Z";
/** Signs the demo's unsubscribe links. Clearly not a secret: a real shop sets COMEBACK_SECRET. */
export const DEMO_SECRET = "demo-secret-NOT-FOR-PRODUCTION-0123456789";
/** The demo's database, in the folder it is run in. */
export const DEMO_DB = "comeback-demo.db";

/** Where `comeback serve --demo` listens by default, and so what the demo's emails link to. */
export const DEMO_PORT = 8080;

/** The clock a command runs on under `--demo` when it has no `--now`. */
export function demoClock(command: string): string {
  return command === "serve" ? DEMO_SERVE_START : DEMO_AFTER;
}

/**
 * serve's address for the demo: `comeback demo --port N` and `comeback serve --demo --port N` must
 * agree, since the emails carry it (8080 may be taken on the admin's machine).
 */
export function demoServeUrl(port: number = DEMO_PORT): string {
  return `http://127.0.0.1:${port}`;
}

/**
 * The demo's config: the built-in defaults with the demo secret, an operator, cart and unsubscribe
 * links, and serve's address on this machine; every command's `--demo` uses the same.
 */
export function demoConfig(cwd: string, db?: string, port?: number): LoadedConfig {
  const database = resolve(cwd, db ?? DEMO_DB);
  const demo = resolveConfigPaths(
    configSchema.parse({
      secret: DEMO_SECRET,
      operator: { email: "Shop owner <owner@shop.example>" },
      links: {
        cart: "https://shop.example/cart/{{#each items}}{{variant}}:{{quantity}}{{#unless @last}},{{/unless}}{{/each}}",
        unsubscribe: "https://shop.example/unsubscribe?token={{token}}",
        base_url: demoServeUrl(port),
      },
    }),
    cwd,
  );
  return { ...defaultConfig(cwd), ...demo, database, source: "built-in defaults", baseDir: cwd };
}
