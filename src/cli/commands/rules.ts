/** `comeback rules suggest`: replenishment rules proposed from the order history, for the admin to review. */
import { writeFileSync } from "node:fs";
import { basename, dirname, extname, join, resolve } from "node:path";
import type { Command } from "commander";
import { InputMissingError, UsageError } from "../../errors.js";
import { suggestRules } from "../../plan/suggest/suggest.js";
import { productsCsv, renderYaml, reportJson } from "../../plan/suggest/render.js";
import { createContext, openForReading, type GlobalOptions } from "../context.js";
import { NOW_HELP, parseNow } from "../now.js";
import { plural, print, printJson } from "../output.js";

interface SuggestFlags {
  now?: string;
  out?: string;
  json?: boolean;
}

/** `rules.yaml` → `rules.products.csv`, beside it. */
export function productsFileFor(out: string): string {
  const ext = extname(out);
  return join(dirname(out), `${basename(out, ext)}.products.csv`);
}

function write(path: string, text: string): void {
  try {
    writeFileSync(path, text);
  } catch (error) {
    throw new InputMissingError(
      `cannot write ${path}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

export function registerRules(program: Command): void {
  const rules = program
    .command("rules")
    .description("replenishment rules: propose them from the order history")
    .exitOverride()
    .addHelpText(
      "after",
      `
Examples:
  comeback rules suggest                           print suggested rules as YAML, with their evidence
  comeback rules suggest --out suggested-rules.yaml`,
    );

  rules
    .command("suggest")
    .description(
      "propose replenishment rules from the order history: products bought again on a regular rhythm",
    )
    .option("--now <time>", NOW_HELP)
    .option(
      "--out <file>",
      "write the YAML to FILE instead of stdout (new groups: to NAME.products.csv beside it)",
    )
    .option("--json", "print the whole report as one JSON object")
    .addHelpText(
      "after",
      `
For each product, and each group of products that are one thing under several SKUs (sizes, years,
colours), it measures the days between a customer's consecutive purchases. Where those gaps are
regular and there are enough of them, it proposes a rule (days_per_unit, the median gap) with the
evidence beside it as comments; one-offs and lines that are no product (postage, tips, gift cards)
are listed as left out, with the reason. It reads only: your config and database stay as they are.

Examples:
  comeback rules suggest                                   YAML on stdout, to read or redirect
  comeback rules suggest --out suggested-rules.yaml        a file to review (+ suggested-rules.products.csv for new groups)
  comeback rules suggest --now 2026-03-02 --json | jq '.rules[].match'`,
    )
    .action(async (flags: SuggestFlags, command: Command) => {
      const { config } = await createContext(command.optsWithGlobals<GlobalOptions>());
      const now = parseNow(flags.now, config.timezone);
      const out = flags.out === undefined ? null : resolve(flags.out);
      if (out !== null && out === config.source) {
        throw new UsageError(
          `--out ${flags.out} is your config file: suggestions go to a file of their own, for you to review`,
        );
      }
      const db = openForReading(config);
      try {
        const report = suggestRules(db, config, now);
        const csv = productsCsv(report);
        const csvFile = out !== null && csv !== null ? productsFileFor(out) : null;
        const yaml = renderYaml(report, { productsFile: csvFile });
        if (out !== null) write(out, yaml);
        if (csvFile !== null && csv !== null) write(csvFile, csv);
        if (flags.json) {
          printJson(reportJson(report, { yaml: out, products: csvFile }));
        } else if (out === null) {
          process.stdout.write(yaml);
        } else {
          const suggested = report.rules.filter((c) => c.coveredBy === null).length;
          print(
            `${plural(suggested, "rule")} suggested from ${plural(report.customers, "customer")}' orders, written to ${out}.`,
          );
          if (csvFile !== null)
            print(
              `New groups: run "comeback import products ${csvFile}" before using the rules that name them.`,
            );
          print(
            `${plural(report.skipped.length, "product or group", "products or groups")} left out, each with the reason, at the end of the file.`,
          );
        }
      } finally {
        db.close();
      }
    });
}
