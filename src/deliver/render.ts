/**
 * Rendering emails from Handlebars templates.
 *
 * Layout of a templates folder:
 *   <kind>/subject.hbs, <kind>/html.hbs, <kind>/text.hbs     one folder per message kind
 *   <kind>/html.de.hbs …                                     a locale variant beside the default
 *   layouts/html.hbs, layouts/text.hbs                       wrap the body ({{{body}}}); variants too
 *   partials/<name>.hbs                                      {{> name}}; variants too (cart_items.de.hbs)
 *
 * The locale: the customer's (`de-AT`, then `de`), else config `locale`, the first that the kind has
 * a variant for; the default files serve every other. Each locale gets its own Handlebars
 * environment (partials resolve to its variants; helpers format for it), and every template is
 * compiled once per run, on first use. HTML templates escape everything; subject and text are plain
 * text and are not HTML-escaped.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import type Handlebars from "handlebars";
import { handlebars } from "./lazy.js";
import { ConfigError } from "../errors.js";
import { minorDigits } from "../money.js";

export interface RenderedEmail {
  subject: string;
  html: string;
  text: string;
  /** The locale the email was rendered in. */
  locale: string;
}

export interface Renderer {
  render(kind: string, locale: string | null | undefined, context: Record<string, unknown>): RenderedEmail;
  /** The message kinds the folder has templates for. */
  readonly kinds: readonly string[];
}

const PARTS = ["subject", "html", "text"] as const;
type Part = (typeof PARTS)[number];

// ---------------------------------------------------------------------------------------------
// Formatters: building an Intl formatter costs tens of microseconds, using one far less.

const moneyFormats = new Map<string, Intl.NumberFormat>();
const numberFormats = new Map<string, Intl.NumberFormat>();
const dateFormats = new Map<string, Intl.DateTimeFormat>();
const pluralRules = new Map<string, Intl.PluralRules>();

function cached<T>(map: Map<string, T>, key: string, make: () => T): T {
  let value = map.get(key);
  if (value === undefined) {
    value = make();
    map.set(key, value);
  }
  return value;
}

/**
 * Formatted strings too: a batch prints the same prices and dates thousands of times, and a Map
 * lookup is several times cheaper than format(). Cleared when full, so memory stays bounded.
 */
const formatted = new Map<string, string>();
const MAX_FORMATTED = 50_000;

function remember(key: string, make: () => string): string {
  let text = formatted.get(key);
  if (text === undefined) {
    if (formatted.size >= MAX_FORMATTED) formatted.clear();
    text = make();
    formatted.set(key, text);
  }
  return text;
}

export function formatMoney(locale: string, minor: number, currency: string): string {
  return remember(`m\u0000${locale}\u0000${currency}\u0000${minor}`, () => {
    const format = cached(
      moneyFormats,
      `${locale}\u0000${currency}`,
      () => new Intl.NumberFormat(locale, { style: "currency", currency }),
    );
    return format.format(minor / 10 ** minorDigits(currency));
  });
}

export function formatNumber(locale: string, value: number): string {
  return remember(`n\u0000${locale}\u0000${value}`, () =>
    cached(numberFormats, locale, () => new Intl.NumberFormat(locale, { maximumFractionDigits: 3 })).format(
      value,
    ),
  );
}

const DATE_STYLES = ["full", "long", "medium", "short"] as const;

/** A calendar date `YYYY-MM-DD` (no time, no zone) in the locale's words. */
export function formatDate(locale: string, ymd: string, style: string): string {
  const dateStyle = (DATE_STYLES as readonly string[]).includes(style)
    ? (style as (typeof DATE_STYLES)[number])
    : "long";
  return remember(`d\u0000${locale}\u0000${dateStyle}\u0000${ymd}`, () => {
    const format = cached(
      dateFormats,
      `${locale}\u0000${dateStyle}`,
      () => new Intl.DateTimeFormat(locale, { dateStyle, timeZone: "UTC" }),
    );
    const date = new Date(`${ymd}T00:00:00Z`);
    return Number.isNaN(date.getTime()) ? ymd : format.format(date);
  });
}

