import type { Command } from "commander";
import { initFolder } from "../../deliver/init.js";
import { formatCount, print, Progress } from "../output.js";

export function registerInit(program: Command): void {
  program
    .command("init")
    .description("write a config and a copy of the email templates into a folder, to start a shop from")
    .argument("<dir>", "the folder (created if needed)")
    .option(
      "--from <export>",
      "an orders export (read as import reads it, nothing imported): propose the timezone and currency from it",
    )
    .option("--force", "overwrite an existing comeback.yaml and templates/")
    .addHelpText(
      "after",
      `
Without --from the timezone (UTC) and currency (EUR) are placeholders, marked as such in comeback.yaml.

Examples:
  comeback init /srv/comeback --from ~/Downloads/orders_export.csv   propose timezone and currency from an export
  comeback init /srv/comeback                then edit /srv/comeback/comeback.yaml and templates/
  comeback init /srv/comeback --force        write them again over an earlier init`,
    )
    .action(async (dir: string, flags: { force?: boolean; from?: string }) => {
      const progress = new Progress();
      const report = await initFolder(dir, {
        ...flags,
        onProgress: ({ file, bytesRead, bytes }) =>
          progress.update(`reading ${file}: ${Math.floor((100 * bytesRead) / Math.max(1, bytes))}%`),
      }).finally(() => progress.done());
      print(`Wrote ${report.config}`);
      const proposal = report.proposal;
      if (proposal) {
        const rejected =
          proposal.rejected > 0 ? `, ${formatCount(proposal.rejected)} rows left out as import would` : "";
        print(
          `  read ${proposal.export} (profile ${proposal.profile}, ${formatCount(proposal.orders)} orders${rejected})`,
        );
        print(
          `  timezone ${proposal.timezone}: ${proposal.timezone_from_export ? "proposed from the UTC offsets of its order times" : "a placeholder, the export's times do not tell the zone"}`,
        );
        print(
          `  currency ${proposal.currency}: ${proposal.currency_from_export ? "proposed from its currency column" : "a placeholder, the export names no currency"}`,
        );
        print("  Why, and the alternatives, are written beside them in comeback.yaml: check both.");
      } else {
        print(
          "  timezone UTC and currency EUR are placeholders: set the shop's there (or use --from EXPORT)",
        );
      }
      print(`Copied the email templates to ${report.templates}`);
      print(`Next: set COMEBACK_SECRET in the environment (openssl rand -hex 32), edit comeback.yaml, then`);
      print(`  cd ${report.dir} && comeback import orders orders.csv && comeback weekly --dry-run`);
    });
}
