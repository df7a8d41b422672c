import type { ImportKind } from "../../import/fields.js";
import { importFile, type ImportResult, type ImportSettings } from "../../import/run.js";
import type { LoadedConfig } from "../../config/load.js";
import type { Logger } from "../../log.js";
import type { Db } from "../../store/open.js";
import { closeTasksWithCalls } from "../../plan/winback/tasks.js";
import { nowIso } from "../../time.js";
import { basename } from "node:path";
import { formatCount, importProgress, print, printJson, Progress, table, warn } from "../output.js";

export interface ImportFlags {
  profile?: string;
  source?: string;
  dryRun?: boolean;
  skipBadRows?: boolean;
  force?: boolean;
  json?: boolean;
}

export function importSettings(config: LoadedConfig): ImportSettings {
  return {
    timezone: config.timezone,
    currency: config.currency,
    statuses: config.statuses,
    profiles: config.profiles,
  };
}

/**
 * Imports each file in its own transaction. A file that fails is reported and the others still run;
 * the exit code is that of the first failure.
 */
export async function importFiles(
  db: Db,
  config: LoadedConfig,
  log: Logger,
  kind: ImportKind,
  files: string[],
  flags: ImportFlags,
): Promise<{ results: ImportResult[]; firstError: unknown }> {
  const results: ImportResult[] = [];
  let firstError: unknown = null;
  const progress = new Progress();
  for (const file of files) {
    try {
      log.info({ file, kind }, "import started");
      const result = await importFile(db, importSettings(config), file, {
        kind,
        profile: flags.profile,
        source: flags.source,
        dryRun: flags.dryRun,
        skipBadRows: flags.skipBadRows,
        force: flags.force,
        onProgress: ({ file: name, bytesRead, bytes, lines }) =>
          progress.update(`importing ${name}: ${importProgress(lines, bytesRead, bytes)}`),
      });
      progress.done();
      if (kind === "calls" && !flags.dryRun) {
        // A call of the required length closes the win-back task it answers, at once rather than at the next plan.
        const close = () => closeTasksWithCalls(db, config.winback.min_call_seconds, nowIso());
        result.report.tasks_closed = db.transaction(close).immediate();
      }
      log.info({ report: result.report }, "import finished");
      results.push(result);
      if (!flags.json) printImport(result);
    } catch (error) {
      progress.done();
      log.warn({ file, error: error instanceof Error ? error.message : String(error) }, "import failed");
      if (files.length === 1) throw error;
      process.stderr.write(`comeback: ${error instanceof Error ? error.message : String(error)}\n`);
      firstError ??= error;
    }
  }
  if (flags.json) printJson(results.map((result) => result.report));
  return { results, firstError };
}

export function printImport(result: ImportResult): void {
  const { report } = result;
  if (report.already_imported) {
    print(
      `${report.file}: already imported (same bytes, profile ${report.profile}); nothing to do. Use --force to read it again.`,
    );
    return;
  }
  const heading = `${report.file}: ${result.dryRun ? "dry run, nothing written" : "imported"} with profile ${report.profile} (${result.encoding}, ${
    result.delimiter === "\t" ? "tab" : `"${result.delimiter}"`
  }-separated) in ${report.seconds.toFixed(1)} s`;
  print(heading);
  const rows = Object.entries(report)
    .filter(([key]) => !["file", "profile", "already_imported", "seconds", "warning_list"].includes(key))
    .map(([key, value]) => [key.replaceAll("_", " "), formatCount(Number(value))] as [string, string]);
  print(table(rows));
  if (result.rejectedFile) print(`  rejected rows written to ${result.rejectedFile}`);
  printWarnings(report);
}

/** Warnings shown on a terminal (and in cron's mail); --json lists them in the report. */
const WARNINGS_SHOWN = 20;

function printWarnings(report: ImportResult["report"]): void {
  const name = basename(report.file);
  for (const w of report.warning_list.slice(0, WARNINGS_SHOWN))
    warn(`${name}:${w.line}: ${w.column === null ? "" : `column "${w.column}": `}${w.message}`);
  const more = report.warnings - Math.min(WARNINGS_SHOWN, report.warning_list.length);
  if (more > 0)
    warn(
      `${name}: … and ${formatCount(more)} more cell${more === 1 ? "" : "s"} read as empty (--json lists ${
        report.warning_list.length === report.warnings
          ? "them all"
          : `the first ${formatCount(report.warning_list.length)}`
      })`,
    );
}
