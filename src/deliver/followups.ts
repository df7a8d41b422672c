/**
 * Follow-ups for silence (issue 18). A cart email that gets no answer gets at most one follow-up for
 * each stage of silence, counted from the last thing the customer did (human events only, see
 * src/track/machine.ts), across the cart email and its follow-ups:
 *
 *   not_opened   nothing opened `followups.not_opened_days` after the cart email was delivered
 *   not_clicked  opened, nothing clicked `followups.not_clicked_days` after the first open
 *   no_decision  clicked or viewed the cart, no answer `followups.no_decision_days` after that
 *
 * Each is queued once (`followup:<cart outbox id>:<stage>`) through the same outbox, so consent,
 * suppressions, the frequency cap and the send window apply as to any marketing email, and the send
 * rules skip it when the customer ordered again or the cart's reminders closed since.
 *
 * The chain stops for good on: confirm, postpone or unsubscribe (events), a suppressed address, an
 * order placed after the cart email that contains one of its items (by sku or replenishment group),
 * a newer cart email to the customer, or the cart email's links having expired (`links.expiry_days`).
 * It waits while a follow-up of the chain is still queued. Without `links.base_url` there is no
 * tracking, every email would look unopened: nothing is queued.
 */
import type { Config } from "../config/schema.js";
import type { Db } from "../store/open.js";
import type { CartPayload } from "./message.js";
import { Outbox } from "./outbox.js";

export const TEMPLATES_MISSING = "templates.dir has no followup/ templates";

export const FOLLOWUP_STAGES = ["not_opened", "not_clicked", "no_decision"] as const;
export type FollowupStage = (typeof FOLLOWUP_STAGES)[number];

export const STOP_REASONS = [
  "confirmed",
  "postponed",
  "unsubscribed",
  "suppressed",
  "purchased",
  "newer cart email",
  "links expired",
] as const;
export type StopReason = (typeof STOP_REASONS)[number];

/** What a `followup` email is rendered from: the cart email's payload, and which silence it answers. */
export type FollowupPayload = CartPayload & {
  stage: FollowupStage;
  /** The outbox row of the cart email it follows. */
  cart_outbox_id: number;
  not_opened: boolean;
  not_clicked: boolean;
  no_decision: boolean;
};

export interface FollowupReport {
  now: string;
  /** False: `followups.enabled` is false or `links.base_url` unset; `reason` says which. */
  enabled: boolean;
  reason: string | null;
  /** Cart emails looked at (delivered within the links' lifetime). */
  checked: number;
  queued: Record<FollowupStage, number>;
  /** Chains that ended, by why. */
  stopped: Partial<Record<StopReason, number>>;
  /** Chains waiting: a stage not due yet, a follow-up queued, or the stage's follow-up already sent. */
  waiting: number;
  messages: { key: string; customer_id: number; stage: FollowupStage; cart_outbox_id: number }[];
}

type FollowupConfig = Pick<Config, "followups" | "links">;

interface CartEmail {
  id: number;
  customer_id: number;
  recipient: string | null;
  payload: string;
  sent_at: string;
}

interface ThreadFacts {
  /** The first human open, click or cart view, and the answer events, over the cart email and its follow-ups. */
  first_open: string | null;
  first_click: string | null;
  answered: string | null;
  /** A follow-up of the chain not yet sent (queued, or in flight). */
  pending: number;
}

const DAY_MS = 86_400_000;
const addDays = (iso: string, days: number) => new Date(Date.parse(iso) + days * DAY_MS).toISOString();

