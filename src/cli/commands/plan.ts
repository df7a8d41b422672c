/** `comeback plan`: recompute the derived state (reminders, …) from the facts, as of now. */
import type { Command } from "commander";
import { checkData } from "../../plan/data-checks.js";
import { runPlan, type PlanReport } from "../../plan/run.js";
import { createContext, openForReading, type GlobalOptions } from "../context.js";
import { parseNow } from "../now.js";
import { formatCount, plural, print, printJson, table, warn } from "../output.js";
import { printLifecycleReport } from "./lifecycle.js";

/** How many products without a rule the human report lists; --json has them all. */
const UNKNOWN_SHOWN = 15;

export function registerPlan(program: Command): void {
  program
    .command("plan")
    .description(
      "recompute reminders, lifecycle statuses and win-back tasks from the imported facts, as of now",
    )
    .option(
      "--now <time>",
      "plan as of this ISO date or date-time (default: the clock); later orders are ignored",
    )
    .option("--json", "print the report as one JSON object")
    .addHelpText(
      "after",
      `
Running it twice with the same facts and --now changes nothing (the report says 0 changed).

Examples:
  comeback plan                          as of now
  comeback plan --now 2026-03-02         replay a past Monday on today's database
  comeback plan --json`,
    )
    .action(async (flags: { now?: string; json?: boolean }, command: Command) => {
      const { config } = await createContext(command.optsWithGlobals<GlobalOptions>());
      const now = parseNow(flags.now, config.timezone);
      const db = openForReading(config);
      try {
        const checks = checkData(db, config.timezone, now);
        for (const warning of checks.warnings) warn(warning);
        const report = await runPlan(db, config, now);
        if (flags.json) printJson({ now, ...report, data_checks: checks });
        else printPlan(now, report);
      } finally {
        db.close();
      }
    });
}

function printPlan(now: string, report: PlanReport): void {
  const r = report.replenishment;
  print(`Planned as of ${now} (shop date ${r.today}, week ${r.week}).`);
  print("Replenishment reminders:");
  print(
    table([
      ["new", formatCount(r.new)],
      ["changed", formatCount(r.changed)],
      ["unchanged", formatCount(r.unchanged)],
      ["removed", formatCount(r.removed)],
      ["satisfied (bought again)", formatCount(r.satisfied)],
      ["expired now", formatCount(r.expired)],
      [
        "for this week's carts",
        `${formatCount(r.due_this_week)}${r.overdue_this_week ? ` (${formatCount(r.overdue_this_week)} overdue)` : ""}: comeback due lists them`,
      ],
      [
        "in all",
        `${formatCount(r.reminders.open)} open, ${formatCount(r.reminders.paused)} paused, ` +
          `${formatCount(r.reminders.satisfied)} satisfied, ${formatCount(r.reminders.expired)} expired`,
      ],
    ]),
  );
  printUnknownProducts(r);
  print();
  printLifecycleReport(report.lifecycle, report.tasks);
  if (report.reorders.closed_by_orders > 0) {
    print(
      `Reorders: ${plural(report.reorders.closed_by_orders, "confirmed cart")} closed by an imported order (comeback reorders --status done).`,
    );
  }
}

function printUnknownProducts(r: PlanReport["replenishment"]): void {
  if (r.unknown_products.length === 0) return;
  print(
    `${plural(r.unknown_products.length, "product")} ${r.unknown_products.length === 1 ? "has" : "have"} no supply rule, no days_per_unit and nothing to learn from ` +
      "(add rules under replenishment.rules for those that run out):",
  );
  for (const product of r.unknown_products.slice(0, UNKNOWN_SHOWN)) {
    print(
      `  ${plural(product.orders, "order").padStart(14)}  ${product.sku ?? "(no sku)"}  ${product.name ?? ""}`,
    );
  }
  if (r.unknown_products.length > UNKNOWN_SHOWN) {
    print(`  … and ${formatCount(r.unknown_products.length - UNKNOWN_SHOWN)} more (--json lists them all)`);
  }
}
