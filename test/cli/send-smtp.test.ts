/**
 * Delivery through a real SMTP server (smtp-server on 127.0.0.1), driving the built CLI as cron would:
 * twice, killed half-way, two at once, against temporary and permanent failures.
 */
import { spawn } from "node:child_process";
import { afterEach, describe, expect, it } from "vitest";
import { verifyUnsubscribeToken } from "../../src/deliver/unsubscribe.js";
import { BIN, query, run } from "../helpers.js";
import {
  demoWorkspace,
  NEXT_WEEK_SEEDS,
  parts,
  seedReminders,
  SECRET,
  smtpConfig,
  smtpError,
  startSmtp,
  type TestSmtp,
} from "../deliver-helpers.js";

const env = { COMEBACK_SECRET: SECRET };
const MONDAY = "2026-03-02T09:00"; // shop time (Europe/Berlin), inside the window
let smtp: TestSmtp | null = null;

afterEach(async () => {
  await smtp?.close();
  smtp = null;
});

function ids(server: TestSmtp): string[] {
  return server.received.map((m) => m.messageId!).sort();
}

function countBy<T>(items: T[]): Map<T, number> {
  const counts = new Map<T, number>();
  for (const item of items) counts.set(item, (counts.get(item) ?? 0) + 1);
  return counts;
}

