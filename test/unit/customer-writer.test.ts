import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { CustomerFields } from "../../src/import/records.js";
import { CustomerWriter } from "../../src/import/write/customers.js";
import { openStore, type Db } from "../../src/store/open.js";

let db: Db;
beforeEach(() => {
  db = openStore(join(mkdtempSync(join(tmpdir(), "comeback-customers-")), "c.db"));
});
afterEach(() => db.close());

function customer(fields: Partial<CustomerFields>): CustomerFields {
  return {
    customerId: null,
    email: null,
    emailDisplay: null,
    phone: null,
    firstName: null,
    lastName: null,
    name: null,
    acceptsMarketing: null,
    locale: null,
    usageFactor: null,
    ...fields,
  };
}

const customerIndexes = () =>
  db
    .prepare(
      "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'customers' AND sql IS NOT NULL",
    )
    .pluck()
    .all()
    .sort();

describe("the customers' writer in a shop's first import", () => {
  it("leaves the email and shop-id indexes out while it only inserts, and builds them before the first look-up", () => {
    db.transaction(() => {
      const writer = new CustomerWriter(db, "2024-06-01T00:00:00Z");
      const ann = writer.resolve(
        customer({ customerId: "C1", email: "ann@example.com" }),
        "2024-01-01T00:00:00Z",
      );
      writer.resolve(customer({ customerId: "C2", email: "bob@example.com" }), "2024-01-01T00:00:00Z");
      expect(customerIndexes()).toEqual([]);
      // No shop id, an email this file gave Ann: found by email, which needs its index first.
      expect(writer.resolve(customer({ email: "ann@example.com" }), "2024-02-01T00:00:00Z")).toBe(ann);
      expect(customerIndexes()).toEqual(["customers_email", "customers_external_id"]);
      writer.finish();
    })();
    expect(customerIndexes()).toEqual(["customers_email", "customers_external_id"]);
  });

  it("keeps them when the table already has customers, and a failed import gets them back", () => {
    expect(() =>
      db.transaction(() => {
        new CustomerWriter(db, "2024-06-01T00:00:00Z").resolve(
          customer({ customerId: "C1" }),
          "2024-01-01T00:00:00Z",
        );
        expect(customerIndexes()).toEqual([]);
        throw new Error("bad row");
      })(),
    ).toThrow("bad row");
    expect(customerIndexes()).toEqual(["customers_email", "customers_external_id"]);

    db.transaction(() => {
      const writer = new CustomerWriter(db, "2024-06-01T00:00:00Z");
      writer.resolve(customer({ customerId: "C1" }), "2024-01-01T00:00:00Z");
      writer.finish();
    })();
    db.transaction(() => {
      new CustomerWriter(db, "2024-06-01T00:00:00Z");
      expect(customerIndexes()).toEqual(["customers_email", "customers_external_id"]);
    })();
  });
});

