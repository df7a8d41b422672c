import { writeFileSync } from "node:fs";
import type { Command } from "commander";
import { NOW_HELP, parseNow } from "../now.js";
import { buildReport, type Report } from "../../report/figures.js";
import { reportHtml } from "../../report/html.js";
import { InputMissingError, UsageError } from "../../errors.js";
import { createContext, openForReading, type GlobalOptions } from "../context.js";
import { positiveInteger } from "../deliver-run.js";
import { print, printJson, table } from "../output.js";

interface ReportFlags {
  now?: string;
  since?: string;
  days?: number;
  json?: boolean;
  html?: string;
}

export function registerReport(program: Command): void {
  program
    .command("report")
    .description("what the emails did, week by week, and the lift against the hold-out group")
    .option("--now <time>", NOW_HELP)
    .option("--since <date>", "only emails sent (and carts made) from this day on, shop time: 2026-01-01")
    .option(
      "--days <n>",
      "count an order within N days of the email (default: report.days, 30)",
      positiveInteger,
    )
    .option("--json", "print one JSON report")
    .option("--html <file>", "write the report as one HTML file with charts, to open in a browser")
    .addHelpText(
      "after",
      `
Examples:
  comeback report                                   the funnel per kind and the lift, on the terminal
  comeback report --since 2026-01-01 --html r.html  one self-contained page with charts
  comeback report --json | jq .lift                 the figures for a script

Lift: customers with a cart emailed against those held out (holdout.share), the share who ordered
within the days and their revenue, with 95 % intervals (Newcombe/Wilson for the rates, Welch for revenue).`,
    )
    .action(async (flags: ReportFlags, command: Command) => {
      if (flags.json && flags.html) throw new UsageError("--json and --html: choose one");
      const { config } = await createContext(command.optsWithGlobals<GlobalOptions>());
      const now = parseNow(flags.now, config.timezone);
      let since: string | null = null;
      if (flags.since !== undefined) {
        if (!/^\d{4}-\d{2}-\d{2}$/.test(flags.since))
          throw new UsageError(`--since "${flags.since}": expected a day such as 2026-01-01`);
        since = parseNow(flags.since, config.timezone);
      }
      const db = openForReading(config);
      let report: Report;
      try {
        report = buildReport(db, {
          now,
          since,
          days: flags.days ?? config.report.days,
          currency: config.currency,
          zone: config.timezone,
        });
      } finally {
        db.close();
      }
      if (flags.json) return printJson(report);
      if (flags.html) {
        try {
          writeFileSync(flags.html, reportHtml(report));
        } catch (error) {
          // As the CSV listings: a folder that is missing or read-only is the admin's to fix (exit 66).
          throw new InputMissingError(
            `can't write ${flags.html}: ${error instanceof Error ? error.message : String(error)}`,
          );
        }
        print(`Wrote ${flags.html}: open it in a browser.`);
        return;
      }
      printReport(report);
    });
}

const pct = (v: number | null) => (v === null ? "-" : `${(v * 100).toFixed(1)} %`);

function printReport(report: Report): void {
  print(
    `Report at ${report.now}${report.since ? `, since ${report.since}` : ""}; reorders within ${report.days} days`,
  );
  if (report.totals.length === 0) print("  No emails to customers sent in this period.");
  for (const t of report.totals) {
    print(
      `  ${t.kind}: sent ${t.sent}, delivered ${t.delivered}, opened ${t.opened}, clicked ${t.clicked}, cart viewed ${t.cart_viewed}, ` +
        `confirmed ${t.confirmed}, postponed ${t.postponed}, unsubscribed ${t.unsubscribed}, reordered ${t.reordered}, revenue ${t.revenue_minor} (minor units, ${report.currency})`,
    );
  }
  const { lift } = report;
  const d = lift.rate_difference;
  print("Lift against the hold-out group:");
  print(
    table([
      [
        "emailed",
        `${lift.emailed.repurchased} of ${lift.emailed.carts} carts reordered (${pct(lift.emailed.rate)})`,
      ],
      [
        "held out",
        `${lift.held_out.repurchased} of ${lift.held_out.carts} carts reordered (${pct(lift.held_out.rate)})`,
      ],
      [
        "difference",
        d.value === null
          ? "not enough carts yet"
          : `${(d.value * 100).toFixed(1)} points${d.ci95 ? `, 95 % interval ${(d.ci95[0] * 100).toFixed(1)} to ${(d.ci95[1] * 100).toFixed(1)}` : ""}`,
      ],
      ["pending", `${lift.carts_pending} carts still within their ${lift.days} days`],
    ]),
  );
}
