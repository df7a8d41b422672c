/**
 * issue 17, point 5: no personal data at info level. A full run (import with a bad row, weekly, send,
 * with an SMTP server that rejects one recipient by address and name) writes its log file at info;
 * not one customer address, phone or name of the fixture may be in it, while the file:line and column
 * of the bad row, and the value's shape, stay.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { maskPersonal, redactValue } from "../../src/redact.js";
import { fixture, query, run, workspace } from "../helpers.js";
import {
  DEMO_SEEDS,
  SECRET,
  seedReminders,
  smtpConfig,
  smtpError,
  startSmtp,
  type TestSmtp,
} from "../deliver-helpers.js";

const env = { COMEBACK_SECRET: SECRET };
let smtp: TestSmtp | undefined;
afterEach(async () => {
  await smtp?.close();
  smtp = undefined;
});

/** Every address, phone and name the fixture gives, as written and as stored. */
function personalData(db: string): string[] {
  const values = new Set<string>();
  for (const file of ["customers.csv", "orders.csv"]) {
    const [header, ...rows] = readFileSync(fixture("demo", file), "utf8").trim().split("\n");
    const columns = header!.split(",");
    for (const row of rows) {
      const cells = row.split(",");
      for (const name of ["email", "phone", "first_name", "last_name", "customer_name"]) {
        const index = columns.indexOf(name);
        if (index >= 0 && cells[index]) values.add(cells[index]!);
      }
    }
  }
  for (const row of query<Record<string, string | null>>(db, "SELECT * FROM customers")) {
    for (const [key, value] of Object.entries(row)) {
      if (/email|phone|name/.test(key) && typeof value === "string" && value !== "") values.add(value);
    }
  }
  return [...values];
}

describe("the info log of a full run", () => {
  it("holds no customer address, phone or name, and keeps where the bad cell is and its shape", async () => {
    smtp = await startSmtp();
    smtp.onRcpt = (address) =>
      address === "boris.petrov@example.com"
        ? smtpError(550, '5.1.1 "Борис Петров" <boris.petrov@example.com>: user unknown')
        : null;
    const dir = workspace(smtpConfig(smtp.port, "log:\n  file: ./run.log\n  level: info\n"));
    const orders = readFileSync(fixture("demo", "orders.csv"), "utf8").trimEnd().split("\n");
    // A bad row whose cells shifted: an address in the date, a name in the quantity, a phone in the price.
    orders.push(
      "9999,eva@example.com,completed,C005,eva@example.com,Eva Braun,FLT-STD,Filter,Eva Braun,+49 160 1000005,EUR",
    );
    writeFileSync(join(dir, "orders.csv"), `${orders.join("\n")}\n`);
    for (const kind of ["products", "customers"]) {
      const result = await run(["import", kind, fixture("demo", `${kind}.csv`)], { cwd: dir });
      expect(result.code, result.stderr).toBe(0);
    }
    const strict = await run(["import", "orders", "orders.csv"], { cwd: dir });
    expect(strict.code).toBe(65);
    const skipping = await run(["import", "orders", "orders.csv", "--skip-bad-rows"], { cwd: dir });
    expect(skipping.code, skipping.stderr).toBe(0);
    await seedReminders(dir, DEMO_SEEDS);
    const weekly = await run(["weekly", "--now", "2026-03-02T09:00", "--json"], { cwd: dir, env });
    expect(weekly.code, weekly.stderr).toBe(0);
    expect(JSON.parse(weekly.stdout).messages).toMatchObject({ failed: 1 });
    const send = await run(["send", "--now", "2026-03-02T10:00"], { cwd: dir, env });
    expect(send.code, send.stderr).toBe(0);

    const log = readFileSync(join(dir, "run.log"), "utf8");
    const lines = log.trim().split("\n");
    expect(lines.length).toBeGreaterThan(10);
    for (const line of lines) expect(JSON.parse(line).level).toBeGreaterThanOrEqual(30);
    const leaks = personalData(join(dir, "comeback.db")).filter((value) =>
      log.toLowerCase().includes(value.toLowerCase()),
    );
    expect(leaks).toEqual([]);
    expect(log).toContain('column \\"unit_price\\": [12 digits] is not');
    expect(log).toMatch(/"message_id":"<[^"@]+@shop\.example>"/);
    // Where the problem is, and what the cell looked like, stay.
    expect(log).toContain('orders.csv:19: column \\"ordered_at\\": [text of 15 characters] is not');
    expect(log).toContain('orders.csv:19: column \\"quantity\\": [text of 9 characters] is not');
    expect(log).toMatch(
      /message failed.*\[name\] <\[email\]>: user unknown|\[name\] <\[email\]>: user unknown.*message failed/,
    );
  });
});

describe("maskPersonal", () => {
  it("masks addresses, display names, phones and quoted import cells, and keeps dates, ids and codes", () => {
    expect(maskPersonal("550 5.1.1 <anna@example.com>: user unknown")).toBe(
      "550 5.1.1 <[email]>: user unknown",
    );
    expect(maskPersonal('To: "Anna Schmidt" <anna@example.com>, Борис Петров <b@x.ru>')).toBe(
      "To: [name] <[email]>, [name] <[email]>",
    );
    expect(maskPersonal("call +49 151 1000001 or (030) 123-4567")).toBe("call [phone] or [phone]");
    expect(maskPersonal('a.csv:4: column "Datum": "Anna Schmidt" is not a date like 2024-03-01')).toBe(
      'a.csv:4: column "Datum": [text of 12 characters] is not a date like 2024-03-01',
    );
    const kept = "2026-03-02T09:00:00Z order 40123456780001 cart:12:2026-W10 took 1.234 s, 12.03.2026";
    expect(maskPersonal(kept)).toBe(kept);
  });

  it("masks the fields named for personal data, and errors", () => {
    expect(
      redactValue({
        email: "x",
        to: ["a@b.de"],
        n: 3,
        nested: [{ name: "Anna" }],
        err: new Error("<a@b.de>"),
      }),
    ).toMatchObject({
      email: "[redacted]",
      to: "[redacted]",
      n: 3,
      nested: [{ name: "[redacted]" }],
      err: { message: "<[email]>" },
    });
  });
});
