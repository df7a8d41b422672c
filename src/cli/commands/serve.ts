/**
 * `comeback serve`: the web server the emails' links lead to (issue 18), beside the batch, on the
 * same SQLite file (WAL; a write waits for the other writer, src/store/open.ts). It runs until
 * SIGTERM or SIGINT, then stops taking requests, finishes those in flight and closes the database.
 */
import type { Command } from "commander";
import { UsageError } from "../../errors.js";
import { requireSecret } from "../../deliver/unsubscribe.js";
import { createContext, openForWriting, type GlobalOptions } from "../context.js";
import { NOW_HELP, parseNow } from "../now.js";
import { print, warn } from "../output.js";

interface ServeFlags {
  host: string;
  port: string;
  now?: string;
}

export function parsePort(text: string): number {
  if (!/^\d{1,5}$/.test(text) || Number(text) > 65535) {
    throw new UsageError(`--port "${text}": expected a port number from 0 to 65535`);
  }
  return Number(text);
}

/**
 * The server's clock: the real one, or (`--now`) one that starts at that time and runs on, so a
 * replay or the demo (whose emails were made on 2026-03-02) sees its links as fresh.
 */
export function runningClock(start: string | undefined): () => Date {
  if (start === undefined) return () => new Date();
  const offset = Date.parse(start) - Date.now();
  return () => new Date(Date.now() + offset);
}

export function registerServe(program: Command): void {
  program
    .command("serve")
    .description("the web server for the emails' links: the cart page, confirm, postpone, unsubscribe")
    .option(
      "--host <address>",
      "the address to listen on (a reverse proxy in front for the internet)",
      "127.0.0.1",
    )
    .option("--port <number>", "the port to listen on", "8080")
    .option("--now <time>", `the clock starts at this time and runs on: ${NOW_HELP}`)
    .addHelpText(
      "after",
      `
Customers reach it through links.base_url (the public address the emails link to, e.g. behind your
reverse proxy); it shares the database with the batch. It runs until SIGTERM or Ctrl-C. The README's
serve section has a systemd unit and an nginx snippet.

Pages:  /c/TOKEN  the cart (confirm, change, postpone)   /u/TOKEN  unsubscribe (and RFC 8058 one-click)

Examples:
  comeback serve                                   on http://127.0.0.1:8080, for a reverse proxy
  comeback serve --host 0.0.0.0 --port 3000
  comeback serve --demo                            after comeback demo, in the same folder
  comeback serve --demo --port 3000                after comeback demo --port 3000
  comeback serve --now 2026-03-02T10:00:00Z        a replay: links are checked against that clock`,
    )
    .action(async (flags: ServeFlags, command: Command) => {
      const global = command.optsWithGlobals<GlobalOptions>();
      const port = parsePort(flags.port);
      // --demo (a global flag): the demo's config, and its clock from 2026-03-02 10:00 (demo-mode.ts).
      const { config, log } = await createContext(global, port);
      const start = flags.now;
      const secret = requireSecret(config.secret);
      const now = start === undefined ? undefined : parseNow(start, config.timezone);
      if (config.links.base_url === null) {
        warn(
          "links.base_url is not set: the emails link to links.cart / links.unsubscribe, not to this server",
        );
      }
      const db = openForWriting(config);
      // Loaded here: fastify and its plugins would slow every other command's start.
      const { buildApp } = await import("../../serve/app.js");
      const app = await buildApp(
        { db, config, secret, now: runningClock(now) },
        { log, trustProxy: config.serve.trust_proxy },
      );
      let stopping: Promise<void> | null = null;
      const stop = (signal: string) => {
        if (stopping) process.exit(signal === "SIGINT" ? 130 : 143);
        log.info({ signal }, "serve stopping");
        stopping = app.close().then(() => {
          db.close();
        });
      };
      process.on("SIGINT", stop);
      process.on("SIGTERM", stop);
      try {
        const address = await app.listen({ host: flags.host, port });
        log.info({ address }, "serve listening");
        print(
          `comeback serve: listening on ${address} (links.base_url: ${config.links.base_url ?? "not set"})`,
        );
        print("Stop with Ctrl-C or SIGTERM.");
      } catch (error) {
        await app.close();
        db.close();
        throw new UsageError(
          `can't listen on ${flags.host}:${port}: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
      await new Promise<void>((resolve) => {
        app.server.once("close", () => resolve());
      });
      await stopping;
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      print("comeback serve: stopped.");
    });
}
