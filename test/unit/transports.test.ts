/**
 * The transports (src/deliver/transports.ts): the outbox folder, and SMTP against a scripted server
 * in this process. What matters most is the line between "refused" (not delivered: it may go again)
 * and "unknown" (the whole message went out and the reply never came: the server may have it, so it
 * is never sent again on its own).
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { smtpSchema } from "../../src/config/schema.js";
import {
  createTransport,
  emlFileName,
  outboxDirTransport,
  refusal,
  smtpTransport,
  type OutgoingRaw,
} from "../../src/deliver/transports.js";
import { ConfigError, UnavailableError } from "../../src/errors.js";

const MESSAGE: OutgoingRaw = {
  key: "cart:42:2026-W10",
  raw: "From: shop@shop.example\r\nTo: ann@example.com\r\nSubject: hi\r\n\r\nHello\r\n",
  envelope: { from: "shop@shop.example", to: "ann@example.com" },
};

describe("emlFileName", () => {
  it("names the file by the key, with every character a filesystem may refuse as _", () => {
    expect(emlFileName("cart:42:2026-W10")).toBe("cart_42_2026-W10.eml");
    expect(emlFileName("a/b\\c d*e?.x_y-z")).toBe("a_b_c_d_e_.x_y-z.eml");
  });
});

describe("the outbox folder", () => {
  const folder = () => join(mkdtempSync(join(tmpdir(), "comeback-transport-")), "out");

  it("creates the folder, writes each message to the file its key names, and replaces it on a re-send", async () => {
    const dir = folder();
    const transport = outboxDirTransport(dir);
    expect([transport.name, transport.turnsToStart]).toEqual(["outbox", 0]);
    await transport.open();
    const file = join(dir, "cart_42_2026-W10.eml");
    expect(await transport.send(MESSAGE)).toEqual({ status: "sent", response: `written to ${file}` });
    expect(readFileSync(file, "utf8")).toBe(MESSAGE.raw);
    await transport.send({ ...MESSAGE, raw: "again" });
    expect(readFileSync(file, "utf8")).toBe("again");
    expect(readdirSync(dir)).toEqual(["cart_42_2026-W10.eml"]);
    await transport.close();
  });

  it("clears the half-written files of a killed run, not those of a live one nor any other file", async () => {
    const dir = folder();
    await outboxDirTransport(dir).open();
    const dead = `.x.eml.999999999.0.tmp`;
    const live = `.y.eml.${process.pid}.3.tmp`;
    for (const name of [dead, live, "a.eml", ".notes.tmp", "x.eml.999999999.0.tmp"])
      writeFileSync(join(dir, name), "");
    await outboxDirTransport(dir).open();
    expect(readdirSync(dir).sort()).toEqual([live, ".notes.tmp", "a.eml", "x.eml.999999999.0.tmp"].sort());
  });

  it("refuses to open a folder it cannot create, saying which key to check", async () => {
    const base = mkdtempSync(join(tmpdir(), "comeback-transport-"));
    writeFileSync(join(base, "file"), "");
    const dir = join(base, "file", "out");
    await expect(outboxDirTransport(dir).open()).rejects.toThrow(ConfigError);
    await expect(outboxDirTransport(dir).open()).rejects.toThrow(
      new RegExp(`^delivery\\.outbox_dir: can't create ${dir}: `),
    );
  });

  it("answers a failed write as the server's fault: a full or missing folder stops the run, charges nothing", async () => {
    const dir = folder();
    const transport = outboxDirTransport(dir);
    await transport.open();
    rmSync(dir, { recursive: true });
    const file = join(dir, "cart_42_2026-W10.eml");
    const answer = await transport.send(MESSAGE);
    expect(answer).toEqual({
      status: "refused",
      verdict: {
        scope: "server",
        permanent: false,
        suppress: false,
        cause: `can't write to ${dir}`,
        fix: "check delivery.outbox_dir: the folder must exist and be writable, with room on the disk",
      },
      error: expect.stringMatching(new RegExp(`^can't write ${file}: ENOENT`)),
      response: null,
    });
    expect(existsSync(dir)).toBe(false);
  });
});

describe("refusal", () => {
  it("classifies the server's answer to its command, and keeps the answer as the error", () => {
    const error = Object.assign(new Error("Message failed"), {
      code: "EENVELOPE",
      responseCode: 550,
      response: "550 5.1.1 <ann@example.com>: User unknown",
      command: "RCPT TO",
    });
    expect(refusal(error)).toEqual({
      status: "refused",
      verdict: expect.objectContaining({ scope: "recipient", permanent: true, suppress: true }),
      error: "550 5.1.1 <ann@example.com>: User unknown",
      response: "550 5.1.1 <ann@example.com>: User unknown",
    });
  });

  it("with no answer, keeps the error's message and reads its code", () => {
    const error = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" });
    expect(refusal(error)).toEqual({
      status: "refused",
      verdict: expect.objectContaining({ scope: "server", cause: "connection failed" }),
      error: "connect ECONNREFUSED 127.0.0.1:1",
      response: null,
    });
  });
});

/** How the scripted server answers. */
interface Script {
  /** The greeting, or "silent" (say nothing). */
  greeting?: string;
  /** The answer to RCPT TO, or "drop" (close the connection). */
  rcpt?: string;
  /** After the end of the message's data: a reply, or "drop" (close the connection), or "silent". */
  afterData?: string;
}

