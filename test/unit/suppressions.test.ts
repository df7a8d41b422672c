/**
 * The suppression list as the admin meets it (listSuppressions, liftSuppressions in
 * src/deliver/suppress.ts): what is listed, and that lifting is all or nothing and never takes back
 * a customer's own unsubscribe unless told to.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Outbox } from "../../src/deliver/outbox.js";
import { liftSuppressions, listSuppressions, suppressAll } from "../../src/deliver/suppress.js";
import { unsubscribeToken } from "../../src/deliver/unsubscribe.js";
import { DataError } from "../../src/errors.js";
import { openStore, type Db } from "../../src/store/open.js";

const SECRET = "0123456789abcdef0123456789abcdef";

let db: Db;
let outbox: Outbox;
beforeEach(() => {
  db = openStore(join(mkdtempSync(join(tmpdir(), "comeback-suppressions-")), "s.db"));
  outbox = new Outbox(db);
  outbox.suppress("gone@example.com", "550 5.1.1 no such user", "bounce", "2026-03-01T09:00:00Z");
  outbox.suppress("old@example.com", "550 no such user", "smtp", "2026-02-01T09:00:00Z");
  outbox.suppress("own@example.com", "asked by mail", "unsubscribe", "2026-03-02T09:00:00Z");
  outbox.suppress("bob@example.com", "asked by phone", "admin", "2026-03-01T09:00:00Z");
});
afterEach(() => db.close());

const addresses = () => db.prepare("SELECT address FROM suppressions ORDER BY address").pluck().all();

describe("listing suppressions", () => {
  it("lists every one newest first (then by address), the old smtp source read as bounce", () => {
    expect(listSuppressions(db)).toEqual([
      {
        address: "own@example.com",
        reason: "asked by mail",
        source: "unsubscribe",
        created_at: "2026-03-02T09:00:00Z",
      },
      {
        address: "bob@example.com",
        reason: "asked by phone",
        source: "admin",
        created_at: "2026-03-01T09:00:00Z",
      },
      {
        address: "gone@example.com",
        reason: "550 5.1.1 no such user",
        source: "bounce",
        created_at: "2026-03-01T09:00:00Z",
      },
      {
        address: "old@example.com",
        reason: "550 no such user",
        source: "bounce",
        created_at: "2026-02-01T09:00:00Z",
      },
    ]);
  });

  it("lists those of one source, bounces stored as smtp among them", () => {
    expect(listSuppressions(db, "bounce").map((s) => s.address)).toEqual([
      "gone@example.com",
      "old@example.com",
    ]);
    expect(listSuppressions(db, "unsubscribe").map((s) => s.address)).toEqual(["own@example.com"]);
    expect(listSuppressions(db, "smtp")).toEqual([]);
  });
});

describe("lifting suppressions", () => {
  const lift = { dryRun: false, unsubscribed: false };

  it("lifts a bounce or an admin's suppression, given in any case, and says what it was", () => {
    expect(liftSuppressions(db, [" Gone@Example.com ", "old@example.com", "bob@example.com"], lift)).toEqual([
      {
        address: "gone@example.com",
        was: {
          address: "gone@example.com",
          reason: "550 5.1.1 no such user",
          source: "bounce",
          created_at: "2026-03-01T09:00:00Z",
        },
        lifted: true,
      },
      {
        address: "old@example.com",
        was: {
          address: "old@example.com",
          reason: "550 no such user",
          source: "bounce",
          created_at: "2026-02-01T09:00:00Z",
        },
        lifted: true,
      },
      {
        address: "bob@example.com",
        was: {
          address: "bob@example.com",
          reason: "asked by phone",
          source: "admin",
          created_at: "2026-03-01T09:00:00Z",
        },
        lifted: true,
      },
    ]);
    expect(addresses()).toEqual(["own@example.com"]);
  });

  it("says an address that was not suppressed was not lifted", () => {
    expect(liftSuppressions(db, ["new@example.com"], lift)).toEqual([
      { address: "new@example.com", was: null, lifted: false },
    ]);
    expect(addresses()).toHaveLength(4);
  });

  it("a dry run says what it would lift and changes nothing", () => {
    expect(liftSuppressions(db, ["gone@example.com"], { ...lift, dryRun: true })).toMatchObject([
      { address: "gone@example.com", lifted: true },
    ]);
    expect(addresses()).toHaveLength(4);
  });

  it("never lifts a customer's own unsubscribe unless told to, and then changes nothing at all", () => {
    expect(() => liftSuppressions(db, ["gone@example.com", "Own@example.com"], lift)).toThrow(
      new DataError(
        "own@example.com unsubscribed themselves: lift only when they asked for email again, with --unsubscribed-too; nothing was changed",
      ),
    );
    expect(addresses()).toHaveLength(4);
    expect(
      liftSuppressions(db, ["own@example.com", "gone@example.com"], { ...lift, unsubscribed: true }),
    ).toMatchObject([
      { address: "own@example.com", lifted: true },
      { address: "gone@example.com", lifted: true },
    ]);
    expect(addresses()).toEqual(["bob@example.com", "old@example.com"]);
  });

  it("names every address that unsubscribed itself", () => {
    outbox.suppress("own2@example.com", "asked", "unsubscribe", "2026-03-02T09:00:00Z");
    expect(() =>
      liftSuppressions(db, ["own@example.com", "bob@example.com", "own2@example.com"], lift),
    ).toThrow(/^own@example\.com, own2@example\.com unsubscribed themselves: /);
  });

  it("refuses something that is not an address, naming it, and changes nothing", () => {
    expect(() => liftSuppressions(db, ["gone@example.com", "bob"], lift)).toThrow(
      new DataError('"bob" is not an email address'),
    );
    expect(addresses()).toHaveLength(4);
  });
});

describe("suppressing", () => {
  const options = { secret: () => SECRET, reason: "asked", now: "2026-03-03T09:00:00Z" };

  it("reads a token after 'unsubscribe' and any spaces, in any case, and nothing before it", () => {
    const token = unsubscribeToken(SECRET, "carl@example.com");
    expect(suppressAll(db, [`UNSUBSCRIBE \t ${token}`], options)).toEqual([
      { address: "carl@example.com", added: true },
    ]);
    expect(() => suppressAll(db, [`please unsubscribe ${token}`], options)).toThrow(DataError);
  });

  it("keeps an address already suppressed as it was, and suppresses the rest", () => {
    expect(suppressAll(db, ["Bob@example.com", "dan@example.com"], options)).toEqual([
      { address: "bob@example.com", added: false },
      { address: "dan@example.com", added: true },
    ]);
    expect(outbox.suppression("bob@example.com")).toEqual({ reason: "asked by phone", source: "admin" });
    expect(outbox.suppression("dan@example.com")).toEqual({ reason: "asked", source: "admin" });
  });
});
