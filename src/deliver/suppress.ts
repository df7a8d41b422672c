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
