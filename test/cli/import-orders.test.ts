import { copyFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { fixture, query, run, snapshot, workspace } from "../helpers.js";

const RU_PROFILE = `
timezone: Europe/Berlin
profiles:
  ru-shop:
    kind: orders
    date_format: dd.MM.yyyy HH:mm
    timezone: Europe/Moscow
    decimal_separator: ","
    columns:
      order_id: Номер заказа
      ordered_at: Дата заказа
      status: Статус
      customer_id: Код клиента
      customer_name: Покупатель
      email: E-mail
      phone: Телефон
      sku: Артикул
      product_name: Наименование
      quantity: Кол-во
      unit_price: Цена
      line_total: Сумма
      currency: Валюта
`;

async function importJson(dir: string, ...args: string[]) {
  const result = await run(["import", "orders", ...args, "--json"], { cwd: dir });
  expect(result.stderr).toBe("");
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout) as Record<string, unknown>[];
}

/** The customers' indexes of a database (those a first import leaves out while it inserts). */
function customerIndexes(db: string): string[] {
  return query<{ name: string }>(
    db,
    "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'customers' AND sql IS NOT NULL ORDER BY name",
  ).map((row) => row.name);
}

describe("import orders", () => {
  it("reports exactly the documented keys, and the same bytes again change nothing", async () => {
    const dir = workspace();
    const [first] = await importJson(dir, fixture("demo", "orders.csv"));
    expect(Object.keys(first!)).toEqual([
      "file",
      "profile",
      "already_imported",
      "rows",
      "orders_new",
      "orders_updated",
      "orders_unchanged",
      "lines_new",
      "customers_new",
      "guest_orders",
      "status_changes",
      "rejected",
      "warnings",
      "warning_list",
      "seconds",
    ]);
    expect(first).toMatchObject({
      profile: "generic",
      rows: 17,
      orders_new: 15,
      lines_new: 17,
      guest_orders: 1,
      customers_new: 6,
    });
    const db = join(dir, "comeback.db");
    const before = snapshot(db);

    const [again] = await importJson(dir, fixture("demo", "orders.csv"));
    expect(again).toMatchObject({ already_imported: true, orders_new: 0, lines_new: 0 });
    const [forced] = await importJson(dir, fixture("demo", "orders.csv"), "--force");
    expect(forced).toMatchObject({
      already_imported: false,
      orders_new: 0,
      orders_updated: 0,
      orders_unchanged: 15,
      lines_new: 0,
    });
    expect(snapshot(db)).toBe(before);
    expect(query(db, "SELECT count(*) AS n FROM imports")[0]).toEqual({ n: 1 });
  });

  it("adds only what is new or changed from an overlapping later export, and keeps orders it no longer lists", async () => {
    const dir = workspace();
    const week1 = join(dir, "week1.csv");
    const week2 = join(dir, "week2.csv");
    writeFileSync(
      week1,
      "order_id,ordered_at,status,email,sku,quantity,unit_price\n" +
        "1,2024-01-01,processing,a@example.com,X,1,1.00\n" +
        "2,2024-01-02,processing,b@example.com,X,1,1.00\n",
    );
    writeFileSync(
      week2,
      "order_id,ordered_at,status,email,sku,quantity,unit_price\n" +
        "2,2024-01-02,completed,b@example.com,X,1,1.00\n" +
        "3,2024-01-09,processing,a@example.com,Y,2,3.00\n",
    );
    await importJson(dir, week1);
    const [report] = await importJson(dir, week2);
    expect(report).toMatchObject({
      orders_new: 1,
      orders_updated: 1,
      orders_unchanged: 0,
      lines_new: 1,
      status_changes: 1,
    });
    const db = join(dir, "comeback.db");
    expect(query(db, "SELECT external_id, status, status_class FROM orders ORDER BY external_id")).toEqual([
      { external_id: "1", status: "processing", status_class: "other" },
      { external_id: "2", status: "completed", status_class: "completed" },
      { external_id: "3", status: "processing", status_class: "other" },
    ]);
    expect(
      query(
        db,
        "SELECT o.external_id, h.status FROM order_status_history h JOIN orders o ON o.id = h.order_id ORDER BY 1, h.import_id",
      ),
    ).toEqual([
      { external_id: "1", status: "processing" },
      { external_id: "2", status: "processing" },
      { external_id: "2", status: "completed" },
      { external_id: "3", status: "processing" },
    ]);
  });

  it("reads a Windows-1251 semicolon export through a profile: dates in Moscow time, decimal commas, placeholders", async () => {
    const dir = workspace(RU_PROFILE);
    const [report] = await importJson(dir, fixture("orders", "ru-windows-1251-semicolon.csv"));
    expect(report).toMatchObject({
      profile: "ru-shop",
      rows: 4,
      orders_new: 3,
      lines_new: 4,
      guest_orders: 1,
      customers_new: 2,
    });
    const db = join(dir, "comeback.db");
    expect(
      query(db, "SELECT external_id, placed_at, status_class, currency FROM orders ORDER BY id"),
    ).toEqual([
      {
        external_id: "А-1001",
        placed_at: "2024-03-01T07:15:00Z",
        status_class: "completed",
        currency: "RUB",
      },
      {
        external_id: "А-1002",
        placed_at: "2024-03-15T15:40:00Z",
        status_class: "cancelled",
        currency: "RUB",
      },
      { external_id: "А-1003", placed_at: "2024-04-01T21:00:00Z", status_class: "other", currency: "RUB" },
    ]);
    expect(
      query(
        db,
        "SELECT product_name, unit_price_minor, line_total_minor FROM order_lines ORDER BY order_id, line_key",
      ),
    ).toEqual([
      { product_name: "Линзы однодневные, 30 шт", unit_price_minor: 125050, line_total_minor: 250100 },
      { product_name: 'Раствор "Опти", 360 мл', unit_price_minor: 49900, line_total_minor: 49900 },
      { product_name: "Корм для собак 12 кг", unit_price_minor: 399000, line_total_minor: 399000 },
      { product_name: "Линзы однодневные, 30 шт", unit_price_minor: 125050, line_total_minor: 125050 },
    ]);
    // "нет" in the e-mail column is a placeholder, not an address; the phone keeps its digits.
    expect(query(db, "SELECT identity_key, email, phone, name FROM customers ORDER BY id")).toEqual([
      { identity_key: "id:К-17", email: "olga@example.ru", phone: "79123456789", name: "Иванова Ольга" },
      { identity_key: "id:К-18", email: null, phone: "89120001122", name: "Пётр Сидоров" },
    ]);
  });

  it("handles a BOM, CRLF, quoted delimiters, quotes and line breaks, explicit offsets, and lone-CR files", async () => {
    const dir = workspace("timezone: Europe/Berlin\n");
    await importJson(dir, fixture("orders", "bom-crlf-quoted-newline.csv"));
    await importJson(dir, fixture("orders", "lone-cr.csv"));
    const db = join(dir, "comeback.db");
    expect(
      query(
        db,
        "SELECT o.external_id, o.placed_at, l.product_name FROM orders o JOIN order_lines l ON l.order_id = o.id ORDER BY o.id",
      ),
    ).toEqual([
      { external_id: "5001", placed_at: "2024-05-01T08:00:00Z", product_name: 'Mug, "large"\r\nblue' },
      { external_id: "5002", placed_at: "2024-05-02T09:00:00Z", product_name: "Plate" },
      { external_id: "6001", placed_at: "2024-05-31T22:00:00Z", product_name: null },
      { external_id: "6002", placed_at: "2024-06-01T22:00:00Z", product_name: null },
    ]);
  });

  it("keeps returns as negative quantities and cancelled orders with their class", async () => {
    const dir = workspace();
    await importJson(dir, fixture("orders", "returns-and-cancellation.csv"));
    const rows = query(
      join(dir, "comeback.db"),
      "SELECT o.external_id, o.status_class, l.quantity, l.line_total_minor FROM orders o JOIN order_lines l ON l.order_id = o.id ORDER BY o.id",
    );
    expect(rows).toEqual([
      { external_id: "7001", status_class: "completed", quantity: 3, line_total_minor: 7470 },
      { external_id: "7002", status_class: "completed", quantity: -1, line_total_minor: -2490 },
      { external_id: "7003", status_class: "cancelled", quantity: 2, line_total_minor: 4980 },
    ]);
  });

  it("--dry-run reads everything and writes nothing", async () => {
    const dir = workspace();
    const result = await run(["import", "orders", fixture("demo", "orders.csv"), "--dry-run"], { cwd: dir });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("dry run, nothing written");
    expect(result.stdout).toMatch(/orders new\s+15/);
    expect(
      query(
        join(dir, "comeback.db"),
        "SELECT (SELECT count(*) FROM orders) + (SELECT count(*) FROM imports) AS n",
      ),
    ).toEqual([{ n: 0 }]);
  });

  it("imports orders split across the file as one order with distinct lines", async () => {
    const dir = workspace();
    const file = join(dir, "split.csv");
    writeFileSync(
      file,
      "order_id,ordered_at,sku,quantity\n1,2024-01-01,A,1\n2,2024-01-01,B,1\n1,2024-01-01,C,2\n",
    );
    const [report] = await importJson(dir, file);
    expect(report).toMatchObject({ orders_new: 2, lines_new: 3 });
    expect(
      query(
        join(dir, "comeback.db"),
        "SELECT line_key, sku FROM order_lines WHERE order_id = 1 ORDER BY line_key",
      ),
    ).toEqual([
      { line_key: "1", sku: "A" },
      { line_key: "2", sku: "C" },
    ]);
    // A shop's first import builds the orders' customer index at the end: it must be there.
    expect(
      query(join(dir, "comeback.db"), "SELECT name FROM sqlite_master WHERE name = 'orders_customer'"),
    ).toEqual([{ name: "orders_customer" }]);
  });

  it("an order met again later in the file with a line id updates the line written a moment before", async () => {
    const dir = workspace();
    const file = join(dir, "split-ids.csv");
    writeFileSync(
      file,
      "order_id,line_id,ordered_at,sku,quantity\n" +
        "1,L1,2024-01-01,A,1\n" +
        "2,L9,2024-01-01,B,1\n" +
        "1,L1,2024-01-01,A,3\n" + // the same line again, with a new quantity: the later row wins
        "1,L2,2024-01-01,C,2\n",
    );
    const [report] = await importJson(dir, file);
    expect(report).toMatchObject({ orders_new: 2, lines_new: 3 });
    expect(
      query(
        join(dir, "comeback.db"),
        "SELECT line_key, sku, quantity FROM order_lines WHERE order_id = 1 ORDER BY line_key",
      ),
    ).toEqual([
      { line_key: "L1", sku: "A", quantity: 3 },
      { line_key: "L2", sku: "C", quantity: 2 },
    ]);
  });

  it("a shop's first import makes one customer of an email that comes with and without the shop's id", async () => {
    const dir = workspace();
    const file = join(dir, "o.csv");
    writeFileSync(
      file,
      "order_id,ordered_at,customer_id,email,sku\n" +
        "1,2024-01-01,C1,ann@example.com,A\n" +
        "2,2024-01-02,,ann@example.com,A\n" +
        "3,2024-01-03,,bob@example.com,A\n" +
        "4,2024-01-04,C2,bob@example.com,A\n",
    );
    expect((await importJson(dir, file))[0]).toMatchObject({ customers_new: 2 });
    expect(
      query(
        join(dir, "comeback.db"),
        "SELECT c.identity_key, c.external_id, count(o.id) AS orders FROM customers c JOIN orders o ON o.customer_id = c.id GROUP BY c.id ORDER BY c.id",
      ),
    ).toEqual([
      { identity_key: "id:C1", external_id: "C1", orders: 2 },
      { identity_key: "email:bob@example.com", external_id: "C2", orders: 2 },
    ]);
    // The indexes the first import left out while inserting are back (test/unit/customer-writer.test.ts: when).
    expect(customerIndexes(join(dir, "comeback.db"))).toEqual(["customers_email", "customers_external_id"]);
  });

  it("merges later files into stored customers: counts; matches by email, by the shop's id, by an old email", async () => {
    const dir = workspace();
    const orders = join(dir, "o.csv");
    writeFileSync(
      orders,
      "order_id,ordered_at,customer_id,email,customer_name,sku\n" +
        "1,2024-01-01,C1,ann@example.com,Ann,A\n" +
        "2,2024-01-02,,bob@example.com,Bob,A\n" +
        "3,2024-01-03,C3,cy@example.com,Cy,A\n",
    );
    expect((await importJson(dir, orders))[0]).toMatchObject({ customers_new: 3 });
    const customers = join(dir, "c.csv");
    writeFileSync(
      customers,
      "customer_id,email,first_name,usage_factor\n" +
        "C1,ann@example.com,,\n" + // nothing new: unchanged
        "C2,bob@example.com,Bob,1.5\n" + // known by email only, now with the shop's id: updated, not created
        "C4,dee@example.com,Dee,\n" + // new
        "C4,,,2\n", // the same new customer again, in the same file: still one created
    );
    const run1 = await run(["import", "customers", customers, "--json"], { cwd: dir });
    expect(run1.stderr).toBe("");
    expect(JSON.parse(run1.stdout)[0]).toMatchObject({
      rows: 4,
      customers_new: 1,
      customers_updated: 1,
      customers_unchanged: 1,
    });
    const db = join(dir, "comeback.db");
    expect(
      query(
        db,
        "SELECT identity_key, external_id, email, first_name, usage_factor FROM customers ORDER BY id",
      ),
    ).toEqual([
      {
        identity_key: "id:C1",
        external_id: "C1",
        email: "ann@example.com",
        first_name: null,
        usage_factor: null,
      },
      {
        identity_key: "email:bob@example.com",
        external_id: "C2",
        email: "bob@example.com",
        first_name: "Bob",
        usage_factor: 1.5,
      },
      {
        identity_key: "id:C3",
        external_id: "C3",
        email: "cy@example.com",
        first_name: null,
        usage_factor: null,
      },
      {
        identity_key: "id:C4",
        external_id: "C4",
        email: "dee@example.com",
        first_name: "Dee",
        usage_factor: 2,
      },
    ]);
    // The same facts again change nothing: every customer it names is unchanged.
    const run2 = await run(["import", "customers", customers, "--json", "--force"], { cwd: dir });
    expect(JSON.parse(run2.stdout)[0]).toMatchObject({
      customers_new: 0,
      customers_updated: 0,
      customers_unchanged: 3,
    });
    // Later exports that name bob by the shop's id alone, and by his old email after it changed, find him.
    const later = join(dir, "later.csv");
    writeFileSync(
      later,
      "order_id,ordered_at,customer_id,email,customer_name,sku\n" + "9,2024-02-01,C2,,,A\n",
    );
    expect((await importJson(dir, later))[0]).toMatchObject({ customers_new: 0 });
    const newEmail = join(dir, "c2.csv");
    writeFileSync(newEmail, "customer_id,email\n" + "C2,robert@example.com\n");
    const run3 = await run(["import", "customers", newEmail, "--json"], { cwd: dir });
    expect(JSON.parse(run3.stdout)[0]).toMatchObject({ customers_new: 0, customers_updated: 1 });
    const oldEmail = join(dir, "old-email.csv");
    writeFileSync(oldEmail, "order_id,ordered_at,email,sku\n" + "11,2024-01-15,bob@example.com,A\n");
    expect((await importJson(dir, oldEmail))[0]).toMatchObject({ customers_new: 0 });
    expect(
      query(db, "SELECT DISTINCT customer_id FROM orders WHERE external_id IN ('2', '9', '11')"),
    ).toEqual([{ customer_id: 2 }]);
    expect(query(db, "SELECT email FROM customers WHERE id = 2")).toEqual([{ email: "robert@example.com" }]);
  });

  it("later rows update a customer's name, phone and consent; an empty cell never erases them", async () => {
    const dir = workspace();
    const file = join(dir, "o.csv");
    writeFileSync(
      file,
      "order_id,ordered_at,customer_id,email,phone,customer_name,accepts_marketing,sku\n" +
        "1,2024-01-01,C1,Ann@Example.com,+49 1 111111,Ann Old,yes,A\n" +
        "2,2024-03-01,C1,,+49 2 222222,Ann New,no,A\n" +
        "3,2024-02-01,C1,,,Ann Middle,,A\n",
    );
    await importJson(dir, file);
    expect(
      query(
        join(dir, "comeback.db"),
        "SELECT email, email_display, phone, name, accepts_marketing FROM customers",
      ),
    ).toEqual([
      {
        email: "ann@example.com",
        email_display: "Ann@Example.com",
        phone: "492222222",
        name: "Ann New",
        accepts_marketing: 0,
      },
    ]);
  });

  it("a row repeating a new customer's details moves only info_as_of; one that differs is merged by date", async () => {
    // A repeat with the same fields skips the merge: its date must still count (row 3 is older than
    // row 2 and loses), and a merge must end the skipping (row 5 repeats row 1 and, being newest, wins).
    const dir = workspace();
    const file = join(dir, "o.csv");
    writeFileSync(
      file,
      "order_id,ordered_at,customer_id,customer_name,sku\n" +
        "1,2024-01-01,C1,Ann Old,A\n" +
        "2,2024-02-01,C1,Ann Old,A\n" +
        "3,2024-01-15,C1,Ann Middle,A\n" +
        "4,2024-03-01,C1,Ann New,A\n" +
        "5,2024-04-01,C1,Ann Old,A\n" +
        "6,2024-01-20,C2,Bea,A\n" +
        "7,2024-02-20,C2,Bea,A\n" +
        "8,2024-01-25,C2,Bea Older,A\n",
    );
    const [report] = await importJson(dir, file);
    expect(report).toMatchObject({ customers_new: 2, orders_new: 8 });
    expect(
      query(join(dir, "comeback.db"), "SELECT external_id, name, info_as_of FROM customers ORDER BY id"),
    ).toEqual([
      { external_id: "C1", name: "Ann Old", info_as_of: "2024-04-01T00:00:00Z" },
      { external_id: "C2", name: "Bea", info_as_of: "2024-02-20T00:00:00Z" },
    ]);
    // This first import never looked a customer up by email: it built the indexes it left out at the end.
    expect(customerIndexes(join(dir, "comeback.db"))).toEqual(["customers_email", "customers_external_id"]);
  });
});

