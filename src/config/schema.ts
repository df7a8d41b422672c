/**
 * The configuration schema: one strict zod object per section, defaults applied, and the
 * messages that turn zod issues into lines a shop owner can act on.
 *
 * To add a section (replenishment, delivery, …): write a `z.strictObject` for it, add it to
 * `configObject` wrapped in `section(…)`, and, if it holds file paths, resolve them in
 * `resolveConfigPaths`.
 */
import path from "node:path";
import { IANAZone } from "luxon";
import * as z from "zod";
import { FIELDS_BY_KIND, IMPORT_KINDS, type ImportKind } from "../import/fields.js";
import { formatKeyPath, type KeyPath } from "./env.js";
import { replenishmentSchema } from "./replenishment.js";
import { lifecycleSchema, winbackSchema } from "./lifecycle.js";

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export const DELIMITERS = ["auto", ";", ",", "\t", "|"] as const;
export const DECIMAL_SEPARATORS = [".", ","] as const;
export const DATE_FORMAT_TOKENS = ["yyyy", "yy", "MM", "M", "dd", "d", "HH", "H", "mm", "ss", "SSS"] as const;

export const DEFAULT_DATABASE = "./comeback.db";
export const DEFAULT_CANCELLED_STATUSES: readonly string[] = [
  "cancelled",
  "canceled",
  "voided",
  "refunded",
  "declined",
  "failed",
  "отменен",
  "отменён",
  "отказ",
  "storniert",
  "abgebrochen",
];
export const DEFAULT_COMPLETED_STATUSES: readonly string[] = [
  "paid",
  "completed",
  "complete",
  "fulfilled",
  "delivered",
  "shipped",
  "partially_refunded",
  "выполнен",
  "доставлен",
  "оплачен",
  "abgeschlossen",
  "bezahlt",
  "versendet",
  "geliefert",
];

/** Profile names: letters (any script), digits, `-` and `_`. */
export const PROFILE_NAME = /^[\p{L}\p{N}_-]+$/u;

// ---------------------------------------------------------------------------------------------
// Building blocks

/** A section or list where an empty YAML value (`log:` with nothing under it) means "the default". */
function section<T extends z.ZodType>(schema: T, fallback: unknown) {
  return z.preprocess((value) => (value === null || value === undefined ? fallback : value), schema);
}

/** YAML reads `123` as a number; for names and headers the text is what was meant. */
const numberAsString = (value: unknown) => (typeof value === "number" ? String(value) : value);

const nonEmptyString = z.string().refine((s) => s.trim() !== "", { error: "expected a non-empty string" });

const timezone = z.string().refine((zone) => IANAZone.isValidZone(zone), {
  error: 'expected an IANA timezone such as "Europe/Berlin"',
});

const currency = z
  .string()
  .regex(/^[A-Za-z]{3}$/, { error: 'expected a 3-letter ISO 4217 currency code such as "EUR"' })
  .transform((code) => code.toUpperCase());

/**
 * Checks a date pattern: runs of one letter must be tokens (yyyy yy MM M dd d HH H mm ss SSS),
 * everything else is literal punctuation/space. Returns what is wrong, or null.
 */
export function dateFormatProblem(pattern: string): string | null {
  const tokens = pattern.match(/([A-Za-z])\1*/g) ?? [];
  const known: readonly string[] = DATE_FORMAT_TOKENS;
  const seen = new Set<string>();
  for (const token of tokens) {
    if (!known.includes(token)) return `"${token}" is not a token`;
    const unit = token[0] as string;
    if (seen.has(unit)) return `"${unit}" appears twice`;
    seen.add(unit);
  }
  for (const [unit, name] of [
    ["y", "year (yyyy or yy)"],
    ["M", "month (MM or M)"],
    ["d", "day (dd or d)"],
  ] as const) {
    if (!seen.has(unit)) return `it has no ${name}`;
  }
  if (seen.has("m") && !seen.has("H")) return "minutes (mm) need hours (HH or H)";
  if (seen.has("s") && !seen.has("m")) return "seconds (ss) need minutes (mm)";
  if (seen.has("S") && !seen.has("s")) return "milliseconds (SSS) need seconds (ss)";
  return null;
}

const dateFormat = z
  .string()
  .transform((format) => (format.trim().toLowerCase() === "iso" ? "iso" : format))
  .superRefine((format, ctx) => {
    if (format === "iso") return;
    const problem = dateFormatProblem(format);
    if (problem) {
      ctx.addIssue({
        code: "custom",
        message: `expected "iso" or a pattern of the tokens ${DATE_FORMAT_TOKENS.join(" ")}`,
        params: { detail: problem },
      });
    }
  });

