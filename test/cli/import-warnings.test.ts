/**
 * Issue 14, point 3: one odd optional cell must not stop the import. The real Shopify export with one
 * order's Shipping Phone changed to `'662` (as a reporter's export had it) imports every order, with a
 * warning that names the real column and the value's shape, and exits 0.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { query, run, SHARED_DATA, workspace } from "../helpers.js";

const SHOPIFY_ORDERS = join(SHARED_DATA, "shopify-sample", "orders_export.csv");
/** Order #1348's Shipping Phone: its only phone (Phone and Billing Phone are empty on its row, line 123). */
const PHONE = "'+1 555 705 8294";

/** The shared export with that one cell changed, written into `dir`. */
function exportWithOddPhone(dir: string): string {
  const text = readFileSync(SHOPIFY_ORDERS, "utf8");
  expect(text.split(PHONE)).toHaveLength(2); // the cell is there, once
  const file = join(dir, "orders_export.csv");
  writeFileSync(file, text.replace(PHONE, "'662"));
  return file;
}

describe.skipIf(!existsSync(SHOPIFY_ORDERS))(
  `a real Shopify export with one odd phone (needs ${SHOPIFY_ORDERS}: skipped when it is absent)`,
  () => {
    it("imports every order, exits 0 and warns with the real column and the value's shape", async () => {
      const dir = workspace();
      const file = exportWithOddPhone(dir);
      const result = await run(["import", "orders", file], { cwd: dir });
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/orders new\s+409\n/);
      expect(result.stdout).toMatch(/warnings\s+1\n/);
      expect(result.stderr).toBe(
        'comeback: warning: orders_export.csv:123: column "Shipping Phone": 3 digits, not a phone number: read as empty\n',
      );
      // The order is there, paid, with its customer, and no phone.
      const db = join(dir, "comeback.db");
      expect(
        query(
          db,
          `SELECT o.status, c.phone FROM orders o JOIN customers c ON c.id = o.customer_id
           WHERE o.external_id = '#1348'`,
        ),
      ).toEqual([{ status: "paid", phone: null }]);
    });

    it("--json counts and lists the warning, without the value; --skip-bad-rows drops no order", async () => {
      const dir = workspace();
      const file = exportWithOddPhone(dir);
      const result = await run(["import", "orders", file, "--json", "--skip-bad-rows"], { cwd: dir });
      expect(result.stderr).toBe("");
      expect(result.code).toBe(0);
      const [report] = JSON.parse(result.stdout) as Record<string, unknown>[];
      expect(report).toMatchObject({
        rows: 811,
        orders_new: 409,
        rejected: 0,
        warnings: 1,
        warning_list: [
          { line: 123, column: "Shipping Phone", message: "3 digits, not a phone number: read as empty" },
        ],
      });
      expect(result.stdout).not.toContain("662");
      expect(existsSync(join(dir, "orders_export.rejected.csv"))).toBe(false);
      // The report kept with the import says the same.
      const [stored] = query<{ report: string }>(join(dir, "comeback.db"), "SELECT report FROM imports");
      expect(JSON.parse(stored!.report)).toMatchObject({ warnings: 1 });
    });
  },
);