interface FakeSmtp {
  port: number;
  /** Messages read in full (up to the end of their data). */
  messages: string[];
  close(): Promise<void>;
}

const servers: net.Server[] = [];
const sockets = new Set<net.Socket>();
afterEach(async () => {
  for (const socket of sockets) socket.destroy();
  sockets.clear();
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

async function fakeSmtp(script: Script = {}): Promise<FakeSmtp> {
  const messages: string[] = [];
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => {});
    let buffer = "";
    let data: string | null = null;
    const say = (line: string) => socket.write(`${line}\r\n`);
    if (script.greeting !== "silent") say(script.greeting ?? "220 fake ESMTP");
    socket.on("data", (chunk) => {
      buffer += chunk.toString("latin1");
      for (;;) {
        if (data !== null) {
          const end = buffer.indexOf("\r\n.\r\n");
          if (end < 0) return;
          data += buffer.slice(0, end);
          buffer = buffer.slice(end + 5);
          messages.push(data);
          data = null;
          const after = script.afterData ?? "250 2.0.0 Ok: queued as 1A2B";
          if (after === "drop") return void socket.destroy();
          if (after !== "silent") say(after);
          continue;
        }
        const eol = buffer.indexOf("\r\n");
        if (eol < 0) return;
        const line = buffer.slice(0, eol);
        buffer = buffer.slice(eol + 2);
        const verb = line.slice(0, 4).toUpperCase();
        if (verb === "EHLO" || verb === "HELO") say("250 fake");
        else if (verb === "MAIL") say("250 2.1.0 Ok");
        else if (verb === "RCPT") {
          if (script.rcpt === "drop") return void socket.destroy();
          say(script.rcpt ?? "250 2.1.5 Ok");
        } else if (verb === "DATA") {
          say("354 End data with <CR><LF>.<CR><LF>");
          data = "";
        } else if (verb === "RSET") say("250 Ok");
        else if (verb === "QUIT") {
          say("221 Bye");
          socket.end();
        } else say("502 5.5.2 Error: command not recognized");
      }
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    port: (server.address() as net.AddressInfo).port,
    messages,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

const settings = (port: number, more: Record<string, unknown> = {}) =>
  smtpSchema.parse({ host: "127.0.0.1", port, rate_per_second: 0, timeout_seconds: 2, ...more });

describe("SMTP", () => {
  it("delivers a message and answers with the server's reply", async () => {
    const server = await fakeSmtp();
    const transport = smtpTransport(settings(server.port));
    expect([transport.name, transport.turnsToStart]).toEqual(["smtp", 3]);
    await transport.open();
    expect(await transport.send(MESSAGE)).toEqual({
      status: "sent",
      response: "250 2.0.0 Ok: queued as 1A2B",
    });
    expect(await transport.send({ ...MESSAGE, key: "k2" })).toMatchObject({ status: "sent" });
    await transport.close();
    expect(server.messages).toHaveLength(2);
    expect(server.messages[0]).toContain("Subject: hi");
  });

  it("answers a refused recipient as the recipient's fault, with the server's words", async () => {
    const server = await fakeSmtp({ rcpt: "550 5.1.1 <ann@example.com>: User unknown" });
    const transport = smtpTransport(settings(server.port));
    await transport.open();
    const answer = await transport.send(MESSAGE);
    await transport.close();
    expect(answer).toMatchObject({
      status: "refused",
      verdict: { scope: "recipient", permanent: true, suppress: true },
    });
    expect(answer.status === "refused" && answer.error).toMatch(
      /550 5\.1\.1 <ann@example\.com>: User unknown/,
    );
    expect(server.messages).toEqual([]);
  });

  it("answers a refusal at the end of the data as this message's fault", async () => {
    const server = await fakeSmtp({ afterData: "554 5.6.0 Message contains invalid header" });
    const transport = smtpTransport(settings(server.port));
    await transport.open();
    const answer = await transport.send(MESSAGE);
    await transport.close();
    expect(answer).toEqual({
      status: "refused",
      verdict: expect.objectContaining({ scope: "message", permanent: true }),
      error: "554 5.6.0 Message contains invalid header",
      response: "554 5.6.0 Message contains invalid header",
    });
  });

  it("a connection dropped after the whole message, before the reply, leaves it unknown", async () => {
    const server = await fakeSmtp({ afterData: "drop" });
    const transport = smtpTransport(settings(server.port));
    await transport.open();
    expect(await transport.send(MESSAGE)).toEqual({
      status: "unknown",
      error: "the connection dropped after the whole message was sent, before the reply",
    });
    await transport.close();
    expect(server.messages).toHaveLength(1);
  });

  it("no reply within timeout_seconds after the whole message leaves it unknown", async () => {
    const server = await fakeSmtp({ afterData: "silent" });
    const transport = smtpTransport(settings(server.port, { timeout_seconds: 0.5 }));
    await transport.open();
    expect(await transport.send(MESSAGE)).toEqual({
      status: "unknown",
      error: "no reply within timeout_seconds after the whole message was sent",
    });
    await transport.close();
  });

  it("a connection dropped before the end of the message is a refusal, not unknown: it may go again", async () => {
    const server = await fakeSmtp({ rcpt: "drop" });
    const transport = smtpTransport(settings(server.port));
    await transport.open();
    const answer = await transport.send(MESSAGE);
    await transport.close();
    expect(answer).toMatchObject({ status: "refused", verdict: { scope: "server", permanent: false } });
    expect(server.messages).toEqual([]);
  });

  it("a server that is down is unavailable at open: nothing is claimed, and the admin is told what to check", async () => {
    const server = await fakeSmtp();
    const port = server.port;
    await server.close();
    const transport = smtpTransport(settings(port));
    const opening = transport.open();
    await expect(opening).rejects.toThrow(UnavailableError);
    await expect(opening).rejects.toThrow(
      new RegExp(
        `^the SMTP server at 127\\.0\\.0\\.1:${port} is unavailable: connection failed \\(.*ECONNREFUSED.*\\); ` +
          "check delivery\\.smtp\\.host and port, and that the server is up; run comeback send when it is back; " +
          "messages stay queued, run comeback send when it is back$",
      ),
    );
  });

  it("a server that refuses the session is unavailable at open, with its answer", async () => {
    const server = await fakeSmtp({ greeting: "554 5.3.2 No SMTP service here" });
    const opening = smtpTransport(settings(server.port)).open();
    await expect(opening).rejects.toThrow(/is unavailable: .*\(554 5\.3\.2 No SMTP service here\); /);
  });

  it("a server that says nothing is unavailable once timeout_seconds have passed", async () => {
    const server = await fakeSmtp({ greeting: "silent" });
    const started = Date.now();
    const opening = smtpTransport(settings(server.port, { timeout_seconds: 0.5 })).open();
    await expect(opening).rejects.toThrow(UnavailableError);
    expect(Date.now() - started).toBeLessThan(5000);
  });
});

describe("createTransport", () => {
  it("makes the one delivery.transport names", () => {
    const delivery = { outbox_dir: "./outbox", smtp: settings(25) };
    expect(createTransport({ ...delivery, transport: "smtp" } as never).name).toBe("smtp");
    expect(createTransport({ ...delivery, transport: "outbox" } as never).name).toBe("outbox");
  });
});

describe("the module's constants", () => {
  // The temp-file pattern and the end of a message's data are made once when the module loads;
  // Stryker switches a mutant on after that (MUTATION.md), so these tests load a fresh copy.
  const fresh = async () => {
    vi.resetModules();
    return await import("../../src/deliver/transports.js");
  };

  it("clear only what is a temp file of a dead process, read from a freshly loaded module", async () => {
    const { outboxDirTransport: freshOutbox } = await fresh();
    const dir = join(mkdtempSync(join(tmpdir(), "comeback-transport-")), "out");
    await freshOutbox(dir).open();
    const kept = ["x.eml.999999999.0.tmp", ".x.eml.999999999.0.tmp.bak", ".x.eml.999999999.a.tmp"];
    for (const name of [...kept, ".x.eml.999999999.10.tmp"]) writeFileSync(join(dir, name), "");
    await freshOutbox(dir).open();
    expect(readdirSync(dir).sort()).toEqual([...kept].sort());
  });

  it("see the end of the data, read from a freshly loaded module", async () => {
    const { smtpTransport: freshSmtp } = await fresh();
    const server = await fakeSmtp({ afterData: "drop" });
    const transport = freshSmtp(settings(server.port));
    await transport.open();
    expect(await transport.send(MESSAGE)).toMatchObject({ status: "unknown" });
    await transport.close();
  });
});
