import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { Argument, type Command } from "commander";
import { NOW_HELP, parseNow } from "../now.js";
import { PREVIEW_KINDS, previewEmail, type PreviewKind } from "../../deliver/preview.js";
import { deliverySetup } from "../../deliver/setup.js";
import { createContext, openForReading, type GlobalOptions } from "../context.js";
import { print, printJson } from "../output.js";

interface PreviewFlags {
  customer?: string;
  now?: string;
  out?: string;
  eml?: string;
  json?: boolean;
}

export function registerPreview(program: Command): void {
  program
    .command("preview")
    .description("render one email as it would be sent, without queueing or sending it")
    .addArgument(new Argument("<kind>", "the email").choices(PREVIEW_KINDS))
    .option(
      "--customer <id|email>",
      "the customer: the shop's id (C001), the email, or #N (comeback_id); needed for cart",
    )
    .option("--now <time>", NOW_HELP)
    .option("--out <file.html>", "write the HTML part to this file, to open in a browser")
    .option("--eml <file.eml>", "write the whole message, to open in a mail client")
    .option("--json", "print subject, headers, text and HTML as JSON")
    .addHelpText(
      "after",
      `
Examples:
  comeback preview cart --customer C001 --out cart.html     this week's cart email for C001
  comeback preview cart --customer C002 --now 2026-03-09    next week's, in Boris's language
  comeback preview digest --eml digest.eml                  the operator's summary`,
    )
    .action(async (kind: PreviewKind, flags: PreviewFlags, command: Command) => {
      const { config } = await createContext(command.optsWithGlobals<GlobalOptions>());
      const now = parseNow(flags.now, config.timezone);
      const setup = deliverySetup(config, { needSecret: kind === "cart", sending: false });
      const db = openForReading(config);
      try {
        const preview = previewEmail(db, config, setup, kind, flags.customer, now);
        const { message } = preview;
        if (flags.out) writeFileSync(resolve(flags.out), message.rendered.html);
        if (flags.eml) writeFileSync(resolve(flags.eml), message.raw);
        const headers = message.raw
          .slice(0, message.raw.indexOf("\r\n\r\n"))
          .replace(/\r\n /g, " ")
          .split("\r\n");
        if (flags.json) {
          printJson({
            key: preview.key,
            queued: preview.queued,
            customer_id: preview.customer?.customer_id ?? null,
            email: preview.customer?.email ?? null,
            comeback_id: preview.customer?.comeback_id ?? null,
            locale: message.rendered.locale,
            to: preview.recipient,
            subject: message.rendered.subject,
            message_id: message.messageId,
            headers,
            text: message.rendered.text,
            html: message.rendered.html,
          });
          return;
        }
        print(
          `${preview.key} (${preview.queued ? "as queued" : "not queued yet"}, locale ${message.rendered.locale})`,
        );
        for (const header of headers) {
          if (/^(From|To|Message-ID|List-Unsubscribe[^:]*):/i.test(header)) print(header);
        }
        print(`Subject: ${message.rendered.subject}`);
        print();
        print(message.rendered.text.trimEnd());
        if (flags.out) print(`\nHTML written to ${resolve(flags.out)}`);
        if (flags.eml) print(`${flags.out ? "" : "\n"}Message written to ${resolve(flags.eml)}`);
      } finally {
        db.close();
      }
    });
}