/** The follow-ups due at `now`, and why the others are not; queues them unless `dryRun`. */
export function queueFollowups(
  db: Db,
  config: FollowupConfig,
  now: string,
  options: {
    dryRun?: boolean;
    /** The message kinds the templates folder has (Renderer.kinds): a folder without `followup/` gets none. */
    templateKinds?: readonly string[];
  } = {},
): FollowupReport {
  const report: FollowupReport = {
    now,
    enabled: false,
    reason: null,
    checked: 0,
    queued: { not_opened: 0, not_clicked: 0, no_decision: 0 },
    stopped: {},
    waiting: 0,
    messages: [],
  };
  if (!config.followups.enabled) {
    report.reason = "followups.enabled is false";
    return report;
  }
  if (config.links.base_url === null) {
    report.reason = "links.base_url is unset: without tracking nobody can be told opened from not";
    return report;
  }
  if (options.templateKinds && !options.templateKinds.includes("followup")) {
    // A templates folder copied by `comeback init` before follow-ups existed: queueing them would stop
    // every send at the first one with a template error.
    report.reason = `${TEMPLATES_MISSING}: copy templates/followup/ from a fresh \`comeback init DIR\` into templates.dir`;
    return report;
  }
  report.enabled = true;
  const since = addDays(now, -config.links.expiry_days);
  const carts = db
    .prepare<[string, string], CartEmail>(
      `SELECT id, customer_id, recipient, payload, sent_at FROM outbox
        WHERE kind = 'cart' AND state = 'sent' AND customer_id IS NOT NULL AND sent_at >= ? AND sent_at <= ?
        ORDER BY id`,
    )
    .all(since, now);
  // @prefix is the follow-ups' key prefix as text: a number bound from JS is a REAL in SQLite, and
  // 'followup:' || 1.0 would never match.
  const thread = `(SELECT @id UNION ALL SELECT id FROM outbox WHERE idempotency_key LIKE @prefix)`;
  const facts = db.prepare<Record<string, unknown>, ThreadFacts>(
    `SELECT
       (SELECT min(at) FROM events WHERE outbox_id IN ${thread} AND machine = 0
           AND kind IN ('opened', 'clicked', 'cart_viewed') AND at <= @now) AS first_open,
       (SELECT min(at) FROM events WHERE outbox_id IN ${thread} AND machine = 0
           AND kind IN ('clicked', 'cart_viewed') AND at <= @now) AS first_click,
       (SELECT group_concat(DISTINCT kind) FROM events WHERE outbox_id IN ${thread}
           AND kind IN ('confirmed', 'postponed', 'unsubscribed') AND at <= @now) AS answered,
       (SELECT count(*) FROM outbox WHERE idempotency_key LIKE @prefix
           AND state IN ('queued', 'sending')) AS pending`,
  );
  const suppressed = db.prepare<[string], number>("SELECT 1 FROM suppressions WHERE address = ?").pluck();
  const newerCart = db
    .prepare<[number, number, string], number>(
      "SELECT 1 FROM outbox WHERE kind = 'cart' AND customer_id = ? AND id > ? AND state = 'sent' AND sent_at <= ? LIMIT 1",
    )
    .pluck();
  const purchased = db
    .prepare<[number, string, string, string, string], number>(
      `SELECT 1 FROM orders o JOIN order_lines l ON l.order_id = o.id
         LEFT JOIN products p ON p.sku = l.sku
        WHERE o.customer_id = ? AND o.status_class <> 'cancelled' AND o.placed_at > ? AND o.placed_at <= ?
          AND (l.sku IN (SELECT value FROM json_each(?))
               OR coalesce(p.group_key, l.sku) IN (SELECT value FROM json_each(?)))
        LIMIT 1`,
    )
    .pluck();
  const exists = db.prepare<[string], number>("SELECT 1 FROM outbox WHERE idempotency_key = ?").pluck();
  const outbox = new Outbox(db);
  const stop = (reason: StopReason) => (report.stopped[reason] = (report.stopped[reason] ?? 0) + 1);

  for (const cart of carts) {
    report.checked++;
    const payload = JSON.parse(cart.payload) as CartPayload;
    const f = facts.get({ id: cart.id, prefix: `followup:${cart.id}:%`, now })!;
    const answered = f.answered?.split(",") ?? [];
    if (answered.includes("confirmed")) stop("confirmed");
    else if (answered.includes("postponed")) stop("postponed");
    else if (answered.includes("unsubscribed")) stop("unsubscribed");
    else if (cart.recipient !== null && suppressed.get(cart.recipient.toLowerCase()) !== undefined)
      stop("suppressed");
    else if (
      purchased.get(
        cart.customer_id,
        cart.sent_at,
        now,
        JSON.stringify(payload.items.map((item) => item.sku).filter((sku) => sku !== null)),
        JSON.stringify(payload.items.map((item) => item.group_key)),
      ) !== undefined
    )
      stop("purchased");
    else if (newerCart.get(cart.customer_id, cart.id, now) !== undefined) stop("newer cart email");
    else {
      const stage = stageOf(config, cart.sent_at, f);
      const key = `followup:${cart.id}:${stage.stage}`;
      if (addDays(cart.sent_at, config.links.expiry_days) <= stage.due) stop("links expired");
      else if (f.pending > 0 || stage.due > now || exists.get(key) !== undefined) report.waiting++;
      else {
        const followup: FollowupPayload = {
          ...payload,
          stage: stage.stage,
          cart_outbox_id: cart.id,
          not_opened: stage.stage === "not_opened",
          not_clicked: stage.stage === "not_clicked",
          no_decision: stage.stage === "no_decision",
        };
        if (!options.dryRun)
          outbox.enqueue(
            {
              key,
              kind: "followup",
              marketing: true,
              customerId: cart.customer_id,
              recipient: cart.recipient,
              payload: followup,
            },
            now,
          );
        report.queued[stage.stage]++;
        report.messages.push({
          key,
          customer_id: cart.customer_id,
          stage: stage.stage,
          cart_outbox_id: cart.id,
        });
      }
    }
  }
  return report;
}

/** Which silence the chain is in, and from when its follow-up is due. */
export function stageOf(
  config: Pick<Config, "followups">,
  sentAt: string,
  facts: Pick<ThreadFacts, "first_open" | "first_click">,
): { stage: FollowupStage; due: string } {
  const days = config.followups;
  if (facts.first_click !== null)
    return { stage: "no_decision", due: addDays(facts.first_click, days.no_decision_days) };
  if (facts.first_open !== null)
    return { stage: "not_clicked", due: addDays(facts.first_open, days.not_clicked_days) };
  return { stage: "not_opened", due: addDays(sentAt, days.not_opened_days) };
}
