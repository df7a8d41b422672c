/**
 * `comeback preview`: one email rendered exactly as `weekly` would send it, without queueing it.
 * A message already in the outbox is rendered from its stored payload (what was or will be sent);
 * otherwise the cart is drafted from the reminders due by the end of the week.
 */
import type { Config } from "../config/schema.js";
import { InputMissingError, UsageError } from "../errors.js";
import { customerKeys, resolveCustomer, type CustomerKeys } from "../store/customers.js";
import type { Db } from "../store/open.js";
import { draftCarts } from "./carts.js";
import { isoWeekOf } from "./clock.js";
import { buildMessage, cartPayload, type OutgoingMessage } from "./message.js";
import type { DeliverySetup } from "./setup.js";
import { digestPayload } from "./weekly.js";

export const PREVIEW_KINDS = ["cart", "digest"] as const;
export type PreviewKind = (typeof PREVIEW_KINDS)[number];

export interface Preview {
  key: string;
  recipient: string;
  /** Whether it was rendered from a message already in the outbox. */
  queued: boolean;
  /** Whom it is for (null for the operator's digest). */
  customer: CustomerKeys | null;
  message: OutgoingMessage;
}

export function previewEmail(
  db: Db,
  config: Pick<Config, "timezone" | "currency" | "operator">,
  setup: DeliverySetup,
  kind: PreviewKind,
  customerId: string | undefined,
  now: string,
): Preview {
  const week = isoWeekOf(now, config.timezone);
  const stored = db.prepare<
    [string],
    { id: number; customer_id: number | null; payload: string; recipient: string | null }
  >("SELECT id, customer_id, payload, recipient FROM outbox WHERE idempotency_key = ?");
  let key: string;
  let recipient: string;
  let payload: unknown;
  let queued = false;
  let who: CustomerKeys | null = null;
  // serve's signed links need the outbox row: a cart not queued yet previews with links.cart instead.
  let outboxRow: { outboxId?: number; customerId?: number | null } = {};
  if (kind === "cart") {
    if (customerId === undefined) throw new UsageError("preview cart needs --customer ID|EMAIL");
    const found = resolveCustomer(db, customerId);
    who = customerKeys(found);
    const customer = {
      id: found.id,
      external_id: found.external_id,
      first_name: found.first_name,
      name: found.name,
      email: found.email,
      locale: found.locale,
    };
    key = `cart:${customer.id}:${week.week}`;
    const row = stored.get(key);
    if (row) {
      payload = JSON.parse(row.payload);
      queued = true;
      outboxRow = { outboxId: row.id, customerId: row.customer_id };
    } else {
      const [cart] = [...draftCarts(db, week, { defaultCurrency: config.currency, customerId: customer.id })];
      if (!cart) {
        throw new InputMissingError(
          `customer "${customerId}" has no open reminder due by ${week.sunday} (the end of ${week.week}): there is no cart to show. Run comeback plan after an import, or try a later --now`,
        );
      }
      payload = cartPayload(cart, week, customer);
    }
    recipient = customer.email ?? "no-address@invalid.example";
  } else {
    key = `digest:${week.week}`;
    const row = stored.get(key);
    payload = row ? JSON.parse(row.payload) : digestPayload(db, week);
    queued = Boolean(row);
    recipient = config.operator.email?.address ?? "operator@invalid.example";
  }
  const message = buildMessage(
    { key, kind, marketing: kind === "cart", recipient, payload, ...outboxRow },
    setup.renderer,
    setup.settings,
    now,
  );
  return { key, recipient, queued, customer: who, message };
}
