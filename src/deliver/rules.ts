/**
 * The rules a message passes before it is sent, in this order:
 *
 * 1. Consent (marketing only), which ends the message `skipped`: no address, an unusable address,
 *    a suppressed address, a customer who opted out, or (with `consent.require_opt_in`) one who never
 *    opted in.
 * 2. The message's reason still holds (marketing only), else it ends `skipped`, with the reason
 *    counted: the customer ordered again since it was queued (`reordered`: an order placed after the
 *    newest one the message knew of, and not after now), a cart whose reminders have all ended since
 *    (`reminder no longer open`: satisfied, paused, or about another purchase now), a win-back mail to
 *    a customer no longer warm, cold or lost (`no longer lapsed`). The 72 h frequency cap can hold a
 *    queued win-back mail for days, long enough for a new order to arrive.
 * 3. Frequency cap (marketing only): at most one marketing email per customer within
 *    `delivery.min_hours_between`, counting sent messages and those in flight; a message over the cap
 *    waits until the first allowed time, never dropped.
 * 4. Send window (marketing only): outside `delivery.window` in the shop's timezone, it waits for
 *    the next opening.
 *
 * Messages to the operator (the digest) are not marketing: none of this applies to them.
 */
import type { Db } from "../store/open.js";
import { addHours, nextWindowOpening, type SendWindow } from "./clock.js";
import { ADDRESS } from "./mime.js";
import type { Outbox, OutboxRow } from "./outbox.js";

export type Decision =
  | { action: "send" }
  | { action: "skip"; reason: SkipReason; detail: string }
  | { action: "defer"; until: string; reason: DeferReason };

export type SkipReason =
  | "no email address"
  | "invalid email address"
  | "suppressed"
  | "unsubscribed"
  | "opted out"
  | "no opt-in"
  | "reordered"
  | "reminder no longer open"
  | "no longer lapsed";
export type DeferReason = "frequency cap" | "send window";

export interface RuleSettings {
  zone: string;
  window: SendWindow;
  minHoursBetween: number;
  requireOptIn: boolean;
}

/** What a cart or win-back payload tells about why it was queued (older payloads lack the optional parts). */
interface PurposePayload {
  /** The newest order of the customer the message knew of (carts since this field exists). */
  last_order_at?: string;
  items?: { group_key: string; last_purchase_on?: string }[];
}

export class Rules {
  private readonly consent;
  private readonly statements;

  constructor(
    db: Db,
    private readonly outbox: Outbox,
    private readonly settings: RuleSettings,
  ) {
    this.consent = db.prepare<[number], { accepts_marketing: number | null }>(
      "SELECT accepts_marketing FROM customers WHERE id = ?",
    );
    this.statements = {
      // Without a known last order: the newest one placed by the time it was queued.
      lastOrderAt: db
        .prepare<[number, string], string | null>(
          `SELECT max(placed_at) FROM orders
            WHERE customer_id = ? AND status_class <> 'cancelled' AND placed_at <= ?`,
        )
        .pluck(),
      orderedBetween: db
        .prepare<[number, string, string], number>(
          `SELECT 1 FROM orders
            WHERE customer_id = ? AND status_class <> 'cancelled' AND placed_at > ? AND placed_at <= ? LIMIT 1`,
        )
        .pluck(),
      reminder: db.prepare<[number, string], { state: string; last_purchase_on: string }>(
        "SELECT state, last_purchase_on FROM reminders WHERE customer_id = ? AND group_key = ?",
      ),
      lifecycle: db.prepare<[number], { status: string; last_order_at: string | null }>(
        `SELECT l.status, (SELECT o.placed_at FROM orders o WHERE o.id = l.last_order_id) AS last_order_at
           FROM customer_lifecycle l WHERE l.customer_id = ?`,
      ),
    };
  }

  /** Why a queued cart or win-back mail should no longer go, or null when its reason still holds. */
  private purposeGone(row: OutboxRow, customerId: number, now: string): Decision | null {
    // A follow-up carries its cart email's payload: it goes only while the cart would.
    const cart = row.kind === "cart" || row.kind === "followup";
    const winback = row.kind.startsWith("winback");
    if (!cart && !winback) return null;
    const payload = JSON.parse(row.payload) as PurposePayload;
    const lifecycle = winback ? this.statements.lifecycle.get(customerId) : undefined;
    const known =
      payload.last_order_at ??
      lifecycle?.last_order_at ??
      this.statements.lastOrderAt.get(customerId, row.created_at) ??
      "";
    if (this.statements.orderedBetween.get(customerId, known, now) !== undefined) {
      return {
        action: "skip",
        reason: "reordered",
        detail: `the customer ordered again after ${known || "it was queued"}`,
      };
    }
    if (cart && payload.items && payload.items.length > 0) {
      const live = payload.items.some((item) => {
        const reminder = this.statements.reminder.get(customerId, item.group_key);
        return (
          reminder?.state === "open" &&
          (item.last_purchase_on === undefined || reminder.last_purchase_on === item.last_purchase_on)
        );
      });
      if (!live) {
        return {
          action: "skip",
          reason: "reminder no longer open",
          detail: "none of the cart's reminders is open any more (satisfied, paused, or replaced since)",
        };
      }
    }
    if (winback && lifecycle && !["warm", "cold", "lost"].includes(lifecycle.status)) {
      return {
        action: "skip",
        reason: "no longer lapsed",
        detail: `the customer is ${lifecycle.status.replace("_", " ")} now, no longer warm, cold or lost`,
      };
    }
    return null;
  }

  private lastNow = "";
  private lastOpening: string | null = null;

  /** The window for `now`, remembered: a batch asks for the same second thousands of times. */
  private windowOpening(now: string): string | null {
    if (now !== this.lastNow) {
      this.lastOpening = nextWindowOpening(now, this.settings.window, this.settings.zone);
      this.lastNow = now;
    }
    return this.lastOpening;
  }

  check(row: OutboxRow, now: string): Decision {
    if (!row.marketing) return { action: "send" };
    const address = row.recipient;
    if (!address)
      return { action: "skip", reason: "no email address", detail: "the customer has no email address" };
    if (!ADDRESS.test(address)) {
      return { action: "skip", reason: "invalid email address", detail: `not a usable address: ${address}` };
    }
    const suppressed = this.outbox.suppression(address);
    if (suppressed) {
      return {
        action: "skip",
        reason: suppressed.source === "unsubscribe" ? "unsubscribed" : "suppressed",
        detail: `suppressed (${suppressed.source}): ${suppressed.reason}`,
      };
    }
    if (row.customer_id !== null) {
      const consent = this.consent.get(row.customer_id)?.accepts_marketing ?? null;
      if (consent === 0)
        return { action: "skip", reason: "opted out", detail: "the customer does not accept marketing" };
      if (consent === null && this.settings.requireOptIn) {
        return {
          action: "skip",
          reason: "no opt-in",
          detail: "the customer never opted in, and consent.require_opt_in is true",
        };
      }
      const gone = this.purposeGone(row, row.customer_id, now);
      if (gone) return gone;
      if (this.settings.minHoursBetween > 0) {
        const last = this.outbox.lastMarketingAt(row.customer_id, row.id);
        if (last !== null) {
          const allowed = addHours(last, this.settings.minHoursBetween);
          if (allowed > now) return { action: "defer", until: allowed, reason: "frequency cap" };
        }
      }
    }
    const opening = this.windowOpening(now);
    if (opening !== null) return { action: "defer", until: opening, reason: "send window" };
    return { action: "send" };
  }
}
