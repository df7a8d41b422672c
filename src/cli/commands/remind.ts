/** `comeback remind …`: the admin's own facts about a customer's reminders. */
import type { Command } from "commander";
import { UsageError } from "../../errors.js";
import {
  explainCustomer,
  overridesOf,
  pause,
  resolveCustomer,
  resume,
  setReminder,
  setUsage,
  type GroupExplanation,
} from "../../plan/replenishment/admin.js";
import type { Db } from "../../store/open.js";
import { customerKeys } from "../../store/customers.js";
import type { LoadedConfig } from "../../config/load.js";
import { createContext, openForReading, type GlobalOptions } from "../context.js";
import { parseNow } from "../now.js";
import { print, printJson } from "../output.js";

const AFTER = 'These are facts kept apart from the plan: they take effect at the next "comeback plan".';

async function withStore(
  command: Command,
  now: string | undefined,
  work: (db: Db, config: LoadedConfig, nowIso: string) => void,
): Promise<void> {
  const { config } = await createContext(command.optsWithGlobals<GlobalOptions>());
  const nowIso = parseNow(now, config.timezone);
  const db = openForReading(config);
  try {
    work(db, config, nowIso);
  } finally {
    db.close();
  }
}

function positive(name: string) {
  return (text: string) => {
    const value = Number(text);
    if (!Number.isFinite(value) || value <= 0)
      throw new UsageError(`${name} "${text}": expected a positive number`);
    return value;
  };
}

