/** `comeback tasks` (the open win-back call tasks) and `comeback tasks close ID --reason TEXT`. */
import { Command } from "commander";
import { UsageError } from "../../errors.js";
import { NOW_HELP, parseNow } from "../now.js";
import { closeTask, listOpenTasks, listOpenTasksJson, TASK_KEYS } from "../../plan/winback/tasks.js";
import { createContext, openForReading, type GlobalOptions } from "../context.js";
import { writeCsv } from "../csv-file.js";
import { plural, print, printJson, printJsonBytes } from "../output.js";

export function registerTaskCommands(program: Command): void {
  const tasks = program
    .command("tasks")
    .description("list the open win-back call tasks that are due")
    .option("--now <time>", NOW_HELP)
    .option("--json", "print an array of objects")
    .option(
      "--csv <file>",
      "write a CSV file, or to stdout with - (cells a spreadsheet would run as formulas are neutralised)",
    )
    .addHelpText(
      "after",
      `
A task is one call to a warm, cold or lost customer per cadence slot (config: winback). It closes on
proof: a call in an imported call log (comeback import calls FILE) to the customer's phone, at least
winback.min_call_seconds long, started after the task was made; or a new order from the customer.

Examples:
  comeback tasks
  comeback tasks --csv calls-this-week.csv
  comeback tasks close 42 --reason "customer moved abroad"`,
    )
    .action(async (flags: { now?: string; json?: boolean; csv?: string }, command: Command) => {
      const { config } = await createContext(command.optsWithGlobals<GlobalOptions>());
      if (flags.json && flags.csv !== undefined)
        throw new UsageError("--json and --csv can't be used together");
      const now = parseNow(flags.now, config.timezone);
      const db = openForReading(config);
      try {
        if (flags.json) return printJsonBytes(listOpenTasksJson(db, config, now));
        const rows = listOpenTasks(db, config, now);
        if (flags.csv) {
          const what = plural(rows.length, "task");
          return writeCsv(flags.csv, TASK_KEYS, rows as unknown as Record<string, unknown>[], what);
        }
        if (rows.length === 0) return print("No open tasks.");
        for (const t of rows) {
          print(
            `#${t.task_id}  due ${t.due_on}  ${t.status} (contact ${t.contact_number})  ${t.name ?? t.email ?? t.customer_id ?? `#${t.comeback_id}`}  ${t.phone ?? "no phone"}`,
          );
          print(
            `     ${plural(t.orders ?? 0, "order")}, last ${t.last_order_on ?? "?"}: ${t.last_order_items || "–"}; calls so far: ${t.previous_calls}${t.last_call_at ? ` (last ${t.last_call_at})` : ""}`,
          );
        }
        print(`${plural(rows.length, "open task")}.`);
      } finally {
        db.close();
      }
    });

  tasks
    .command("close")
    .description("close a task by hand, without a call: a reason is required; who and why are recorded")
    .argument("<id>", "the task's number, as comeback tasks shows it")
    .requiredOption("--reason <text>", "why it is closed without a call")
    .option("--by <name>", "who closes it (default: $USER)")
    .option("--now <time>", NOW_HELP)
    .option("--json", "print the closed task as JSON")
    .addHelpText(
      "after",
      `
A task the phone system's call log proves done (comeback import calls FILE) closes by itself.

Examples:
  comeback tasks close 12 --reason "wrote to us by email instead"
  comeback tasks close 12 --reason "moved abroad" --by anna`,
    )
    .action(
      async (
        idText: string,
        flags: { reason: string; by?: string; now?: string; json?: boolean },
        command: Command,
      ) => {
        // --now and --json are also options of `tasks`, which takes them when they come first.
        const all = command.optsWithGlobals<GlobalOptions & typeof flags>();
        const { config } = await createContext(all);
        const id = Number(idText);
        if (!/^\d+$/.test(idText) || !Number.isSafeInteger(id)) {
          throw new UsageError(`task id "${idText}" is not a number; see comeback tasks for the open ones`);
        }
        const by = (flags.by ?? process.env.USER ?? process.env.USERNAME ?? "").trim();
        if (by === "") throw new UsageError("who is closing the task? pass --by NAME (no $USER is set)");
        const now = parseNow(all.now, config.timezone);
        const db = openForReading(config);
        try {
          const closed = closeTask(db, id, flags.reason, by, now);
          if (all.json) return printJson(closed);
          print(`Task ${id} closed by ${by}: ${closed.close_reason}`);
        } finally {
          db.close();
        }
      },
    );
}
