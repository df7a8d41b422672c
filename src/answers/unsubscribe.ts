/**
 * Unsubscribing from serve (issue 18): the page's button or the mail client's RFC 8058 one-click
 * POST. The link names the message; its recipient goes on the suppression list at once (the same
 * list `comeback unsubscribe` and the mailto fill, source `unsubscribe`: the customer's own word).
 */
import type { Db } from "../store/open.js";
import { Outbox } from "../deliver/outbox.js";
import { recordEvent } from "../track/events.js";

/**
 * Suppresses the recipient of outbox row `outboxId`; null when the row is not this customer's (the
 * caller shows the 403 page). `added` is false when the address was already suppressed.
 */
export function unsubscribeRecipient(
  db: Db,
  outboxId: number,
  customerId: number,
  options: { now: string; how: "page" | "one-click" },
): { added: boolean } | null {
  const row = db
    .prepare<[number], { customer_id: number | null; recipient: string | null; marketing: number }>(
      "SELECT customer_id, recipient, marketing FROM outbox WHERE id = ?",
    )
    .get(outboxId);
  if (!row || row.customer_id !== customerId || row.marketing !== 1) return null;
  return db
    .transaction(() => {
      const added =
        row.recipient !== null &&
        new Outbox(db).suppress(
          row.recipient,
          options.how === "one-click"
            ? "unsubscribed with one click (List-Unsubscribe-Post)"
            : "unsubscribed on the page",
          "unsubscribe",
          options.now,
        );
      // Once per address: a second click (or the mail client retrying) is no new answer.
      if (added)
        recordEvent(db, {
          outboxId,
          customerId,
          kind: "unsubscribed",
          at: options.now,
          detail: { how: options.how },
        });
      return { added };
    })
    .immediate();
}
