/** `comeback due`: the reminders due in one ISO week, for a person or a spreadsheet. */
import type { Command } from "commander";
import { UsageError } from "../../errors.js";
import { DUE_KEYS, dueInWeek, type DueRow } from "../../plan/replenishment/due.js";
import { isoWeekOf, parseIsoWeek } from "../../plan/replenishment/dates.js";
import { dayString, localDayOf } from "../../plan/days.js";
import { createContext, openForReading, type GlobalOptions } from "../context.js";
import { writeCsv } from "../csv-file.js";
import { parseNow } from "../now.js";
import { formatCount, plural, print, printJsonRows } from "../output.js";

interface DueFlags {
  now?: string;
  week?: string;
  json?: boolean;
  csv?: string;
}

export function registerDue(program: Command): void {
  program
    .command("due")
    .description(
      "list the reminders the week's batch puts in carts, overdue ones included (from the last plan)",
    )
    .option("--now <time>", "the week containing this ISO date or date-time (default: the clock)")
    .option("--week <week>", "an ISO week such as 2026-W10 (default: the week containing --now)")
    .option("--json", "print an array of objects")
    .option(
      "--csv <file>",
      "write a CSV file, or to stdout with - (cells a spreadsheet would read as formulas are neutralised)",
    )
    .addHelpText(
      "after",
      `
Shows exactly what that week's "comeback weekly" puts in carts, one row per customer and group, as the
last "comeback plan" left them (run plan first): open reminders due in the week, and overdue ones (due
earlier, never offered: overdue true). A customer who already has the week's cart shows what it holds
(queued true). Keys (--json and --csv): ${DUE_KEYS.join(", ")}.

Examples:
  comeback due                               this week's, after "comeback plan"
  comeback due --week 2026-W10 --json
  comeback due --csv due-this-week.csv
  comeback due --csv - | cut -d, -f2         to stdout, for a pipe`,
    )
    .action(async (flags: DueFlags, command: Command) => {
      if (flags.json && flags.csv !== undefined)
        throw new UsageError("--json and --csv can't be used together");
      const { config } = await createContext(command.optsWithGlobals<GlobalOptions>());
      const week =
        flags.week !== undefined
          ? parseIsoWeek(flags.week)
          : isoWeekOf(localDayOf(parseNow(flags.now, config.timezone), config.timezone));
      const db = openForReading(config);
      let rows: DueRow[];
      try {
        rows = dueInWeek(db, {
          label: week.label,
          monday: dayString(week.monday),
          sunday: dayString(week.sunday),
        });
      } finally {
        db.close();
      }
      if (flags.json) return printJsonRows(rows);
      if (flags.csv !== undefined) {
        const what = `${plural(rows.length, "reminder")} due in ${week.label}`;
        return writeCsv(flags.csv, DUE_KEYS, rows as unknown as Record<string, unknown>[], what);
      }
      printDue(week.label, rows);
    });
}

function printDue(week: string, rows: DueRow[]): void {
  if (rows.length === 0) return print(`Nothing due in ${week}.`);
  const overdue = rows.filter((row) => row.overdue).length;
  print(
    `${plural(rows.length, "reminder")} for the carts of ${week}${overdue ? ` (${formatCount(overdue)} overdue)` : ""}:`,
  );
  for (const row of rows) {
    const when = row.overdue ? `overdue since ${row.due_on}` : `due ${row.due_on}`;
    print(
      `  ${when}  #${row.reminder_number}  ${row.customer_id ?? "-"}  ${row.email ?? ""}  ` +
        `${row.product_name ?? row.sku ?? row.group}  runs out ${row.runs_out_on}  (bought ${row.quantity} on ${row.last_purchase_on}, ` +
        `${plural(row.supply_days, "day")}, ${row.basis})${row.queued ? "  in this week's cart" : ""}`,
    );
  }
}
