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
