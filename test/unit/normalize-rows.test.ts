/**
 * Reading one row of a products, customers or calls export (src/import/normalize/catalog.ts, row.ts,
 * status.ts) on the reader itself: what is kept, what keeps a row out, and what only warns.
 */
import { describe, expect, it } from "vitest";
import {
  parseDuration,
  readCallRow,
  readCustomerRow,
  readProductRow,
} from "../../src/import/normalize/catalog.js";
import { describeProblems, RowReader } from "../../src/import/normalize/row.js";
import { makeStatusClassifier } from "../../src/import/normalize/status.js";
import { indexColumns, profilesFor, type Profile, type ProfileSettings } from "../../src/import/profiles.js";
import type { ImportKind } from "../../src/import/fields.js";

function reader(
  kind: ImportKind,
  headers: string[],
  settings: Record<string, ProfileSettings> = {},
  name?: string,
) {
  const profiles = profilesFor(kind, settings, { timezone: "Europe/Berlin", currency: "EUR" });
  const profile = profiles.find(
    (p) => p.name === (name ?? (kind === "orders" ? "generic" : `generic-${kind}`)),
  )!;
  return new RowReader(profile as Profile, indexColumns(profile, headers), headers);
}

describe("a products row", () => {
  const HEADERS = ["sku", "name", "unit_price", "currency", "days_per_unit", "group", "variant_id"];
  const read = (cells: string[]) => {
    const row = reader("products", HEADERS);
    row.start(cells, 5);
    return { record: readProductRow(row, "EUR"), problems: row.problems };
  };

  it("reads every field, the price in minor units of its currency", () => {
    expect(read([" TEA-1 ", "Tea", "4.90", "usd", "30", "DRINKS", "4001"]).record).toEqual({
      line: 5,
      sku: "TEA-1",
      name: "Tea",
      unitPriceMinor: 490,
      currency: "USD",
      daysPerUnit: 30,
      group: "DRINKS",
      variantId: "4001",
      imageUrl: null,
    });
    expect(read(["JP-1", "", "1200", "JPY", "", "", ""]).record).toMatchObject({
      unitPriceMinor: 1200,
      currency: "JPY",
      name: null,
      daysPerUnit: null,
      group: null,
      variantId: null,
    });
  });

  it("reads a picture only from an http(s) URL: javascript:, data: and paths are no picture", () => {
    const row = reader("products", ["sku", "image_url"]);
    const picture = (cell: string) => {
      row.start(["TEA-1", cell], 2);
      return readProductRow(row, "EUR")?.imageUrl;
    };
    expect(picture("https://img.shop.example/tea.jpg")).toBe("https://img.shop.example/tea.jpg");
    expect(picture("HTTP://img.shop.example/t.png")).toBe("HTTP://img.shop.example/t.png");
    expect(picture("javascript:alert(1)")).toBeNull();
    expect(picture("data:image/png;base64,AAAA")).toBeNull();
    expect(picture("/images/tea.jpg")).toBeNull();
    expect(picture("https://img.shop.example/a b.jpg")).toBeNull();
    expect(picture("")).toBeNull();
  });

  it("takes the default currency when the row has none, and no currency when the file has no price column", () => {
    expect(read(["TEA-1", "Tea", "4.90", "", "", "", ""]).record).toMatchObject({
      currency: "EUR",
      unitPriceMinor: 490,
    });
    const row = reader("products", ["sku", "name"]);
    row.start(["TEA-1", "Tea"], 2);
    expect(readProductRow(row, "EUR")).toMatchObject({ currency: null, unitPriceMinor: null });
  });

  it("is kept out without a sku, with a bad price, currency or days per unit, naming each", () => {
    const { record, problems } = read(["", "Tea", "4,90", "euro", "0", "", ""]);
    expect(record).toBeNull();
    expect(describeProblems(problems)).toBe(
      'column "sku": is empty, expected a value; column "currency": "EURO" is not an ISO currency code like EUR; ' +
        'column "unit_price": "4,90" is not a number with a decimal point (12.50); column "days_per_unit": "0" must be greater than 0',
    );
    expect(problems.every((p) => p.line === 5)).toBe(true);
  });
});

