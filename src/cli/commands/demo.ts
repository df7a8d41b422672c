/**
 * `comeback demo`: the main job on the shipped fixtures, with the built-in defaults, so a new user
 * sees what comeback does before writing any config: import, plan, and the Monday batch into ./outbox
 * at a fixed time, with a fixed demo secret (never used outside the demo).
 */
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
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
import { DEMO_DB, DEMO_NOW, DEMO_PORT, demoConfig } from "../demo-mode.js";
import { sendOptions, sendNotes, sendSummary } from "../deliver-run.js";
import { table } from "../output.js";
import { readdirSync, readFileSync } from "node:fs";
import { isoWeekOf } from "../../deliver/clock.js";

export {
  DEMO_AFTER,
  DEMO_NOW,
  DEMO_PORT,
  DEMO_SECRET,
  DEMO_SERVE_START,
  demoConfig,
  demoServeUrl,
} from "../demo-mode.js";

/** The package root: dist/src/cli/commands → four levels up (src/cli/commands → three, under vitest). */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json"))) dir = dirname(dir);
  return dir;
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

    print(
      `\nThe Monday batch, as cron would run it on ${DEMO_NOW} (${invokedAs()} weekly --now ${DEMO_NOW}):`,
    );
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
    for (const line of nextSteps(page, options)) print(line);
  } finally {
    db.close();
  }
}

/**
 * What to run next, exactly as typed: the customer's side (serve, the cart page), then the operator's
 * (the call email, the list) and the owner's (the report), each with --demo, in this folder.
 */
export function nextSteps(
  page: string | null,
  options: { db?: string; port?: number },
  cli: string = invokedAs(),
): string[] {
  const db = options.db && options.db !== DEMO_DB ? ` --db ${options.db}` : "";
  const port = options.port !== undefined && options.port !== DEMO_PORT ? ` --port ${options.port}` : "";
  return [
    `\nNext, the customer's side: start the web server on this folder's demo database (leave it running)`,
    `  ${cli} serve --demo${db}${port}`,
    ...(page
      ? [`and open the cart page the first email links to; change a quantity and press Confirm:`, `  ${page}`]
      : []),
    `Then, in a second terminal in this folder, the operator's side (--demo: the demo's database and config):`,
    ...[
      [`${cli} send --demo${db}`, "delivers the operator's call email into outbox/ (reorder_1.eml)"],
      [`${cli} reorders --demo${db}`, "the confirmed carts: whom to call, what to order"],
      [`${cli} report --demo${db} --html report.html`, "what the emails did, to open in a browser"],
    ].map(([command, what]) => `  ${command!.padEnd(48)} ${what}`),
  ];
}

/**
 * How the user started comeback, so the commands the demo prints can be pasted as they are: the
 * README's quick start runs \`npx comeback demo\` in a checkout, where \`comeback\` is not on the PATH
 * (npm sets npm_command=exec for npx).
 */
export function invokedAs(env: NodeJS.ProcessEnv = process.env): string {
  return env.npm_command === "exec" ? "npx comeback" : "comeback";
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