export function registerRemind(program: Command): void {
  const remind = program
    .command("remind")
    .description("set, pause or explain one customer's reminders")
    // Before the subcommands are added, so they inherit it: main maps commander's errors to exit codes.
    .exitOverride()
    .addHelpText(
      "after",
      `
A customer is named by the shop's customer id, by email, or by #N (comeback_id in the listings).

Examples:
  comeback remind set --customer C001 --group LNS-1D --due 2026-03-09
  comeback remind set --customer anna@example.com --group DOG-PREMIUM --cycle 14
  comeback remind usage --customer C001 --factor 1.9
  comeback remind pause --customer C001
  comeback remind resume --customer C001
  comeback remind show --customer C001`,
    );

  remind
    .command("set")
    .description("set the due date of the current purchase of a group, and/or how often to repeat")
    .requiredOption("--customer <id|email>", "the customer")
    .requiredOption("--group <group>", "the replenishment group (the product's group, or its sku)")
    .option("--due <date>", "the due date (YYYY-MM-DD) for the customer's latest purchase of the group")
    .option("--cycle <days>", "repeat an unanswered reminder every DAYS days", positive("--cycle"))
    .option("--now <time>", "which purchase is the latest, as of this time (default: the clock)")
    .addHelpText(
      "after",
      `
${AFTER}

Examples:
  comeback remind set --customer C001 --group LNS-1D --due 2026-03-09     this purchase: remind on that day
  comeback remind set --customer anna@example.com --group DOG-PREMIUM --cycle 14   repeat every 14 days`,
    )
    .action(
      async (
        flags: { customer: string; group: string; due?: string; cycle?: number; now?: string },
        command,
      ) => {
        await withStore(command, flags.now, (db, config, nowIso) => {
          const customer = resolveCustomer(db, flags.customer);
          setReminder(
            db,
            config,
            customer,
            { group: flags.group, due: flags.due, cycleDays: flags.cycle },
            nowIso,
          );
          print(`Set for ${flags.customer}, group ${flags.group}. ${AFTER}`);
        });
      },
    );

  remind
    .command("usage")
    .description("set how fast a customer uses things up (1 = as the rules say; 2 = lasts twice as long)")
    .requiredOption("--customer <id|email>", "the customer")
    .option("--factor <f>", "the usage factor", positive("--factor"))
    .option("--clear", "remove the factor set here (an imported one applies again)")
    .addHelpText(
      "after",
      `
It wins over a factor from a customers import and over the learned rhythm. ${AFTER}

Examples:
  comeback remind usage --customer anna@example.com --factor 0.7    no stock at home: 30 % sooner
  comeback remind usage --customer C001 --factor 1.9                 a small household: lasts longer
  comeback remind usage --customer C001 --clear`,
    )
    .action(async (flags: { customer: string; factor?: number; clear?: boolean }, command: Command) => {
      if ((flags.factor === undefined) === !flags.clear)
        throw new UsageError("give either --factor F or --clear");
      await withStore(command, undefined, (db, _config, nowIso) => {
        const customer = resolveCustomer(db, flags.customer);
        setUsage(db, customer, flags.clear ? null : (flags.factor as number), nowIso);
        print(
          flags.clear
            ? `Usage factor of ${flags.customer} cleared. ${AFTER}`
            : `Usage factor of ${flags.customer} set to ${flags.factor}. ${AFTER}`,
        );
      });
    });

  for (const [name, act] of [
    ["pause", pause],
    ["resume", resume],
  ] as const) {
    remind
      .command(name)
      .description(`${name} a customer's reminders: one group, or all of them`)
      .requiredOption("--customer <id|email>", "the customer")
      .option("--group <group>", "only this group (default: all the customer's groups)")
      .addHelpText(
        "after",
        `
${AFTER}

Examples:
  comeback remind ${name} --customer C001                   all the customer's groups
  comeback remind ${name} --customer anna@example.com --group LNS-1D`,
      )
      .action(async (flags: { customer: string; group?: string }, command: Command) => {
        await withStore(command, undefined, (db, _config, nowIso) => {
          act(db, resolveCustomer(db, flags.customer), flags.group, nowIso);
          print(
            `${name === "pause" ? "Paused" : "Resumed"} ${flags.group ?? "all groups"} for ${flags.customer}. ${AFTER}`,
          );
        });
      });
  }

  remind
    .command("show")
    .description("explain every reminder of one customer: purchases, rate, arithmetic, state")
    .requiredOption("--customer <id|email>", "the customer")
    .option("--now <time>", "explain as of this time (default: the clock)")
    .option("--json", "print one JSON object")
    .addHelpText(
      "after",
      `
Computes as of --now exactly as "comeback plan" would: each group's purchases, the rule or learned
rhythm, the arithmetic of the due date, and the state.

Examples:
  comeback remind show --customer C001
  comeback remind show --customer anna@example.com --now 2026-03-02 --json`,
    )
    .action(async (flags: { customer: string; now?: string; json?: boolean }, command: Command) => {
      await withStore(command, flags.now, (db, config, nowIso) => {
        const customer = resolveCustomer(db, flags.customer);
        const groups = explainCustomer(db, config, customer.id, nowIso);
        const admin = overridesOf(db, customer.id);
        if (flags.json)
          return printJson({
            ...customerKeys(customer),
            now: nowIso,
            overrides: admin,
            groups,
          });
        printExplanation(
          customer.external_id ?? customer.email_display ?? `#${customer.id}`,
          nowIso,
          groups,
          admin,
        );
      });
    });
}

function printExplanation(
  who: string,
  now: string,
  groups: GroupExplanation[],
  admin: ReturnType<typeof overridesOf>,
): void {
  print(`Reminders of ${who} as of ${now}:`);
  if (admin.usage_factor !== null) print(`  usage factor set by the admin: ${admin.usage_factor}`);
  if (groups.length === 0) print("  no purchases.");
  for (const group of groups) {
    const r = group.reminder;
    print("");
    print(
      `${group.group}: ${r ? `${r.state}, reminder ${r.reminder_number} due ${r.due_on} (basis ${r.basis})` : "not replenished"}`,
    );
    print(
      `  purchases: ${group.purchases.map((p) => `${p.date} ×${p.quantity}${p.sku ? ` ${p.sku}` : ""} (order ${p.order_id})`).join("; ") || "none (all returned or cancelled)"}`,
    );
    for (const note of group.notes) print(`  ${note}`);
  }
}
