/**
 * serve's pages (issue 18): Handlebars templates in `templates/pages/` (`cart.hbs`, `cart.de.hbs`, …,
 * and `layout.hbs` around each, with `{{{body}}}`), chosen by locale as the emails are: the customer's
 * (`de-AT`, then `de`), else config `locale`, else the default file. A shop's own copy
 * (`templates.dir`) is used when it has a `pages/` folder; else the shipped pages. Everything from
 * data is escaped (`{{ }}`); pages carry no inline script or style (the CSP forbids both): the
 * style sheet is `pages/static/comeback.css`.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type Handlebars from "handlebars";
import { handlebars } from "../deliver/lazy.js";
import { candidates, pick, readFolder, registerHelpers } from "../deliver/render.js";
import { shippedTemplatesDir } from "../deliver/setup.js";
import { ConfigError } from "../errors.js";
import type { ServeContext } from "./context.js";

export interface RenderedPage {
  html: string;
  locale: string;
}

export interface PageRenderer {
  render(page: string, locale: string | null | undefined, context: Record<string, unknown>): RenderedPage;
  /** The folder the style sheet and other static files are served from. */
  readonly staticDir: string;
}

/** The pages folder in use: the shop's own (templates.dir/pages) when it has one, else the shipped one. */
export function pagesDir(templatesDir: string | null): string {
  if (templatesDir !== null) {
    const own = join(templatesDir, "pages");
    if (existsSync(own)) return own;
  }
  return join(shippedTemplatesDir(), "pages");
}

export function createPageRenderer(options: { dir: string; defaultLocale: string }): PageRenderer {
  const { dir, defaultLocale } = options;
  const files = readFolder(dir);
  if (!files.get("layout")?.has("")) {
    throw new ConfigError(`templates: ${dir} has no layout.hbs (the frame of every page, with {{{body}}})`);
  }
  const compiled = new Map<string, Handlebars.TemplateDelegate>();
  const envs = new Map<string, typeof Handlebars>();
  const envFor = (locale: string) => {
    let env = envs.get(locale);
    if (!env) {
      env = handlebars().create();
      registerHelpers(env, locale);
      envs.set(locale, env);
    }
    return env;
  };
  const localeFor = (page: string, wanted: string | null | undefined): string => {
    const byLocale = files.get(page);
    for (const tag of candidates(wanted, defaultLocale)) {
      if (byLocale?.has(tag) || byLocale?.has(tag.split("-")[0]!)) return tag;
    }
    return candidates(defaultLocale, "en")[0] ?? "en";
  };
  const templateFor = (page: string, locale: string): Handlebars.TemplateDelegate => {
    const key = `${page}\u0000${locale}`;
    let template = compiled.get(key);
    if (!template) {
      const body = pick(files.get(page), locale);
      if (!body) throw new ConfigError(`templates: ${dir} has no ${page}.hbs`);
      const layout = readFileSync(pick(files.get("layout"), locale)!, "utf8");
      if (!layout.includes("{{{body}}}")) {
        throw new ConfigError(
          `templates: ${join(dir, "layout.hbs")} must contain {{{body}}} where the page goes`,
        );
      }
      const source = layout.replace("{{{body}}}", () => readFileSync(body, "utf8"));
      template = envFor(locale).compile(source, { strict: false, preventIndent: true });
      compiled.set(key, template);
    }
    return template;
  };
  return {
    staticDir: join(dir, "static"),
    render(page, wanted, context) {
      const locale = localeFor(page, wanted);
      return { html: templateFor(page, locale)({ ...context, locale }), locale };
    },
  };
}

const renderers = new WeakMap<ServeContext, PageRenderer>();

/** The pages of one server (made once, on first use, from its config). */
export function pagesOf(ctx: ServeContext): PageRenderer {
  let pages = renderers.get(ctx);
  if (!pages) {
    pages = createPageRenderer({ dir: pagesDir(ctx.config.templates.dir), defaultLocale: ctx.config.locale });
    renderers.set(ctx, pages);
  }
  return pages;
}