/** The form of a word for a count: `{{plural n one="# item" other="# items"}}`; `#` is the count. */
export function pluralForm(locale: string, count: number, forms: Record<string, unknown>): string {
  const rule = remember(`p\u0000${locale}\u0000${count}`, () =>
    cached(pluralRules, locale, () => new Intl.PluralRules(locale)).select(count),
  );
  const form = forms[count === 0 && "zero" in forms ? "zero" : rule] ?? forms.other ?? "";
  return String(form).replaceAll("#", formatNumber(locale, count));
}

const SAFE_LINK = /^(https?:|mailto:)/i;

export function registerHelpers(env: typeof Handlebars, locale: string): void {
  env.registerHelper("money", (minor: unknown, currency: unknown) =>
    typeof minor === "number" && typeof currency === "string" && currency !== ""
      ? formatMoney(locale, minor, currency)
      : "",
  );
  env.registerHelper("number", (value: unknown) =>
    typeof value === "number" ? formatNumber(locale, value) : "",
  );
  env.registerHelper("date", (ymd: unknown, options: Handlebars.HelperOptions) =>
    typeof ymd === "string" ? formatDate(locale, ymd, String(options.hash.style ?? "long")) : "",
  );
  env.registerHelper("plural", (count: unknown, options: Handlebars.HelperOptions) =>
    typeof count === "number" ? pluralForm(locale, count, options.hash as Record<string, unknown>) : "",
  );
  // {{link url "text"}}: an <a> with both parts escaped, and only for http(s) and mailto URLs, so a
  // link built from data can never become javascript:.
  env.registerHelper("link", (url: unknown, text: unknown) => {
    const href = typeof url === "string" ? url : "";
    const label = typeof text === "string" ? text : href;
    if (!SAFE_LINK.test(href)) return label;
    return new env.SafeString(`<a href="${env.escapeExpression(href)}">${env.escapeExpression(label)}</a>`);
  });
}

// ---------------------------------------------------------------------------------------------

const canonical = new Map<string, string | null>();

/** `de_DE` → `de-DE`; null for something that isn't a language tag. */
export function normalizeLocale(tag: string | null | undefined): string | null {
  if (!tag) return null;
  return cached(canonical, tag, () => {
    try {
      return Intl.getCanonicalLocales(tag.trim().replace(/_/g, "-"))[0] ?? null;
    } catch {
      return null;
    }
  });
}

export function candidates(locale: string | null | undefined, fallback: string): string[] {
  const out: string[] = [];
  for (const tag of [normalizeLocale(locale), normalizeLocale(fallback)]) {
    if (!tag) continue;
    out.push(tag);
    const base = tag.split("-")[0]!;
    if (base !== tag) out.push(base);
  }
  return [...new Set(out)];
}

/** `html.de.hbs` → ["html", "de"]; `html.hbs` → ["html", ""]. */
function splitName(file: string): [string, string] | null {
  if (!file.endsWith(".hbs")) return null;
  const stem = file.slice(0, -4);
  const dot = stem.indexOf(".");
  return dot < 0 ? [stem, ""] : [stem.slice(0, dot), stem.slice(dot + 1)];
}

/** The files of one folder by name and locale ("" for the default). */
export type Folder = Map<string, Map<string, string>>;

export function readFolder(dir: string): Folder {
  const folder: Folder = new Map();
  let files: string[];
  try {
    files = readdirSync(dir);
  } catch {
    return folder;
  }
  for (const file of files) {
    const split = splitName(file);
    if (!split) continue;
    const [name, locale] = split;
    const byLocale = folder.get(name) ?? new Map<string, string>();
    byLocale.set(normalizeLocale(locale) ?? locale, join(dir, file));
    folder.set(name, byLocale);
  }
  return folder;
}

export function pick(byLocale: Map<string, string> | undefined, locale: string): string | undefined {
  if (!byLocale) return undefined;
  const base = locale.split("-")[0]!;
  return byLocale.get(locale) ?? byLocale.get(base) ?? byLocale.get("");
}

