/**
 * The edges of reading cells (src/import/normalize/values.ts, row.ts, catalog.ts): where a value
 * stops being read one way and starts being read another, so that an export keeps every fact it
 * gives, in the right field, and a message names the right column.
 */
import { describe, expect, it } from "vitest";
import { parseDuration, readCustomerRow } from "../../src/import/normalize/catalog.js";
import { describeProblems, RowReader } from "../../src/import/normalize/row.js";
import { makeStatusClassifier } from "../../src/import/normalize/status.js";
import { cleanCell, describeShape, makeNumberParser } from "../../src/import/normalize/values.js";
import type { ImportKind } from "../../src/import/fields.js";
import { indexColumns, profilesFor, type Profile, type ProfileSettings } from "../../src/import/profiles.js";

function reader(
  kind: ImportKind,
  headers: string[],
  name: string,
  settings: Record<string, ProfileSettings> = {},
) {
  const profile = profilesFor(kind, settings, { timezone: "Europe/Berlin", currency: "EUR" }).find(
    (p) => p.name === name,
  )!;
  return new RowReader(profile as Profile, indexColumns(profile, headers), headers);
}

describe("numbers", () => {
  // Made inside the test: a parser made while the test file loads would not see a mutant (MUTATION.md).
  it("a decimal comma is read as the point, a decimal point as itself", () => {
    expect(makeNumberParser(",")("12,5")).toBe("12.5");
    expect(makeNumberParser(",")("-0,29")).toBe("-0.29");
    expect(makeNumberParser(".")("12.5")).toBe("12.5");
    expect(makeNumberParser(".")("12,5")).toBeNull();
    expect(makeNumberParser(",")("1.234,50")).toBe("1234.50");
  });

  it("a cell that is not a number names the separator the profile expects", () => {
    const point = reader("products", ["sku", "unit_price"], "generic-products");
    point.start(["A", "12,50 Euro"], 2);
    point.decimal("unit_price");
    const comma = reader("products", ["sku", "unit_price"], "comma", {
      comma: { kind: "products", decimal_separator: ",", columns: { sku: "sku", unit_price: "unit_price" } },
    });
    comma.start(["A", "12.50.1"], 3);
    comma.decimal("unit_price");
    expect(describeProblems([...point.problems, ...comma.problems])).toBe(
      'column "unit_price": "12,50 Euro" is not a number with a decimal point (12.50); ' +
        'column "unit_price": "12.50.1" is not a number with a decimal comma (12,50)',
    );
  });
});

describe("durations of calls", () => {
  it.each([
    ["85", 85],
    ["85.4", 85],
    ["1,55", 2],
    ["85.45", 85],
    ["1:25", 85],
    ["12:34", 754],
    ["60:00", 3600],
    ["0:01:25", 85],
    ["1:02:03", 3723],
    ["123:00:00", 442800],
    ["1:59:59", 7199],
    [" 1:25 ", 85],
  ])("reads %j as %i seconds", (text, seconds) => {
    expect(parseDuration(text)).toBe(seconds);
  });

  it.each(["", "x1:25", "1:25x", "1:60", "1:60:00", "1:2", "1:025", "-5", "1.5.5", "a"])(
    "refuses %j",
    (text) => {
      expect(parseDuration(text)).toBeNull();
    },
  );
});

describe("cleanCell", () => {
  it.each([
    ["abc ", "abc"],
    ["abc\u00A0", "abc"],
    ["\u00A0abc", "abc"],
    ["' 123", "123"],
    [' 12"', '12"'],
    ['="  007 "', "007"],
    ["\tx", "x"],
  ])("cleans %j to %j", (text, clean) => {
    expect(cleanCell(text)).toBe(clean);
  });
});

describe("describeShape", () => {
  it.each([
    ["000", "3 digits"],
    ["999", "3 digits"],
    ["5", "1 digit"],
    [" 123 ", "3 digits"],
    ["12a", "text of 3 characters"],
    ["-", "text of 1 character"],
    ["  ", "text of 0 characters"],
    ["a-1", "text of 3 characters"],
  ])("calls %j %j", (text, shape) => {
    expect(describeShape(text)).toBe(shape);
  });
});

