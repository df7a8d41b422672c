/**
 * What `weekly`, `send` and `preview` build from the config once per run: the renderer (templates
 * compiled once), the message settings (links, secret), the rules and the transport.
 */
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Config } from "../config/schema.js";
import { ConfigError } from "../errors.js";
import { DEFAULT_FROM } from "../config/schema.js";
import { messageSettings, type MessageSettings } from "./message.js";
import { createRenderer, type Renderer } from "./render.js";
import type { RuleSettings } from "./rules.js";
import { createTransport, type Transport } from "./transports.js";
import { requireSecret } from "./unsubscribe.js";

/** The folder holding package.json: dist/src/deliver → three levels up, src/deliver → two. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json"))) dir = dirname(dir);
  return dir;
}

export function shippedTemplatesDir(): string {
  return join(packageRoot(), "templates");
}

/**
 * Message kinds newer than a shop's own copy of the templates (`reorder`, issue 18) render from the
 * shipped templates until the shop adds its own: a copy made by an older `comeback init` must not
 * stop the operator's emails.
 */
const SHIPPED_FALLBACK_KINDS = ["reorder"];

function withShippedKinds(renderer: Renderer, locale: string): Renderer {
  const missing = SHIPPED_FALLBACK_KINDS.filter((kind) => !renderer.kinds.includes(kind));
  if (missing.length === 0) return renderer;
  let shipped: Renderer | null = null;
  return {
    kinds: [...renderer.kinds, ...missing],
    render(kind, wanted, context) {
      if (!missing.includes(kind)) return renderer.render(kind, wanted, context);
      shipped ??= createRenderer({ dir: shippedTemplatesDir(), defaultLocale: locale });
      return shipped.render(kind, wanted, context);
    },
  };
}

export interface DeliverySetup {
  renderer: Renderer;
  settings: MessageSettings;
  rules: RuleSettings;
  transport: () => Transport;
}

/**
 * `needSecret`: marketing emails carry signed unsubscribe links, so a run that may render one needs
 * `secret` (a config error, exit 78, names how to set it). `sending`: a run that may send through SMTP
 * needs a real sender address.
 */
export function deliverySetup(
  config: Config,
  options: { needSecret: boolean; sending: boolean; warn?: (message: string) => void },
): DeliverySetup {
  const secret = options.needSecret ? requireSecret(config.secret) : config.secret;
  if (options.sending && config.delivery.transport === "smtp" && config.delivery.from.text === DEFAULT_FROM) {
    // Not an error (a test server doesn't care), but a real shop must not send as shop.example.
    options.warn?.(
      `delivery.from is the example sender "${DEFAULT_FROM}": set your own, e.g. "Your Shop <hello@your-shop.example>"`,
    );
  }
  const smtp = config.delivery.smtp;
  if (options.sending && config.delivery.transport === "smtp" && smtp.user !== null && !smtp.password) {
    throw new ConfigError(
      "delivery.smtp.password is not set (or the environment variable it names is unset): write password: ${COMEBACK_SMTP_PASSWORD} and set that variable",
    );
  }
  const renderer = withShippedKinds(
    createRenderer({ dir: config.templates.dir ?? shippedTemplatesDir(), defaultLocale: config.locale }),
    config.locale,
  );
  for (const kind of ["cart", "digest"]) {
    if (!renderer.kinds.includes(kind)) {
      throw new ConfigError(
        `templates.dir: ${config.templates.dir} has no ${kind}/ folder with subject.hbs, html.hbs and text.hbs (comeback init DIR writes a complete copy)`,
      );
    }
  }
  return {
    renderer,
    settings: messageSettings(config, secret),
    rules: {
      zone: config.timezone,
      window: config.delivery.window,
      minHoursBetween: config.delivery.min_hours_between,
      requireOptIn: config.consent.require_opt_in,
    },
    transport: () => createTransport(config.delivery),
  };
}