describe("bad input", () => {
  it("fails the whole file on a bad row, naming file, line and column, and writes nothing; an odd email only warns", async () => {
    const dir = workspace();
    await importJson(dir, fixture("demo", "orders.csv"));
    const db = join(dir, "comeback.db");
    const before = snapshot(db);
    const result = await run(["import", "orders", fixture("orders", "bad-rows.csv")], { cwd: dir });
    expect(result.code).toBe(65);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain('bad-rows.csv:3: column "ordered_at": "2024-02-31" is not');
    expect(result.stderr).toContain('bad-rows.csv:4: column "quantity": "one" is not a number');
    // An email the order can do without: not a reason to refuse the file, and not listed as one.
    expect(result.stderr).not.toContain("bad-rows.csv:5");
    expect(result.stderr).toContain("bad-rows.csv: 2 rows could not be imported");
    expect(result.stderr).toContain("--skip-bad-rows");
    expect(snapshot(db)).toBe(before);
    expect(query(db, "SELECT count(*) AS n FROM imports")).toEqual([{ n: 1 }]);
  });

  it("--skip-bad-rows imports the good rows and writes the bad ones with reasons beside the input", async () => {
    const dir = workspace();
    const input = join(dir, "bad-rows.csv");
    copyFileSync(fixture("orders", "bad-rows.csv"), input);
    const [report] = await importJson(dir, input, "--skip-bad-rows");
    expect(report).toMatchObject({
      rows: 5,
      orders_new: 3,
      rejected: 2,
      warnings: 1,
      warning_list: [
        { line: 5, column: "email", message: "text of 12 characters, not an email address: read as empty" },
      ],
    });
    const rejected = readFileSync(join(dir, "bad-rows.rejected.csv"), "utf8");
    const lines = rejected
      .replace(/^\uFEFF/, "")
      .trim()
      .split("\n");
    expect(lines[0]).toBe("line,error,order_id,ordered_at,sku,quantity,unit_price,email");
    expect(lines).toHaveLength(3);
    expect(lines[1]).toMatch(/^3,"?column ""ordered_at"": ""2024-02-31"" is not/);
    expect(lines[2]).toContain("8003");
  });

  it("rejects a whole order when one of its lines is bad", async () => {
    const dir = workspace();
    const input = join(dir, "o.csv");
    writeFileSync(
      input,
      "order_id,ordered_at,sku,quantity\n1,2024-01-01,A,1\n1,2024-01-01,B,x\n2,2024-01-02,A,1\n",
    );
    const [report] = await importJson(dir, input, "--skip-bad-rows");
    expect(report).toMatchObject({ orders_new: 1, lines_new: 1, rejected: 2 });
    expect(readFileSync(join(dir, "o.rejected.csv"), "utf8")).toContain(
      'rejected with its order ""1"" (see line 3)',
    );
  });

  it("names the line of a quote that is never closed, also when the rest of the file would be one field", async () => {
    const dir = workspace();
    await importJson(dir, fixture("demo", "orders.csv"));
    const db = join(dir, "comeback.db");
    const before = snapshot(db);
    const good = (i: number) => `${i},2024-01-01,A,1,name ${i}\n`;
    const header = "order_id,ordered_at,sku,quantity,product_name\n";
    const short = join(dir, "short.csv");
    writeFileSync(short, `${header}${good(1)}2,2024-01-01,A,1,"never closed\n${good(3)}`);
    const unclosed = await run(["import", "orders", short], { cwd: dir });
    expect(unclosed.code).toBe(65);
    expect(unclosed.stderr).toContain(
      "short.csv:3: a quote opened in the record that starts here is never closed",
    );
    // More than 4 MiB after the quote: refused at the limit instead of held in memory as one field.
    const long = join(dir, "long.csv");
    const tail = Array.from({ length: 60_000 }, (_, i) => good(i + 3) + "x".repeat(60)).join("\n");
    writeFileSync(long, `${header}${good(1)}2,2024-01-01,A,1,"never closed\n${tail}\n`);
    const oversized = await run(["import", "orders", long], { cwd: dir });
    expect(oversized.code).toBe(65);
    expect(oversized.stderr).toContain("long.csv:3: the record that starts here is longer than 4 MiB");
    expect(snapshot(db)).toBe(before);
  });

  it("a large file of nothing but bad rows, or an order of huge rows, exits 65 and writes nothing", async () => {
    const dir = workspace();
    const header = "order_id,ordered_at,sku,quantity,product_name\n";
    // Every date in the wrong format: the rejected rows travel to the writer in batches, they don't
    // pile up in the reader (its heap is capped: 100,000 of them overflowed it).
    const allBad = join(dir, "all-bad.csv");
    const rows = Array.from({ length: 130_000 }, (_, i) => `${i + 1},03/01/2024 10:00,A,1,name ${i + 1}\n`);
    writeFileSync(allBad, header + rows.join(""));
    const bad = await run(["import", "orders", allBad], { cwd: dir });
    expect(bad.code).toBe(65);
    expect(bad.stderr).toContain("130000 rows could not be imported; nothing was written");
    // Each row is under the 4 MiB record limit, but one order of twelve is more than a reader holds.
    const huge = join(dir, "huge-order.csv");
    const name = "я".repeat(1_900_000);
    const lines = Array.from({ length: 12 }, (_, i) => `1,2024-01-01,S${i},1,"${name}"\n`);
    writeFileSync(huge, header + lines.join(""));
    const tooBig = await run(["import", "orders", huge], { cwd: dir });
    expect(tooBig.code).toBe(65);
    expect(tooBig.stderr).toContain(
      "huge-order.csv:2: the order that starts here holds more text than the reader",
    );
    expect(query(join(dir, "comeback.db"), "SELECT count(*) AS n FROM orders")).toEqual([{ n: 0 }]);
  });

  it("names a missing required column, the profile and the headers found", async () => {
    const dir = workspace();
    const input = join(dir, "o.csv");
    writeFileSync(input, "order_id,sku,quantity\n1,A,1\n");
    const result = await run(["import", "orders", input, "--profile", "generic"], { cwd: dir });
    expect(result.code).toBe(65);
    expect(result.stderr).toContain(
      'missing required column ordered_at (header "ordered_at") for profile "generic"',
    );
    expect(result.stderr).toContain('the file\'s headers are: "order_id", "sku", "quantity"');
  });

  it("explains when no profile fits the header", async () => {
    const dir = workspace();
    const input = join(dir, "o.csv");
    writeFileSync(input, "Auftrag;Datum;Artikel\n1;2024-01-01;A\n");
    const result = await run(["import", "orders", input], { cwd: dir });
    expect(result.code).toBe(65);
    expect(result.stderr).toContain("no profile for orders fits this header");
    expect(result.stderr).toContain('"Auftrag", "Datum", "Artikel"');
  });

  it("exit 66 for a missing file, 78 for an unknown profile (with the list), 65 for a spreadsheet", async () => {
    const dir = workspace();
    const missing = await run(["import", "orders", join(dir, "nope.csv")], { cwd: dir });
    expect(missing.code).toBe(66);
    expect(missing.stderr).toContain("nope.csv");
    const profile = await run(["import", "orders", fixture("demo", "orders.csv"), "--profile", "magento"], {
      cwd: dir,
    });
    expect(profile.code).toBe(78);
    expect(profile.stderr).toContain('unknown profile "magento"');
    expect(profile.stderr).toContain("generic, shopify");
    const xlsx = await run(["import", "orders", fixture("orders", "not-csv.xlsx")], { cwd: dir });
    expect(xlsx.code).toBe(65);
    expect(xlsx.stderr).toContain("not CSV");
    expect(existsSync(join(dir, "comeback.db"))).toBe(true);
    expect(query(join(dir, "comeback.db"), "SELECT count(*) AS n FROM orders")).toEqual([{ n: 0 }]);
  });

  it("exit 78 for an unknown config key, naming it; exit 2 for an unknown flag", async () => {
    const dir = workspace("timezon: Europe/Berlin\n");
    const config = await run(["status"], { cwd: dir });
    expect(config.code).toBe(78);
    expect(config.stderr).toContain("timezon");
    expect(config.stderr).toContain('did you mean "timezone"');
    const usage = await run(["import", "orders", "x.csv", "--frobnicate"], { cwd: workspace() });
    expect(usage.code).toBe(2);
  });
});