/** `\t` written without quotes reaches us as backslash-t; "tab" is accepted too. */
const delimiter = z.preprocess(
  (value) => (value === "\\t" || (typeof value === "string" && value.toLowerCase() === "tab") ? "\t" : value),
  z.enum(DELIMITERS),
);

const statusList = z
  .array(z.preprocess(numberAsString, nonEmptyString))
  .transform((list) => [...new Set(list.map((status) => status.trim().toLowerCase()))]);

// ---------------------------------------------------------------------------------------------
// Sections

export const statusesSchema = z
  .strictObject({
    cancelled: section(statusList, [...DEFAULT_CANCELLED_STATUSES]),
    completed: section(statusList, [...DEFAULT_COMPLETED_STATUSES]),
  })
  .superRefine((statuses, ctx) => {
    const cancelled = new Set(statuses.cancelled);
    for (const status of statuses.completed) {
      if (cancelled.has(status)) {
        ctx.addIssue({
          code: "custom",
          path: ["completed"],
          message: `"${status}" is listed both as cancelled and as completed`,
        });
      }
    }
  });

export const logSchema = z.strictObject({
  level: z.enum(LOG_LEVELS).default("info"),
  file: z
    .string()
    .refine((s) => s.trim() !== "", { error: "expected a path or null" })
    .nullable()
    .default(null),
});

/** Checks that `columns` names canonical fields of the profile's kind; runs even if other keys failed. */
function checkColumns(profile: unknown, ctx: z.RefinementCtx) {
  if (profile === null || typeof profile !== "object") return;
  const { kind, columns } = profile as { kind?: unknown; columns?: unknown };
  if (typeof kind !== "string" || !(IMPORT_KINDS as readonly string[]).includes(kind)) return;
  if (columns === null || typeof columns !== "object" || Array.isArray(columns)) return;
  const valid = FIELDS_BY_KIND[kind as ImportKind];
  for (const field of Object.keys(columns)) {
    if (valid.includes(field)) continue;
    const guess = closestKey(field, valid);
    ctx.addIssue({
      code: "custom",
      path: ["columns", field],
      message:
        `"${field}" is not a field of ${kind}` +
        (guess ? ` (did you mean "${guess}"?)` : "") +
        `; the ${kind} fields are: ${valid.join(", ")}`,
    });
  }
}

export const profileSchema = z
  .strictObject({
    kind: z.enum(IMPORT_KINDS),
    encoding: nonEmptyString.default("auto"),
    delimiter: delimiter.default("auto"),
    date_format: dateFormat.default("iso"),
    timezone: timezone.optional(),
    decimal_separator: z.enum(DECIMAL_SEPARATORS).default("."),
    currency: currency.optional(),
    source: nonEmptyString.optional(),
    columns: section(z.record(z.string(), z.preprocess(numberAsString, nonEmptyString)), {}),
  })
  .superRefine(checkColumns, { when: () => true });

export const profilesSchema = z.record(z.string(), profileSchema).superRefine(
  (profiles, ctx) => {
    if (profiles === null || typeof profiles !== "object") return;
    for (const name of Object.keys(profiles)) {
      if (!PROFILE_NAME.test(name)) {
        ctx.addIssue({
          code: "custom",
          path: [name],
          message: `invalid profile name ${JSON.stringify(name)}: use letters, digits, "-" and "_"`,
        });
      }
    }
  },
  { when: () => true },
);

// ---------------------------------------------------------------------------------------------
// Delivery: weekly carts, the outbox, the email templates

export const TRANSPORTS = ["outbox", "smtp"] as const;
export const DEFAULT_FROM = "Shop <hello@shop.example>";

/** `HH:MM-HH:MM` in the shop's timezone; the end may be before the start for a window over midnight. */
const WINDOW = /^([01]\d|2[0-3]):([0-5]\d)\s*[-–]\s*([01]\d|2[0-4]):([0-5]\d)$/;
const sendWindow = z
  .string()
  .regex(WINDOW, { error: 'expected a window of hours such as "08:00-20:00"' })
  .transform((text) => {
    const m = WINDOW.exec(text)!;
    return { start: Number(m[1]) * 60 + Number(m[2]), end: Number(m[3]) * 60 + Number(m[4]), text };
  })
  .refine((w) => w.start !== w.end, { error: 'expected a window of hours such as "08:00-20:00"' });