describe("a customer's cells", () => {
  const HEADERS = [
    "customer_id",
    "email",
    "phone",
    "first_name",
    "last_name",
    "customer_name",
    "usage_factor",
  ];
  const read = (cells: string[]) => {
    const row = reader("customers", HEADERS, "generic-customers");
    row.start(cells, 4);
    return { record: readCustomerRow(row), row };
  };

  it("a spreadsheet's float id is the integer; anything else is kept as written", () => {
    const id = (text: string) => read([text, "", "", "", "", "", ""]).record?.customer.customerId;
    expect(id("17850.0")).toBe("17850");
    expect(id("17850.00")).toBe("17850");
    expect(id("17850.5")).toBe("17850.5");
    expect(id("A17850.0")).toBe("A17850.0");
    expect(id("17850.0x")).toBe("17850.0x");
    expect(id("17850.")).toBe("17850.");
  });

  it("a customer named by a phone alone is read", () => {
    expect(read(["", "", "+49 30 123456", "", "", "", ""]).record?.customer).toMatchObject({
      customerId: null,
      email: null,
      phone: "4930123456",
    });
  });

  it("the full name wins over first and last name", () => {
    expect(read(["C1", "", "", "Ann", "Lee", "Ann Lee-Smith", ""]).record?.customer.name).toBe(
      "Ann Lee-Smith",
    );
    expect(read(["C1", "", "", "Ann", "Lee", "", ""]).record?.customer.name).toBe("Ann Lee");
  });

  it("names the columns the id and the email came from, and no id column when there is no id", () => {
    const { row } = read(["", "ann@example.com", "", "", "", "", ""]);
    expect(row.identityHeaders).toEqual({ customerId: null, email: "email" });
    expect(read(["C1", "", "", "", "", "", ""]).row.identityHeaders).toEqual({
      customerId: "customer_id",
      email: null,
    });
  });

  it("a usage factor of 0 is a warning, read as empty", () => {
    const { record } = read(["C1", "", "", "", "", "", "0"]);
    expect(record?.customer.usageFactor).toBeNull();
    expect(record?.warnings).toEqual([
      { line: 4, column: "usage_factor", message: "1 digit, not a number greater than 0: read as empty" },
    ]);
  });

  it("a row shorter than the header reads the missing cells as empty", () => {
    expect(read(["C1", "ann@example.com"]).record?.customer).toMatchObject({
      customerId: "C1",
      email: "ann@example.com",
      phone: null,
      name: null,
    });
  });
});

describe("a field mapped to several headers", () => {
  it("skips a cell that is only spaces and reads the next header's", () => {
    const row = reader("orders", ["Name", "Created at", "Phone", "Billing Phone"], "shopify");
    row.start(["#1001", "2026-03-03 10:00:00 +0100", "   ", "030 123456"], 2);
    expect(row.customer()).toMatchObject({ phone: "030123456" });
  });

  it("names the header the last value came from only for that field", () => {
    const row = reader("orders", ["Name", "Created at", "Phone", "Billing Phone", "Currency"], "shopify");
    row.start(["#1001", "2026-03-03 10:00:00 +0100", "", "030 123456", "EUR"], 2);
    expect(row.text("phone")).toBe("030 123456");
    expect(row.header("phone")).toBe("Billing Phone");
    expect(row.header("currency")).toBe("Currency");
    expect(row.header("order_id")).toBe("Name");
  });
});

describe("a field's header in messages", () => {
  it("is the first mapped header when the field's cell is empty", () => {
    const row = reader("orders", ["Created at", "Name", "Lineitem sku"], "shopify");
    row.start(["2026-03-03 10:00:00 +0100", "", "A"], 2);
    row.requiredText("order_id");
    expect(row.problems).toEqual([{ line: 2, column: "Name", message: "is empty, expected a value" }]);
  });

  it("is the header the value came from, also when that is the file's first column", () => {
    const row = reader("orders", ["Billing Phone", "Name", "Phone"], "shopify");
    row.start(["call me", "#1", ""], 2);
    row.customer();
    expect(row.warnings).toEqual([
      {
        line: 2,
        column: "Billing Phone",
        message: "text of 7 characters, not a phone number: read as empty",
      },
    ]);
  });
});

describe("a customer repeated on the next row", () => {
  it("is not taken for a row too short to have the customer's cells", () => {
    const headers = ["order_id", "ordered_at", "sku", "customer_id", "email"];
    const row = reader("orders", headers, "generic");
    row.start(["1", "2024-01-01", "A", "C1", "ann@example.com"], 2);
    expect(row.customer()).toMatchObject({ customerId: "C1" });
    row.start(["1", "2024-01-01", "B"], 3);
    expect(row.customer()).toBeNull();
  });
});

describe("order statuses from the config", () => {
  it("are read whatever their case and spaces, in either list", () => {
    const classify = makeStatusClassifier({ cancelled: [" Voided "], completed: [" Paid "] });
    expect(["paid", "PAID", "voided"].map(classify)).toEqual(["completed", "completed", "cancelled"]);
  });
});

describe("line totals", () => {
  it("are the quantity times the unit price, in minor units", () => {
    const row = reader("orders", ["order_id", "unit_price"], "generic");
    row.start(["1", "4.99"], 2);
    expect(row.lineTotal(3, "unit_price", "EUR")).toBe(1497);
    row.start(["1", ""], 3);
    expect(row.lineTotal(3, "unit_price", "EUR")).toBeNull();
    expect(row.problems).toEqual([]);
  });

  it("too large to store exactly are the cell's problem, at its line", () => {
    const row = reader("orders", ["order_id", "unit_price"], "generic");
    row.start(["1", "99999999999999"], 7);
    expect(row.lineTotal(1000, "unit_price", "EUR")).toBeNull();
    expect(row.problems).toHaveLength(1);
    expect(row.problems[0]).toMatchObject({ line: 7, column: "unit_price" });
    expect(row.problems[0]!.message).toMatch(/exact|large|2\^53|safe/i);
  });
});

describe("describeProblems", () => {
  it("names the column when there is one", () => {
    expect(
      describeProblems([
        { line: 1, column: null, message: "has no customer id, email or phone" },
        { line: 1, column: "Email", message: "is odd" },
      ]),
    ).toBe('has no customer id, email or phone; column "Email": is odd');
  });
});
