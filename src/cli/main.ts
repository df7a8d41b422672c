/**
 * The command-line program. Commands are thin: parse flags, load config, call one core function,
 * print its report. This is the only place that turns errors into exit codes.
 */
import { Command, CommanderError, Option } from "commander";
import { AppError, ExitCode, LockedError } from "../errors.js";
import { openedDatabase } from "../store/open.js";
import { storageErrorFrom } from "../store/storage-errors.js";
import { IMPORT_KINDS, type ImportKind } from "../import/fields.js";
import { createContext, openForReading, openForWriting, type GlobalOptions } from "./context.js";
import type { ImportFlags } from "./commands/import.js";
import { collectStatus, printStatus } from "./commands/status.js";
import { NOW_HELP, parseNow } from "./now.js";
import { registerLifecycleCommands } from "./commands/lifecycle.js";
import { registerTaskCommands } from "./commands/tasks.js";
import { createLogger } from "../log.js";
import { registerPlan } from "./commands/plan.js";
import { registerDue } from "./commands/due.js";
import { registerRemind } from "./commands/remind.js";
import { registerWeekly } from "./commands/weekly.js";
import { registerBacktest } from "./commands/backtest.js";
import { registerRequeue } from "./commands/requeue.js";
import { registerSend } from "./commands/send.js";
import { registerSuppressionCommands } from "./commands/suppressions.js";
import { registerPreview } from "./commands/preview.js";
import { registerInit } from "./commands/init.js";
import { registerUnsubscribe } from "./commands/unsubscribe.js";
import { registerUnlock } from "./run-lock.js";
import { registerRules } from "./commands/rules.js";
import { parsePort, registerServe } from "./commands/serve.js";
import { registerReorders } from "./commands/reorders.js";
import { registerFollowups } from "./commands/followups.js";
import { registerReport } from "./commands/report.js";
import { packageVersion } from "./version.js";
import { setQuiet } from "./output.js";
import { demoClock } from "./demo-mode.js";

