/** `comeback backtest`: how good the reminders would have been on the shop's own past Mondays. */
import type { Command } from "commander";
import { COMPARED_THRESHOLDS, runBacktest, type Scores } from "../../plan/backtest.js";
import { UsageError } from "../../errors.js";
import { createContext, openForReading, type GlobalOptions } from "../context.js";
import { formatCount, print, printJson } from "../output.js";

interface BacktestFlags {
  from?: string;
  to?: string;
  thresholds?: boolean | string;
  inTransaction?: boolean;
  json?: boolean;
}

export function registerBacktest(program: Command): void {
  program
    .command("backtest")
    .description("replay past Monday batches on this database and score the carts against what was bought")
    .option("--from <date>", "the first Monday scored (default: 15 weeks before --to)")
    .option("--to <date>", "the last Monday scored (default: the last whose 28 days the data covers)")
    .option(
      "--thresholds [list]",
      `also replay at these min_probability values, comma-separated (default ${COMPARED_THRESHOLDS.join(",")})`,
    )
    .option(
      "--in-transaction",
      "replay through the database (each Monday's plan and carts, rolled back) instead of in memory: slower",
    )
    .option("--json", "print one JSON report")
    .addHelpText(
      "after",
      `
Each Monday runs what "comeback weekly" runs (plan the reminders, make the week's carts) as of 09:00,
in memory (the orders are read once): nothing is written, queued or sent. --in-transaction runs it
through the database instead, in a transaction that is rolled back (slower; the same carts).
The replay starts four Mondays before --from, unscored (the first batch holds a backlog).

Scores: an item (customer, group) in Monday M's cart is a hit when the customer buys that group within
28 days from M; precision = hits / items. Every day a customer buys a group they bought before is a
repurchase; it is caught when a cart held that pair on a Monday up to 27 days before; recall = caught /
repurchases; F1 their harmonic mean. Two simple methods are scored the same way beside comeback.

Examples:
  comeback backtest
  comeback backtest --from 2011-06-06 --to 2011-09-26 --thresholds
  comeback backtest --json`,
    )
    .action(async (flags: BacktestFlags, command: Command) => {
      const { config } = await createContext(command.optsWithGlobals<GlobalOptions>());
      const db = openForReading(config);
      try {
        const report = await runBacktest(db, config, {
          from: flags.from,
          to: flags.to,
          thresholds: thresholdList(flags.thresholds),
          inTransaction: flags.inTransaction,
        });
        if (flags.json) return printJson(report);
        print(
          `Replayed ${report.mondays} Mondays, ${report.from} to ${report.to} (after ${report.warmup_mondays} unscored warm-up Mondays).`,
        );
        const rows = [report.comeback, ...report.thresholds, ...report.baselines];
        const width = Math.max(...rows.map((r) => r.method.length));
        print(`  ${"method".padEnd(width)}  items/week  precision  recall     F1`);
        for (const r of rows) print(`  ${line(r, width)}`);
      } finally {
        db.close();
      }
    });
}

function thresholdList(flag: boolean | string | undefined): readonly number[] {
  if (flag === undefined || flag === false) return [];
  if (flag === true) return COMPARED_THRESHOLDS;
  const values = flag.split(",").map((part) => Number(part.trim()));
  if (values.some((v) => !(v > 0 && v <= 1)))
    throw new UsageError(`--thresholds "${flag}": expected probabilities such as 0.1,0.2,0.3`);
  return values;
}

function line(r: Scores, width: number): string {
  const f = (x: number) => x.toFixed(3).padStart(6);
  return `${r.method.padEnd(width)}  ${formatCount(Math.round(r.items_per_week)).padStart(10)}  ${f(r.precision).padStart(9)}  ${f(r.recall)}  ${f(r.f1)}`;
}