/** A mailbox as in a From header: `Shop <hello@shop.example>` or `hello@shop.example`. */
const MAILBOX = /^\s*(?:(.*?)\s*<([^<>\s@]+@[^<>\s@]+\.[^<>\s@]+)>|([^<>\s@]+@[^<>\s@]+\.[^<>\s@]+))\s*$/;
const mailbox = z
  .string()
  .regex(MAILBOX, { error: 'expected an address such as "Shop <hello@shop.example>"' })
  .transform((text) => {
    const m = MAILBOX.exec(text)!;
    const name = (m[1] ?? "").replace(/^"(.*)"$/, "$1").trim();
    return { name, address: (m[2] ?? m[3])!.toLowerCase(), text };
  });

const httpUrlTemplate = z.string().regex(/^https?:\/\//i, {
  error: "expected an http(s) URL (a Handlebars template) such as https://shop.example/cart",
});

const httpBaseUrl = z
  .string()
  .regex(/^https?:\/\/[^\s/?#]+(\/[^\s?#]*)?$/i, {
    error: "expected the http(s) address serve is reached at, such as https://shop.example/comeback",
  })
  .transform((url) => url.replace(/\/+$/, ""));

function isLanguageTag(tag: string): boolean {
  try {
    return Intl.getCanonicalLocales(tag).length === 1;
  } catch {
    return false;
  }
}

/**
 * Keys whose value must come wholly from one environment variable (`${VAR}` and nothing else),
 * never be written in the file (see checkSecrets in load.ts).
 */
export const SECRET_KEYS = ["secret", "delivery.smtp.password"] as const;

/**
 * The shortest `secret` accepted, in bytes: it keys HMAC-SHA256, whose key is 32 bytes. 32 hex
 * characters already carry 128 bits; `openssl rand -hex 32` (64 characters, 256 bits) is the advice.
 */
export const MIN_SECRET_BYTES = 32;

export const smtpSchema = z.strictObject({
  host: nonEmptyString.default("localhost"),
  port: z.number().int().min(1).max(65535).default(587),
  secure: z.boolean().default(false),
  user: nonEmptyString.nullable().default(null),
  password: z.string().nullable().default(null),
  rate_per_second: z.number().min(0).default(20),
  timeout_seconds: z.number().positive().default(30),
});

export const deliverySchema = z.strictObject({
  transport: z.enum(TRANSPORTS).default("outbox"),
  from: mailbox.prefault(DEFAULT_FROM),
  outbox_dir: nonEmptyString.default("./outbox"),
  max_attempts: z.number().int().min(1).default(5),
  retry_minutes: z.number().positive().default(5),
  min_hours_between: z.number().min(0).default(72),
  window: sendWindow.prefault("08:00-20:00"),
  unsubscribe_mailto: mailbox.nullable().default(null),
  // A run that would queue more than this many times the shop's usual batch stops before sending
  // (see surgeCheck in src/deliver/weekly.ts).
  surge_factor: z.number().gt(1, { error: "expected a number greater than 1" }).default(3),
  // A run lock from another host whose heartbeat (every 30 s) is older than this is stale (lock.ts).
  lock_expiry_minutes: z.number().positive().default(15),
  smtp: section(smtpSchema, {}),
});

