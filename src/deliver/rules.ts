/**
 * The rules a message passes before it is sent, in this order:
 *
 * 1. Consent (marketing only), which ends the message `skipped`: no address, an unusable address,
 *    a suppressed address, a customer who opted out, or (with `consent.require_opt_in`) one who never
 *    opted in.
 * 2. Frequency cap (marketing only): at most one marketing email per customer within
 *    `delivery.min_hours_between`, counting sent messages and those in flight; a message over the cap
 *    waits until the first allowed time, never dropped.
 * 3. Send window (marketing only): outside `delivery.window` in the shop's timezone, it waits for
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
  "no email address" | "invalid email address" | "suppressed" | "opted out" | "no opt-in";
export type DeferReason = "frequency cap" | "send window";

export interface RuleSettings {
  zone: string;
  window: SendWindow;
  minHoursBetween: number;
  requireOptIn: boolean;
}

export class Rules {
  private readonly consent;

  constructor(
    db: Db,
    private readonly outbox: Outbox,
    private readonly settings: RuleSettings,
  ) {
    this.consent = db.prepare<[number], { accepts_marketing: number | null }>(
      "SELECT accepts_marketing FROM customers WHERE id = ?",
    );
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
        reason: "suppressed",
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