describe("comeback weekly over SMTP", () => {
  it("delivers each message once when run twice", async () => {
    smtp = await startSmtp();
    const { dir, db } = await demoWorkspace(smtpConfig(smtp.port));
    const first = await run(["weekly", "--now", MONDAY, "--json"], { cwd: dir, env });
    expect(first.code, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout).messages).toMatchObject({ queued: 4, sent: 4 });
    const second = await run(["weekly", "--now", MONDAY, "--json"], { cwd: dir, env });
    expect(second.code, second.stderr).toBe(0);
    expect(JSON.parse(second.stdout)).toMatchObject({
      carts: { new: 0, existing: 3 },
      messages: { queued: 0, sent: 0 },
    });
    const send = await run(["send", "--now", "2026-03-02T10:00"], { cwd: dir, env });
    expect(send.code, send.stderr).toBe(0);

    expect(smtp.received).toHaveLength(4);
    expect(new Set(ids(smtp)).size).toBe(4);
    const recipients = smtp.received.flatMap((m) => m.to).sort();
    expect(recipients).toEqual([
      "anna.schmidt@example.com",
      "boris.petrov@example.com",
      "clara@example.com",
      "ops@shop.example",
    ]);
    // The Message-ID recorded is the one the server got.
    const stored = query<{ message_id: string }>(db, "SELECT message_id FROM outbox ORDER BY message_id").map(
      (r) => r.message_id,
    );
    expect(stored).toEqual(ids(smtp));
  });

  it("never sends twice after being killed mid-send; the one in flight is shown as unknown", async () => {
    smtp = await startSmtp();
    const { dir, db } = await demoWorkspace(smtpConfig(smtp.port));
    const child = spawn(process.execPath, [BIN, "weekly", "--now", MONDAY], {
      cwd: dir,
      env: { ...process.env, COMEBACK_CONFIG: undefined, ...env },
    });
    const exited = new Promise<number | null>((resolve) =>
      child.on("exit", (_code, signal) => resolve(signal === null ? _code : -1)),
    );
    let seen = 0;
    const server = smtp;
    server.onData = () => {
      seen++;
      if (seen === 2) {
        // The second message has reached the server: kill the CLI, and answer 250 only once it is gone.
        child.kill("SIGKILL");
        return exited.then(() => null);
      }
      return null;
    };
    expect(await exited).toBe(-1);
    for (let i = 0; i < 100 && server.received.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
    server.onData = undefined;
    expect(server.received).toHaveLength(2);
    const states = query<{ state: string; n: number }>(
      db,
      "SELECT state, count(*) AS n FROM outbox GROUP BY state ORDER BY state",
    );
    expect(states).toEqual([
      { state: "queued", n: 2 },
      { state: "sending", n: 1 },
      { state: "sent", n: 1 },
    ]);

    const again = await run(["weekly", "--now", MONDAY, "--json"], { cwd: dir, env });
    expect(again.code, again.stderr).toBe(0); // the dead run's lock is taken over
    expect(again.stderr).toMatch(/took over the run lock of pid \d+/);
    expect(JSON.parse(again.stdout).messages).toMatchObject({ queued: 0, sent: 2, unknown: 1 });
    expect(server.received).toHaveLength(4);
    expect([...countBy(ids(server)).values()].every((n) => n === 1)).toBe(true);

    const status = await run(["status"], { cwd: dir, env });
    expect(status.stdout).toMatch(/unknown \(sending\) 1/);
    expect(status.stdout).toMatch(/cart:\d+:2026-W10 {2}to \S+@example\.com, attempt 1/);
    const unknownKey = query<{ idempotency_key: string; message_id: string | null }>(
      db,
      "SELECT idempotency_key FROM outbox WHERE state = 'sending'",
    )[0]!;

    // Only when asked: sent again, with the same Message-ID.
    const retry = await run(["send", "--now", MONDAY, "--retry-unknown", "--json"], { cwd: dir, env });
    expect(retry.code, retry.stderr).toBe(0);
    expect(JSON.parse(retry.stdout)).toMatchObject({ sent: 1, unknown: 0 });
    expect(server.received).toHaveLength(5);
    const counts = countBy(ids(server));
    expect([...counts.values()].sort()).toEqual([1, 1, 1, 2]);
    const row = query<{ message_id: string }>(
      db,
      "SELECT message_id FROM outbox WHERE idempotency_key = ?",
      unknownKey.idempotency_key,
    )[0]!;
    expect(counts.get(row.message_id)).toBe(2);
  });

  // A 421 is the server's (smtp-faults.test.ts): a temporary fault of one message is a 451 to its data.
  it("retries after a temporary failure of one message (451) and delivers on a later run", async () => {
    smtp = await startSmtp();
    let refused = 0;
    smtp.onData = (message) => {
      if (message.to.includes("clara@example.com") && refused === 0) {
        refused++;
        return smtpError(451, "4.3.0 Try again later");
      }
      return null;
    };
    const { dir, db } = await demoWorkspace(smtpConfig(smtp.port));
    const first = await run(["weekly", "--now", MONDAY, "--json"], { cwd: dir, env });
    expect(first.code, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout).messages).toMatchObject({ sent: 3, retry_later: 1, failed: 0 });
    const row = query<{ state: string; attempts: number; next_attempt_at: string; error: string }>(
      db,
      "SELECT state, attempts, next_attempt_at, error FROM outbox WHERE recipient = 'clara@example.com'",
    )[0]!;
    expect(row).toMatchObject({ state: "queued", attempts: 1, next_attempt_at: "2026-03-02T08:05:00Z" });
    expect(row.error).toMatch(/Try again later/);

    const early = await run(["send", "--now", "2026-03-02T09:03", "--json"], { cwd: dir, env });
    expect(JSON.parse(early.stdout)).toMatchObject({ due: 0, sent: 0 });
    const later = await run(["send", "--now", "2026-03-02T09:10", "--json"], { cwd: dir, env });
    expect(later.code, later.stderr).toBe(0);
    expect(JSON.parse(later.stdout)).toMatchObject({ sent: 1 });
    expect(smtp.received.filter((m) => m.to.includes("clara@example.com"))).toHaveLength(1);
    expect(smtp.received).toHaveLength(4);
  });

  it("marks a message failed and suppresses the address when the server rejects the recipient (550)", async () => {
    smtp = await startSmtp();
    smtp.onRcpt = (address) =>
      address === "boris.petrov@example.com"
        ? smtpError(550, "5.1.1 <boris.petrov@example.com>: user unknown")
        : null;
    const { dir, db } = await demoWorkspace(smtpConfig(smtp.port));
    const result = await run(["weekly", "--now", MONDAY, "--json"], { cwd: dir, env });
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout).messages).toMatchObject({ sent: 3, failed: 1 });
    expect(smtp.received.flatMap((m) => m.to)).not.toContain("boris.petrov@example.com");
    expect(smtp.received).toHaveLength(3);
    expect(query(db, "SELECT state FROM outbox WHERE recipient = 'boris.petrov@example.com'")).toEqual([
      { state: "failed" },
    ]);
    const suppression = query<{ address: string; reason: string; source: string }>(
      db,
      "SELECT address, reason, source FROM suppressions",
    );
    expect(suppression).toHaveLength(1);
    expect(suppression[0]).toMatchObject({ address: "boris.petrov@example.com", source: "bounce" });
    expect(suppression[0]!.reason).toMatch(/user unknown/);

    // The next week, Boris's cart is skipped as suppressed; nothing is attempted.
    await seedReminders(dir, NEXT_WEEK_SEEDS);
    const next = await run(["weekly", "--now", "2026-03-09T09:00", "--json"], { cwd: dir, env });
    expect(next.code, next.stderr).toBe(0);
    expect(JSON.parse(next.stdout).messages).toMatchObject({
      skipped: 1,
      skipped_reasons: { suppressed: 1 },
    });
  });

  it("lets only one of two weeklies started together run; the other exits 75 naming the holder", async () => {
    smtp = await startSmtp();
    // A slow server: the first run holds the lock for seconds while the second starts.
    smtp.onData = () => new Promise((resolve) => setTimeout(() => resolve(null), 800));
    const { dir } = await demoWorkspace(smtpConfig(smtp.port));
    const [a, b] = await Promise.all([
      run(["weekly", "--now", MONDAY], { cwd: dir, env }),
      run(["weekly", "--now", MONDAY], { cwd: dir, env }),
    ]);
    const codes = [a.code, b.code].sort();
    expect(codes, a.stderr + b.stderr).toEqual([0, 75]);
    const loser = a.code === 75 ? a : b;
    expect(loser.stderr).toMatch(/another comeback run holds the lock: "comeback weekly", pid \d+/);
    expect(smtp.received).toHaveLength(4);
  });

  it("exits 69 when the SMTP server is unreachable, leaving the messages queued", async () => {
    const { dir, db } = await demoWorkspace(smtpConfig(1));
    const result = await run(["weekly", "--now", MONDAY], { cwd: dir, env });
    expect(result.code).toBe(69);
    expect(result.stderr).toMatch(/SMTP server at 127\.0\.0\.1:1 is unavailable/);
    expect(query(db, "SELECT state, count(*) AS n FROM outbox GROUP BY state")).toEqual([
      { state: "queued", n: 4 },
    ]);
    expect(query(db, "SELECT count(*) AS n FROM run_lock")).toEqual([{ n: 0 }]);
  });

  it("defers outside the send window and over the frequency cap, then sends on a later --now", async () => {
    smtp = await startSmtp();
    const { dir, db } = await demoWorkspace(smtpConfig(smtp.port, "  min_hours_between: 200\n"));
    // 06:00 shop time: before the 08:00-20:00 window. The digest (not marketing) goes at once.
    const early = await run(["weekly", "--now", "2026-03-02T06:00", "--json"], { cwd: dir, env });
    expect(early.code, early.stderr).toBe(0);
    expect(JSON.parse(early.stdout).messages).toMatchObject({
      sent: 1,
      deferred: 3,
      deferred_reasons: { "send window": 3 },
    });
    expect(query(db, "SELECT DISTINCT next_attempt_at FROM outbox WHERE state = 'queued'")).toEqual([
      { next_attempt_at: "2026-03-02T07:00:00Z" },
    ]);
    const opened = await run(["send", "--now", "2026-03-02T08:00", "--json"], { cwd: dir, env });
    expect(JSON.parse(opened.stdout)).toMatchObject({ sent: 3, deferred: 0 });
    expect(smtp.received).toHaveLength(4);

    // A week later the same customers are due again, but 200 hours have not passed since Monday 08:00.
    await seedReminders(dir, NEXT_WEEK_SEEDS);
    const next = await run(["weekly", "--now", "2026-03-09T09:00", "--json"], { cwd: dir, env });
    // Also new that week: the guest customer's first coffee reminder (bought 2026-02-25), never capped.
    expect(JSON.parse(next.stdout).messages).toMatchObject({
      queued: 5,
      sent: 2,
      deferred: 3,
      deferred_reasons: { "frequency cap": 3 },
    });
    expect(query(db, "SELECT DISTINCT next_attempt_at FROM outbox WHERE state = 'queued'")).toEqual([
      { next_attempt_at: "2026-03-10T15:00:00Z" },
    ]);
    const tooSoon = await run(["send", "--now", "2026-03-10T15:59", "--json"], { cwd: dir, env });
    expect(JSON.parse(tooSoon.stdout)).toMatchObject({ due: 0, sent: 0 });
    const allowed = await run(["send", "--now", "2026-03-10T16:00", "--json"], { cwd: dir, env });
    expect(JSON.parse(allowed.stdout)).toMatchObject({ sent: 3 });
    expect(smtp.received).toHaveLength(9);
  });

  it("carries List-Unsubscribe (mailto and https), one-click, a visible link, and a token only its address verifies", async () => {
    smtp = await startSmtp();
    const extra = "  unsubscribe_mailto: unsubscribe@shop.example\n";
    const config = smtpConfig(smtp.port, extra).replace(
      "links:\n",
      'links:\n  unsubscribe: "https://shop.example/unsubscribe?token={{token}}"\n',
    );
    const { dir, db } = await demoWorkspace(config);
    const result = await run(["weekly", "--now", MONDAY], { cwd: dir, env });
    expect(result.code, result.stderr).toBe(0);
    const anna = smtp.received.find((m) => m.to.includes("anna.schmidt@example.com"))!;
    const header = /^List-Unsubscribe: (.+)$/m.exec(anna.raw)![1]!;
    const match =
      /^<mailto:unsubscribe@shop\.example\?subject=unsubscribe%20([^>]+)>, <https:\/\/shop\.example\/unsubscribe\?token=([^>]+)>$/.exec(
        header,
      );
    expect(match, header).not.toBeNull();
    expect(anna.raw).toMatch(/^List-Unsubscribe-Post: List-Unsubscribe=One-Click$/m);
    const token = decodeURIComponent(match![2]!);
    expect(decodeURIComponent(match![1]!)).toBe(token);
    expect(verifyUnsubscribeToken(SECRET, token)).toBe("anna.schmidt@example.com");
    expect(verifyUnsubscribeToken("another-secret-0123456789-0123456789abc", token)).toBeNull();
    // Another customer's address with Anna's signature does not verify.
    const forged = `${Buffer.from("clara@example.com").toString("base64url")}.${token.split(".")[1]}`;
    expect(verifyUnsubscribeToken(SECRET, forged)).toBeNull();
    const { html, text } = parts(anna.raw);
    // Handlebars writes "=" in attributes as &#x3D;, which a mail client reads back as "=".
    expect(html.replaceAll("&#x3D;", "=")).toContain(
      `href="https://shop.example/unsubscribe?token=${match![2]}"`,
    );
    expect(text).toContain(`https://shop.example/unsubscribe?token=${match![2]}`);
    // `comeback unsubscribe TOKEN` (what the mailto request carries) suppresses exactly that address.
    const forgedRun = await run(["unsubscribe", forged], { cwd: dir, env });
    expect(forgedRun.code).toBe(65);
    const unsubscribed = await run(["unsubscribe", `unsubscribe ${token}`], { cwd: dir, env });
    expect(unsubscribed.code, unsubscribed.stderr).toBe(0);
    expect(unsubscribed.stdout).toBe("anna.schmidt@example.com: suppressed\n");
    expect(query(db, "SELECT address, source FROM suppressions")).toEqual([
      { address: "anna.schmidt@example.com", source: "unsubscribe" },
    ]);
    await seedReminders(dir, NEXT_WEEK_SEEDS);
    const nextWeek = await run(["weekly", "--now", "2026-03-09T09:00", "--json"], { cwd: dir, env });
    // An address suppressed by its own unsubscribe link is counted as such (an SMTP rejection: suppressed).
    expect(JSON.parse(nextWeek.stdout).messages.skipped_reasons).toEqual({ unsubscribed: 1 });
    // The digest to the operator is not marketing: no unsubscribe.
    const digest = smtp.received.find((m) => m.to.includes("ops@shop.example"))!;
    expect(digest.raw).not.toMatch(/^List-Unsubscribe/m);
  });
});
