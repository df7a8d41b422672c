/** `comeback suppressions [list]` and `comeback suppressions lift ADDRESS…`: who gets no marketing email, and why. */
import { Command, Option } from "commander";
import { liftSuppressions, listSuppressions, type Suppression } from "../../deliver/suppress.js";
import { NOW_HELP, parseNow } from "../now.js";
import { createContext, openForReading, openForWriting, type GlobalOptions } from "../context.js";
import { plural, print, printJson } from "../output.js";

const SOURCES = ["bounce", "unsubscribe", "admin"];

interface ListFlags {
  now?: string;
  source?: string;
  json?: boolean;
}

async function list(_flags: ListFlags, command: Command): Promise<void> {
  // "suppressions list --json": the parent, which takes the same options, may have parsed them.
  const flags = command.optsWithGlobals<ListFlags & GlobalOptions>();
  const { config } = await createContext(flags);
  parseNow(flags.now, config.timezone);
  const db = openForReading(config);
  try {
    const rows = listSuppressions(db, flags.source);
    if (flags.json) return printJson(rows);
    if (rows.length === 0)
      return print(`No suppressed addresses${flags.source ? ` from ${flags.source}` : ""}.`);
    for (const row of rows) print(line(row));
    print(`${plural(rows.length, "suppressed address", "suppressed addresses")}.`);
  } finally {
    db.close();
  }
}

const line = (row: Suppression) =>
  `${row.address}  ${row.source}  since ${row.created_at}  ${row.reason.replace(/\s+/g, " ").slice(0, 120)}`;

export function registerSuppressionCommands(program: Command): void {
  const listOptions = (cmd: Command) =>
    cmd
      .option("--now <time>", NOW_HELP)
      .addOption(new Option("--source <source>", "only this source").choices(SOURCES))
      .option("--json", "print an array of objects");

  const suppressions = listOptions(
    program
      .command("suppressions")
      .description("list the addresses that get no marketing email, with reason and source; lift them"),
  )
    .addHelpText(
      "after",
      `
Sources: bounce (the mail server refused the address), unsubscribe (the customer's own token),
admin (comeback unsubscribe ADDRESS).

Examples:
  comeback suppressions                              everyone suppressed, newest first
  comeback suppressions --source bounce
  comeback suppressions lift anna@example.com --dry-run
  comeback suppressions lift anna@example.com boris@example.com`,
    )
    .action(list);

  listOptions(suppressions.command("list").description("list the suppressed addresses (the default)"))
    .addHelpText(
      "after",
      `
Examples:
  comeback suppressions list
  comeback suppressions list --source bounce --json`,
    )
    .action(list);

  suppressions
    .command("lift")
    .description("take addresses off the suppression list, so marketing email reaches them again")
    .argument("<address...>", "the addresses to lift")
    .option("--now <time>", NOW_HELP)
    .option("--dry-run", "say what would be lifted, change nothing")
    .option(
      "--unsubscribed-too",
      "also lift addresses that unsubscribed themselves (only when they asked again)",
    )
    .option("--json", "print the addresses as JSON")
    .addHelpText(
      "after",
      `
Examples:
  comeback suppressions lift anna@example.com --dry-run
  comeback suppressions lift anna@example.com boris@example.com
  comeback suppressions lift clara@example.com --unsubscribed-too   she asked by phone to get email again

All or nothing: an address that is not an email address (exit 65), or one that unsubscribed itself
without --unsubscribed-too, and nothing is changed. Failed messages to a lifted address stay failed:
comeback requeue sends them again.`,
    )
    .action(
      async (
        addresses: string[],
        flags: { now?: string; dryRun?: boolean; unsubscribedToo?: boolean; json?: boolean },
        command: Command,
      ) => {
        const { config } = await createContext(command.optsWithGlobals<GlobalOptions>());
        parseNow(flags.now, config.timezone);
        const db = openForWriting(config);
        try {
          const results = liftSuppressions(db, addresses, {
            dryRun: flags.dryRun === true,
            unsubscribed: flags.unsubscribedToo === true,
          });
          if (flags.json) return printJson({ dry_run: flags.dryRun === true, addresses: results });
          const verb = flags.dryRun ? "would lift" : "lifted";
          for (const r of results) {
            print(
              r.was
                ? `${r.address}: ${verb} (${r.was.source} since ${r.was.created_at}: ${r.was.reason.replace(/\s+/g, " ").slice(0, 120)})`
                : `${r.address}: not suppressed`,
            );
          }
          const n = results.filter((r) => r.lifted).length;
          print(
            flags.dryRun
              ? `Dry run: ${plural(n, "address", "addresses")} would be lifted; nothing changed.`
              : `${plural(n, "address", "addresses")} lifted.`,
          );
        } finally {
          db.close();
        }
      },
    );
}
