/**
 * A mail server that misbehaves on purpose (/work/shared/tools/fault_sink.py, outside the project,
 * spawned on a free 127.0.0.1 port): a server-wide refusal stops the run with 69, puts every message
 * back without spending an attempt and suppresses nobody; once the server is fixed, every message goes
 * out exactly once (counted by Message-ID in the server's own log). A reply that never came leaves the
 * message unknown: never a second copy on its own.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import net from "node:net";
import { join, resolve } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { query, ROOT, run, workspace } from "../helpers.js";
import { demoWorkspace, SECRET, smtpConfig, startSmtp, type TestSmtp } from "../deliver-helpers.js";

const FAULT_SINK = resolve(ROOT, "..", "shared", "tools", "fault_sink.py");
const hasPython = spawnSync("python3", ["--version"]).status === 0;
const ready = hasPython && existsSync(FAULT_SINK);
if (!ready) {
  console.warn(
    `smtp-faults: skipped: ${hasPython ? `${FAULT_SINK} is missing` : "python3 is not installed"} (fault_sink.py needs it)`,
  );
}

const env = { COMEBACK_SECRET: SECRET };
const MONDAY = "2026-03-02T09:00";
const LATER = "2026-03-02T10:00";

interface Sink {
  port: number;
  control(settings: Record<string, unknown>): void;
  /** How many times the server read each Message-ID in full. */
  received(): Map<string, number>;
  events(name: string): number;
  stop(): void;
}

let sink: Sink | null = null;
let smtp: TestSmtp | null = null;
afterEach(async () => {
  sink?.stop();
  sink = null;
  await smtp?.close();
  smtp = null;
});

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolvePort(port));
    });
  });
}

async function startSink(settings: Record<string, unknown>): Promise<Sink> {
  const dir = workspace();
  const log = join(dir, "sink.log");
  const ctrl = join(dir, "CTRL.json");
  writeFileSync(ctrl, JSON.stringify(settings));
  writeFileSync(log, "");
  const port = await freePort();
  const child: ChildProcess = spawn("python3", [FAULT_SINK, String(port), log, ctrl], { stdio: "ignore" });
  for (let i = 0; ; i++) {
    const up = await new Promise<boolean>((resolveUp) => {
      const socket = net.connect({ host: "127.0.0.1", port }, () => {
        socket.destroy();
        resolveUp(true);
      });
      socket.on("error", () => resolveUp(false));
    });
    if (up) break;
    if (i > 100) throw new Error("fault_sink.py did not start");
    await new Promise((r) => setTimeout(r, 50));
  }
  const lines = () =>
    readFileSync(log, "utf8")
      .split("\n")
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { ev: string; mid?: string });
  return {
    port,
    control: (next) => writeFileSync(ctrl, JSON.stringify(next)),
    received() {
      const counts = new Map<string, number>();
      for (const entry of lines())
        if (entry.ev === "received") counts.set(entry.mid!, (counts.get(entry.mid!) ?? 0) + 1);
      return counts;
    },
    events: (name) => lines().filter((entry) => entry.ev === name).length,
    stop: () => child.kill(),
  };
}

interface Row {
  idempotency_key: string;
  state: string;
  attempts: number;
  message_id: string | null;
}
const rows = (db: string) =>
  query<Row>(db, "SELECT idempotency_key, state, attempts, message_id FROM outbox ORDER BY id");
const suppressions = (db: string) => query(db, "SELECT address, source FROM suppressions");

/** After the fix: every message sent, each Message-ID read by the server exactly once. */
function expectEachOnce(db: string, server: Sink): void {
  const all = rows(db);
  expect(all.map((r) => r.state)).toEqual(all.map(() => "sent"));
  const counts = server.received();
  expect([...counts.keys()].sort()).toEqual(all.map((r) => r.message_id).sort());
  expect([...counts.values()]).toEqual(all.map(() => 1));
}

