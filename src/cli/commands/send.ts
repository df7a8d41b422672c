import type { Command } from "commander";
import { NOW_HELP, parseNow } from "../now.js";
import { takeRunLock } from "../run-lock.js";
import { sendDue } from "../../deliver/send.js";
import { deliverySetup } from "../../deliver/setup.js";
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
import { print, printJson, warn } from "../output.js";
import { queueFollowups, TEMPLATES_MISSING } from "../../deliver/followups.js";
import { followupLine } from "./followups.js";

interface SendFlags {
  now?: string;
  limit?: number;
  retryUnknown?: boolean;
  breaker?: boolean;
  json?: boolean;
}

export function registerSend(program: Command): void {
  program
    .command("send")
    .description("deliver what is due in the outbox: retries, deferred messages, new ones")
    .option("--now <time>", NOW_HELP)
    .option("--limit <n>", "attempt at most N messages", positiveInteger)
    .option(
      "--retry-unknown",
      'also send again the messages a killed run left in "sending" (same Message-ID); see comeback status',
    )
    .option(
      "--no-breaker",
      "send even when 3 recipients in a row get the same refusal (they really are dead addresses)",
    )
    .option("--json", "print one JSON report")
    .addHelpText(
      "after",
      `
Examples:
  comeback send                      deliver what is due (run it from cron every 15 minutes)
  comeback send --limit 100          at most 100 messages
  comeback send --retry-unknown      after a crash or a lost reply: the recipient may get that message twice
  comeback send --no-breaker         after exit 69 "the same answer to 3 messages in a row", when those addresses really are dead

Never sends a message twice on its own. Holds the run lock (a second run exits 75).
Exit 69 when the mail server, not a recipient, is at fault (unreachable, login, relay, 421, TLS): the
run stops at once, the messages stay queued without using an attempt, nobody is suppressed.`,
    )
    .action(async (flags: SendFlags, command: Command) => {
      const { config, log } = await createContext(command.optsWithGlobals<GlobalOptions>());
      const now = parseNow(flags.now, config.timezone);
      const setup = deliverySetup(config, { needSecret: true, sending: true, warn });
      const db = openForWriting(config);
      const signals = watchSignals();
      try {
        const lock = takeRunLock(db, config, "comeback send");
        try {
          // The follow-ups due for silence first (issue 18), so this run delivers them with the rest.
          const followups = db
            .transaction(() => queueFollowups(db, config, now, { templateKinds: setup.renderer.kinds }))
            .immediate();
          if (followups.reason?.startsWith(TEMPLATES_MISSING))
            warn(`no follow-ups queued: ${followups.reason}`);
          const report = await sendDue(
            db,
            sendOptions(config, setup, log, {
              now: clockFor(now, flags.now !== undefined),
              limit: flags.limit,
              retryUnknown: flags.retryUnknown,
              breaker: flags.breaker,
              signals,
            }),
          );
          log.info({ sent: report.sent, failed: report.failed, deferred: report.deferred }, "send finished");
          if (flags.json) printJson({ now, ...report, followups });
          else {
            print(
              `Outbox at ${now}: ${report.due} due${report.transport ? ` (transport ${report.transport})` : ""}`,
            );
            print(`  ${sendSummary(report)}`);
            const line = followupLine(followups);
            if (line) print(`  ${line}`);
            for (const note of sendNotes(report)) print(`  ${note}`);
          }
          throwIfInterrupted(report);
        } finally {
          lock.release();
        }
      } finally {
        signals.dispose();
        db.close();
      }
    });
}
