/**
 * `comeback init DIR [--from EXPORT]`: a folder a shop can start from: a config and its own copy of
 * the templates. With an export, the config's timezone and currency are proposed from it (the UTC
 * offsets its order times were written with, its currency column), with the reasons as comments.
 */
import { cpSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { DataError, UsageError } from "../errors.js";
import type { ImportOptions } from "../import/run.js";
import { parseOffset } from "../time.js";
import { proposeZone } from "../zones.js";
import { shippedTemplatesDir } from "./setup.js";

/** What init writes without an export (the config's own defaults), each with a comment to check it. */
export const PLACEHOLDER_TIMEZONE = "UTC";
export const PLACEHOLDER_CURRENCY = "EUR";

function initConfig(shopSettings: string): string {
  return `# comeback configuration, written by comeback init. Every key is explained in config.example.yaml
# (in the comeback package) and in the README. Relative paths resolve against this file's folder.

database: ./comeback.db
${shopSettings}# The language of emails for customers without a locale; templates/<kind>/html.<locale>.hbs are the variants.
locale: en

# Signs unsubscribe links. Set COMEBACK_SECRET in the environment (e.g. openssl rand -hex 32), never here.
secret: \${COMEBACK_SECRET}

templates:
  # Your copy of the templates: edit them freely.
  dir: ./templates

operator:
  # Who gets the weekly digest of carts and the call requests of customers who confirm a cart (serve).
  email: null

consent:
  # true: only customers who opted in get marketing email.
  require_opt_in: false

links:
  # The cart button's URL (Handlebars): items have sku, variant (the products import's variant_id: Shopify's
  # cart permalinks take those, never skus; no button when an item has none), group and quantity.
  cart: null # "https://shop.example/cart/{{#each items}}{{variant}}:{{quantity}}{{#unless @last}},{{/unless}}{{/each}}"
  # Your unsubscribe page (Handlebars, given token and email); null: a mailto link.
  unsubscribe: null # "https://shop.example/unsubscribe?token={{token}}"
  # Where \`comeback serve\` is reached (behind your reverse proxy; see the README's serve section). Set, the
  # emails link to its cart page (confirm, change, postpone), one-click unsubscribe and open/click tracking,
  # and follow-ups and the report's funnel work; links stop working expiry_days after the email.
  base_url: null # "https://shop.example/comeback"
  expiry_days: 60

delivery:
  # outbox: .eml files in outbox_dir; smtp: through the server below.
  transport: outbox
  from: Shop <hello@shop.example>
  outbox_dir: ./outbox
  max_attempts: 5
  retry_minutes: 5
  min_hours_between: 72
  window: 08:00-20:00
  smtp:
    host: smtp.example.com
    port: 587
    secure: false
    user: null
    # password: \${COMEBACK_SMTP_PASSWORD}
    rate_per_second: 20
`;
}

export interface ShopProposal {
  export: string;
  profile: string;
  orders: number;
  /** Rows the import would reject: left out of the proposal. */
  rejected: number;
  timezone: string;
  /** false: a placeholder (the export's times carry no offset, or only UTC's). */
  timezone_from_export: boolean;
  /** Zones that fit as well (or nearly), most common first. */
  timezone_alternatives: string[];
  /** Why, in sentences: the config's comment and the command's output. */
  timezone_reason: string;
  currency: string;
  currency_from_export: boolean;
  currency_reason: string;
}

/** Reads the export as `import orders` would (without writing anything) and proposes a timezone and currency. */
export async function proposeShopSettings(
  path: string,
  onProgress?: ImportOptions["onProgress"],
): Promise<ShopProposal> {
  // Loaded when used: the import machinery would slow every command's start.
  const { probeOrders, NO_CURRENCY } = await import("../import/probe.js");
  const probe = await probeOrders(path, onProgress).catch((error: unknown) => {
    // The import's advice (--profile, a profile in the config) is not open to init, which has no config yet.
    if (!(error instanceof DataError)) throw error;
    throw new DataError(
      `${error.message}\ninit --from reads orders exports the built-in profiles know (Shopify's, or comeback's own ` +
        "columns); for another export, run init without --from and set timezone and currency in comeback.yaml.",
    );
  });
  const name = basename(path);
  const counts = probe.tally.counts();
  const zone = proposeZone(counts);
  const offsets = Object.keys(counts.offsets).sort((a, b) => parseOffset(a) - parseOffset(b));
  const withOffset = probe.orders - counts.without_offset;
  let timezoneReason: string;
  if (zone === null) {
    timezoneReason =
      offsets.length === 0
        ? `The order times in ${name} carry no UTC offset, so they do not tell the shop's zone, and they are read ` +
          `in this one: ${PLACEHOLDER_TIMEZONE} is a placeholder. Set the shop's zone before importing.`
        : `The order times in ${name} are written in UTC (+00:00), which does not tell the shop's zone: ` +
          `${PLACEHOLDER_TIMEZONE} is a placeholder. Set the shop's zone.`;
  } else {
    const seen = `its ${count(withOffset, "order time")} (${zone.firstDay} to ${zone.lastDay}) were written with UTC offset${offsets.length === 1 ? "" : "s"} ${offsets.join(" and ")}`;
    const fits =
      zone.agreeing === zone.total
        ? `${zone.zone} has exactly ${offsets.length === 1 ? "this offset" : "these offsets"} on those dates ` +
          `(of the zones that do, the most common).`
        : `${zone.zone} has the offset of ${zone.agreeing} of them on their dates, the most of any zone ` +
          `(none fits them all: did the shop change its timezone?).`;
    const season = zone.oneSeason
      ? ` Only ${offsets[0]} was seen, over less than a year: zones with and without summer time fit alike.`
      : "";
    const others =
      zone.alternatives.length > 0
        ? ` ${zone.agreeing === zone.total ? "Also fitting" : "Next best"}: ${zone.alternatives.join(", ")}.`
        : "";
    const unzoned =
      counts.without_offset > 0
        ? ` ${count(counts.without_offset, "order time")} had no offset: those are read in this zone.`
        : "";
    timezoneReason = `Proposed from ${name}: ${seen}, and ${fits}${season}${others}${unzoned} Check that it is the zone your customers live in.`;
  }
  const currencies = [...probe.tally.currencies]
    .filter(([code]) => code !== NO_CURRENCY)
    .sort(([a, m], [b, n]) => n - m || a.localeCompare(b));
  const currency = currencies[0]?.[0] ?? PLACEHOLDER_CURRENCY;
  const currencyReason =
    currencies.length === 0
      ? `${name} names no currency: ${PLACEHOLDER_CURRENCY} is a placeholder, set the shop's.`
      : `Proposed from the currency column of ${name}: ${currency} (${count(currencies[0]![1], "order")})` +
        (currencies.length > 1
          ? `; also seen: ${currencies
              .slice(1)
              .map(([code, n]) => `${code} (${count(n, "order")})`)
              .join(", ")}`
          : "") +
        ".";
  return {
    export: path,
    profile: probe.profile,
    orders: probe.orders,
    rejected: probe.rejected,
    timezone: zone?.zone ?? PLACEHOLDER_TIMEZONE,
    timezone_from_export: zone !== null,
    timezone_alternatives: zone?.alternatives ?? [],
    timezone_reason: timezoneReason,
    currency,
    currency_from_export: currencies.length > 0,
    currency_reason: currencyReason,
  };
}

function count(n: number, noun: string): string {
  return `${n.toLocaleString("en-US")} ${noun}${n === 1 ? "" : "s"}`;
}

/** Text as YAML comment lines of at most 100 characters. */
function comment(text: string): string {
  const lines: string[] = [];
  let line = "#";
  for (const word of text.split(" ")) {
    if (line.length + 1 + word.length > 100 && line !== "#") {
      lines.push(line);
      line = "#";
    }
    line += ` ${word}`;
  }
  lines.push(line);
  return `${lines.join("\n")}\n`;
}

/** The timezone and currency keys, with why each has its value. */
function shopSettings(proposal: ShopProposal | null): string {
  const timezone =
    "The shop's IANA timezone: the week, the send window and dates in emails follow it, and order times " +
    "written without a UTC offset are read in it. ";
  const currency = "ISO 4217 currency for exports without a currency column. ";
  if (proposal === null) {
    return (
      comment(
        `${timezone}${PLACEHOLDER_TIMEZONE} is a placeholder: set the shop's zone (Europe/Berlin, America/New_York, …), ` +
          "or let comeback init DIR --from orders_export.csv propose one from an export.",
      ) +
      `timezone: ${PLACEHOLDER_TIMEZONE}\n` +
      comment(`${currency}${PLACEHOLDER_CURRENCY} is a placeholder: check it.`) +
      `currency: ${PLACEHOLDER_CURRENCY}\n`
    );
  }
  return (
    comment(`${timezone}${proposal.timezone_reason}`) +
    `timezone: ${proposal.timezone}\n` +
    comment(`${currency}${proposal.currency_reason}`) +
    `currency: ${proposal.currency}\n`
  );
}

export interface InitReport {
  dir: string;
  config: string;
  templates: string;
  proposal: ShopProposal | null;
}

export interface InitOptions {
  force?: boolean;
  /** An orders export to propose the timezone and currency from. */
  from?: string;
  onProgress?: ImportOptions["onProgress"];
}

export async function initFolder(target: string, options: InitOptions = {}): Promise<InitReport> {
  const dir = resolve(target);
  const config = join(dir, "comeback.yaml");
  const templates = join(dir, "templates");
  if (!options.force) {
    const existing = [config, templates].filter((path) => existsSync(path));
    if (existing.length > 0) {
      throw new UsageError(
        `${existing.join(" and ")} already exist${existing.length === 1 ? "s" : ""}: nothing written (--force overwrites)`,
      );
    }
  }
  // Read before anything is written: an export that can't be read leaves no half-made folder.
  const proposal = options.from ? await proposeShopSettings(options.from, options.onProgress) : null;
  mkdirSync(dir, { recursive: true });
  cpSync(shippedTemplatesDir(), templates, { recursive: true, force: true });
  writeFileSync(config, initConfig(shopSettings(proposal)));
  return { dir, config, templates, proposal };
}