describe.skipIf(!ready)("a mail server that refuses everyone", () => {
  it.each([
    ["relay_denied", "554 5.7.1 at every RCPT TO", "relay access denied", "delivery.smtp.host"],
    ["auth_required", "530 5.7.0 at MAIL FROM", "authentication required", "delivery.smtp.user"],
  ])(
    "%s (%s): weekly exits 69, suppresses no one, then sends each once",
    async (fault, _what, cause, fix) => {
      sink = await startSink({ [fault]: true });
      const { dir, db } = await demoWorkspace(smtpConfig(sink.port));
      const weekly = await run(["weekly", "--now", MONDAY, "--json"], { cwd: dir, env });
      expect(weekly.code, weekly.stderr).toBe(69);
      expect(weekly.stderr).toContain(cause);
      expect(weekly.stderr).toContain(fix);
      expect(weekly.stderr).not.toMatch(/@example\.com/);
      const report = JSON.parse(weekly.stdout);
      expect(report.messages).toMatchObject({ failed: 0, put_back: 1, faults: { recipient: 0, server: 1 } });
      expect(suppressions(db)).toEqual([]);
      expect(rows(db).map((r) => [r.state, r.attempts])).toEqual(rows(db).map(() => ["queued", 0]));
      expect(sink.events(fault)).toBe(1); // stopped at once, not charged to every message

      // Run again while still broken (cron every 15 minutes): still nothing charged.
      for (let i = 0; i < 5; i++) {
        const again = await run(["send", "--now", LATER], { cwd: dir, env });
        expect(again.code, again.stderr).toBe(69);
      }
      expect(rows(db).map((r) => [r.state, r.attempts])).toEqual(rows(db).map(() => ["queued", 0]));

      sink.control({});
      const fixed = await run(["send", "--now", LATER], { cwd: dir, env });
      expect(fixed.code, fixed.stderr).toBe(0);
      expect(rows(db)).toHaveLength(4);
      expectEachOnce(db, sink);
    },
  );

  it("421 to everyone: no attempt spent, even after more runs than max_attempts", async () => {
    sink = await startSink({ tempfail_mail: 1000 });
    const { dir, db } = await demoWorkspace(smtpConfig(sink.port));
    const weekly = await run(["weekly", "--now", MONDAY], { cwd: dir, env });
    expect(weekly.code, weekly.stderr).toBe(69);
    expect(weekly.stderr).toContain("421");
    for (let i = 0; i < 5; i++) {
      const again = await run(["send", "--now", LATER], { cwd: dir, env });
      expect(again.code, again.stderr).toBe(69);
    }
    expect(rows(db).map((r) => [r.state, r.attempts])).toEqual(rows(db).map(() => ["queued", 0]));
    sink.control({ tempfail_mail: 0 });
    const fixed = await run(["send", "--now", LATER], { cwd: dir, env });
    expect(fixed.code, fixed.stderr).toBe(0);
    expectEachOnce(db, sink);
  });

  it("550 5.1.1 to everyone trips the circuit breaker: nobody suppressed, nothing charged", async () => {
    const everyone = [
      "anna.schmidt@example.com",
      "boris.petrov@example.com",
      "clara@example.com",
      "ops@shop.example",
    ];
    sink = await startSink({ reject_rcpt: everyone });
    const { dir, db } = await demoWorkspace(smtpConfig(sink.port));
    const weekly = await run(["weekly", "--now", MONDAY, "--json"], { cwd: dir, env });
    expect(weekly.code, weekly.stderr).toBe(69);
    expect(weekly.stderr).toContain("the same answer to 3 messages in a row");
    expect(JSON.parse(weekly.stdout).messages).toMatchObject({
      failed: 0,
      put_back: 3,
      faults: { server: 3 },
    });
    expect(sink.events("reject_rcpt")).toBe(3);
    expect(suppressions(db)).toEqual([]);
    expect(rows(db).map((r) => [r.state, r.attempts])).toEqual(rows(db).map(() => ["queued", 0]));

    // One really dead address: it alone fails and is suppressed, as a bounce.
    sink.control({ reject_rcpt: ["clara@example.com"] });
    const fixed = await run(["send", "--now", LATER, "--json"], { cwd: dir, env });
    expect(fixed.code, fixed.stderr).toBe(0);
    expect(JSON.parse(fixed.stdout)).toMatchObject({
      sent: 3,
      failed: 1,
      faults: { recipient: 1, server: 0 },
    });
    expect(suppressions(db)).toEqual([{ address: "clara@example.com", source: "bounce" }]);
  });
});

