/**
 * Customers: each row that names one is merged into the stored customer as it comes, by SQLite.
 * The newest source wins a field; an empty cell never erases a known value.
 *
 * Why in SQL and not in a cache of rows: an export names a customer on every order, and holding
 * every customer's fields in memory cost about 500 bytes each (50 MB for 100,000 customers), while a
 * bounded cache re-read and re-wrote the customers it had let go. An UPDATE that compares in SQL
 * costs about as much as the lookup it replaces, and memory holds identity → row id (bounded) and the
 * ids of the stored customers the file names, for the counts.
 */
import { deferIndexesIfEmpty } from "../../store/indexes.js";
import type { Db } from "../../store/open.js";
import type { CustomerFields } from "../records.js";

/** Stored columns ↔ incoming fields, in one list so the insert and the merge can't drift apart. */
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
] as const satisfies readonly (readonly [string, keyof CustomerFields])[];

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
 * The merge of one row (`r`) into the stored customer, column by column: a value the row leaves empty,
 * or repeats, keeps what is stored; otherwise the row's value wins when the stored one is empty or the
 * row is at least as new as what the stored fields came from.
 */
const MERGE = COLUMNS.map(
  ([c]) =>
    `${c} = CASE WHEN r.${c} IS NULL OR r.${c} IS customers.${c} THEN customers.${c} ` +
    `WHEN customers.${c} IS NULL OR r.as_of >= customers.info_as_of THEN r.${c} ELSE customers.${c} END`,
).join(",\n");
/** True when MERGE changes a field. */
const FIELDS_CHANGE = COLUMNS.map(
  ([c]) =>
    `(r.${c} IS NOT NULL AND r.${c} IS NOT customers.${c} ` +
    `AND (customers.${c} IS NULL OR r.as_of >= customers.info_as_of))`,
).join(" OR ");

/**
 * How many identities are remembered at once. Past this the memory is cleared and starts afresh:
 * memory stays bounded on exports with millions of customers, at the cost of looking a customer up
 * again if they reappear later in the file.
 */
const MAX_REMEMBERED = 250_000;

export class CustomerWriter {
  /** Identity key → row id, for the customers this file has named so far. */
  private readonly ids = new Map<string, number>();
  /**
   * Customers that existed before this file, and those of them this file changed: for the counts. Both
   * grow with the stored customers a file names (about 20 bytes each), unlike the identities.
   */
  private readonly existingSeen = new Set<number>();
  private readonly existingChanged = new Set<number>();
  /**
   * A hash of every email this file has given a customer. In a shop's first import an email whose
   * hash is not here names nobody yet, so it is not looked up (100,000 queries in the benchmark).
   * A hash, not the email: a number costs a Set less memory than the text. 52 bits, although above
   * 31 V8 keeps each one as a heap number (about 1.6 MB more for 100,000 emails): with 31 bits the
   * benchmark's 100,000 new identities would meet about two false matches, and the first would build
   * the deferred indexes early (a false match costs only that, and one look-up).
   */
  private readonly emailsGiven = new Set<number>();
  /**
   * Builds the email and shop-id indexes that a shop's first import leaves out while it inserts
   * (see deferIndexesIfEmpty): once at the end, or before a look-up needs them. Each new customer's
   * entries went to random pages of them: 1.1 of the writer's 7.5 CPU-seconds in the benchmark.
   */
  private buildIndexes: (() => void) | null;
  /** What the customers this file created were stored with, so that rows repeating it skip the merge. */
  private storedFields = new StoredFields();
  private created = 0;
  /** Customers up to this id were stored before this file; the ones it creates come after. */
  private readonly lastIdBefore: number;
  /**
   * Whether an identity not remembered may be stored: not when the table was empty and nothing was
   * forgotten (then only the email can name a customer this file created under another identity).
   */
  private lookUpUnknown: boolean;
  private readonly statements;