describe("a customers row", () => {
  const HEADERS = [
    "customer_id",
    "email",
    "phone",
    "first_name",
    "last_name",
    "accepts_marketing",
    "locale",
    "usage_factor",
  ];
  const read = (cells: string[]) => {
    const row = reader("customers", HEADERS);
    row.start(cells, 3);
    return { record: readCustomerRow(row), row };
  };

  it("reads the customer, the email lower-cased but shown as written, the phone as digits", () => {
    expect(
      read(["17850.0", "Ann@Example.com", "+49 (170) 123-4567", "Ann", "Lee", "yes", "de_AT", "1,5"]).record
        ?.warnings,
    ).toEqual([
      {
        line: 3,
        column: "usage_factor",
        message: "2 digits, not a number greater than 0: read as empty",
      },
    ]);
    const { record } = read([
      "17850.0",
      "Ann@Example.com",
      "+49 (170) 123-4567",
      "Ann",
      "Lee",
      "yes",
      "de_AT",
      "1.5",
    ]);
    expect(record).toEqual({
      line: 3,
      customer: {
        customerId: "17850",
        email: "ann@example.com",
        emailDisplay: "Ann@Example.com",
        phone: "491701234567",
        firstName: "Ann",
        lastName: "Lee",
        name: "Ann Lee",
        acceptsMarketing: true,
        locale: "de-AT",
        usageFactor: 1.5,
      },
    });
  });

  it("reads odd optional cells as empty with a warning that gives their shape, not their value", () => {
    const { record } = read(["C1", "ann at example", "n/a", "", "Lee", "maybe", "not a locale!", "-2"]);
    expect(record).toEqual({
      line: 3,
      customer: {
        customerId: "C1",
        email: null,
        emailDisplay: null,
        phone: null,
        firstName: null,
        lastName: "Lee",
        name: "Lee",
        acceptsMarketing: null,
        locale: null,
        usageFactor: null,
      },
      warnings: [
        { line: 3, column: "email", message: "text of 14 characters, not an email address: read as empty" },
        {
          line: 3,
          column: "accepts_marketing",
          message: "text of 5 characters, not yes or no: read as empty",
        },
        {
          line: 3,
          column: "locale",
          message: "text of 13 characters, not a language tag like en, de or ru-RU: read as empty",
        },
        {
          line: 3,
          column: "usage_factor",
          message: "1 digit, not a number greater than 0: read as empty",
        },
      ],
    });
  });

  it("is kept out when nothing names the customer, saying which odd cell was the only way", () => {
    const { record, row } = read(["", "ann at example", "", "Ann", "", "no", "", ""]);
    expect(record).toBeNull();
    expect(row.problems).toEqual([
      { line: 3, column: null, message: "has no customer id, email or phone" },
      { line: 3, column: "email", message: "text of 14 characters, not an email address: read as empty" },
    ]);
  });

  it("a row repeating the last one's customer cells gives the same customer and the same warnings", () => {
    const row = reader("customers", HEADERS);
    row.start(["C1", "", "12", "Ann", "", "no", "", ""], 2);
    const first = readCustomerRow(row);
    row.start(["C1", "", "12", "Ann", "", "no", "", ""], 3);
    const second = readCustomerRow(row);
    expect(second).toEqual({ ...first, line: 3, warnings: [{ ...first!.warnings![0]!, line: 3 }] });
    expect(first!.customer.acceptsMarketing).toBe(false);
    row.start(["C2", "", "", "Bo", "", "", "", ""], 4);
    expect(readCustomerRow(row)).toEqual({
      line: 4,
      customer: expect.objectContaining({ customerId: "C2", firstName: "Bo", phone: null }),
    });
  });
});

describe("a calls row", () => {
  const HEADERS = ["phone", "started_at", "duration_seconds", "direction", "agent"];
  const read = (cells: string[]) => {
    const row = reader("calls", HEADERS);
    row.start(cells, 4);
    return { record: readCallRow(row), problems: row.problems };
  };

  it("reads the number as digits, the time in the profile's timezone, and the duration in seconds", () => {
    expect(read(["+49 170 1234567", "2026-03-03 10:00", "1:25", "OUT", "Eva"]).record).toEqual({
      line: 4,
      phone: "491701234567",
      startedAt: "2026-03-03T09:00:00Z",
      durationSeconds: 85,
      direction: "out",
      agent: "Eva",
    });
    expect(read(["0170 1234567", "2026-03-03 10:00", "85", "", ""]).record).toMatchObject({
      direction: null,
      agent: null,
      durationSeconds: 85,
    });
  });

  it("is kept out with a bad number, time or duration, naming each", () => {
    const { record, problems } = read(["call me", "yesterday", "long", "", ""]);
    expect(record).toBeNull();
    expect(problems.map((p) => [p.column, p.message])).toEqual([
      ["phone", '"call me" is not a phone number'],
      ["started_at", expect.stringMatching(/^"yesterday" is not /)],
      ["duration_seconds", '"long" is not a duration; expected seconds (85) or m:ss / h:mm:ss (1:25)'],
    ]);
    expect(read(["", "", "", "", ""]).problems.map((p) => p.message)).toEqual([
      "is empty, expected a value",
      "is empty, expected a value",
      "is empty, expected a value",
    ]);
  });

  it.each([
    ["85", 85],
    ["85.4", 85],
    ["85,6", 86],
    ["1:25", 85],
    ["0:01:25", 85],
    ["2:00:00", 7200],
    [" 12:05 ", 725],
    ["1:60", null],
    ["1:61:00", null],
    ["1:5", null],
    ["-5", null],
    ["", null],
  ])("a duration of %j is %s seconds", (text, seconds) => expect(parseDuration(text)).toBe(seconds));
});

describe("order statuses", () => {
  it("are classed case-insensitively, cancelled winning a status listed in both, anything else other", () => {
    const classify = makeStatusClassifier({
      cancelled: [" Voided", "refunded"],
      completed: ["paid", "REFUNDED"],
    });
    expect(["PAID", " voided ", "Refunded", "pending", null].map(classify)).toEqual([
      "completed",
      "cancelled",
      "cancelled",
      "other",
      "other",
    ]);
  });
});

describe("a profile that maps a field to several headers", () => {
  it("reads the first non-empty one and names it in messages", () => {
    const row = reader("orders", ["Name", "Created at", "Phone", "Billing Phone"], {}, "shopify");
    row.start(["#1001", "2026-03-03 10:00:00 +0100", "", "call me"], 2);
    expect(row.customer()).toBeNull();
    expect(row.warnings).toEqual([
      {
        line: 2,
        column: "Billing Phone",
        message: "text of 7 characters, not a phone number: read as empty",
      },
    ]);
    expect(row.header("order_id")).toBe("Name");
    expect(row.has("sku")).toBe(false);
    expect(row.text("sku")).toBe("");
  });
});
