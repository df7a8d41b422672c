/** `comeback model fit`, `comeback lost`. */
import { Command } from "commander";
import { UsageError } from "../../errors.js";
import { DataError } from "../../errors.js";
import { dayString, makeDayOf } from "../../plan/days.js";
import { NOW_HELP, parseNow } from "../now.js";
import { minorDigits } from "../../money.js";
import { fitModel, type LifecycleReport } from "../../plan/lifecycle/plan.js";
import {
  lifecycleState,
  listLost,
  listLostJson,
  LOST_KEYS,
  parseStatuses,
} from "../../plan/lifecycle/lost.js";
import type { TasksReport } from "../../plan/winback/tasks.js";
import { createContext, openForReading, type GlobalOptions } from "../context.js";
import { writeCsv } from "../csv-file.js";
import { formatCount, plural, print, printJson, printJsonBytes, printJsonRows, table } from "../output.js";

export function registerLifecycleCommands(program: Command): void {
  const model = program
    .command("model")
    .description("the BG/NBD model of who is still a customer")
    .addHelpText(
      "after",
      `
Examples:
  comeback model fit                         fit it on the whole order history and print it
  comeback model fit --now 2026-03-02 --json`,
    );
  model
    .command("fit")
    .description("fit BG/NBD to the order history (time in weeks), store the parameters and print them")
    .option("--now <time>", NOW_HELP)
    .option("--json", "print one JSON object")
    .addHelpText(
      "after",
      `
Fits r, alpha (purchase rates) and a, b (dropout) by maximum likelihood on every customer's purchases
as of --now (same-day orders count once; cancelled orders and pure returns don't count). When the
dropout part degenerates, it says so: a → 0 or b → ∞ (the data shows no dropping out), and the bgnbd
lifecycle then ranks customers by expected purchases relative to their own past rate; a → ∞ or b → 0
(everybody drops out after every purchase, as small shops' fits do), and it follows the rhythm rules.

Examples:
  comeback model fit
  comeback model fit --now 2011-09-01 --json`,
    )
    .action(async (flags: { now?: string; json?: boolean }, command: Command) => {
      const { config } = await createContext(command.optsWithGlobals<GlobalOptions>());
      const now = parseNow(flags.now, config.timezone);
      const db = openForReading(config);
      try {
        const { report } = db.transaction(() => fitModel(db, config, now, { force: true })).immediate();
        if (report === null)
          throw new DataError(`no purchases as of ${now}: there is nothing to fit; import orders first`);
        const json = {
          r: report.r,
          alpha: report.alpha,
          a: report.a,
          b: report.b,
          log_likelihood: report.log_likelihood,
          customers: report.customers,
          degenerate: report.degenerate,
          message: report.message,
          fallback: report.fallback,
        };
        if (flags.json) return printJson(json);
        print(`BG/NBD fitted on ${plural(report.customers, "customer")} as of ${now} (time in weeks):`);
        print(
          table([
            ["r", report.r.toPrecision(4)],
            ["alpha", report.alpha.toPrecision(4)],
            ["a", report.a.toPrecision(4)],
            ["b", report.b.toPrecision(4)],
            ["log-likelihood", report.log_likelihood.toFixed(1)],
          ]),
        );
        if (report.message) {
          print(`Warning: ${report.message}.`);
          if (report.fallback === "activity_ratio")
            print(
              "The bgnbd lifecycle ranks customers by expected purchases relative to their own past rate instead.",
            );
        }
      } finally {
        db.close();
      }
    });

  program
    .command("lost")
    .description("list customers who are drifting away (warm, cold, lost), from the last plan")
    .option("--now <time>", NOW_HELP)
    .option(
      "--status <list>",
      "comma-separated statuses: new, active, warm, cold, lost, won_back",
      "warm,cold,lost",
    )
    .option("--json", "print an array of objects")
    .option(
      "--csv <file>",
      "write a CSV file, or to stdout with - (cells a spreadsheet would run as formulas are neutralised)",
    )
    .addHelpText(
      "after",
      `
Columns: customer_id, email, comeback_id, phone, name, status, since, orders, last_order_on, typical_gap_days,
days_since_last, p_alive and expected_purchases_90d (empty under the rhythm model), next_contact_on,
supply_until (the day their supply runs out by their reminders, while it lasts: they are not missed yet).

Examples:
  comeback lost
  comeback lost --status lost --csv lost.csv
  comeback lost --status warm,cold --json
  comeback lost --status active                 who is active, and whose supply keeps them so`,
    )
    .action(
      async (flags: { now?: string; status: string; json?: boolean; csv?: string }, command: Command) => {
        const { config } = await createContext(command.optsWithGlobals<GlobalOptions>());
        if (flags.json && flags.csv !== undefined)
          throw new UsageError("--json and --csv can't be used together");
        const statuses = parseStatuses(flags.status);
        const now = parseNow(flags.now, config.timezone);
        const db = openForReading(config);
        try {
          const state = lifecycleState(db);
          if (state === null) {
            process.stderr.write("comeback: no lifecycle has been planned yet: run comeback plan first\n");
          } else if (state.as_of_day !== dayOfNow(now, config.timezone)) {
            process.stderr.write(
              `comeback: statuses are as of the last plan (${state.as_of_day}); plan as of ${dayOfNow(now, config.timezone)} to bring them up to date\n`,
            );
          }
          if (flags.json)
            return state ? printJsonBytes(listLostJson(db, statuses, state)) : printJsonRows([]);
          const rows = state ? listLost(db, statuses, state) : [];
          if (flags.csv) {
            const what = plural(rows.length, "customer");
            return writeCsv(flags.csv, LOST_KEYS, rows as unknown as Record<string, unknown>[], what);
          }
          if (rows.length === 0) return print(`No ${statuses.join(", ")} customers.`);
          for (const r of rows) {
            print(
              [
                r.status.padEnd(8),
                `since ${r.since}`,
                `last order ${r.last_order_on} (${plural(r.days_since_last, "day")} ago, usually every ${plural(r.typical_gap_days, "day")})`,
                `${r.orders} order${r.orders === 1 ? "" : "s"}`,
                r.name ?? r.email ?? r.customer_id ?? `#${r.comeback_id}`,
                r.phone ?? "",
                r.next_contact_on ? `next contact ${r.next_contact_on}` : "",
                r.supply_until ? `supply lasts until ${r.supply_until}` : "",
              ]
                .filter(Boolean)
                .join("  "),
            );
          }
          print(`${plural(rows.length, "customer")}.`);
        } finally {
          db.close();
        }
      },
    );
}

