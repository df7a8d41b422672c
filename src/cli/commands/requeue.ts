/** `comeback requeue`: failed messages back in the queue, chosen by key, kind, week or error class. */
import type { Command } from "commander";
import { DateTime } from "luxon";
import { ERROR_CLASSES, requeueFailed, type RequeueFilter } from "../../deliver/outbox.js";
import { UsageError } from "../../errors.js";
import { NOW_HELP, parseNow } from "../now.js";
import { createContext, openForWriting, type GlobalOptions } from "../context.js";
import { plural, print, printJson } from "../output.js";

interface RequeueFlags {
  now?: string;
  key?: string[];
  kind?: string;
  week?: string;
  error?: string;
  dryRun?: boolean;
  json?: boolean;
}

function weekOf(text: string): NonNullable<RequeueFilter["week"]> {
  const monday = /^\d{4}-W\d{2}$/.test(text) ? DateTime.fromISO(`${text}-1`, { zone: "utc" }) : null;
  if (!monday?.isValid) throw new UsageError(`--week ${text}: expected an ISO week such as 2026-W10`);
  return { name: text, from: monday.toISODate()!, to: monday.plus({ days: 7 }).toISODate()! };
}

function errorFilter(text: string): string {
  const wanted = text.trim().toLowerCase();
  if ((ERROR_CLASSES as readonly string[]).includes(wanted)) return wanted;
  if (/^\d{3}$/.test(wanted) || /^[245]\.\d{1,3}\.\d{1,3}$/.test(wanted)) return wanted;
  throw new UsageError(
    `--error ${text}: expected ${ERROR_CLASSES.join(", ")}, a reply code (554) or an enhanced status (5.7.1)`,
  );
}

export function registerRequeue(program: Command): void {
  program
    .command("requeue")
    .description("queue failed messages again, chosen by key, kind, week or error class")
    .option(
      "--key <key...>",
      "these messages (idempotency keys, as comeback status and send --json show them)",
    )
    .option("--kind <kind>", "messages of this kind: cart, digest, winback, or one kind such as winback-warm")
    .option("--week <week>", "messages of this ISO week, e.g. 2026-W10")
    .option(
      "--error <class>",
      `whose fault the failure was: ${ERROR_CLASSES.join(", ")}; or a reply code (554) or enhanced status (5.7.1)`,
    )
    .option("--dry-run", "list what would be queued again, change nothing")
    .option("--now <time>", NOW_HELP)
    .option("--json", "print one JSON report")
    .addHelpText(
      "after",
      `
The filters combine: every one given must match. At least one is needed. A requeued message starts
again with no attempts used, due at once; its Message-ID stays the same. The next comeback send (or
weekly) sends it.

Examples:
  comeback requeue --error server --dry-run           what a broken mail server made fail
  comeback requeue --error 5.7.1 --week 2026-W10
  comeback requeue --kind cart --week 2026-W10
  comeback requeue --key cart:42:2026-W10

A message to a suppressed address would only be skipped: lift it first (comeback suppressions lift).`,
    )
    .action(async (flags: RequeueFlags, command: Command) => {
      const { config } = await createContext(command.optsWithGlobals<GlobalOptions>());
      const now = parseNow(flags.now, config.timezone);
      const filter: RequeueFilter = {
        ...(flags.key && { keys: flags.key }),
        ...(flags.kind && { kind: flags.kind }),
        ...(flags.week && { week: weekOf(flags.week) }),
        ...(flags.error && { error: errorFilter(flags.error) }),
      };
      if (Object.keys(filter).length === 0)
        throw new UsageError("say which failed messages: --key, --kind, --week or --error (see --help)");
      const dryRun = flags.dryRun === true;
      const db = openForWriting(config);
      try {
        const messages = requeueFailed(db, filter, { now, dryRun });
        const suppressed = messages.filter((m) => m.suppressed);
        if (flags.json)
          return printJson({ now, dry_run: dryRun, requeued: dryRun ? 0 : messages.length, messages });
        if (messages.length === 0) return print("No failed message matches.");
        for (const m of messages.slice(0, 50)) {
          print(
            `  ${m.key}  ${m.error_class}${m.suppressed ? " (address suppressed)" : ""}  ${(m.error ?? "").replace(/\s+/g, " ").slice(0, 100)}`,
          );
        }
        if (messages.length > 50) print(`  … and ${messages.length - 50} more`);
        print(
          dryRun
            ? `Dry run: ${plural(messages.length, "failed message")} would be queued again; nothing changed.`
            : `${plural(messages.length, "failed message")} queued again: comeback send sends them.`,
        );
        if (suppressed.length > 0) {
          print(
            `${plural(suppressed.length, "of them goes", "of them go")} to a suppressed address and will be skipped: ` +
              "comeback suppressions lists them, comeback suppressions lift ADDRESS lifts one.",
          );
        }
      } finally {
        db.close();
      }
    });
}
