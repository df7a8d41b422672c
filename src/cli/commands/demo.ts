/**
 * `comeback demo`: the main job on the shipped fixtures, with the built-in defaults, so a new user
 * sees what comeback does before writing any config: import, plan, and the Monday batch into ./outbox
 * at a fixed time, with a fixed demo secret (never used outside the demo).
 */
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { defaultConfig, type LoadedConfig } from "../../config/load.js";
import type { Logger } from "../../log.js";
import { openStore } from "../../store/open.js";
import { plural, print } from "../output.js";
import { importFiles } from "./import.js";
import { collectStatus, printStatus } from "./status.js";
import type { PlanReport } from "../../plan/run.js";
import { takeRunLock } from "../run-lock.js";
import { deliverySetup } from "../../deliver/setup.js";
import { runWeekly } from "../../deliver/weekly.js";
import { emlFileName } from "../../deliver/transports.js";
import { configSchema, resolveConfigPaths } from "../../config/schema.js";
import { sendOptions, sendNotes, sendSummary } from "../deliver-run.js";
import { table } from "../output.js";
import { readdirSync, readFileSync } from "node:fs";
import { isoWeekOf } from "../../deliver/clock.js";

/** The demo's fixed clock: a Monday morning inside the default send window. */
export const DEMO_NOW = "2026-03-02T09:00:00Z";
/**
 * `comeback serve --demo`'s clock starts an hour after the batch: the customer reads the email later,
 * so their opens and clicks are not taken for a scanner's on delivery (src/track/machine.ts, 60 s).
 */
export const DEMO_SERVE_START = "2026-03-02T10:00:00Z";
/** Signs the demo's unsubscribe links. Clearly not a secret: a real shop sets COMEBACK_SECRET. */
export const DEMO_SECRET = "demo-secret-NOT-FOR-PRODUCTION-0123456789";

/** The package root: dist/src/cli/commands → four levels up (src/cli/commands → three, under vitest). */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json"))) dir = dirname(dir);
  return dir;
}

/** Where `comeback serve --demo` listens by default, and so what the demo's emails link to. */
export const DEMO_PORT = 8080;

/**
 * serve's address for the demo: `comeback demo --port N` and `comeback serve --demo --port N` must
 * agree, since the emails carry it (8080 may be taken on the admin's machine).
 */
export function demoServeUrl(port: number = DEMO_PORT): string {
  return `http://127.0.0.1:${port}`;
}

/**
 * The demo's config: the built-in defaults with the demo secret, an operator, cart and unsubscribe
 * links, and serve's address on this machine; `comeback serve --demo` serves with the same.
 */
export function demoConfig(cwd: string, db?: string, port?: number): LoadedConfig {
  const database = resolve(cwd, db ?? "comeback-demo.db");
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

export async function runDemo(
  options: { db?: string; json?: boolean; port?: number },
  log: Logger,
): Promise<void> {
  const cwd = process.cwd();
  const config = demoConfig(cwd, options.db, options.port);
  const database = config.database;
  const fixtures = join(packageRoot(), "fixtures", "demo");
  const db = openStore(database);
  try {
    print(`comeback demo: importing the shipped example exports from ${fixtures}`);
    print(`into ${database}\n`);
    for (const kind of ["products", "customers", "orders"] as const) {
      const { firstError } = await importFiles(db, config, log, kind, [join(fixtures, `${kind}.csv`)], {
        json: false,
      });
      if (firstError) throw firstError;
      print();
    }
    printStatus(collectStatus(db, database), false);

    print(`\nThe Monday batch, as cron would run it on ${DEMO_NOW} (comeback weekly --now ${DEMO_NOW}):`);
    const setup = deliverySetup(config, { needSecret: true, sending: true });
    const lock = takeRunLock(db, config, "comeback demo");
    try {
      const report = await runWeekly(db, {
        now: DEMO_NOW,
        config,
        send: () =>
          sendOptions(config, setup, log, { now: () => DEMO_NOW, signals: { stopped: () => null } }),
      });
      print(
        table([
          ["week", report.week],
          ...planRows(report.planned),
          ["carts", `new ${report.carts.new}, existing ${report.carts.existing}`],
          ["queued", `${plural(report.messages.queued, "message")}; digest: ${report.digest}`],
          ["messages", sendSummary(report.messages)],
        ]),
      );
      for (const note of sendNotes(report.send)) print(`  ${note}`);
    } finally {
      lock.release();
    }
    const outbox = config.delivery.outbox_dir;
    const carts = readdirSync(outbox)
      .filter((file) => file.startsWith("cart_") && file.endsWith(".eml"))
      .sort();
    print(`\nThe emails are in ${outbox}/ (one .eml file per message; open one in a mail client):`);
    if (carts[0]) print(`  ${join(outbox, carts[0])}`);
    print(
      `  ${join(outbox, emlFileName(`digest:${isoWeekOf(DEMO_NOW, config.timezone).week}`))}  (the shop owner's summary)`,
    );
    print(
      `\nRun it again: every file is reported as already imported, no cart is made twice, nothing is sent twice.`,
    );
    print(`Look inside: sqlite3 ${database} "select idempotency_key, state, recipient from outbox"`);
    const page = carts[0] ? cartPageIn(readFileSync(join(outbox, carts[0]), "utf8")) : null;
    print(`\nThe customer's side: start the web server on this folder's demo database`);
    const dbFlag = options.db && options.db !== "comeback-demo.db" ? ` --db ${options.db}` : "";
    const portFlag =
      options.port !== undefined && options.port !== DEMO_PORT ? ` --port ${options.port}` : "";
    print(`  comeback serve --demo${dbFlag}${portFlag}`);
    if (page) print(`and open the cart page the first email links to:\n  ${page}`);
  } finally {
    db.close();
  }
}

const CART_PAGE = /https?:\/\/[^\s"<>]+\/c\/[A-Za-z0-9._-]+/;

/**
 * The cart page link in a cart email (.eml with base64 parts, as comeback writes them); null if none.
 * With tracking the email's link is a click redirect carrying the page in its `u` parameter.
 */
export function cartPageIn(eml: string): string | null {
  for (const part of eml.matchAll(/Content-Transfer-Encoding: base64\r?\n\r?\n([A-Za-z0-9+/=\r\n]+)/g)) {
    const text = Buffer.from(part[1]!, "base64").toString("utf8");
    const direct = CART_PAGE.exec(text);
    if (direct) return direct[0];
    for (const url of text.matchAll(/https?:\/\/[^\s"<>]+/g)) {
      const target = URL.canParse(url[0]) ? new URL(url[0]).searchParams.get("u") : null;
      const wrapped = target === null ? null : CART_PAGE.exec(target);
      if (wrapped) return wrapped[0];
    }
  }
  return null;
}

/** What the plan found, in two lines: reminders, and customers by lifecycle status. */
function planRows(plan: PlanReport): [string, string][] {
  const statuses = Object.entries(plan.lifecycle.counts)
    .filter(([, n]) => n > 0)
    .map(([status, n]) => `${status.replace("_", " ")} ${n}`)
    .join(", ");
  return [
    [
      "reminders",
      `${plan.replenishment.reminders.open} open, ${plan.replenishment.due_this_week} for this week's carts` +
        (plan.replenishment.overdue_this_week ? ` (${plan.replenishment.overdue_this_week} overdue)` : ""),
    ],
    ["customers", statuses],
  ];
}