export function createRenderer(options: { dir: string; defaultLocale: string }): Renderer {
  const { dir, defaultLocale } = options;
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    // reported below
  }
  if (!isDir) throw new ConfigError(`templates.dir: ${dir} is not a folder of templates`);
  const layouts = readFolder(join(dir, "layouts"));
  const partials = readFolder(join(dir, "partials"));
  const kinds = new Map<string, Folder>();
  for (const entry of readdirSync(dir)) {
    if (entry === "layouts" || entry === "partials") continue;
    const folder = readFolder(join(dir, entry));
    if (PARTS.every((part) => folder.get(part)?.has(""))) kinds.set(entry, folder);
  }

  const sources = new Map<string, string>();
  const read = (file: string) => cached(sources, file, () => readFileSync(file, "utf8"));
  const envs = new Map<string, typeof Handlebars>();
  const envFor = (locale: string) =>
    cached(envs, locale, () => {
      const env = handlebars().create();
      registerHelpers(env, locale);
      for (const [name, byLocale] of partials) env.registerPartial(name, read(pick(byLocale, locale)!));
      return env;
    });
  type Compiled = Handlebars.TemplateDelegate;
  // knownHelpers lets the compiler call our helpers directly instead of looking each name up per use.
  const knownHelpers = { money: true, number: true, date: true, plural: true, link: true };
  /**
   * `{{> name}}` without parameters is replaced by the partial's text (its locale variant) before
   * compiling: invoking a partial costs as much as a small template. Partials given parameters or a
   * context stay real partials.
   */
  const inlinePartials = (source: string, locale: string, depth = 0): string =>
    depth > 8
      ? source
      : source.replace(/\{\{>\s*([A-Za-z0-9_-]+)\s*\}\}/g, (whole, name: string) => {
          const file = pick(partials.get(name), locale);
          return file ? inlinePartials(read(file).replace(/\n$/, ""), locale, depth + 1) : whole;
        });
  const compile = (source: string, locale: string, html: boolean): Compiled =>
    envFor(locale).compile(inlinePartials(source, locale), {
      noEscape: !html,
      strict: false,
      preventIndent: true,
      knownHelpers,
      knownHelpersOnly: true,
    });
  /**
   * The layout's `{{{body}}}` is replaced by the kind's template before compiling, so each part is
   * one template call: Handlebars' per-call setup (helpers, prototype guards) is a good share of
   * the cost of a small email.
   */
  const withLayout = (layoutName: "html" | "text", body: string, locale: string): string => {
    const file = pick(layouts.get(layoutName), locale);
    if (!file) return body;
    const layout = read(file);
    if (!layout.includes("{{{body}}}")) {
      throw new ConfigError(
        `templates: ${file} must contain {{{body}}} where the email's ${layoutName} goes`,
      );
    }
    return layout.replace("{{{body}}}", () => body);
  };
  const compiled = new Map<string, Record<Part, Compiled>>();
  const templatesFor = (kindName: string, kind: Folder, locale: string) =>
    cached(compiled, `${kindName}\u0000${locale}`, () => ({
      subject: compile(read(pick(kind.get("subject"), locale)!), locale, false),
      html: compile(withLayout("html", read(pick(kind.get("html"), locale)!), locale), locale, true),
      text: compile(withLayout("text", read(pick(kind.get("text"), locale)!), locale), locale, false),
    }));

  const chosen = new Map<string, string>();
  const localeFor = (kindName: string, kind: Folder, wanted: string | null | undefined): string =>
    cached(chosen, `${kindName}\u0000${wanted ?? ""}`, () => {
      for (const tag of candidates(wanted, defaultLocale)) {
        if (kind.get("html")?.has(tag)) return tag;
      }
      return normalizeLocale(defaultLocale) ?? "en";
    });

  return {
    kinds: [...kinds.keys()],
    render(kindName, wanted, context) {
      const kind = kinds.get(kindName);
      if (!kind) {
        throw new ConfigError(
          `templates: no "${kindName}" templates in ${dir} (expected ${kindName}/subject.hbs, html.hbs and text.hbs)`,
        );
      }
      const locale = localeFor(kindName, kind, wanted);
      const templates = templatesFor(kindName, kind, locale);
      const data = { ...context, locale };
      return {
        subject: templates.subject(data).replace(/\s+/g, " ").trim(),
        html: templates.html(data),
        text: templates.text(data),
        locale,
      };
    },
  };
}
