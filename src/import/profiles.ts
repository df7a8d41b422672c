/**
 * Import profiles: how to read one shop system's export. A profile maps canonical fields to the
 * file's headers and says how its bytes, dates and numbers are written. Built-in profiles cover the
 * canonical headers ("generic") and Shopify's admin exports; shops add their own in config.
 */
import { ConfigError } from "../errors.js";
import { FIELDS_BY_KIND, type ImportKind } from "./fields.js";

export type DecimalSeparator = "." | ",";

export interface Profile {
  name: string;
  kind: ImportKind;
  builtin: boolean;
  encoding: string; // "auto" or an iconv name
  delimiter: string; // "auto" or the character
  dateFormat: string; // "iso" or a pattern
  timezone: string;
  decimalSeparator: DecimalSeparator;
  currency: string;
  source: string;
  /** canonical field → the headers that may hold it, first non-empty wins */
  columns: Record<string, string[]>;
}

/** Fields a row cannot do without, per kind. sku/product_name (orders) is an either-or checked separately. */
export const REQUIRED_FIELDS: Record<ImportKind, readonly string[]> = {
  orders: ["order_id", "ordered_at"],
  products: ["sku"],
  customers: [],
  calls: ["phone", "started_at", "duration_seconds"],
};

export interface ProfileSettings {
  kind: ImportKind;
  encoding?: string;
  delimiter?: string;
  date_format?: string;
  timezone?: string;
  decimal_separator?: DecimalSeparator;
  currency?: string;
  source?: string;
  columns?: Record<string, string | string[]>;
}

export interface ProfileDefaults {
  timezone: string;
  currency: string;
}

function identityColumns(kind: ImportKind): Record<string, string[]> {
  return Object.fromEntries(FIELDS_BY_KIND[kind].map((field) => [field, [field]]));
}

const BUILTIN_SETTINGS: Record<string, ProfileSettings & { source?: string }> = {
  generic: { kind: "orders", columns: identityColumns("orders") },
  "generic-products": { kind: "products", columns: identityColumns("products") },
  "generic-customers": { kind: "customers", columns: identityColumns("customers") },
  "generic-calls": { kind: "calls", columns: identityColumns("calls") },
  shopify: {
    kind: "orders",
    source: "shopify",
    columns: {
      order_id: ["Name"],
      ordered_at: ["Created at"],
      sku: ["Lineitem sku"],
      product_name: ["Lineitem name"],
      quantity: ["Lineitem quantity"],
      unit_price: ["Lineitem price"],
      currency: ["Currency"],
      status: ["Financial Status"],
      email: ["Email"],
      phone: ["Phone", "Billing Phone", "Shipping Phone"],
      customer_name: ["Billing Name", "Shipping Name"],
      accepts_marketing: ["Accepts Marketing"],
      cancelled_at: ["Cancelled at"],
      refunded_amount: ["Refunded Amount"],
    },
  },
  "shopify-customers": {
    kind: "customers",
    columns: {
      customer_id: ["Customer ID"],
      email: ["Email"],
      phone: ["Phone", "Default Address Phone"],
      first_name: ["First Name"],
      last_name: ["Last Name"],
      accepts_marketing: ["Accepts Email Marketing", "Accepts Marketing"],
    },
  },
};

export const BUILTIN_PROFILE_NAMES = Object.keys(BUILTIN_SETTINGS);

function resolve(
  name: string,
  settings: ProfileSettings,
  builtin: boolean,
  defaults: ProfileDefaults,
): Profile {
  const columns: Record<string, string[]> = {};
  for (const [field, headers] of Object.entries(settings.columns ?? {})) {
    columns[field] = Array.isArray(headers) ? headers : [headers];
  }
  return {
    name,
    kind: settings.kind,
    builtin,
    encoding: settings.encoding ?? "auto",
    delimiter: settings.delimiter ?? "auto",
    dateFormat: settings.date_format ?? "iso",
    timezone: settings.timezone ?? defaults.timezone,
    decimalSeparator: settings.decimal_separator ?? ".",
    currency: settings.currency ?? defaults.currency,
    source: settings.source ?? (builtin ? "shop" : name),
    columns,
  };
}

/** Every profile usable for `kind`: the user's first (they win ties in detection), then the built-ins. */
export function profilesFor(
  kind: ImportKind,
  userProfiles: Record<string, ProfileSettings>,
  defaults: ProfileDefaults,
): Profile[] {
  const user = Object.entries(userProfiles)
    .filter(([, settings]) => settings.kind === kind)
    .map(([name, settings]) => resolve(name, settings, false, defaults));
  const builtin = Object.entries(BUILTIN_SETTINGS)
    .filter(([name, settings]) => settings.kind === kind && !(name in userProfiles))
    .map(([name, settings]) => resolve(name, settings, true, defaults));
  return [...user, ...builtin];
}