const configObject = z.strictObject({
  database: nonEmptyString.default(DEFAULT_DATABASE),
  timezone: timezone.default("UTC"),
  currency: currency.default("EUR"),
  statuses: section(statusesSchema, {}),
  profiles: section(profilesSchema, {}),
  log: section(logSchema, {}),
  replenishment: section(replenishmentSchema, {}),
  delivery: section(deliverySchema, {}),
  operator: section(z.strictObject({ email: mailbox.nullable().default(null) }), {}),
  consent: section(z.strictObject({ require_opt_in: z.boolean().default(false) }), {}),
  links: section(
    z.strictObject({
      cart: httpUrlTemplate.nullable().default(null),
      unsubscribe: httpUrlTemplate.nullable().default(null),
      // The public address of `comeback serve` (issue 18), e.g. behind the shop's reverse proxy: the
      // emails' cart, tracking and unsubscribe links point there. null: no serve links.
      base_url: httpBaseUrl.nullable().default(null),
      // Signed links stop working this many days after the email was sent.
      expiry_days: z.number().int().min(1).max(3650).default(60),
    }),
    {},
  ),
  // `comeback serve` (issue 18): requests per minute and client address before 429 (0: no limit), and
  // whether to read the client's address from X-Forwarded-For of a reverse proxy on this host.
  serve: section(
    z.strictObject({
      rate_limit_per_minute: z.number().int().min(0).default(120),
      trust_proxy: z.boolean().default(false),
    }),
    {},
  ),
  // Hold-out groups (issue 18): this share of the customers with a new cart and an address gets no
  // cart email that week, so the report can measure what the emails add. 0: none held out.
  // Follow-ups for silence (issue 18, src/deliver/followups.ts): at most one per stage per cart email,
  // this many days after the last thing the customer did. Work only with links.base_url (tracking).
  followups: section(
    z.strictObject({
      enabled: z.boolean().default(true),
      not_opened_days: z.number().min(1).max(60).default(3),
      not_clicked_days: z.number().min(1).max(60).default(4),
      no_decision_days: z.number().min(1).max(60).default(3),
    }),
    {},
  ),
  // `comeback report` (issue 18): an order counts as a reorder, and towards the lift, within this many
  // days after the email (or the held-out cart).
  report: section(z.strictObject({ days: z.number().int().min(1).max(365).default(30) }), {}),
  holdout: section(z.strictObject({ share: z.number().min(0).max(0.5).default(0.1) }), {}),
  secret: z.string().nullable().default(null),
  locale: z
    .string()
    .refine(isLanguageTag, {
      error: 'expected a language tag such as "en", "de" or "ru"',
    })
    .default("en"),
  templates: section(z.strictObject({ dir: nonEmptyString.nullable().default(null) }), {}),
  lifecycle: section(lifecycleSchema, {}),
  winback: section(winbackSchema, {}),
});

/**
 * The whole file. Profiles come out complete: `timezone` and `currency` default to the
 * top-level ones, `source` to the profile's name, and `name` is the profile's key.
 * Paths are still as written; see resolveConfigPaths.
 */
export const configSchema = section(configObject, {}).transform((config) => ({
  ...config,
  profiles: Object.fromEntries(
    Object.entries(config.profiles).map(([name, profile]) => [
      name,
      {
        name,
        ...profile,
        timezone: profile.timezone ?? config.timezone,
        currency: profile.currency ?? config.currency,
        source: profile.source ?? name,
      },
    ]),
  ),
}));

export type Config = z.output<typeof configSchema>;
export type ProfileConfig = Config["profiles"][string];
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Resolves relative paths against `baseDir` (the config file's folder, or the cwd for defaults). */
export function resolveConfigPaths(config: Config, baseDir: string): Config {
  const resolve = (file: string) => (file === ":memory:" ? file : path.resolve(baseDir, file));
  return {
    ...config,
    database: resolve(config.database),
    log: { ...config.log, file: config.log.file === null ? null : resolve(config.log.file) },
    delivery: { ...config.delivery, outbox_dir: resolve(config.delivery.outbox_dir) },
    templates: { dir: config.templates.dir === null ? null : resolve(config.templates.dir) },
  };
}

/** The built-in defaults, with paths resolved against `cwd`. */
export function defaultConfig(cwd: string): Config {
  return resolveConfigPaths(configSchema.parse({}), path.resolve(cwd));
}

// ---------------------------------------------------------------------------------------------
// Messages

/** Edit distance (Levenshtein, with an adjacent transposition counting as one edit), for "did you mean". */
export function editDistance(a: string, b: string): number {
  const rows: number[][] = [Array.from({ length: b.length + 1 }, (_, j) => j)];
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const up = rows[i - 1] as number[];
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min((up[j] as number) + 1, (row[j - 1] as number) + 1, (up[j - 1] as number) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, ((rows[i - 2] as number[])[j - 2] as number) + 1);
      }
      row.push(best);
    }
    rows.push(row);
  }
  return (rows[a.length] as number[])[b.length] as number;
}

/** The known key closest to `key`, if it is close enough to be a likely typo. */
export function closestKey(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const distance = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  if (best === undefined) return undefined;
  const limit = Math.max(1, Math.floor(Math.max(key.length, best.length) / 3));
  return bestDistance <= limit ? best : undefined;
}

interface SchemaDef {
  type: string;
  shape?: Record<string, z.ZodType>;
  innerType?: z.ZodType;
  in?: z.ZodType;
  out?: z.ZodType;
  valueType?: z.ZodType;
  element?: z.ZodType;
}

