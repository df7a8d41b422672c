/**
 * Customers are written once per file: the first time one appears they are found or created, their
 * fields are merged in memory as more of their rows arrive, and the changed ones are written at the
 * end. The newest source wins a field; an empty cell never erases a known value.
 */
import type { Db } from "../../store/open.js";
import type { CustomerFields } from "../records.js";

interface CustomerRow {
  id: number;
  external_id: string | null;
  email: string | null;
  email_display: string | null;
  phone: string | null;
  first_name: string | null;
  last_name: string | null;
  name: string | null;
  accepts_marketing: number | null;
  locale: string | null;
  usage_factor: number | null;
  info_as_of: string;
}

/** Stored columns ↔ incoming fields, in one list so merge and update can't drift apart. */
const COLUMNS = [
  ["external_id", "customerId"],
  ["email", "email"],
  ["email_display", "emailDisplay"],
  ["phone", "phone"],
  ["first_name", "firstName"],
  ["last_name", "lastName"],
  ["name", "name"],
  ["accepts_marketing", "acceptsMarketing"],
  ["locale", "locale"],
  ["usage_factor", "usageFactor"],
] as const satisfies readonly (readonly [keyof CustomerRow, keyof CustomerFields])[];

interface CachedCustomer {
  row: CustomerRow;
  dirty: boolean;
  created: boolean;
}

export function identityKey(customer: CustomerFields): string {
  if (customer.customerId !== null) return `id:${customer.customerId}`;
  if (customer.email !== null) return `email:${customer.email}`;
  return `phone:${customer.phone}`;
}

function stored(value: CustomerFields[keyof CustomerFields]): string | number | null {
  if (typeof value === "boolean") return value ? 1 : 0;
  return value;
}

/**
 * How many customers are held at once. Past this the changed ones are written and the cache starts
 * afresh: memory stays bounded on exports with millions of customers, at the cost of reading a
 * customer again if they reappear later in the file.
 */
const MAX_CACHED = 20_000;

export class CustomerWriter {
  private readonly cache = new Map<string, CachedCustomer>();
  private readonly counts = { created: 0, updated: 0, unchanged: 0 };
  private readonly byKey;
  private readonly byEmail;
  private readonly insert;
  private readonly update;

  constructor(
    db: Db,
    private readonly now: string,
  ) {
    this.byKey = db.prepare<[string], CustomerRow>("SELECT * FROM customers WHERE identity_key = ?");
    this.byEmail = db.prepare<[string], CustomerRow>("SELECT * FROM customers WHERE email = ? ORDER BY id");
    this.insert = db.prepare(
      `INSERT INTO customers (identity_key, ${COLUMNS.map(([c]) => c).join(", ")}, info_as_of, created_at, updated_at)
       VALUES (@identity_key, ${COLUMNS.map(([c]) => `@${c}`).join(", ")}, @info_as_of, @now, @now)`,
    );
    this.update = db.prepare(
      `UPDATE customers SET ${COLUMNS.map(([c]) => `${c} = @${c}`).join(", ")}, info_as_of = @info_as_of, updated_at = @now
       WHERE id = @id`,
    );
  }

  /** The customer's row id, creating the customer if new; `asOf` is when these fields were true. */
  resolve(customer: CustomerFields, asOf: string): number {
    const key = identityKey(customer);
    let cached = this.cache.get(key);
    if (!cached) {
      if (this.cache.size >= MAX_CACHED) this.flush();
      const found = this.find(key, customer);
      cached = found
        ? { row: found, dirty: false, created: false }
        : { row: this.create(key, customer, asOf), dirty: false, created: true };
      this.cache.set(key, cached);
    }
    this.merge(cached, customer, asOf);
    return cached.row.id;
  }

  private find(key: string, customer: CustomerFields): CustomerRow | undefined {
    const byKey = this.byKey.get(key);
    if (byKey) return byKey;
    // A customer first known by email may later come with the shop's id (or the other way round):
    // the same email is the same person unless both carry different ids.
    if (customer.email !== null) {
      const sameEmail = this.byEmail.all(customer.email);
      const match = sameEmail.find(
        (row) =>
          row.external_id === null || customer.customerId === null || row.external_id === customer.customerId,
      );
      if (match) return match;
    }
    return undefined;
  }

  private create(key: string, customer: CustomerFields, asOf: string): CustomerRow {
    const values: Record<string, unknown> = { identity_key: key, info_as_of: asOf, now: this.now };
    for (const [column, field] of COLUMNS) values[column] = stored(customer[field]);
    const id = Number(this.insert.run(values).lastInsertRowid);
    return { ...(values as unknown as CustomerRow), id };
  }

  private merge(cached: CachedCustomer, customer: CustomerFields, asOf: string): void {
    const row = cached.row as unknown as Record<string, unknown>;
    const newer = asOf >= cached.row.info_as_of;
    for (const [column, field] of COLUMNS) {
      const value = stored(customer[field]);
      if (value === null || value === row[column]) continue;
      if (row[column] === null || newer) {
        row[column] = value;
        cached.dirty = true;
      }
    }
    if (newer && asOf !== cached.row.info_as_of) {
      cached.row.info_as_of = asOf;
      cached.dirty = true;
    }
  }

  /** Writes the cached customers whose fields changed, counts what happened to them, and empties the cache. */
  private flush(): void {
    for (const cached of this.cache.values()) {
      if (cached.dirty) this.update.run({ ...cached.row, now: this.now });
      if (cached.created) this.counts.created += 1;
      else if (cached.dirty) this.counts.updated += 1;
      else this.counts.unchanged += 1;
    }
    this.cache.clear();
  }

  /** Writes what is left and returns the counts for the file. */
  finish(): { created: number; updated: number; unchanged: number } {
    this.flush();
    return { ...this.counts };
  }
}