function dayOfNow(now: string, zone: string): string {
  return dayString(makeDayOf(zone)(now));
}

export function printLifecycleReport(report: LifecycleReport, tasks: TasksReport): void {
  print(
    `Lifecycle as of ${report.now} (${report.model}): ${plural(report.customers, "customer")}, ${formatCount(report.changed)} changed status`,
  );
  print(
    table(Object.entries(report.counts).map(([status, n]) => [status.replace("_", " "), formatCount(n)])),
  );
  const value = Object.entries(report.won_back.order_value_minor)
    .map(
      ([currency, minor]) =>
        `${(minor / 10 ** minorDigits(currency)).toFixed(minorDigits(currency))} ${currency}`,
    )
    .join(", ");
  print(
    `Won back: ${formatCount(report.won_back.customers)} (${formatCount(report.won_back.new)} new)${value ? `, orders worth ${value}` : ""}`,
  );
  if (report.held_by_supply > 0)
    print(
      `Held by supply: ${plural(report.held_by_supply, "customer")} overdue by their pace whose purchase still lasts by their reminders: not warm, cold or lost (comeback lost --status active,new says until when)`,
    );
  if (report.fit?.message) print(`Model: ${report.fit.message}.`);
  print(
    `Tasks: ${formatCount(tasks.created)} new, ${formatCount(tasks.open)} open, ${formatCount(tasks.closed_by_calls)} closed by calls, ${formatCount(tasks.closed_won_back)} won back, ${formatCount(tasks.expired)} expired`,
  );
}
