/**
 * From an outbox row to a complete email: the template context built from the row's payload, the
 * links (cart, signed unsubscribe), the headers (Message-ID from the idempotency key,
 * List-Unsubscribe), composed into MIME text.
 */
import type Handlebars from "handlebars";
import { handlebars } from "./lazy.js";
import type { Config } from "../config/schema.js";
import type { Cart, CartItem } from "./carts.js";
import { composeEmail, messageIdFor, type Mailbox } from "./mime.js";
import type { Renderer, RenderedEmail } from "./render.js";
import { unsubscribeToken } from "./unsubscribe.js";
import { linkExpiry, signLink } from "../links/token.js";
import { clickUrl, isHttpUrl, pixelUrl } from "../track/click.js";
import { dayString, localDayOf } from "../plan/days.js";
import type { FavouriteProduct } from "../plan/winback/due.js";
import type { TaskRow } from "../plan/winback/tasks.js";

/** What a `cart` message is rendered from (the outbox payload). */
export interface CartPayload {
  week: string;
  week_start: string;
  week_end: string;
  customer: {
    id: number;
    external_id: string | null;
    first_name: string | null;
    name: string | null;
    email: string | null;
    locale: string | null;
  };
  items: CartItem[];
  item_count: number;
  currency: string | null;
  total_minor: number | null;
  /** The customer's newest order when the cart was made (absent in carts queued before it was kept). */
  last_order_at?: string;
  /** Items postponed on serve's cart page, not due yet: "saved for later" (absent when none). */
  wishlist?: { name: string; until: string }[];
}

/** What a win-back email (`winback-warm`, `-cold`, `-lost`) is rendered from. */
export interface WinbackPayload {
  status: "warm" | "cold" | "lost";
  /** The n-th contact while in this status. */
  contact_number: number;
  customer: CartPayload["customer"];
  favourite_products: FavouriteProduct[];
}

/** What the operator's `digest` is rendered from. */
export interface DigestPayload {
  week: string;
  week_start: string;
  week_end: string;
  cart_count: number;
  /** Carts beyond those listed. */
  more: number;
  currency: string | null;
  total_minor: number | null;
  carts: {
    customer_id: number;
    external_id: string | null;
    name: string;
    email: string | null;
    item_count: number;
    currency: string | null;
    total_minor: number | null;
    items: { name: string; quantity: number }[];
  }[];
  /** Open call tasks due (all of them), and the first of them listed. */
  task_count: number;
  tasks: TaskRow[];
  /** The emails to customers queued this week, by kind (absent in digests stored before it existed). */
  queued?: DigestQueued;
  /** The win-back backlog: how many wait, the weekly ceiling, how many got their first email this week. */
  backlog?: { waiting: number; ceiling: number; released_this_week: number } | null;
  /** A run stopped before sending because its batch was far bigger than usual (or confirmed despite it). */
  surge?: (SurgeReport & { held: DigestQueued | null }) | null;
}

/** Emails to customers by kind. */
export interface DigestQueued {
  carts: number;
  winback: number;
  winback_warm: number;
  winback_cold: number;
  winback_lost: number;
}

/** The surge check of one weekly run (see surgeCheck in src/deliver/weekly.ts). */
export interface SurgeReport {
  /** Emails to customers this run queues (or would have). */
  batch: number;
  /** The largest weekly batch of the last weeks; null: none (the first run, or after a pause). */
  usual: number | null;
  /** A batch above this stops the run. */
  limit: number;
  /** How the limit was set, in words: "3 × the usual 40 a week", "first run: 10 % of 512 customers". */
  rule: string;
  /** True: nothing of this batch was queued or sent. */
  stopped: boolean;
  /** True: the batch was over the limit and --confirm-surge let it through. */
  confirmed: boolean;
  /** The command that sends it anyway. */
  confirm_with: string;
}

export interface OutgoingMessage {
  raw: string;
  messageId: string;
  envelope: { from: string; to: string };
  rendered: RenderedEmail;
}

export interface MessageSettings {
  from: Mailbox;
  unsubscribeMailto: Mailbox;
  cartLink: Handlebars.TemplateDelegate | null;
  /** The cart link uses `{{variant}}`: without every item's variant id it would be broken. */
  cartLinkNeedsVariant: boolean;
  /** The shop's timezone: an item "ran out" before the shop's today. */
  zone: string;
  unsubscribeLink: Handlebars.TemplateDelegate | null;
  /** null: marketing messages can't be built (requireSecret says why). */
  secret: string | null;
  defaultLocale: string;
  /**
   * `links.base_url` and `links.expiry_days`: where `comeback serve` is reached, for the cart page,
   * one-click unsubscribe, the open pixel and click redirects; null when links.base_url is unset.
   */
  serve: { baseUrl: string; expiryDays: number } | null;
}

