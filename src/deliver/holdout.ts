/**
 * Hold-out groups (issue 18): each week, a share (`holdout.share`, 10 %) of the customers with a new
 * cart and an address get no cart email, so the report can compare them with those emailed and
 * measure what the emails add (lift), not what customers would have bought anyway.
 *
 * Who is held out is a stable hash of the customer and the ISO week, keyed with the config secret:
 * the same customer and week always get the same answer (a rerun, a replay, a dry run all agree), a
 * customer is held out in some weeks and not others (nobody is never mailed), and without the secret
 * nobody can tell in advance who will be (so nobody games it, and the groups stay comparable).
 */
import { createHmac } from "node:crypto";

const CONTEXT = "comeback-holdout-v1\u0000";

/** A number in [0, 1), uniform over customers and weeks, fixed for each pair. */
export function holdoutScore(secret: string, customerId: number, week: string): number {
  const digest = createHmac("sha256", secret).update(`${CONTEXT}${customerId}\u0000${week}`).digest();
  // 48 bits: exact in a double, and far finer than any share a shop would set.
  return digest.readUIntBE(0, 6) / 2 ** 48;
}

export function isHeldOut(secret: string, customerId: number, week: string, share: number): boolean {
  return share > 0 && holdoutScore(secret, customerId, week) < share;
}
