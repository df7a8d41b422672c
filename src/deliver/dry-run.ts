/**
 * What `weekly --dry-run` reports: the real run's work (plan, carts, queueing and the whole send path:
 * consent, suppressions, the reason still holding, the frequency cap, the send window, rendering)
 * done inside one transaction that is rolled back, with a transport that records instead of sending
 * (recordingTransport). So it says what a real run started now would send, defer and skip, and why;
 * a template that does not render or a missing secret fails it as it would fail the real run.
 */
import type { Db } from "../store/open.js";
import { customerKeys } from "../store/customers.js";
import type { CartPayload } from "./message.js";
import type { MessageOutcome, SendReport } from "./send.js";

/** A kind of mail as the summary groups them: each win-back status's template is "win-back". */
export type KindGroup = "cart" | "win-back" | "digest" | "other";

const KIND_ORDER: readonly KindGroup[] = ["cart", "win-back", "digest", "other"];

export function kindGroup(kind: string): KindGroup {
  if (kind === "cart" || kind === "digest") return kind;
  return kind.startsWith("winback") ? "win-back" : "other";
}

/** One message of a dry run: whom it is for, and what a real run would do with it now. */
export interface WouldSend {
  key: string;
  kind: string;
  /** The customer, named as in every JSON row (all null for the operator's digest). */
  customer_id: string | null;
  email: string | null;
  comeback_id: number | null;
  recipient: string | null;
  /** Items in the cart, products offered in a win-back mail, carts in the digest; null if not queued now. */
  items: number | null;
  outcome: MessageOutcome["outcome"] | "not attempted";
  reason: string | null;
  until: string | null;
  /** A cart's items, as the email lists them; null for other kinds. */
  cart_items: DryRunCartItem[] | null;
}

export interface DryRunCartItem {
  group: string;
  sku: string | null;
  name: string;
  quantity: number;
  due_on: string;
  runs_out_on: string | null;
  reminder_number: number;
}

/** A kind's share of the send report's counts, and where its messages came from. */
export interface KindSummary extends Pick<
  SendReport,
  "sent" | "deferred" | "deferred_reasons" | "skipped" | "skipped_reasons"
> {
  /** Queued by this run. */
  queued: number;
  /** Queued by an earlier run and due now (deferred, or to be retried). */
  from_earlier_runs: number;
  /** Left for a later run (--limit, a signal). */
  not_attempted: number;
}

const bump = (counts: Record<string, number>, key: string) => (counts[key] = (counts[key] ?? 0) + 1);

function emptySummary(): KindSummary {
  return {
    queued: 0,
    from_earlier_runs: 0,
    sent: 0,
    deferred: 0,
    deferred_reasons: {},
    skipped: 0,
    skipped_reasons: {},
    not_attempted: 0,
  };
}

/**
 * The lines and the summary by kind, from what the send path told (outcomes) and what this run
 * queued (`queued`, with their item counts). Call before the rollback: it reads the customers.
 */
export function dryRunReport(
  db: Db,
  queued: readonly { key: string; items: number; recipient: string | null }[],
  outcomes: readonly MessageOutcome[],
): { would_send: WouldSend[]; by_kind: Partial<Record<KindGroup, KindSummary>> } {
  const kindOf = db.prepare<[string], { kind: string; customer_id: number | null; payload: string }>(
    "SELECT kind, customer_id, payload FROM outbox WHERE idempotency_key = ?",
  );
  const cartItems = (key: string): DryRunCartItem[] | null => {
    const row = kindOf.get(key);
    if (row?.kind !== "cart") return null;
    return (JSON.parse(row.payload) as CartPayload).items.map((item) => ({
      group: item.group_key,
      sku: item.sku,
      name: item.name,
      quantity: item.quantity,
      due_on: item.due_on,
      runs_out_on: item.runs_out_on ?? null,
      reminder_number: item.reminder_number,
    }));
  };
  const customer = db.prepare<
    [number],
    { id: number; external_id: string | null; email: string | null; email_display: string | null }
  >("SELECT id, external_id, email, email_display FROM customers WHERE id = ?");
  const keysOf = (id: number | null): Pick<WouldSend, "customer_id" | "email" | "comeback_id"> => {
    const row = id === null ? undefined : customer.get(id);
    return row ? customerKeys(row) : { customer_id: null, email: null, comeback_id: null };
  };
  const itemsByKey = new Map(queued.map((m) => [m.key, m.items]));
  const lines: WouldSend[] = outcomes.map((o) => ({
    key: o.key,
    kind: o.kind,
    ...keysOf(o.customer),
    recipient: o.recipient,
    items: itemsByKey.get(o.key) ?? null,
    outcome: o.outcome,
    reason: o.reason,
    until: o.until,
    cart_items: cartItems(o.key),
  }));
  const told = new Set(outcomes.map((o) => o.key));
  for (const m of queued) {
    if (told.has(m.key)) continue;
    const row = kindOf.get(m.key);
    lines.push({
      key: m.key,
      kind: row?.kind ?? "other",
      ...keysOf(row?.customer_id ?? null),
      recipient: m.recipient,
      items: m.items,
      outcome: "not attempted",
      reason: "left for a later run (--limit or a signal)",
      until: null,
      cart_items: cartItems(m.key),
    });
  }
  const byKind: Partial<Record<KindGroup, KindSummary>> = {};
  // Carts first, then win-back mail, then the digest: the order the summary is read in.
  for (const kind of KIND_ORDER)
    if (lines.some((line) => kindGroup(line.kind) === kind)) byKind[kind] = emptySummary();
  for (const line of lines) {
    const summary = (byKind[kindGroup(line.kind)] ??= emptySummary());
    if (itemsByKey.has(line.key)) summary.queued++;
    else summary.from_earlier_runs++;
    if (line.outcome === "sent") summary.sent++;
    else if (line.outcome === "deferred") {
      summary.deferred++;
      bump(summary.deferred_reasons, line.reason ?? "?");
    } else if (line.outcome === "skipped") {
      summary.skipped++;
      bump(summary.skipped_reasons, line.reason ?? "?");
    } else if (line.outcome === "not attempted") summary.not_attempted++;
  }
  return { would_send: lines, by_kind: byKind };
}
