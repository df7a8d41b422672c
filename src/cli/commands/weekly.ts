import type { Command } from "commander";
import { acquireRunLock } from "../../deliver/lock.js";
import { NOW_HELP, parseNow } from "../now.js";
import { deliverySetup } from "../../deliver/setup.js";
import { runWeekly, type WeeklyReport } from "../../deliver/weekly.js";
import { checkData } from "../../plan/data-checks.js";
import { createContext, openForWriting, type GlobalOptions } from "../context.js";
import {
  clockFor,
  positiveInteger,
  sendNotes,
  sendOptions,
  sendSummary,
  throwIfInterrupted,
  watchSignals,
} from "../deliver-run.js";
import { plural, print, printJson, table, warn } from "../output.js";

interface WeeklyFlags {
  now?: string;
  dryRun?: boolean;
  limit?: number;
  json?: boolean;
}

export function registerWeekly(program: Command): void {
  program
    .command("weekly")
    .description("the Monday batch: plan, make this week's carts, queue their emails and the digest, send")
    .option("--now <time>", NOW_HELP)
    .option(
      "--dry-run",
      "plan, make carts and queue in a transaction that is rolled back; print who would get what",
    )
    .option("--limit <n>", "make at most N new carts and attempt at most N messages", positiveInteger)
    .option("--json", "print one JSON report")
    .addHelpText(
      "after",
      `
Examples:
  comeback weekly                          from cron, every Monday morning, after the import
  comeback weekly --dry-run                who would get what this week; nothing is written or sent
  comeback weekly --now 2026-03-02T07:00   the batch as it would run that Monday (shop time)

Safe to run twice: a customer gets one cart a week and each email is queued once (cart:<customer>:<week>).
Holds the run lock: a second weekly or send started meanwhile exits 75. SMTP unreachable: exit 69.`,
    )
    .action(async (flags: WeeklyFlags, command: Command) => {
      const { config, log } = await createContext(command.optsWithGlobals<GlobalOptions>());
      const now = parseNow(flags.now, config.timezone);
      const setup = deliverySetup(config, { needSecret: !flags.dryRun, sending: !flags.dryRun, warn });
      const db = openForWriting(config);
      const signals = watchSignals();
      try {
        const lock = flags.dryRun ? null : acquireRunLock(db, "comeback weekly");
        try {
          if (lock?.tookOverFrom) {
            process.stderr.write(
              `comeback: took over the run lock of pid ${lock.tookOverFrom.pid} (${lock.tookOverFrom.command}, since ${lock.tookOverFrom.started_at}), which is no longer running\n`,
            );
          }
          // Stale data or a timezone the export disagrees with: said before the batch, on stderr for cron.
          const checks = checkData(db, config.timezone, now);
          for (const warning of checks.warnings) warn(warning);
          const report = await runWeekly(db, {
            now,
            dryRun: flags.dryRun,
            limit: flags.limit,
            config,
            send: () =>
              sendOptions(config, setup, log, {
                now: clockFor(now, flags.now !== undefined),
                limit: flags.limit,
                signals,
              }),
          });
          log.info({ week: report.week, carts: report.carts, messages: report.messages }, "weekly finished");
          if (flags.json) printJson({ ...report, data_checks: checks });
          else printWeekly(report);
          throwIfInterrupted(report.send);
        } finally {
          lock?.release();
        }
      } finally {
        signals.dispose();
        db.close();
      }
    });
}

function printWeekly(report: WeeklyReport): void {
  print(
    `${report.dry_run ? "Dry run (nothing written, nothing sent): " : ""}week ${report.week}, now ${report.now}`,
  );
  print(
    table([
      ["carts", `new ${report.carts.new}, existing ${report.carts.existing}`],
      ["queued", `${plural(report.messages.queued, "message")}; digest: ${report.digest}`],
      ...(report.dry_run ? [] : ([["messages", sendSummary(report.messages)]] as [string, string][])),
    ]),
  );
  if (report.dry_run) {
    if (report.would_send.length === 0) print("Nobody would get an email this week.");
    for (const m of report.would_send) {
      print(`  ${m.key}  to ${m.recipient ?? "(no email address)"}: ${plural(m.items, "item")}`);
    }
    return;
  }
  for (const note of sendNotes(report.send)) print(`  ${note}`);
}