/** Link templates are compiled once, without HTML escaping: their values are URL-encoded instead. */
export function messageSettings(config: Config, secret: string | null): MessageSettings {
  const compileLink = (template: string | null) =>
    template === null ? null : handlebars().compile(template, { noEscape: true, strict: false });
  return {
    from: config.delivery.from,
    unsubscribeMailto: config.delivery.unsubscribe_mailto ?? config.delivery.from,
    cartLink: compileLink(config.links.cart),
    cartLinkNeedsVariant: config.links.cart !== null && /\bvariant\b/.test(config.links.cart),
    zone: config.timezone,
    unsubscribeLink: compileLink(config.links.unsubscribe),
    secret,
    defaultLocale: config.locale,
    serve:
      config.links.base_url === null
        ? null
        : { baseUrl: config.links.base_url, expiryDays: config.links.expiry_days },
  };
}

const enc = encodeURIComponent;

/**
 * The cart button's URL, or null for no button. `variant` is the product's variant id from the
 * products import: Shopify's cart permalinks take numeric variant ids, and a sku in their place makes
 * a link that fails in the shop. A link that uses `variant` while an item has none is left out: an
 * email without the button beats one whose button fails.
 */
function cartUrl(settings: MessageSettings, payload: CartPayload): string | null {
  if (!settings.cartLink) return null;
  if (settings.cartLinkNeedsVariant && payload.items.some((item) => !item.variant_id)) return null;
  return settings.cartLink({
    customer_id: payload.customer.id,
    customer: enc(payload.customer.external_id ?? String(payload.customer.id)),
    week: enc(payload.week),
    items: payload.items.map((item) => ({
      sku: enc(item.sku ?? ""),
      variant: enc(item.variant_id ?? ""),
      group: enc(item.group_key),
      quantity: Math.max(1, Math.round(item.quantity)),
    })),
  });
}

/**
 * What the cart templates say about each item: the day its supply runs out (`runs_out_on`; a cart
 * queued before comeback knew it has only the reminder's date), and whether that day is already past
 * in the shop's calendar on the day the email goes (`ran_out`: "ran out around …", not "runs out").
 */
export function cartWords(payload: CartPayload, today: string): Record<string, unknown> {
  const items = payload.items.map((item) => {
    const runsOut = item.runs_out_on ?? item.due_on;
    return { ...item, runs_out_on: runsOut, ran_out: runsOut < today };
  });
  return {
    items,
    some_ran_out: items.some((item) => item.ran_out),
    all_ran_out: items.length > 0 && items.every((item) => item.ran_out),
  };
}

/** How a customer is greeted: the first name; else the whole name as the shop wrote it; else nothing. */
export function greetingName(customer: CartPayload["customer"]): string | null {
  const first = customer.first_name?.trim();
  if (first) return first;
  const name = customer.name?.trim();
  return name ? name : null;
}

export interface UnsubscribeLinks {
  token: string;
  mailto: string;
  https: string | null;
}

export function unsubscribeLinks(
  settings: MessageSettings,
  address: string,
  secret: string,
): UnsubscribeLinks {
  const token = unsubscribeToken(secret, address);
  const mailto = `mailto:${settings.unsubscribeMailto.address}?subject=${enc(`unsubscribe ${token}`)}`;
  const https = settings.unsubscribeLink
    ? settings.unsubscribeLink({ token: enc(token), email: enc(address) })
    : null;
  return { token, mailto, https };
}

export interface MessageInput {
  key: string;
  kind: string;
  marketing: boolean;
  recipient: string;
  payload: unknown;
  /** The outbox row and its customer: serve's links are signed for them (absent: no serve links). */
  outboxId?: number;
  customerId?: number | null;
}

/** serve's links in one message: the cart page (cart emails) and one-click unsubscribe. */
export interface ServeLinks {
  cart: string;
  unsubscribe: string;
}

/**
 * The signed links to `comeback serve` (issue 18) for one outbox row, valid `links.expiry_days`
 * after `now`; null without `links.base_url`, a secret, or the row and customer to bind them to
 * (a preview of a cart not queued yet): the message then keeps links.cart / links.unsubscribe.
 */
export function serveLinks(settings: MessageSettings, input: MessageInput, now: string): ServeLinks | null {
  if (settings.serve === null || settings.secret === null) return null;
  const base = settings.serve.baseUrl;
  if (input.outboxId === undefined || input.customerId === undefined || input.customerId === null)
    return null;
  const claims = {
    outboxId: input.outboxId,
    customerId: input.customerId,
    expiresAt: linkExpiry(Date.parse(now) / 1000, settings.serve.expiryDays),
  };
  return {
    cart: `${base}/c/${signLink(settings.secret, { ...claims, purpose: "cart" })}`,
    unsubscribe: `${base}/u/${signLink(settings.secret, { ...claims, purpose: "unsub" })}`,
  };
}