describe.skipIf(!ready)("a reply that never came", () => {
  it("leaves the message unknown: no second copy without --retry-unknown, one more with it", async () => {
    sink = await startSink({ close_after_accept: 1 });
    const { dir, db } = await demoWorkspace(smtpConfig(sink.port));
    const weekly = await run(["weekly", "--now", MONDAY], { cwd: dir, env });
    expect(weekly.code, weekly.stderr).toBe(69);
    expect(weekly.stdout).toContain("1 message in state unknown");
    const unknown = rows(db).filter((r) => r.state === "sending");
    expect(unknown).toHaveLength(1);
    const mid = unknown[0]!.message_id!;
    expect(sink.received().get(mid)).toBe(1);

    const status = await run(["status"], { cwd: dir, env });
    expect(status.stdout).toContain(unknown[0]!.idempotency_key);

    for (let i = 0; i < 2; i++) {
      const send = await run(["send", "--now", LATER], { cwd: dir, env });
      expect(send.code, send.stderr).toBe(0);
    }
    expect(sink.received().get(mid)).toBe(1);
    expect(rows(db).filter((r) => r.state === "sent")).toHaveLength(3);

    const retry = await run(["send", "--now", LATER, "--retry-unknown"], { cwd: dir, env });
    expect(retry.code, retry.stderr).toBe(0);
    expect(sink.received().get(mid)).toBe(2);
    expect(rows(db).find((r) => r.message_id === mid)?.state).toBe("sent");
    expect([...sink.received().values()].sort()).toEqual([1, 1, 1, 2]);
  });
});

describe.skipIf(!ready)("an unknown message sent again on request into a server fault", () => {
  it("stays unknown, its attempts as they were: nothing sends it on its own later", async () => {
    sink = await startSink({ close_after_accept: 1 });
    const { dir, db } = await demoWorkspace(smtpConfig(sink.port));
    const weekly = await run(["weekly", "--now", MONDAY], { cwd: dir, env });
    expect(weekly.code, weekly.stderr).toBe(69);
    const [unknown] = rows(db).filter((r) => r.state === "sending");
    expect(unknown).toBeDefined();

    sink.control({ relay_denied: true });
    const retry = await run(["send", "--now", LATER, "--retry-unknown"], { cwd: dir, env });
    expect(retry.code, retry.stderr).toBe(69);
    expect(rows(db).find((r) => r.idempotency_key === unknown!.idempotency_key)).toMatchObject({
      state: "sending",
      attempts: unknown!.attempts,
    });

    sink.control({});
    const send = await run(["send", "--now", LATER], { cwd: dir, env });
    expect(send.code, send.stderr).toBe(0);
    expect(sink.received().get(unknown!.message_id!)).toBe(1);
    expect(rows(db).filter((r) => r.state === "sent")).toHaveLength(3);
  });
});

describe("a 250 later than timeout_seconds", () => {
  it("is unknown too, not queued again", async () => {
    let first = true;
    smtp = await startSmtp();
    smtp.onData = async () => {
      if (first) {
        first = false;
        await new Promise((r) => setTimeout(r, 2500));
      }
      return null;
    };
    const config = smtpConfig(smtp.port).replace("timeout_seconds: 5", "timeout_seconds: 1");
    const { dir, db } = await demoWorkspace(config);
    const weekly = await run(["weekly", "--now", MONDAY], { cwd: dir, env });
    expect(weekly.code, weekly.stderr).toBe(69);
    expect(weekly.stderr).toMatch(/no reply/);
    const unknown = rows(db).filter((r) => r.state === "sending");
    expect(unknown).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 1500)); // the late 250 reaches nobody
    const send = await run(["send", "--now", LATER], { cwd: dir, env });
    expect(send.code, send.stderr).toBe(0);
    const ids = smtp.received.map((m) => m.messageId);
    expect(ids.filter((id) => id === unknown[0]!.message_id)).toHaveLength(1);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
