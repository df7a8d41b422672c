import { takeRunLock } from "../run-lock.js";
import type { Command } from "commander";
import { NOW_HELP, parseNow } from "../now.js";
import { deliverySetup } from "../../deliver/setup.js";
import { runWeekly, type WeeklyReport } from "../../deliver/weekly.js";
import { checkData } from "../../plan/data-checks.js";
import type { KindGroup, KindSummary } from "../../deliver/dry-run.js";
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
import { SurgeStoppedError } from "../../errors.js";

interface WeeklyFlags {
  now?: string;
  dryRun?: boolean;
  limit?: number;
  json?: boolean;
  confirmSurge?: boolean;
  releaseBacklog?: number | true;
}

export function registerWeekly(program: Command): void {
  program
    .command("weekly")
    .description(
      "the Monday batch: plan, make this week's carts, queue their emails, the win-back emails and the digest, send",
    )
    .option("--now <time>", NOW_HELP)
    .option(
      "--dry-run",
      "the whole run (send window, caps, consent included) in a transaction that is rolled back: what would be sent, deferred, skipped",
    )
    .option("--limit <n>", "make at most N new carts and attempt at most N messages", positiveInteger)
    .option("--json", "print one JSON report")
    .option("--confirm-surge", "send this week's batch even if it is far bigger than usual (see exit 3)")
    .option(
      "--release-backlog [n]",
      "also give N (default: all) waiting customers their first win-back email now, beyond winback.customers_per_week",
      positiveInteger,
    )
    .addHelpText(
      "after",
      `
Examples:
  comeback weekly                          from cron, every Monday morning, after the import
  comeback weekly --dry-run                who would get what this week; nothing is written or sent
  comeback weekly --now 2026-03-02T07:00   the batch as it would run that Monday (shop time)

Safe to run twice: a customer gets one cart a week and each email is queued once (cart:<customer>:<week>).
Holds the run lock: a second weekly or send started meanwhile exits 75. SMTP unreachable: exit 69.
A batch far bigger than the shop's usual one is not queued nor sent: exit 3, a notice to operator.email;
  comeback weekly --confirm-surge          sends it after you have looked
  comeback weekly --release-backlog 200    200 more waiting customers get their first win-back email`,
    )
    .action(async (flags: WeeklyFlags, command: Command) => {
      const { config, log } = await createContext(command.optsWithGlobals<GlobalOptions>());
      const now = parseNow(flags.now, config.timezone);
      // A dry run needs what the real run needs (the secret, the SMTP password: exit 78 without them),
      // so a dry run that passes means the real one can start.
      const setup = deliverySetup(config, { needSecret: true, sending: true, warn });
      const db = openForWriting(config);
      const signals = watchSignals();
      try {
        const lock = flags.dryRun ? null : takeRunLock(db, config, "comeback weekly");
        try {
          // Stale data or a timezone the export disagrees with: said before the batch, on stderr for cron.
          const checks = checkData(db, config.timezone, now);
          for (const warning of checks.warnings) warn(warning);
          const report = await runWeekly(db, {
            now,
            dryRun: flags.dryRun,
            limit: flags.limit,
            config,
            confirmSurge: flags.confirmSurge,
            releaseBacklog: flags.releaseBacklog === true ? Infinity : flags.releaseBacklog,
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
          throwIfSurge(report);
        } finally {
          lock?.release();
        }
      } finally {
        signals.dispose();
        db.close();
      }
    });
}

/** A stopped surge ends the command with exit 3, after its report is printed. */
function throwIfSurge(report: WeeklyReport): void {
  const { surge } = report;
  if (!surge.stopped || report.dry_run) return;
  throw new SurgeStoppedError(
    `stopped before sending: this run would queue ${surge.batch} emails to customers, above the limit of ${surge.limit} (${surge.rule}); nothing of it was queued or sent. See who with \`comeback weekly --dry-run\`, then send it with \`${surge.confirm_with}\``,
  );
}

/** The win-back and surge lines of the weekly report. */
function winbackLines(report: WeeklyReport): [string, string][] {
  const { queued, backlog } = report.winback;
  const lines: [string, string][] = [
    ["win-back", `warm ${queued.warm}, cold ${queued.cold}, lost ${queued.lost}`],
    [
      "win-back waiting",
      `${backlog.waiting} (${backlog.waiting_lapsed_before_start} lapsed before comeback started on ${backlog.first_planned_on ?? "-"}); first emails this week ${backlog.released_this_week} of at most ${backlog.ceiling}`,
    ],
  ];
  const { surge } = report;
  if (surge.stopped)
    lines.push(["surge", `STOPPED: ${surge.batch} emails, limit ${surge.limit} (${surge.rule})`]);
  else if (surge.confirmed)
    lines.push(["surge", `confirmed: ${surge.batch} emails, limit ${surge.limit} (${surge.rule})`]);
  return lines;
}

function printWeekly(report: WeeklyReport): void {
  print(
    `${report.dry_run ? "Dry run (nothing written, nothing sent): " : ""}week ${report.week}, now ${report.now}`,
  );
  print(
    table([
      [
        "carts",
        `new ${report.carts.new}, existing ${report.carts.existing}; held out ${report.held_out} (the hold-out group: no email this week)`,
      ],
      ["queued", `${plural(report.messages.queued, "message")}; digest: ${report.digest}`],
      ...winbackLines(report),
      ["messages", `${report.dry_run ? "would be " : ""}${sendSummary(report.messages)}`],
    ]),
  );
  if (report.dry_run) return printDryRun(report);
  for (const note of sendNotes(report.send)) print(`  ${note}`);
}

const KIND_LABELS: Record<KindGroup, string> = {
  cart: "carts",
  "win-back": "win-back",
  digest: "digest",
  other: "other",
};

/** The summary by kind first (what a person reads), then one line per message (what grep reads). */
function printDryRun(report: WeeklyReport): void {
  const kinds = Object.entries(report.by_kind) as [KindGroup, KindSummary][];
  if (kinds.length === 0) {
    print("Nobody would get an email now.");
    return;
  }
  print("By kind, what a real run started now would do:");
  print(
    table(
      kinds.map(([kind, s]) => [
        KIND_LABELS[kind],
        `queued ${s.queued}${s.from_earlier_runs ? ` (+${s.from_earlier_runs} from earlier runs)` : ""}; send ${s.sent}, defer ${s.deferred}${reasons(s.deferred_reasons)}, ` +
          `skip ${s.skipped}${reasons(s.skipped_reasons)}${s.not_attempted ? `, left for later ${s.not_attempted}` : ""}`,
      ]),
    ),
  );
  print("Messages:");
  for (const m of report.would_send) {
    const who = m.comeback_id === null ? "(operator)" : (m.customer_id ?? `#${m.comeback_id}`);
    const what =
      m.outcome === "sent"
        ? "would be sent"
        : m.outcome === "deferred"
          ? `deferred until ${m.until} (${m.reason})`
          : `${m.outcome}${m.reason ? ` (${m.reason})` : ""}`;
    print(`  ${m.key}  ${who}  ${m.recipient ?? "(no email address)"}: ${what}`);
  }
}

function reasons(counts: Record<string, number>): string {
  const entries = Object.entries(counts);
  return entries.length ? ` (${entries.map(([reason, n]) => `${reason} ${n}`).join(", ")})` : "";
}