/** The keys a strict object accepts at `keyPath`, found by walking the schema. */
function knownKeysAt(schema: z.ZodType, keyPath: KeyPath): string[] | undefined {
  const def = (schema as unknown as { _zod: { def: SchemaDef } })._zod.def;
  const [head, ...rest] = keyPath;
  if (def.innerType) return knownKeysAt(def.innerType, keyPath);
  if (def.type === "pipe") {
    return (def.out && knownKeysAt(def.out, keyPath)) ?? (def.in && knownKeysAt(def.in, keyPath));
  }
  if (def.type === "object" && def.shape) {
    if (head === undefined) return Object.keys(def.shape);
    const child = typeof head === "string" ? def.shape[head] : undefined;
    return child && knownKeysAt(child, rest);
  }
  if (def.type === "record" && def.valueType && head !== undefined) return knownKeysAt(def.valueType, rest);
  if (def.type === "array" && def.element && typeof head === "number") return knownKeysAt(def.element, rest);
  return undefined;
}

function valueAt(data: unknown, keyPath: KeyPath): unknown {
  let node = data;
  for (const key of keyPath) {
    if (node === null || typeof node !== "object" || !Object.hasOwn(node, key)) return undefined;
    node = (node as Record<string | number, unknown>)[key];
  }
  return node;
}

function describeValue(value: unknown): string {
  if (value === undefined) return "nothing (the key is missing)";
  if (value === null) return "an empty value";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  if (typeof value === "string") {
    const text = JSON.stringify(value);
    return text.length > 80 ? `${text.slice(0, 77)}…"` : text;
  }
  return String(value);
}

const EXPECTED_TYPES: Record<string, string> = {
  string: "a string",
  number: "a number",
  boolean: "true or false",
  array: "a list",
  object: "a mapping",
  record: "a mapping",
};

function orList(values: readonly unknown[]): string {
  const shown = values.map((value) => JSON.stringify(value));
  return shown.length <= 1 ? (shown[0] ?? "nothing") : `${shown.slice(0, -1).join(", ")} or ${shown.at(-1)}`;
}

export interface DescribeContext {
  /** The data that was validated (after interpolation). */
  data: unknown;
  /** Original text of interpolated values by formatted key path: their values are not shown (secrets). */
  templates?: ReadonlyMap<string, string>;
  /** The schema the issues came from; used for "did you mean". */
  schema?: z.ZodType;
}

export interface ConfigProblem {
  /** Where in the file: the offending key for an unknown key, else the value's path. */
  path: KeyPath;
  /** One line, without the file name, e.g. `timezone: expected an IANA timezone …, got "Mars"`. */
  message: string;
}

/** Turns zod issues into one problem each (one per unknown key). */
export function describeIssues(
  issues: readonly z.core.$ZodIssue[],
  context: DescribeContext,
): ConfigProblem[] {
  const schema = context.schema ?? configSchema;
  const lines: ConfigProblem[] = [];
  for (const issue of issues) {
    const keyPath = issue.path.filter((key): key is string | number => typeof key !== "symbol");
    const where = formatKeyPath(keyPath);
    if (issue.code === "unrecognized_keys") {
      const known = knownKeysAt(schema, keyPath) ?? [];
      for (const key of issue.keys) {
        const guess = closestKey(key, known);
        const hint = guess
          ? ` (did you mean "${guess}"?)`
          : known.length > 0
            ? ` (known keys: ${known.join(", ")})`
            : "";
        lines.push({
          path: [...keyPath, key],
          message: `unknown key "${key}" at ${where === "" ? "the top level" : where}${hint}`,
        });
      }
      continue;
    }
    const template = context.templates?.get(where);
    const found =
      template === undefined
        ? describeValue(valueAt(context.data, keyPath))
        : `${JSON.stringify(template)} (its value is not shown)`;
    const prefix = where === "" ? "the top level: " : `${where}: `;
    let expected: string | undefined;
    if (issue.code === "invalid_type")
      expected = `expected ${EXPECTED_TYPES[issue.expected] ?? issue.expected}`;
    else if (issue.code === "invalid_value") expected = `expected ${orList(issue.values)}`;
    else if (issue.message.startsWith("expected ")) expected = issue.message;
    if (expected === undefined) {
      lines.push({ path: keyPath, message: prefix + issue.message });
      continue;
    }
    const detail = issue.code === "custom" ? (issue.params?.detail as string | undefined) : undefined;
    lines.push({
      path: keyPath,
      message: `${prefix}${expected}, got ${found}${detail ? ` (${detail})` : ""}`,
    });
  }
  return lines;
}