describe("cells an order can do without", () => {
  const HEADER = "order_id,ordered_at,sku,quantity,unit_price,email,phone,accepts_marketing,locale\n";

  it("read as empty with one warning each: email, phone, marketing flag, locale; the order is kept", async () => {
    const dir = workspace();
    writeFileSync(
      join(dir, "o.csv"),
      HEADER +
        "1,2024-01-01,A,1,2.00,ann@example.com,+49 30 1234567,maybe,en\n" +
        "2,2024-01-02,A,1,2.00,ann at example,+49 30 7654321,yes,klingon-tag-x\n" +
        "3,2024-01-03,A,1,2.00,bob@example.com,12,no,de\n",
    );
    const result = await run(["import", "orders", "o.csv", "--json"], { cwd: dir });
    expect(result.code).toBe(0);
    const [report] = JSON.parse(result.stdout) as Record<string, unknown>[];
    expect(report).toMatchObject({ orders_new: 3, rejected: 0, warnings: 4 });
    expect(report!.warning_list).toEqual([
      { line: 2, column: "accepts_marketing", message: "text of 5 characters, not yes or no: read as empty" },
      { line: 3, column: "email", message: "text of 14 characters, not an email address: read as empty" },
      {
        line: 3,
        column: "locale",
        message: "text of 13 characters, not a language tag like en, de or ru-RU: read as empty",
      },
      { line: 4, column: "phone", message: "2 digits, not a phone number: read as empty" },
    ]);
    // Order 2 has no usable email: its customer is its phone.
    const db = join(dir, "comeback.db");
    expect(
      query(
        db,
        `SELECT o.external_id, c.email, c.phone, c.accepts_marketing, c.locale FROM orders o
         JOIN customers c ON c.id = o.customer_id ORDER BY o.external_id`,
      ),
    ).toEqual([
      {
        external_id: "1",
        email: "ann@example.com",
        phone: "49301234567",
        accepts_marketing: null,
        locale: "en",
      },
      { external_id: "2", email: null, phone: "49307654321", accepts_marketing: 1, locale: null },
      { external_id: "3", email: "bob@example.com", phone: null, accepts_marketing: 0, locale: "de" },
    ]);
  });

  it("a customer repeated on every line of an order warns once per order", async () => {
    const dir = workspace();
    writeFileSync(
      join(dir, "o.csv"),
      HEADER +
        "1,2024-01-01,A,1,2.00,ann@example.com,662,,\n" +
        "1,2024-01-01,B,1,2.00,ann@example.com,662,,\n" +
        "2,2024-01-05,A,1,2.00,ann@example.com,662,,\n",
    );
    const result = await run(["import", "orders", "o.csv"], { cwd: dir });
    expect(result.code).toBe(0);
    expect(result.stderr.trim().split("\n")).toEqual([
      'comeback: warning: o.csv:2: column "phone": 3 digits, not a phone number: read as empty',
      'comeback: warning: o.csv:4: column "phone": 3 digits, not a phone number: read as empty',
    ]);
  });

  // Shopify's profile reads the phone from "Phone", "Billing Phone" or "Shipping Phone", the first non-empty.
  const SHOPIFY_HEADER =
    "Name,Created at,Lineitem name,Lineitem quantity,Phone,Billing Phone,Shipping Phone\n";

  it("names the header the value sat in when a profile maps a field from several headers", async () => {
    const dir = workspace();
    writeFileSync(
      join(dir, "o.csv"),
      SHOPIFY_HEADER +
        "#1,2024-01-01 10:00:00 -0500,Tee,1,,,'662\n" +
        "#2,2024-01-02 10:00:00 -0500,Tee,1,,x,\n" +
        "#3,2024-01-03 10:00:00 -0500,Tee,1,12,,+49 30 1234567\n",
    );
    const result = await run(["import", "orders", "o.csv", "--profile", "shopify", "--json"], { cwd: dir });
    expect(result.code).toBe(0);
    const [report] = JSON.parse(result.stdout) as { warning_list: unknown[] }[];
    expect(report!.warning_list).toEqual([
      { line: 2, column: "Shipping Phone", message: "3 digits, not a phone number: read as empty" },
      { line: 3, column: "Billing Phone", message: "text of 1 character, not a phone number: read as empty" },
      // The first non-empty of the three is the one read, even when a later one would parse.
      { line: 4, column: "Phone", message: "2 digits, not a phone number: read as empty" },
    ]);
  });

  it("what an order cannot be without still fails the file; an odd phone on that row is not a reason", async () => {
    const dir = workspace();
    writeFileSync(
      join(dir, "o.csv"),
      SHOPIFY_HEADER + "#1,2024-01-01 10:00:00 -0500,Tee,two,,,'662\n#2,2024-01-02 10:00:00 -0500,Tee,1,,,\n",
    );
    const result = await run(["import", "orders", "o.csv", "--profile", "shopify"], { cwd: dir });
    expect(result.code).toBe(65);
    expect(result.stderr).toContain('o.csv:2: column "Lineitem quantity": "two" is not a number');
    expect(result.stderr).not.toContain("Phone");
  });

  it("more warnings than shown: the first 20 on stderr, then how many more", async () => {
    const dir = workspace();
    const rows = Array.from({ length: 25 }, (_, i) => `${i + 1},2024-01-01,A,1,2.00,,662,,\n`);
    writeFileSync(join(dir, "o.csv"), HEADER + rows.join(""));
    const result = await run(["import", "orders", "o.csv"], { cwd: dir });
    expect(result.code).toBe(0);
    const lines = result.stderr.trim().split("\n");
    expect(lines).toHaveLength(21);
    expect(lines[20]).toBe(
      "comeback: warning: o.csv: … and 5 more cells read as empty (--json lists them all)",
    );
  });

  it("a customers export keeps the customer over an odd phone or marketing flag", async () => {
    const dir = workspace();
    writeFileSync(
      join(dir, "c.csv"),
      "customer_id,email,phone,accepts_marketing,usage_factor\n" +
        "C1,ann@example.com,662,perhaps,1.5\n" +
        "C2,bob@example.com,,yes,-2\n" +
        "C3,not-an-email,,,\n",
    );
    const result = await run(["import", "customers", "c.csv", "--json"], { cwd: dir });
    expect(result.code).toBe(0);
    const [report] = JSON.parse(result.stdout) as Record<string, unknown>[];
    expect(report).toMatchObject({ customers_new: 3, rejected: 0, warnings: 4 });
    expect((report!.warning_list as { column: string }[]).map((w) => w.column)).toEqual([
      "phone",
      "accepts_marketing",
      "usage_factor",
      "email",
    ]);
  });
});
