/** `comeback init DIR`: a folder a shop can start from: a config and its own copy of the templates. */
import { cpSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { UsageError } from "../errors.js";
import { shippedTemplatesDir } from "./setup.js";

export const INIT_CONFIG = `# comeback configuration, written by comeback init. Every key is explained in config.example.yaml
# (in the comeback package) and in the README. Relative paths resolve against this file's folder.

database: ./comeback.db
# The shop's IANA timezone: the week, the send window and dates in emails follow it.
timezone: Europe/Berlin
currency: EUR
# The language of emails for customers without a locale; templates/<kind>/html.<locale>.hbs are the variants.
locale: en

# Signs unsubscribe links. Set COMEBACK_SECRET in the environment (e.g. openssl rand -hex 32), never here.
secret: \${COMEBACK_SECRET}

templates:
  # Your copy of the templates: edit them freely.
  dir: ./templates

operator:
  # Who gets the weekly digest of carts.
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

export interface InitReport {
  dir: string;
  config: string;
  templates: string;
}

export function initFolder(target: string, options: { force?: boolean } = {}): InitReport {
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
  mkdirSync(dir, { recursive: true });
  cpSync(shippedTemplatesDir(), templates, { recursive: true, force: true });
  writeFileSync(config, INIT_CONFIG);
  return { dir, config, templates };
}
