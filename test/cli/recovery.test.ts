/**
 * The recovery commands after a bad week: `comeback suppressions [list|lift]` and `comeback requeue`.
 * The bad week is the one issue 17 found (a relay refusing everyone, before comeback told the server's
 * fault from the recipient's): every message failed with 554 5.7.1 and every address suppressed. Each
 * command says what it will do, and changes nothing with --dry-run.
 */
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { query, run } from "../helpers.js";
import { demoWorkspace, SECRET, smtpConfig, startSmtp } from "../deliver-helpers.js";

const env = { COMEBACK_SECRET: SECRET };
const MONDAY = "2026-03-02T09:00";
const LATER = "2026-03-02T10:00";
const RELAY = "554 5.7.1 <x@y>: Relay access denied";

/** Makes the bad week by hand: every message failed as the relay said, every address suppressed as then. */
function badWeek(db: string): void {
  const write = new Database(db);
  write.exec(`UPDATE outbox SET state = 'failed', attempts = 1, error = '${RELAY}', response = '${RELAY}'`);
  write.exec(
    `INSERT INTO suppressions (address, reason, source, created_at)
     SELECT lower(recipient), '${RELAY}', 'smtp', '2026-03-02T08:00:00Z' FROM outbox`,
  );
  write.exec(
    "INSERT INTO suppressions VALUES ('gone@example.com', 'asked to unsubscribe', 'unsubscribe', '2026-01-01T00:00:00Z')",
  );
  write.close();
}

const states = (db: string) => query<{ state: string }>(db, "SELECT state FROM outbox").map((r) => r.state);
const suppressed = (db: string) =>
  query<{ address: string }>(db, "SELECT address FROM suppressions ORDER BY address").map((r) => r.address);

describe("recovering from a week a broken relay failed", () => {
  it("lists the suppressions with reason and source, lifts them, requeues by error class; each once", async () => {
    const smtp = await startSmtp();
    try {
      const { dir, db } = await demoWorkspace(smtpConfig(smtp.port));
      // Queue the week without sending it (the send window opens at 09:00 shop time), then break it.
      const queue = await run(["weekly", "--now", "2026-03-02T07:00"], { cwd: dir, env });
      expect(queue.code, queue.stderr).toBe(0);
      const sentBefore = smtp.received.length; // the digest is no marketing: it goes out at once
      badWeek(db);
      const everyone = suppressed(db);
      expect(everyone).toHaveLength(5);

      const list = await run(["suppressions"], { cwd: dir, env });
      expect(list.code, list.stderr).toBe(0);
      expect(list.stdout).toMatch(
        /anna\.schmidt@example\.com {2}bounce {2}since 2026-03-02T08:00:00Z {2}554 5\.7\.1/,
      );
      expect(list.stdout).toMatch(/gone@example\.com {2}unsubscribe/);
      const bounces = await run(["suppressions", "list", "--source", "bounce", "--json"], { cwd: dir, env });
      expect(JSON.parse(bounces.stdout)).toHaveLength(4);

      const bounced = JSON.parse(bounces.stdout).map((s: { address: string }) => s.address) as string[];
      const dryLift = await run(["suppressions", "lift", ...bounced, "--dry-run"], { cwd: dir, env });
      expect(dryLift.code, dryLift.stderr).toBe(0);
      expect(dryLift.stdout).toContain("anna.schmidt@example.com: would lift (bounce since");
      expect(dryLift.stdout).toContain("Dry run: 4 addresses would be lifted; nothing changed.");
      expect(suppressed(db)).toEqual(everyone);

      // The customer's own unsubscribe is lifted only when the admin says so explicitly.
      const own = await run(["suppressions", "lift", "gone@example.com", ...bounced], { cwd: dir, env });
      expect(own.code).toBe(65);
      expect(own.stderr).toContain("--unsubscribed-too");
      expect(suppressed(db)).toEqual(everyone);

      const lift = await run(["suppressions", "lift", ...bounced], { cwd: dir, env });
      expect(lift.code, lift.stderr).toBe(0);
      expect(lift.stdout).toContain("4 addresses lifted.");
      expect(suppressed(db)).toEqual(["gone@example.com"]);

      const dry = await run(["requeue", "--error", "server", "--dry-run"], { cwd: dir, env });
      expect(dry.code, dry.stderr).toBe(0);
      expect(dry.stdout).toContain("Dry run: 4 failed messages would be queued again; nothing changed.");
      expect(states(db)).toEqual(["failed", "failed", "failed", "failed"]);
      const none = await run(["requeue", "--error", "recipient"], { cwd: dir, env });
      expect(none.stdout).toContain("No failed message matches.");

      const requeue = await run(
        ["requeue", "--error", "5.7.1", "--week", "2026-W10", "--now", LATER, "--json"],
        {
          cwd: dir,
          env,
        },
      );
      expect(requeue.code, requeue.stderr).toBe(0);
      expect(JSON.parse(requeue.stdout)).toMatchObject({ dry_run: false, requeued: 4 });
      expect(query(db, "SELECT DISTINCT state, attempts, error FROM outbox")).toEqual([
        { state: "queued", attempts: 0, error: null },
      ]);

      const send = await run(["send", "--now", LATER], { cwd: dir, env });
      expect(send.code, send.stderr).toBe(0);
      expect(smtp.received, send.stdout).toHaveLength(4 + sentBefore);
      expect(new Set(smtp.received.map((m) => m.messageId)).size).toBe(4);
      expect(states(db)).toEqual(["sent", "sent", "sent", "sent"]);
    } finally {
      await smtp.close();
    }
  });

  it("requeues by key and kind, says when an address is still suppressed, refuses no filter", async () => {
    const smtp = await startSmtp();
    try {
      const { dir, db } = await demoWorkspace(smtpConfig(smtp.port));
      const queue = await run(["weekly", "--now", MONDAY.replace("09:00", "07:00")], { cwd: dir, env });
      expect(queue.code, queue.stderr).toBe(0);
      badWeek(db);
      const keys = query<{ idempotency_key: string }>(
        db,
        "SELECT idempotency_key FROM outbox WHERE kind = 'cart'",
      );

      const bare = await run(["requeue"], { cwd: dir, env });
      expect(bare.code).toBe(2);
      expect(bare.stderr).toContain("--key, --kind, --week or --error");
      const badWeekFlag = await run(["requeue", "--week", "W10"], { cwd: dir, env });
      expect(badWeekFlag.code).toBe(2);

      const one = await run(["requeue", "--key", keys[0]!.idempotency_key], { cwd: dir, env });
      expect(one.code, one.stderr).toBe(0);
      expect(one.stdout).toContain("1 failed message queued again");
      expect(one.stdout).toContain("1 of them goes to a suppressed address");
      const digest = await run(["requeue", "--kind", "digest", "--dry-run", "--json"], { cwd: dir, env });
      expect(JSON.parse(digest.stdout)).toMatchObject({
        requeued: 0,
        messages: [{ kind: "digest", error_class: "server" }],
      });
      expect(query(db, "SELECT state FROM outbox WHERE kind = 'digest'")).toEqual([{ state: "failed" }]);
      expect(states(db).filter((s) => s === "queued")).toHaveLength(1);
    } finally {
      await smtp.close();
    }
  });
});