  constructor(
    db: Db,
    private readonly now: string,
  ) {
    this.lastIdBefore = (db.prepare("SELECT max(id) FROM customers").pluck().get() as number | null) ?? 0;
    this.lookUpUnknown = this.lastIdBefore > 0;
    this.buildIndexes = deferIndexesIfEmpty(db, "customers");
    this.statements = {
      byKey: db.prepare<[string], number>("SELECT id FROM customers WHERE identity_key = ?").pluck(),
      byShopId: db
        .prepare<[string], number>("SELECT id FROM customers WHERE external_id = ? ORDER BY id LIMIT 1")
        .pluck(),
      byEmail: db.prepare<[string], { id: number; external_id: string | null }>(
        "SELECT id, external_id FROM customers WHERE email = ? ORDER BY id",
      ),
      insert: db.prepare(
        `INSERT INTO customers (${COLUMNS.map(([c]) => c).join(", ")}, identity_key, info_as_of, created_at, updated_at)
         VALUES (${COLUMNS.map(() => "?").join(", ")}, ?, ?, ?, ?)`,
      ),
      // The row's values come in as a one-row table, so each is bound once, by position.
      merge: db.prepare(
        `UPDATE customers SET ${MERGE}, info_as_of = max(customers.info_as_of, r.as_of), updated_at = r.now
         FROM (SELECT ${COLUMNS.map(([c]) => `? AS ${c}`).join(", ")}, ? AS as_of, ? AS now, ? AS id) AS r
         WHERE customers.id = r.id AND (${FIELDS_CHANGE})`,
      ),
      // A newer row that changes no field still moves info_as_of: an older row must not win over it
      // later. That is not an update of the customer.
      touch: db.prepare("UPDATE customers SET info_as_of = ? WHERE id = ? AND info_as_of < ?"),
    };
  }

  /** The customer's row id, creating the customer if new; `asOf` is when these fields were true. */
  resolve(customer: CustomerFields, asOf: string): number {
    const key = identityKey(customer);
    const values = COLUMNS.map(([, field]) => stored(customer[field]));
    const remembered = this.ids.get(key);
    const id = remembered ?? (this.lookUpUnknown ? this.find(key, customer) : this.findInThisFile(customer));
    if (!this.lookUpUnknown && customer.email !== null) this.emailsGiven.add(hash52([customer.email]));
    if (id === undefined) return this.create(key, values, asOf);
    if (remembered === undefined) this.remember(key, id);
    // A row that repeats the stored fields can only move info_as_of. Any other row goes through SQL's
    // merge, which may still change nothing (an older row, or one whose new cells are all empty).
    const changed = this.storedFields.same(id, values) ? false : this.merge(id, values, asOf);
    if (!changed) this.statements.touch.run(asOf, id, asOf);
    else if (id <= this.lastIdBefore) this.existingChanged.add(id);
    else this.storedFields.forget(id);
    return id;
  }

  /** Merges a row into stored customer `id` by date; true when that changed the customer. */
  private merge(id: number, values: readonly (string | number | null)[], asOf: string): boolean {
    return this.statements.merge.run(...values, asOf, this.now, id).changes > 0;
  }

  private find(key: string, customer: CustomerFields): number | undefined {
    const id = this.statements.byKey.get(key) ?? this.findByShopId(customer) ?? this.findByEmail(customer);
    if (id !== undefined && id <= this.lastIdBefore) this.existingSeen.add(id);
    return id;
  }

  /**
   * A customer first known by email keeps that identity when findByEmail adds the shop's id to them:
   * their old email still names them, and the id finds them here. (Within one file the id is also
   * remembered, so a first import needn't look it up.)
   */
  private findByShopId(customer: CustomerFields): number | undefined {
    if (customer.customerId === null) return undefined;
    this.indexed();
    return this.statements.byShopId.get(customer.customerId);
  }

  /** Before anything was stored: only the email can name a customer this file created under another identity. */
  private findInThisFile(customer: CustomerFields): number | undefined {
    if (customer.email === null || !this.emailsGiven.has(hash52([customer.email]))) return undefined;
    return this.findByEmail(customer);
  }