/** Builds the email for one outbox row. `now` is the Date header. */
export function buildMessage(
  input: MessageInput,
  renderer: Renderer,
  settings: MessageSettings,
  now: string,
): OutgoingMessage {
  const shop = { name: settings.from.name || settings.from.address.split("@")[1]! };
  const headers: [string, string][] = [["X-Comeback-Key", input.key]];
  let context: Record<string, unknown>;
  let locale: string | null = null;
  let toName = "";
  const customer = (input.payload as { customer?: CartPayload["customer"] }).customer;
  const served = customer ? serveLinks(settings, input, now) : null;
  if (customer) {
    // A message to a customer (a cart, a win-back): their language and name.
    locale = customer.locale;
    toName = customer.name ?? "";
    context = { ...(input.payload as Record<string, unknown>), shop, greeting_name: greetingName(customer) };
    // A follow-up (src/deliver/followups.ts) carries the cart email's payload: the same words and link.
    if (input.kind === "cart" || input.kind === "followup") {
      const cart = input.payload as CartPayload;
      Object.assign(context, cartWords(cart, dayString(localDayOf(now, settings.zone))));
      context.cart_url = served ? served.cart : cartUrl(settings, cart);
    }
  } else {
    context = { ...(input.payload as Record<string, unknown>), shop };
    headers.push(["Auto-Submitted", "auto-generated"]);
  }
  if (input.marketing) {
    if (settings.secret === null) throw new Error("buildMessage: marketing email without a secret");
    const links = unsubscribeLinks(settings, input.recipient, settings.secret);
    if (served) links.https = served.unsubscribe;
    context.unsubscribe_url = links.https ?? links.mailto;
    headers.push([
      "List-Unsubscribe",
      links.https ? `<${links.mailto}>, <${links.https}>` : `<${links.mailto}>`,
    ]);
    if (links.https) headers.push(["List-Unsubscribe-Post", "List-Unsubscribe=One-Click"]);
  }
  if (customer) addTracking(context, input, customer.id, settings, now);
  const rendered = renderer.render(input.kind, locale, context);
  const domain = settings.from.address.split("@")[1]!;
  const messageId = messageIdFor(input.key, domain);
  const raw = composeEmail({
    from: settings.from,
    to: { name: toName, address: input.recipient },
    subject: rendered.subject,
    text: rendered.text,
    html: rendered.html,
    messageId,
    date: now,
    headers,
  });
  return { raw, messageId, envelope: { from: settings.from.address, to: input.recipient }, rendered };
}

/**
 * Tracking for an email to a customer (issue 18), when `links.base_url` is set: the open pixel
 * (`tracking_pixel_url`, which the layout puts at the end of the HTML) and the links the email offers
 * (the cart button, items' and favourite products' `url` when they have one) wrapped in signed click
 * redirects. Never the unsubscribe link: it must work without serve's redirect and must not count as
 * interest. Links expire `links.expiry_days` after the email is built.
 */
export function addTracking(
  context: Record<string, unknown>,
  input: MessageInput,
  customerId: number,
  settings: MessageSettings,
  now: string,
): void {
  const tracking = settings.serve;
  if (!tracking || settings.secret === null || input.outboxId === undefined || !input.marketing) return;
  const secret = settings.secret;
  const claims = {
    outboxId: input.outboxId,
    customerId,
    expiresAt: linkExpiry(Date.parse(now) / 1000, tracking.expiryDays),
  };
  const wrap = (url: unknown) =>
    typeof url === "string" && isHttpUrl(url) ? clickUrl(tracking.baseUrl, secret, claims, url) : url;
  context.tracking_pixel_url = pixelUrl(tracking.baseUrl, secret, claims);
  if (context.cart_url) context.cart_url = wrap(context.cart_url);
  for (const key of ["items", "favourite_products"]) {
    const list = context[key];
    if (!Array.isArray(list)) continue;
    context[key] = list.map((item: Record<string, unknown>) =>
      item && typeof item === "object" && typeof item.url === "string"
        ? { ...item, url: wrap(item.url) }
        : item,
    );
  }
}

export function cartPayload(
  cart: Cart,
  week: { week: string; monday: string; sunday: string },
  customer: CartPayload["customer"],
): CartPayload {
  return {
    week: week.week,
    week_start: week.monday,
    week_end: week.sunday,
    customer,
    items: cart.items,
    item_count: cart.items.length,
    currency: cart.currency,
    total_minor: cart.total_minor,
    ...(cart.last_order_at ? { last_order_at: cart.last_order_at } : {}),
  };
}
