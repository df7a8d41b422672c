/**
 * Unsubscribing: an address goes into `suppressions`, which every marketing email is checked against
 * before it is sent. Requests come as signed tokens (from the List-Unsubscribe mailto, whose subject is
 * "unsubscribe TOKEN", or from the shop's own page) or, from the admin, as plain addresses.
 */
import { DataError } from "../errors.js";
import type { Db } from "../store/open.js";
import { ADDRESS } from "./mime.js";
import { Outbox } from "./outbox.js";
import { verifyUnsubscribeToken } from "./unsubscribe.js";

export interface SuppressResult {
  address: string;
  /** False when the address was already suppressed. */
  added: boolean;
}

/**
 * Suppresses each token's or address's owner; all or nothing: one bad token and nothing is written.
 * `secret` is needed only for tokens.
 */
export function suppressAll(
  db: Db,
  items: readonly string[],
  options: { secret: () => string; reason: string; now: string },
): SuppressResult[] {
  const resolved = items.map((item) => {
    const text = item.trim().replace(/^unsubscribe\s+/i, "");
    if (text.includes("@")) {
      const address = text.toLowerCase();
      if (!ADDRESS.test(address)) throw new DataError(`"${item}" is not an email address`);
      return { address, source: "admin" };
    }
    const address = verifyUnsubscribeToken(options.secret(), text);
    if (address === null) {
      throw new DataError(
        `"${item}" is not a valid unsubscribe token (altered, truncated, or signed with another secret): nothing was written`,
      );
    }
    return { address, source: "unsubscribe" };
  });
  const outbox = new Outbox(db);
  const has = db.prepare<[string], number>("SELECT 1 FROM suppressions WHERE address = ?").pluck();
  return db.transaction(() =>
    resolved.map(({ address, source }) => {
      const added = has.get(address) === undefined;
      if (added) outbox.suppress(address, options.reason, source, options.now);
      return { address, added };
    }),
  )();
}

export interface Suppression {
  address: string;
  reason: string;
  /** bounce (the server refused the address), unsubscribe (their own token), admin (given by hand). */
  source: string;
  created_at: string;
}

/** Sources as they read today: the server's refusals were stored as "smtp" before they were "bounce". */
const sourceName = (source: string) => (source === "smtp" ? "bounce" : source);

/** Every suppression, newest first, optionally of one source. */
export function listSuppressions(db: Db, source?: string): Suppression[] {
  return db
    .prepare<[], Suppression>(
      "SELECT address, reason, source, created_at FROM suppressions ORDER BY created_at DESC, address",
    )
    .all()
    .map((row) => ({ ...row, source: sourceName(row.source) }))
    .filter((row) => source === undefined || row.source === source);
}

export interface LiftResult {
  address: string;
  /** What was lifted (null: the address was not suppressed). */
  was: Suppression | null;
  /** True when it was (or, in a dry run, would be) lifted. */
  lifted: boolean;
}

/**
 * Lifts the suppressions of these addresses; all or nothing. An address that unsubscribed itself is
 * lifted only with `unsubscribed` set: it is the customer's own word, which only the customer takes back.
 */
export function liftSuppressions(
  db: Db,
  addresses: readonly string[],
  options: { dryRun: boolean; unsubscribed: boolean },
): LiftResult[] {
  const get = db.prepare<[string], Suppression>(
    "SELECT address, reason, source, created_at FROM suppressions WHERE address = ?",
  );
  const results = addresses.map((item) => {
    const address = item.trim().toLowerCase();
    if (!ADDRESS.test(address)) throw new DataError(`"${item}" is not an email address`);
    const row = get.get(address);
    const was = row ? { ...row, source: sourceName(row.source) } : null;
    return { address, was, lifted: was !== null };
  });
  const own = results.filter((r) => r.was?.source === "unsubscribe");
  if (own.length > 0 && !options.unsubscribed) {
    throw new DataError(
      `${own.map((r) => r.address).join(", ")} unsubscribed themselves: lift only when they asked for email again, ` +
        "with --unsubscribed-too; nothing was changed",
    );
  }
  if (!options.dryRun) {
    const remove = new Outbox(db);
    db.transaction(() => results.forEach((r) => r.lifted && remove.unsuppress(r.address)))();
  }
  return results;
}