export function buildProgram(): Command {
  const program = new Command("comeback")
    .description("Bring customers back, from your shop's own order exports.")
    .version(packageVersion())
    .option(
      "-c, --config <file>",
      "config file (default: $COMEBACK_CONFIG, else ./comeback.yaml, else built-in defaults)",
    )
    .addOption(
      new Option(
        "--demo",
        "use the database `comeback demo` made in this folder, with the demo's config and clock",
      ).conflicts("config"),
    )
    .option("--db <file>", "with --demo: the demo database (default: comeback-demo.db)")
    .option("-v, --verbose", "also write the logs to stderr (readable on a terminal, JSON lines otherwise)")
    .addOption(
      new Option(
        "-q, --quiet",
        "print only errors and what --json or --csv - asks for: no reports, warnings or progress",
      ).conflicts("verbose"),
    )
    .hook("preAction", (_program, action) => {
      const global = action.optsWithGlobals<GlobalOptions>();
      setQuiet(Boolean(global.quiet));
      // Under --demo a command acts on the demo's clock unless --now says otherwise (src/cli/demo-mode.ts).
      if (
        global.demo &&
        action.options.some((o) => o.attributeName() === "now") &&
        !action.getOptionValue("now")
      )
        action.setOptionValueWithSource("now", demoClock(action.name()), "default");
    })
    .showHelpAfterError("(run comeback --help for usage)")
    .addHelpText(
      "after",
      `
Examples:
  comeback demo                              try it on the shipped example exports
  comeback init /srv/comeback                start a shop: a config and the email templates
  comeback import orders export.csv          import an order export (profile detected from its header)
  comeback status                            what the database holds, the last imports, the outbox
  comeback plan                              work out reminders, who is drifting away, call tasks
  comeback due                               the reminders due this week
  comeback lost --csv - | less               who is drifting away (warm, cold, lost), as CSV on stdout
  comeback tasks                             the win-back calls due; comeback import calls log.csv closes them
  comeback model fit                         fit the BG/NBD model of who is still a customer
  comeback weekly --dry-run                  who would get which email this week, nothing sent
  comeback send --quiet                      deliver retries and deferred messages (from cron)
  comeback preview cart --customer C001 --out cart.html
  comeback remind show --customer C001       why a reminder is due when it is
  comeback unsubscribe anna@example.com      stop marketing email to an address
  comeback serve                             the cart page the emails link to (confirm, postpone, unsubscribe)
  comeback reorders                          the carts customers confirmed: whom to call, what to order

Every command has --help with examples. --quiet prints only errors (and what --json or --csv - asks
for); -v adds the logs on stderr; log.file in the config always gets them.

Exit codes: 0 done, 1 bug, 2 usage, 65 bad input data, 66 missing file, 69 service unavailable,
73 can't create the database, 74 database I/O error (disk full, damaged file), 75 another run holds
the lock, 77 no permission to write the database, 78 bad configuration, 130/143 stopped at once by a second Ctrl-C/SIGTERM.`,
    );

  program
    .command("import")
    .description(`import a shop export or a call log: ${IMPORT_KINDS.join(", ")}`)
    .addArgument(new Command().createArgument("<kind>", "what the files hold").choices(IMPORT_KINDS))
    .argument("<files...>", "CSV files, imported in order, each in its own transaction")
    .option("-p, --profile <name>", "how to read the files (default: detected from the header)")
    .option("--source <name>", "where the orders come from (default: the profile's source)")
    .option("--dry-run", "read and check everything, then roll back")
    .option("--skip-bad-rows", "import the good rows; write the bad ones to FILE.rejected.csv")
    .option("--force", "read the file again even if these exact bytes were imported before")
    .option("--json", "print one JSON report per file")
    .addHelpText(
      "after",
      `
Examples:
  comeback import orders orders_export.csv                       Shopify export, detected from its header
  comeback import orders bestellungen.csv --profile de-shop      a profile from your config
  comeback import products catalog.csv
  comeback import customers customers_export.csv --skip-bad-rows
  comeback import calls calls-2024-06.csv                        a phone system's call log: closes win-back tasks
  comeback import orders export.csv --dry-run --json             check a file, write nothing, a JSON report`,
    )
    .action(async (kind: ImportKind, files: string[], flags: ImportFlags, command: Command) => {
      const { config, log } = await createContext(command.optsWithGlobals<GlobalOptions>());
      const db = openForWriting(config);
      try {
        // Loaded when used: the import machinery (csv-parse, iconv-lite, workers) would slow every command's start.
        const { importFiles } = await import("./commands/import.js");
        const { firstError } = await importFiles(db, config, log, kind, files, flags);
        if (firstError) throw firstError;
      } finally {
        db.close();
      }
    });

  program
    .command("status")
    .description("show what the database holds and the last imports")
    .option("--json", "print one JSON object")
    .option("--now <time>", NOW_HELP)
    .addHelpText(
      "after",
      `
Examples:
  comeback status                            counts, the last 10 imports, the outbox by state
  comeback status --json | jq .outbox        the same as one JSON object
  comeback status --now 2022-01-17           judge the data's age as of that day
  comeback status -c /srv/comeback/comeback.yaml`,
    )
    .action(async (flags: { json?: boolean; now?: string }, command: Command) => {
      const { config } = await createContext(command.optsWithGlobals<GlobalOptions>());
      const now = parseNow(flags.now, config.timezone);
      const db = openForReading(config);
      try {
        printStatus(
          collectStatus(db, config.database, {
            timezone: config.timezone,
            now,
            lockExpiryMinutes: config.delivery.lock_expiry_minutes,
          }),
          Boolean(flags.json),
        );
      } finally {
        db.close();
      }
    });

  program
    .command("demo")
    .description("run comeback on the shipped example exports, with built-in defaults")
    .option(
      "--port <number>",
      "the port `comeback serve --demo` will listen on: the emails link there",
      "8080",
    )
    .addHelpText(
      "after",
      `
Imports the example exports shipped with comeback, plans and runs the Monday batch of 2026-03-02 into
./outbox (one .eml file per email, no mail server), with the built-in defaults and no config.

Examples:
  comeback demo                              in an empty folder: comeback-demo.db and outbox/ appear there
  comeback demo --db /tmp/demo.db
  comeback demo --port 3000                  then: comeback serve --demo --port 3000

Then every command takes --demo (and the same --db): comeback send --demo, comeback reorders --demo,
comeback report --demo --html report.html, comeback status --demo.`,
    )
    .action(async (flags: { port: string }, command: Command) => {
      const global = command.optsWithGlobals<GlobalOptions>();
      const { runDemo } = await import("./commands/demo.js");
      await runDemo(
        { db: global.db, port: parsePort(flags.port) },
        createLogger({ level: "info", file: null, verbose: Boolean(global.verbose) }),
      );
    });

  registerServe(program);
  registerReorders(program);
  registerPlan(program);
  registerDue(program);
  registerRemind(program);
  registerWeekly(program);
  registerBacktest(program);
  registerSend(program);
  registerFollowups(program);
  registerReport(program);
  registerPreview(program);
  registerInit(program);
  registerLifecycleCommands(program);
  registerTaskCommands(program);
  registerUnsubscribe(program);
  registerSuppressionCommands(program);
  registerRequeue(program);
  registerRules(program);
  registerUnlock(program);

  return program;
}

/** Maps any error to the documented exit code and one clear line (or a few) on stderr. */
function exitCodeFor(error: unknown): number {
  if (error instanceof CommanderError) {
    if (
      error.code === "commander.helpDisplayed" ||
      error.code === "commander.version" ||
      error.code === "commander.help"
    ) {
      return ExitCode.ok;
    }
    return ExitCode.usage;
  }
  const sqlite = error as { code?: string };
  if (sqlite.code === "SQLITE_BUSY" || sqlite.code === "SQLITE_LOCKED") {
    const locked = new LockedError(
      "the database is busy with another comeback run; try again when it has finished",
    );
    process.stderr.write(`comeback: ${locked.message}\n`);
    return locked.exitCode;
  }
  const database = openedDatabase();
  const storage = database === null ? null : storageErrorFrom(error, database);
  if (storage) {
    process.stderr.write(`comeback: ${storage.message}\n`);
    return storage.exitCode;
  }
  if (error instanceof AppError) {
    process.stderr.write(`comeback: ${error.message}\n`);
    return error.exitCode;
  }
  const e = error instanceof Error ? error : new Error(String(error));
  process.stderr.write(
    `comeback: unexpected error: ${e.message}\n(this is a bug; run with --verbose for the stack)\n`,
  );
  if (process.argv.includes("--verbose") || process.argv.includes("-v")) process.stderr.write(`${e.stack}\n`);
  return ExitCode.bug;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  program.exitOverride();
  const override = (command: Command): void => {
    command.exitOverride();
    command.commands.forEach(override);
  };
  program.commands.forEach(override);
  try {
    await program.parseAsync(argv);
    return ExitCode.ok;
  } catch (error) {
    return exitCodeFor(error);
  }
}