/** The profile named by --profile; an unknown name or one of another kind is a config error listing the choices. */
export function namedProfile(
  name: string,
  kind: ImportKind,
  userProfiles: Record<string, ProfileSettings>,
  defaults: ProfileDefaults,
): Profile {
  const candidates = profilesFor(kind, userProfiles, defaults);
  const found = candidates.find((profile) => profile.name === name);
  if (found) return found;
  const other = userProfiles[name] ?? BUILTIN_SETTINGS[name];
  const list = candidates.map((profile) => profile.name).join(", ");
  if (other) {
    throw new ConfigError(
      `profile "${name}" is for ${other.kind}, not ${kind}; profiles for ${kind}: ${list}`,
    );
  }
  throw new ConfigError(
    `unknown profile "${name}"; profiles for ${kind}: ${list} (add your own under "profiles:" in the config)`,
  );
}

export function normalizeHeader(header: string): string {
  return header
    .replace(/^\uFEFF/, "")
    .trim()
    .toLowerCase();
}

/** For each canonical field the profile maps, the indexes of the file's columns that hold it (in preference order). */
export type ColumnIndex = Record<string, number[]>;

export function indexColumns(profile: Profile, headers: readonly string[]): ColumnIndex {
  const positions = new Map<string, number>();
  headers.forEach((header, index) => {
    const key = normalizeHeader(header);
    if (!positions.has(key)) positions.set(key, index);
  });
  const index: ColumnIndex = {};
  for (const [field, wanted] of Object.entries(profile.columns)) {
    const found = wanted
      .map((header) => positions.get(normalizeHeader(header)))
      .filter((i) => i !== undefined);
    if (found.length > 0) index[field] = found;
  }
  return index;
}

/**
 * A header the profile reads that names two columns: which one holds the value is a guess (the first
 * was silently used), so it is an error naming both; the admin renames one or maps the other header.
 * Duplicates among the columns comeback doesn't read (two "Notes") are harmless and allowed.
 */
export function duplicateMappedHeaders(profile: Profile, headers: readonly string[]): string[] {
  const wanted = new Set(Object.values(profile.columns).flat().map(normalizeHeader));
  const seen = new Map<string, number>();
  const problems: string[] = [];
  headers.forEach((header, index) => {
    const key = normalizeHeader(header);
    if (!wanted.has(key)) return;
    const first = seen.get(key);
    if (first === undefined) seen.set(key, index);
    else
      problems.push(
        `the header "${header}" names two columns, ${first + 1} and ${index + 1} ("${headers[first]}" and "${header}"): ` +
          `rename one in the file, or map the other header in a profile`,
      );
  });
  return problems;
}

/** What the header lacks for this profile: required fields, and the sku-or-name rule for orders. */
export function missingRequired(profile: Profile, index: ColumnIndex): string[] {
  const missing = REQUIRED_FIELDS[profile.kind].filter((field) => !index[field]);
  if (profile.kind === "orders" && !index.sku && !index.product_name) missing.push("sku or product_name");
  if (profile.kind === "customers" && !index.customer_id && !index.email && !index.phone) {
    missing.push("customer_id, email or phone");
  }
  return missing;
}

export function describeMissing(profile: Profile, missing: string[], headers: readonly string[]): string {
  const wanted = missing
    .map((field) => {
      const headersFor = field.split(/, | or /).flatMap((f) => profile.columns[f] ?? [f]);
      return `${field} (header ${headersFor.map((h) => `"${h}"`).join(" or ")})`;
    })
    .join(", ");
  const found = headers.map((h) => `"${h}"`).join(", ");
  return `missing required column ${wanted} for profile "${profile.name}"; the file's headers are: ${found}`;
}

/**
 * Chooses the profile whose columns the header satisfies best: all required fields present, then
 * the most mapped columns found. Returns null when none fits; the caller explains with the closest.
 */
export function detectProfile(
  candidates: Profile[],
  headers: readonly string[],
): { best: Profile; fits: boolean } {
  let best: { profile: Profile; score: number; fits: boolean } | null = null;
  for (const profile of candidates) {
    const index = indexColumns(profile, headers);
    const fits = missingRequired(profile, index).length === 0;
    const mapped = Object.keys(index).length;
    // A fitting profile always beats a non-fitting one; among equals, the share of its own columns found.
    const score = (fits ? 1000 : 0) + mapped + mapped / Math.max(1, Object.keys(profile.columns).length);
    if (!best || score > best.score) best = { profile, score, fits };
  }
  if (!best) throw new ConfigError("no import profiles are defined");
  return { best: best.profile, fits: best.fits };
}
