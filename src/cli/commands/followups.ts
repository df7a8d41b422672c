import type { Command } from "commander";
import { NOW_HELP, parseNow } from "../now.js";
import { takeRunLock } from "../run-lock.js";
import { FOLLOWUP_STAGES, queueFollowups, type FollowupReport } from "../../deliver/followups.js";
import { createContext, openForWriting, type GlobalOptions } from "../context.js";
import { createRenderer } from "../../deliver/render.js";
import { shippedTemplatesDir } from "../../deliver/setup.js";
import { print, printJson, table } from "../output.js";

interface FollowupFlags {
  now?: string;
  dryRun?: boolean;
  json?: boolean;
}

export function registerFollowups(program: Command): void {
  program
    .command("follow-ups")
    .description(
      "queue the follow-ups due for cart emails that got no answer (comeback send queues them too)",
    )
    .option("--now <time>", NOW_HELP)
    .option("--dry-run", "say which follow-ups are due; queue nothing")
    .option("--json", "print one JSON report")
    .addHelpText(
      "after",
      `
Examples:
  comeback follow-ups --dry-run            which cart emails would get a follow-up now, and why not the others
  comeback follow-ups                      queue them; the next comeback send delivers them

Every comeback send (cron, every 15 minutes) queues the due follow-ups first: this command is for
looking, or for a shop that runs send by hand. Needs links.base_url (tracking); followups.enabled: false
turns them off. Each follow-up is queued once (followup:<cart email>:<stage>).`,
    )
    .action(async (flags: FollowupFlags, command: Command) => {
      const { config } = await createContext(command.optsWithGlobals<GlobalOptions>());
      const now = parseNow(flags.now, config.timezone);
      const templateKinds = createRenderer({
        dir: config.templates.dir ?? shippedTemplatesDir(),
        defaultLocale: config.locale,
      }).kinds;
      const db = openForWriting(config);
      try {
        const lock = flags.dryRun ? null : takeRunLock(db, config, "comeback follow-ups");
        try {
          const report = db
            .transaction(() => queueFollowups(db, config, now, { dryRun: flags.dryRun, templateKinds }))
            .immediate();
          if (flags.json) printJson({ dry_run: Boolean(flags.dryRun), ...report });
          else printFollowups(report, Boolean(flags.dryRun));
        } finally {
          lock?.release();
        }
      } finally {
        db.close();
      }
    });
}

/** One line for `send`, or null when there is nothing to say. */
export function followupLine(report: FollowupReport): string | null {
  const queued = FOLLOWUP_STAGES.reduce((sum, stage) => sum + report.queued[stage], 0);
  if (!report.enabled || queued === 0) return null;
  return `follow-ups queued: ${FOLLOWUP_STAGES.map((stage) => `${stage.replace("_", " ")} ${report.queued[stage]}`).join(", ")}`;
}

function printFollowups(report: FollowupReport, dryRun: boolean): void {
  if (!report.enabled) {
    print(`No follow-ups: ${report.reason}.`);
    return;
  }
  print(`${dryRun ? "Dry run (nothing queued): " : ""}follow-ups at ${report.now}`);
  const stopped = Object.entries(report.stopped);
  print(
    table([
      ["cart emails", `${report.checked} delivered within the links' lifetime`],
      [
        dryRun ? "would queue" : "queued",
        FOLLOWUP_STAGES.map((stage) => `${stage.replace("_", " ")} ${report.queued[stage]}`).join(", "),
      ],
      ["waiting", String(report.waiting)],
      ["chain ended", stopped.length ? stopped.map(([why, n]) => `${why} ${n}`).join(", ") : "none"],
    ]),
  );
  for (const m of report.messages) print(`  ${m.key}  #${m.customer_id}  ${m.stage.replace("_", " ")}`);
}
