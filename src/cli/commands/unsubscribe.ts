import type { Command } from "commander";
import { suppressAll } from "../../deliver/suppress.js";
import { requireSecret } from "../../deliver/unsubscribe.js";
import { nowIso } from "../../time.js";
import { createContext, openForWriting, type GlobalOptions } from "../context.js";
import { print, printJson } from "../output.js";

export function registerUnsubscribe(program: Command): void {
  program
    .command("unsubscribe")
    .description("stop marketing email to an address: from an unsubscribe token, or an address you give")
    .argument(
      "<token-or-address...>",
      'tokens from unsubscribe requests ("unsubscribe TOKEN" mails), or addresses',
    )
    .option("--reason <text>", "why, kept with the suppression", "asked to unsubscribe")
    .option("--json", "print the addresses as JSON")
    .addHelpText(
      "after",
      `
Examples:
  comeback unsubscribe Y2xhcmFAZXhhbXBsZS5jb20.kM3v0…     the token from an "unsubscribe TOKEN" mail
  comeback unsubscribe clara@example.com --reason "asked by phone"

Tokens are checked against secret: an altered token is refused (exit 65) and nothing is written.`,
    )
    .action(async (items: string[], flags: { reason: string; json?: boolean }, command: Command) => {
      const { config } = await createContext(command.optsWithGlobals<GlobalOptions>());
      const db = openForWriting(config);
      try {
        const results = suppressAll(db, items, {
          secret: () => requireSecret(config.secret),
          reason: flags.reason,
          now: nowIso(),
        });
        if (flags.json) printJson(results);
        else for (const r of results) print(`${r.address}: ${r.added ? "suppressed" : "already suppressed"}`);
      } finally {
        db.close();
      }
    });
}
