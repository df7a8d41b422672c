/** Shared by serve's tests: a real SQLite file with two customers' carts, and the app on it. */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { configSchema, resolveConfigPaths, type Config } from "../src/config/schema.js";
import { signLink, type LinkPurpose } from "../src/links/token.js";
import { openStore, type Db } from "../src/store/open.js";
import type { ServeContext } from "../src/serve/context.js";

export const SERVE_SECRET = "serve-test-secret-0123456789abcdef-0123";
/** The time the emails were built (the links' clock starts here) and serve's clock in the tests. */
export const SENT_AT = "2026-03-02T09:00:00Z";
export const NOW = "2026-03-03T10:00:00Z";
export const EXPIRES = Date.parse(SENT_AT) / 1000 + 60 * 86_400;

export interface Seeded {
  db: Db;
  dir: string;
  config: Config;
  /** Outbox ids of the two cart emails: Anna's (de) and Ben's (en). */
  anna: { customer: number; outbox: number; cart: number };
  ben: { customer: number; outbox: number; cart: number };
}

export function seedServeDb(config: Record<string, unknown> = {}): Seeded {
  const dir = mkdtempSync(join(tmpdir(), "comeback-serve-"));
  const resolved = resolveConfigPaths(
    configSchema.parse({
      database: "comeback.db",
      secret: SERVE_SECRET,
      timezone: "Europe/Berlin",
      delivery: { from: "Tee & Co <hello@tee.example>" },
      operator: { email: "Owner <owner@tee.example>" },
      links: { base_url: "https://tee.example/comeback" },
      serve: { rate_limit_per_minute: 0 },
      ...config,
    }),
    dir,
  );
  const db = openStore(resolved.database);
  const t = "2026-01-01T00:00:00Z";
  db.exec(`
    INSERT INTO customers (id, identity_key, external_id, email, email_display, phone, first_name, last_name, locale, info_as_of, created_at, updated_at)
    VALUES (1, 'id:C1', 'C1', 'anna@example.com', 'Anna@Example.com', '+49 170 1234567', 'Anna', 'Schmidt', 'de-DE', '${t}', '${t}', '${t}'),
           (2, 'id:C2', 'C2', 'ben@example.com', NULL, NULL, 'Ben <b>', NULL, NULL, '${t}', '${t}', '${t}');
    INSERT INTO products (sku, name, unit_price_minor, currency, group_key, image_url, from_catalog, updated_at)
    VALUES ('TEA-1', 'Earl Grey <script>alert(1)</script>', 1250, 'EUR', 'TEA', 'https://img.tee.example/tea.jpg', 1, '${t}'),
           ('CUP-1', 'Filter papers', 390, 'EUR', 'CUP', NULL, 1, '${t}');
    INSERT INTO orders (id, source, external_id, customer_id, placed_at, status_class, currency, created_at, updated_at)
    VALUES (10, 'shop', '#1001', 1, '2026-01-10T10:00:00Z', 'completed', 'EUR', '${t}', '${t}'),
           (20, 'shop', '#2001', 2, '2026-01-12T10:00:00Z', 'completed', 'EUR', '${t}', '${t}');
    INSERT INTO order_lines (order_id, line_key, sku, product_name, quantity, unit_price_minor, line_total_minor)
    VALUES (10, '1', 'TEA-1', 'Earl Grey', 2, 1250, 2500), (10, '2', 'CUP-1', 'Filter papers', 1, 390, 390),
           (20, '1', 'TEA-1', 'Earl Grey', 1, 1250, 1250);
    INSERT INTO reminders (customer_id, group_key, purchase_order_id, sku, product_name, last_purchase_on, quantity,
                           days_per_unit, usage_factor, supply_days, basis, lead_days, cycle_days, first_due_on, due_on,
                           reminder_number, state, fingerprint, updated_at)
    VALUES (1, 'TEA', 10, 'TEA-1', 'Earl Grey', '2026-01-10', 2, 25, 1, 50, 'rule', 7, 50, '2026-02-22', '2026-03-03', 1, 'open', 'x', '${t}'),
           (1, 'CUP', 10, 'CUP-1', 'Filter papers', '2026-01-10', 1, 50, 1, 50, 'rule', 7, 50, '2026-02-22', '2026-03-04', 1, 'open', 'x', '${t}'),
           (2, 'TEA', 20, 'TEA-1', 'Earl Grey', '2026-01-12', 1, 50, 1, 50, 'rule', 7, 50, '2026-02-24', '2026-03-05', 1, 'open', 'x', '${t}');
    INSERT INTO carts (id, customer_id, week, currency, total_minor, item_count, created_at)
    VALUES (100, 1, '2026-W10', 'EUR', 2890, 2, '${SENT_AT}'), (200, 2, '2026-W10', 'EUR', 1250, 1, '${SENT_AT}');
    INSERT INTO cart_items (cart_id, group_key, sku, product_name, quantity, unit_price_minor, currency, due_on, reminder_number)
    VALUES (100, 'TEA', 'TEA-1', 'Earl Grey <script>alert(1)</script>', 2, 1250, 'EUR', '2026-03-03', 1),
           (100, 'CUP', 'CUP-1', 'Filter papers', 1, 390, 'EUR', '2026-03-04', 1),
           (200, 'TEA', 'TEA-1', 'Earl Grey', 1, 1250, 'EUR', '2026-03-05', 1);
    INSERT INTO outbox (id, idempotency_key, kind, marketing, customer_id, recipient, payload, state, next_attempt_at, created_at, updated_at)
    VALUES (1000, 'cart:1:2026-W10', 'cart', 1, 1, 'anna@example.com', '{"week":"2026-W10"}', 'sent', '${SENT_AT}', '${SENT_AT}', '${SENT_AT}'),
           (2000, 'cart:2:2026-W10', 'cart', 1, 2, 'ben@example.com', '{"week":"2026-W10"}', 'sent', '${SENT_AT}', '${SENT_AT}', '${SENT_AT}'),
           (3000, 'digest:2026-W10', 'digest', 0, NULL, 'owner@tee.example', '{"week":"2026-W10"}', 'sent', '${SENT_AT}', '${SENT_AT}', '${SENT_AT}');
  `);
  return {
    db,
    dir,
    config: resolved,
    anna: { customer: 1, outbox: 1000, cart: 100 },
    ben: { customer: 2, outbox: 2000, cart: 200 },
  };
}

export function link(
  purpose: LinkPurpose,
  to: { customer: number; outbox: number },
  options: { secret?: string; expiresAt?: number } = {},
): string {
  return signLink(options.secret ?? SERVE_SECRET, {
    purpose,
    outboxId: to.outbox,
    customerId: to.customer,
    expiresAt: options.expiresAt ?? EXPIRES,
  });
}

export function serveContext(seeded: Seeded, now = NOW): ServeContext {
  return { db: seeded.db, config: seeded.config, secret: SERVE_SECRET, now: () => new Date(now) };
}

/** The hidden form token of a page's form. */
export function csrfOf(html: string, action: string): string {
  const form = html.slice(html.indexOf(`action="${action}"`));
  const match = /name="csrf" value="([^"]+)"/.exec(form);
  if (!match) throw new Error(`no form posting to ${action}`);
  return match[1]!;
}
