/**
 * Transports: what actually delivers a composed message.
 *
 * - `outbox`: one `.eml` file per message in a folder, written to a temporary name and renamed, so a
 *   reader never sees half a message. The file is named by the idempotency key (`:` becomes `_`, which
 *   every filesystem accepts), so a re-send replaces the same file.
 * - `smtp`: nodemailer's pooled SMTP client. `maxMessages: Infinity` because the default (100) makes a
 *   pooled connection reconnect every 100 messages, which stalls a batch. The socket is ours, with
 *   Nagle's algorithm off: nodemailer writes the end of a message as a small separate packet, which
 *   otherwise waits for the server's delayed ACK, about 40 ms a message.
 */
import { mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { join } from "node:path";
import { nodemailer } from "./lazy.js";
import type SMTPPool from "nodemailer/lib/smtp-pool/index.js";
import type { Config } from "../config/schema.js";
import { ConfigError, UnavailableError } from "../errors.js";
import { isProcessAlive } from "./lock.js";

export interface OutgoingRaw {
  key: string;
  raw: string;
  envelope: { from: string; to: string };
}

export type SendOutcome =
  | { ok: true; response: string }
  | {
      ok: false;
      /** 5xx: sending again won't help. */
      permanent: boolean;
      /** The server refused this recipient (a 5xx to RCPT TO): suppress the address. */
      recipientRejected: boolean;
      /** The connection itself failed (refused, dropped, timed out): stop this run. */
      connectionLost: boolean;
      error: string;
      response: string | null;
    };

export interface Transport {
  readonly name: string;
  /** Event-loop turns the transport needs to put a message on its way (0: it works synchronously). */
  readonly turnsToStart: number;
  /** Checks that messages can be delivered; throws UnavailableError (exit 69) if not. */
  open(): Promise<void>;
  send(message: OutgoingRaw): Promise<SendOutcome>;
  close(): Promise<void>;
}

export function emlFileName(key: string): string {
  return `${key.replace(/[^A-Za-z0-9._-]/g, "_")}.eml`;
}

/** `.<name>.<pid>.<n>.tmp`: a message being written by process pid. */
const TEMP_FILE = /^\..+\.(\d+)\.\d+\.tmp$/;

export function outboxDirTransport(dir: string): Transport {
  let counter = 0;
  return {
    name: "outbox",
    turnsToStart: 0,
    async open() {
      try {
        mkdirSync(dir, { recursive: true });
      } catch (error) {
        throw new ConfigError(`delivery.outbox_dir: can't create ${dir}: ${(error as Error).message}`);
      }
      // Half-written files of a run that was killed: its messages are unknown, their files junk.
      for (const file of readdirSync(dir)) {
        const writer = TEMP_FILE.exec(file);
        if (writer && !isProcessAlive(Number(writer[1]))) rmSync(join(dir, file), { force: true });
      }
    },
    async send(message) {
      const file = join(dir, emlFileName(message.key));
      const temp = join(dir, `.${emlFileName(message.key)}.${process.pid}.${counter++}.tmp`);
      try {
        writeFileSync(temp, message.raw);
        renameSync(temp, file);
        return { ok: true, response: `written to ${file}` };
      } catch (error) {
        return {
          ok: false,
          permanent: false,
          recipientRejected: false,
          connectionLost: true,
          error: `can't write ${file}: ${(error as Error).message}`,
          response: null,
        };
      }
    },
    async close() {},
  };
}

interface SmtpError extends Error {
  code?: string;
  responseCode?: number;
  response?: string;
  command?: string;
  rejected?: string[];
}

const CONNECTION_CODES = new Set([
  "ECONNECTION",
  "ETIMEDOUT",
  "ESOCKET",
  "EDNS",
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
]);

export function classifySmtpError(error: SmtpError): Extract<SendOutcome, { ok: false }> {
  const code = error.responseCode;
  const permanent = code !== undefined && code >= 500 && code < 600;
  const recipientRejected =
    permanent &&
    (error.code === "EENVELOPE" || /RCPT/i.test(error.command ?? "")) &&
    !/MAIL FROM/i.test(error.command ?? "");
  const connectionLost = code === undefined && CONNECTION_CODES.has(error.code ?? "");
  return {
    ok: false,
    permanent,
    recipientRejected,
    connectionLost,
    error: error.response ?? error.message,
    response: error.response ?? null,
  };
}

export function smtpTransport(smtp: Config["delivery"]["smtp"]): Transport {
  const timeout = smtp.timeout_seconds * 1000;
  const options: SMTPPool.Options = {
    pool: true,
    host: smtp.host,
    port: smtp.port,
    secure: smtp.secure,
    maxConnections: 1,
    maxMessages: Infinity,
    connectionTimeout: timeout,
    greetingTimeout: timeout,
    socketTimeout: timeout,
    ...(smtp.user ? { auth: { user: smtp.user, pass: smtp.password ?? "" } } : {}),
    ...(smtp.rate_per_second > 0 ? { rateDelta: 1000, rateLimit: smtp.rate_per_second } : {}),
    getSocket(_options, callback) {
      const socket = net.connect({ host: smtp.host, port: smtp.port });
      socket.setNoDelay(true);
      const timer = setTimeout(
        () => socket.destroy(Object.assign(new Error("connection timeout"), { code: "ETIMEDOUT" })),
        timeout,
      );
      const failed = (error: Error) => {
        clearTimeout(timer);
        callback(
          Object.assign(error, { code: (error as SmtpError).code ?? "ECONNECTION" }),
          undefined as never,
        );
      };
      socket.once("error", failed);
      socket.once("connect", () => {
        clearTimeout(timer);
        socket.removeListener("error", failed);
        callback(null, { connection: socket });
      });
    },
  };
  const transporter = nodemailer().createTransport(options);
  const where = `${smtp.host}:${smtp.port}`;
  return {
    name: "smtp",
    // nodemailer's pool hops through setImmediate twice before it writes MAIL FROM.
    turnsToStart: 3,
    async open() {
      try {
        await transporter.verify();
      } catch (error) {
        transporter.close();
        const e = error as SmtpError;
        throw new UnavailableError(
          `the SMTP server at ${where} is unavailable: ${e.response ?? e.message}; messages stay queued, run comeback send when it is back`,
        );
      }
    },
    async send(message) {
      try {
        const info = await transporter.sendMail({ envelope: message.envelope, raw: message.raw });
        if (info.rejected.length > 0) {
          return {
            ok: false,
            permanent: true,
            recipientRejected: true,
            connectionLost: false,
            error: String(info.response ?? "recipient rejected"),
            response: String(info.response ?? ""),
          };
        }
        return { ok: true, response: info.response };
      } catch (error) {
        return classifySmtpError(error as SmtpError);
      }
    },
    async close() {
      transporter.close();
    },
  };
}

export function createTransport(delivery: Config["delivery"]): Transport {
  return delivery.transport === "smtp"
    ? smtpTransport(delivery.smtp)
    : outboxDirTransport(delivery.outbox_dir);
}