describe("merging what files say about a customer", () => {
  const T1 = "2024-01-01T00:00:00Z";
  const T2 = "2024-02-01T00:00:00Z";
  /** One file: each row resolved in turn; returns the ids and the counts. */
  function file(...rows: [Partial<CustomerFields>, string][]) {
    return db.transaction(() => {
      const writer = new CustomerWriter(db, "2024-06-01T00:00:00Z");
      const ids = rows.map(([fields, asOf]) => writer.resolve(customer(fields), asOf));
      return { ids, counts: writer.finish() };
    })();
  }
  const stored = (id: number) =>
    db
      .prepare(
        "SELECT identity_key, external_id, email, email_display, phone, first_name, last_name, name, accepts_marketing, locale, usage_factor, info_as_of FROM customers WHERE id = ?",
      )
      .get(id) as Record<string, unknown>;

  it("stores every field a row gives, keyed by the shop's id, else the email, else the phone", () => {
    const { ids, counts } = file(
      [
        {
          customerId: "C1",
          email: "ann@example.com",
          emailDisplay: "Ann@Example.com",
          phone: "491701234567",
          firstName: "Ann",
          lastName: "Lee",
          name: "Ann Lee",
          acceptsMarketing: true,
          locale: "de",
          usageFactor: 1.5,
        },
        T1,
      ],
      [{ email: "bob@example.com" }, T1],
      [{ phone: "4930123456" }, T1],
    );
    expect(counts).toEqual({ created: 3, updated: 0, unchanged: 0 });
    expect(stored(ids[0]!)).toEqual({
      identity_key: "id:C1",
      external_id: "C1",
      email: "ann@example.com",
      email_display: "Ann@Example.com",
      phone: "491701234567",
      first_name: "Ann",
      last_name: "Lee",
      name: "Ann Lee",
      accepts_marketing: 1,
      locale: "de",
      usage_factor: 1.5,
      info_as_of: T1,
    });
    expect(stored(ids[1]!).identity_key).toBe("email:bob@example.com");
    expect(stored(ids[2]!).identity_key).toBe("phone:4930123456");
    expect(
      file([{ customerId: "C9", acceptsMarketing: false }, T1]).ids.map((id) => stored(id).accepts_marketing),
    ).toEqual([0]);
  });

  it("the newer row wins a field, an older one only fills what is empty, an empty cell erases nothing", () => {
    const [ann] = file([{ customerId: "C1", name: "Ann", locale: "de" }, T2]).ids;
    // Another file: an older row (T1) tries to change the name and adds a phone; a newer one sets the locale.
    const { ids, counts } = file(
      [{ customerId: "C1", name: "Old Ann", phone: "491701234567" }, T1],
      [{ customerId: "C1", locale: "en", name: null }, "2024-03-01T00:00:00Z"],
    );
    expect(ids).toEqual([ann, ann]);
    expect(counts).toEqual({ created: 0, updated: 1, unchanged: 0 });
    expect(stored(ann!)).toMatchObject({
      name: "Ann",
      phone: "491701234567",
      locale: "en",
      info_as_of: "2024-03-01T00:00:00Z",
    });
  });

  it("a file that names a customer with nothing new counts them unchanged, and moves only info_as_of", () => {
    const [ann] = file([{ customerId: "C1", name: "Ann" }, T1]).ids;
    expect(file([{ customerId: "C1", name: "Ann" }, T2]).counts).toEqual({
      created: 0,
      updated: 0,
      unchanged: 1,
    });
    expect(stored(ann!)).toMatchObject({ name: "Ann", info_as_of: T2 });
    // Now an older row with another name does not win over it.
    file([{ customerId: "C1", name: "Anne" }, "2024-01-15T00:00:00Z"]);
    expect(stored(ann!).name).toBe("Ann");
  });

  it("a customer first known by email is the same person when the shop's id comes with that email", () => {
    const [first] = file([{ email: "ann@example.com", name: "Ann" }, T1]).ids;
    const { ids, counts } = file(
      [{ customerId: "C1", email: "ann@example.com" }, T2],
      [{ customerId: "C1" }, T2],
    );
    expect(ids).toEqual([first, first]);
    expect(counts).toEqual({ created: 0, updated: 1, unchanged: 0 });
    expect(stored(first!)).toMatchObject({ identity_key: "email:ann@example.com", external_id: "C1" });
    // Two different shop ids with one email are two people.
    const { ids: other } = file([{ customerId: "C2", email: "ann@example.com" }, T2]);
    expect(other[0]).not.toBe(first);
  });

  it("within one file: a row repeating a new customer's fields later moves only info_as_of", () => {
    const { ids, counts } = file(
      [{ customerId: "C1", name: "Ann" }, T1],
      [{ customerId: "C1", name: "Ann" }, T2],
    );
    expect(ids[1]).toBe(ids[0]);
    expect(counts).toEqual({ created: 1, updated: 0, unchanged: 0 });
    expect(stored(ids[0]!)).toMatchObject({ name: "Ann", info_as_of: T2 });
  });

  it("a customer first known by email, who got the shop's id later, is found by that id alone in a later file", () => {
    const [first] = file([{ email: "ann@example.com", name: "Ann" }, T1]).ids;
    file([{ customerId: "C1", email: "ann@example.com" }, T2]);
    const { ids, counts } = file([{ customerId: "C1", name: "Ann" }, T2]);
    expect(ids).toEqual([first]);
    expect(counts).toEqual({ created: 0, updated: 0, unchanged: 1 });
  });

  it("counts a customer the file creates as created only, even when a later row finds them by email", () => {
    const [ann] = file([{ customerId: "C1", email: "ann@example.com", name: "Ann" }, T1]).ids;
    const { ids, counts } = file(
      [{ customerId: "C5", email: "eve@example.com", name: "Eve" }, T1],
      [{ email: "eve@example.com" }, T1],
      [{ customerId: "C1", name: "Ann" }, T1],
    );
    expect(ids[1]).toBe(ids[0]);
    expect(ids[2]).toBe(ann);
    expect(counts).toEqual({ created: 1, updated: 0, unchanged: 1 });
  });

  it("within one file: a new customer changed and then named again as first stored keeps the newest word", () => {
    const { ids } = file(
      [{ customerId: "C1", name: "Ann", locale: "de" }, T1],
      [{ customerId: "C1", name: "Anne", locale: "de" }, T2],
      [{ customerId: "C1", name: "Ann", locale: "de" }, "2024-03-01T00:00:00Z"],
    );
    expect(stored(ids[0]!)).toMatchObject({ name: "Ann", info_as_of: "2024-03-01T00:00:00Z" });
  });

  it("within one file: a later row differing from what a new customer was stored with in one letter, or in where a text falls, changes it", () => {
    const { ids } = file(
      [{ customerId: "C1", firstName: "Ann", lastName: "Lee" }, T1],
      [{ customerId: "C1", firstName: "Amn", lastName: "Lee" }, T2],
      [{ customerId: "C2", firstName: "Ab", lastName: "C" }, T1],
      [{ customerId: "C2", firstName: "A", lastName: "bC" }, T2],
      [{ customerId: "C3", name: "Bo", locale: "en" }, T1],
      [{ customerId: "C3", name: "Bo", locale: "de" }, T2],
      [{ customerId: "C4", usageFactor: 2 }, T1],
      [{ customerId: "C4", usageFactor: 3 }, T2],
    );
    expect(stored(ids[0]!)).toMatchObject({ first_name: "Amn", last_name: "Lee" });
    expect(stored(ids[2]!)).toMatchObject({ first_name: "A", last_name: "bC" });
    expect(stored(ids[4]!)).toMatchObject({ name: "Bo", locale: "de" });
    expect(stored(ids[6]!)).toMatchObject({ usage_factor: 3 });
  });

  it("within one file: the same customer by id and by email, and a later row changing a new customer", () => {
    const { ids, counts } = file(
      [{ customerId: "C1", email: "ann@example.com", name: "Ann" }, T1],
      [{ email: "ann@example.com" }, T1],
      [{ customerId: "C1", name: "Ann", locale: "de" }, T2],
      [{ customerId: "C1", name: "Ann", locale: "de" }, T2],
      [{ customerId: "C2", email: "ann@example.com" }, T1],
    );
    expect(ids[1]).toBe(ids[0]);
    expect(ids[2]).toBe(ids[0]);
    expect(ids[4]).not.toBe(ids[0]);
    expect(counts).toEqual({ created: 2, updated: 0, unchanged: 0 });
    expect(stored(ids[0]!)).toMatchObject({ locale: "de", info_as_of: T2 });
  });
});
