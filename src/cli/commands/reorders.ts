/** `comeback reorders [--status open|done|all]` and `comeback reorders done ID`: the confirmed carts. */
import { Command, Option } from "commander";
import {
  closeReorder,
  listReorders,
  REORDER_STATUSES,
  type ReorderRow,
  type ReorderStatusFilter,
} from "../../answers/reorders.js";
import { UsageError } from "../../errors.js";
import { formatMoney } from "../../deliver/render.js";
import { minorDigits } from "../../money.js";
import { writeCsv } from "../csv-file.js";
import { createContext, openForReading, openForWriting, type GlobalOptions } from "../context.js";
import { NOW_HELP, parseNow } from "../now.js";
import { plural, print, printJson } from "../output.js";

interface ListFlags {
  status: ReorderStatusFilter;
  json?: boolean;
  csv?: string;
  now?: string;
}

/** One CSV row per item, with the request's columns repeated: what a shop system's order import reads. */
export const REORDER_CSV_KEYS = [
  "reorder_id",
  "status",
  "confirmed_at",
  "customer_id",
  "name",
  "phone",
  "email",
  "sku",
  "product_name",
  "quantity",
  "unit_price",
  "currency",
  "closed_by",
  "closed_order",
  "closed_at",
] as const;

const decimal = (minor: number | null, currency: string | null) =>
  minor === null
    ? ""
    : (minor / 10 ** minorDigits(currency ?? "EUR")).toFixed(minorDigits(currency ?? "EUR"));

export function reorderCsvRows(rows: readonly ReorderRow[]): Record<string, unknown>[] {
  return rows.flatMap((row) =>
    row.items.map((item) => ({
      reorder_id: row.id,
      status: row.status,
      confirmed_at: row.created_at,
      customer_id: row.external_id ?? row.customer_id,
      name: row.name,
      phone: row.phone,
      email: row.email,
      sku: item.sku,
      product_name: item.name,
      quantity: item.quantity,
      unit_price: decimal(item.unit_price_minor, item.currency),
      currency: item.currency,
      closed_by: row.closed_by,
      closed_order: row.closed_order,
      closed_at: row.closed_at,
    })),
  );
}

function describe(row: ReorderRow): string[] {
  const who = `${row.name ?? `customer ${row.external_id ?? row.customer_id}`}${row.phone ? ` at ${row.phone}` : " (no phone)"}`;
  const total =
    row.total_minor !== null && row.currency ? `, ${formatMoney("en", row.total_minor, row.currency)}` : "";
  const state =
    row.status === "open"
      ? "open"
      : `done ${row.closed_at ?? ""} (${row.closed_by === "order" ? `order ${row.closed_order}` : "by hand"})`;
  return [
    `Reorder ${row.id}  ${state}  confirmed ${row.created_at}: call ${who}${row.email ? `, ${row.email}` : ""}${total}`,
    ...row.items.map(
      (item) =>
        `  ${item.quantity} × ${item.name ?? item.sku ?? "?"}${item.sku ? ` (${item.sku})` : ""}` +
        (item.unit_price_minor !== null && item.currency
          ? ` at ${formatMoney("en", item.unit_price_minor, item.currency)}`
          : ""),
    ),
  ];
}

export function registerReorders(program: Command): void {
  const reorders = program
    .command("reorders")
    .description(
      "the carts customers confirmed on the cart page (comeback serve): whom to call, what to order",
    )
    .addOption(
      new Option("--status <status>", "which requests: open (to call), done, all")
        .choices(REORDER_STATUSES)
        .default("open"),
    )
    .option("--json", "print an array of objects, each with its items")
    .option(
      "--csv <file>",
      "write one row per item to FILE (- for stdout), for a spreadsheet or the shop's import",
    )
    .option("--now <time>", NOW_HELP)
    .addHelpText(
      "after",
      `
A customer who confirms their cart on the page of comeback serve makes a reorder request; the
operator gets an email (operator.email) to call them. The next imported order of that customer with
one of the items closes the request (at the plan after the import); or close it by hand.

Examples:
  comeback reorders                          the open requests, oldest first: whom to call, what to order
  comeback reorders --status all --json
  comeback reorders --csv reorders.csv       one row per item, for the shop system's order import
  comeback reorders done 12                  the order is placed (or the customer changed their mind)`,
    )
    .action(async (_flags: ListFlags, command: Command) => {
      const flags = command.optsWithGlobals<ListFlags & GlobalOptions>();
      if (flags.json && flags.csv !== undefined)
        throw new UsageError("--json and --csv can't be used together");
      const { config } = await createContext(flags);
      parseNow(flags.now, config.timezone);
      const db = openForReading(config);
      try {
        const rows = listReorders(db, flags.status);
        if (flags.json) return printJson(rows);
        if (flags.csv !== undefined)
          return writeCsv(flags.csv, REORDER_CSV_KEYS, reorderCsvRows(rows), plural(rows.length, "reorder"));
        if (rows.length === 0)
          return print(`No ${flags.status === "all" ? "" : `${flags.status} `}reorders.`);
        for (const row of rows) print(describe(row).join("\n"));
        print(`${plural(rows.length, `${flags.status === "all" ? "" : `${flags.status} `}reorder`)}.`);
      } finally {
        db.close();
      }
    });

  reorders
    .command("done")
    .description("close a reorder request: the order is placed, or the customer changed their mind")
    .argument("<id>", "the request's number (comeback reorders lists them)")
    .option("--now <time>", NOW_HELP)
    .option("--json", "print the result as JSON")
    .addHelpText(
      "after",
      `
Examples:
  comeback reorders done 12
  comeback reorders done 12 --json`,
    )
    .action(async (id: string, flags: { now?: string; json?: boolean }, command: Command) => {
      if (!/^\d+$/.test(id))
        throw new UsageError(`"${id}" is not a reorder number (comeback reorders lists them)`);
      const { config } = await createContext(command.optsWithGlobals<GlobalOptions>());
      const now = parseNow(flags.now, config.timezone);
      const db = openForWriting(config);
      try {
        const result = closeReorder(db, Number(id), now);
        if (flags.json) return printJson({ id: result.id, status: "done", was: result.was });
        print(
          result.was === "open" ? `Reorder ${result.id} closed.` : `Reorder ${result.id} was already closed.`,
        );
      } finally {
        db.close();
      }
    });
}