  /**
   * A customer first known by email may later come with the shop's id (or the other way round): the
   * same email is the same person unless both carry different ids.
   */
  private findByEmail(customer: CustomerFields): number | undefined {
    if (customer.email === null) return undefined;
    this.indexed();
    const match = this.statements.byEmail
      .all(customer.email)
      .find(
        (row) =>
          row.external_id === null || customer.customerId === null || row.external_id === customer.customerId,
      );
    return match?.id;
  }

  private create(key: string, values: (string | number | null)[], asOf: string): number {
    const id = Number(this.statements.insert.run(...values, key, asOf, this.now, this.now).lastInsertRowid);
    this.created += 1;
    this.remember(key, id);
    this.storedFields.add(id, values);
    return id;
  }

  private remember(key: string, id: number): void {
    if (this.ids.size >= MAX_REMEMBERED) {
      this.ids.clear();
      this.lookUpUnknown = true;
      this.emailsGiven.clear(); // from now on every unknown identity is looked up in the database
      this.storedFields = new StoredFields();
    }
    this.ids.set(key, id);
  }

  /** Builds the indexes a first import deferred, if it has not yet. */
  private indexed(): void {
    this.buildIndexes?.();
    this.buildIndexes = null;
  }

  /** The counts for the file: customers created, changed, and named but left as they were. */
  finish(): { created: number; updated: number; unchanged: number } {
    this.indexed();
    return {
      created: this.created,
      updated: this.existingChanged.size,
      unchanged: this.existingSeen.size - this.existingChanged.size,
    };
  }
}

/**
 * The fields of the customers this file created, as a hash each, while the stored row holds exactly
 * the fields it was created with. An export names most customers again and again with the same
 * details; each such row used to cost a merge that changed nothing (1.1 of the writer's 8.8
 * CPU-seconds in the benchmark). Eight bytes a customer, in one array: new customers' ids follow one
 * another, so the slot of a customer is its id less the first one's.
 */
class StoredFields {
  private hashes = new Float64Array(1024);
  private firstId = 0;
  private count = 0;
  private inOrder = true;

  add(id: number, values: readonly (string | number | null)[]): void {
    if (this.count === 0) this.firstId = id;
    // Nothing else inserts customers during an import; if ids ever skip, stop rather than guess.
    if (id - this.firstId !== this.count) this.inOrder = false;
    if (!this.inOrder) return;
    if (this.count === this.hashes.length) {
      const grown = new Float64Array(this.count * 2);
      grown.set(this.hashes);
      this.hashes = grown;
    }
    this.hashes[this.count++] = hash52(values);
  }

  /** True when customer `id` is known to be stored with exactly these values. */
  same(id: number, values: readonly (string | number | null)[]): boolean {
    const slot = id - this.firstId;
    return this.inOrder && slot >= 0 && slot < this.count && this.hashes[slot] === hash52(values);
  }

  /** After a merge changed the customer: what is stored is no longer known here. */
  forget(id: number): void {
    const slot = id - this.firstId;
    if (slot >= 0 && slot < this.count) this.hashes[slot] = NaN;
  }
}

/**
 * A 52-bit hash of a list of values: two 32-bit FNV-style hashes with different primes, so that two
 * different lists hash alike about once in 4·10^15 comparisons. Each value's type is hashed with it
 * (null, a number and the text of that number all differ), which also keeps ["ab", "c"] apart from
 * ["a", "bc"].
 */
function hash52(values: readonly (string | number | null)[]): number {
  let a = 0x811c9dc5;
  let b = 0x9747b28c;
  const mix = (code: number) => {
    a = Math.imul(a ^ code, 0x01000193);
    b = Math.imul(b ^ code, 0x5bd1e995);
  };
  for (const value of values) {
    if (value === null) {
      mix(0x10000);
      continue;
    }
    const text = typeof value === "number" ? String(value) : value;
    mix(typeof value === "number" ? 0x10001 : 0x10002);
    for (let i = 0; i < text.length; i++) mix(text.charCodeAt(i));
  }
  return (a >>> 0) * 0x100000 + (b >>> 12);
}
