/**
 * How a command names a customer (`--customer`) and how every JSON row names one, in one place.
 *
 * On the command line: the shop's customer id (as in the export), else the email (compared trimmed
 * and lower-cased), else `#N`, comeback's own id (`comeback_id` in the listings; for a guest the
 * shop gave no id). A bare number is only ever the shop's id: the UK retailer's ids are numbers, and
 * taking "12" for comeback's customer 12 when the shop has no customer 12 would name someone else.
 *
 * In a JSON row: `customer_id` is the shop's id (null when the shop gave none), `email` the address
 * as the shop wrote it, `comeback_id` comeback's own id.
 */
import { DataError } from "../errors.js";
import type { Db } from "./open.js";

export interface CustomerRef {
  id: number;
  external_id: string | null;
  email: string | null;
  /** The email as the shop wrote it. */
  email_display: string | null;
  first_name: string | null;
  name: string | null;
  locale: string | null;
}

const SELECT =
  "SELECT id, external_id, email, coalesce(email_display, email) AS email_display, first_name, name, locale FROM customers";

export function resolveCustomer(db: Db, text: string): CustomerRef {
  const wanted = text.trim();
  let found = db.prepare<[string], CustomerRef>(`${SELECT} WHERE external_id = ? ORDER BY id`).all(wanted);
  if (found.length === 0)
    found = db
      .prepare<[string], CustomerRef>(`${SELECT} WHERE email = ? ORDER BY id`)
      .all(wanted.toLowerCase());
  const own = /^#(\d+)$/.exec(wanted);
  if (found.length === 0 && own)
    found = db.prepare<[number], CustomerRef>(`${SELECT} WHERE id = ?`).all(Number(own[1]));
  if (found.length === 0) {
    throw new DataError(
      `no customer with the id or email "${wanted}": give the shop's customer id, the email, or #N (comeback_id); or import the orders first`,
    );
  }
  if (found.length > 1) {
    throw new DataError(
      `"${wanted}" names ${found.length} customers (${found.map((c) => `#${c.id}${c.external_id ? ` ${c.external_id}` : ""}`).join(", ")}): use the customer id or #N`,
    );
  }
  return found[0]!;
}

/** The three keys every JSON row names a customer by. */
export interface CustomerKeys {
  customer_id: string | null;
  email: string | null;
  comeback_id: number;
}

export function customerKeys(customer: {
  id: number;
  external_id: string | null;
  email: string | null;
  email_display?: string | null;
}): CustomerKeys {
  return {
    customer_id: customer.external_id,
    email: customer.email_display ?? customer.email,
    comeback_id: customer.id,
  };
}

/** The same keys as SQL columns over `customers c`, for listings (src/store/listing.ts). */
export const CUSTOMER_COLUMNS = [
  ["customer_id", "c.external_id"],
  ["email", "coalesce(c.email_display, c.email)"],
  ["comeback_id", "c.id"],
] as const;
