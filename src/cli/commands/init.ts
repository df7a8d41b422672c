import type { Command } from "commander";
import { initFolder } from "../../deliver/init.js";
import { print } from "../output.js";

export function registerInit(program: Command): void {
  program
    .command("init")
    .description("write a config and a copy of the email templates into a folder, to start a shop from")
    .argument("<dir>", "the folder (created if needed)")
    .option("--force", "overwrite an existing comeback.yaml and templates/")
    .addHelpText(
      "after",
      `
Examples:
  comeback init /srv/comeback                then edit /srv/comeback/comeback.yaml and templates/
  comeback init /srv/comeback --force        write them again over an earlier init`,
    )
    .action((dir: string, flags: { force?: boolean }) => {
      const report = initFolder(dir, flags);
      print(`Wrote ${report.config}`);
      print(`Copied the email templates to ${report.templates}`);
      print(`Next: set COMEBACK_SECRET in the environment (openssl rand -hex 32), edit comeback.yaml, then`);
      print(`  cd ${report.dir} && comeback import orders orders.csv && comeback weekly --dry-run`);
    });
}
