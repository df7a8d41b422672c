/** Shared by the delivery tests: a demo database with seeded reminders, SMTP servers on 127.0.0.1. */
import Database from "better-sqlite3";
import { join } from "node:path";
import { SMTPServer, type SMTPServerOptions } from "smtp-server";
import { expect } from "vitest";
import { fixture, run, workspace } from "./helpers.js";

export const SECRET = "test-secret-0123456789abcdef-0123456789";

/** A reminder to seed: the customer's external id, the sku of the last purchase, and when it is due. */
export interface Seed {
  customer: string;
  sku: string;
  due_on: string;
}

/**
 * Sets each seed's due date the way a shop admin would (`comeback remind set --due`), so the planner
 * that `weekly` runs first keeps it: a manual date is a fact that no plan overwrites.
 */
export async function seedReminders(dir: string, seeds: Seed[]): Promise<void> {
  const db = new Database(join(dir, "comeback.db"), { readonly: true });
  const group = db
    .prepare<[string], string>("SELECT coalesce(group_key, sku) FROM products WHERE sku = ?")
    .pluck();
  const groups = seeds.map((seed) => group.get(seed.sku) ?? seed.sku);
  db.close();
  for (const [i, seed] of seeds.entries()) {
    const set = await run(
      [
        "remind",
        "set",
        "--customer",
        seed.customer,
        "--group",
        groups[i]!,
        "--due",
        seed.due_on,
        "--now",
        "2026-03-01",
      ],
      { cwd: dir },
    );
    expect(set.code, set.stderr).toBe(0);
  }
  // The dates take effect at the next plan: weekly plans first; preview shows what the last plan left.
  const plan = await run(["plan", "--now", "2026-03-01"], { cwd: dir });
  expect(plan.code, plan.stderr).toBe(0);
}

/** The default seeds: four customers (C001 de, C002 ru, C003 en, C004 opted out) due in 2026-W10. */
export const DEMO_SEEDS: Seed[] = [
  { customer: "C001", sku: "LNS-1D-90", due_on: "2026-03-03" },
  { customer: "C001", sku: "SOL-360", due_on: "2026-03-05" },
  { customer: "C002", sku: "DOG-12KG", due_on: "2026-03-04" },
  { customer: "C003", sku: "COF-1KG", due_on: "2026-03-08" },
  { customer: "C005", sku: "FLT-STD", due_on: "2026-03-20" }, // not due this week
];

/**
 * The same customers due again a week later. An unanswered reminder is offered once per cycle, not
 * every Monday, so a second week only has carts when the admin (or the next cycle) sets new dates.
 */
export const NEXT_WEEK_SEEDS: Seed[] = [
  { customer: "C001", sku: "LNS-1D-90", due_on: "2026-03-10" },
  { customer: "C002", sku: "DOG-12KG", due_on: "2026-03-11" },
  { customer: "C003", sku: "COF-1KG", due_on: "2026-03-12" },
];

/** A workspace with the config, the demo fixtures imported through the CLI, and seeded reminders. */
export async function demoWorkspace(
  config: string,
  seeds: Seed[] = DEMO_SEEDS,
): Promise<{ dir: string; db: string }> {
  const dir = workspace(config);
  for (const kind of ["products", "customers", "orders"]) {
    const result = await run(["import", kind, fixture("demo", `${kind}.csv`)], { cwd: dir });
    expect(result.code, result.stderr).toBe(0);
  }
  await seedReminders(dir, seeds);
  return { dir, db: join(dir, "comeback.db") };
}

export interface Received {
  from: string;
  to: string[];
  raw: string;
  messageId: string | null;
}

export interface TestSmtp {
  port: number;
  received: Received[];
  /** Decide the answer to RCPT TO: return an Error with responseCode to reject. */
  onRcpt?: (address: string) => Error | null;
  /** Decide the answer after DATA (may take its time: return a promise). */
  onData?: (message: Received) => Error | null | Promise<Error | null>;
  close(): Promise<void>;
}

export function smtpError(code: number, text: string): Error {
  return Object.assign(new Error(text), { responseCode: code });
}

/** A real SMTP server on 127.0.0.1 that records what it accepts. */
export async function startSmtp(options: Partial<SMTPServerOptions> = {}): Promise<TestSmtp> {
  const state: TestSmtp = {
    port: 0,
    received: [],
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS", "AUTH"],
    logger: false,
    onRcptTo(address, _session, callback) {
      const error = state.onRcpt?.(address.address) ?? null;
      callback(error ?? undefined);
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("end", () => {
        const raw = Buffer.concat(chunks).toString("utf8");
        const message: Received = {
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
          to: session.envelope.rcptTo.map((r) => r.address),
          raw,
          messageId: /^Message-ID: (.+)$/im.exec(raw)?.[1]?.trim() ?? null,
        };
        void Promise.resolve(state.onData?.(message) ?? null).then((error) => {
          if (!error) state.received.push(message);
          callback(error ?? undefined);
        });
      });
    },
    ...options,
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  state.port = (server.server.address() as { port: number }).port;
  return state;
}

/**
 * The delivery tests count the cart emails; the demo's drifting customers would add win-back emails to
 * every count, so these configs switch them off (the win-back test in weekly-outbox has them on).
 */
export const NO_WINBACK_EMAILS = `winback:
  warm: { email: false }
  cold: { email: false }
  lost: { email: false }
`;

export function smtpConfig(port: number, extra = ""): string {
  return `timezone: Europe/Berlin
secret: \${COMEBACK_SECRET}
${NO_WINBACK_EMAILS}operator:
  email: Ops <ops@shop.example>
links:
  cart: "https://shop.example/cart/{{#each items}}{{variant}}:{{quantity}}{{#unless @last}},{{/unless}}{{/each}}"
delivery:
  transport: smtp
  from: "Demo Shop <hello@shop.example>"
  max_attempts: 3
  smtp:
    host: 127.0.0.1
    port: ${port}
    rate_per_second: 0
    timeout_seconds: 5
${extra}`;
}

/** Decodes the base64 parts of a composed message: [text, html]. */
export function parts(raw: string): { text: string; html: string; headers: string } {
  const [headers, ...rest] = raw.split("\r\n\r\n");
  const body = rest.join("\r\n\r\n");
  const decode = (type: string) => {
    const match = new RegExp(
      `Content-Type: ${type}; charset=utf-8\\r\\nContent-Transfer-Encoding: base64\\r\\n\\r\\n([A-Za-z0-9+/=\\r\\n]+)`,
    ).exec(body);
    return match ? Buffer.from(match[1]!.replace(/\r\n/g, ""), "base64").toString("utf8") : "";
  };
  return { headers: headers ?? "", text: decode("text/plain"), html: decode("text/html") };
}
