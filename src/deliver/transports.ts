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
import { classifySmtpAnswer, type SmtpVerdict } from "./smtp-answer.js";

export interface OutgoingRaw {
  key: string;
  raw: string;
  envelope: { from: string; to: string };
}

/**
 * What became of one message handed to a transport:
 * - sent: the server said 250 to the end of the message.
 * - unknown: the whole message went out but the reply never came (the connection dropped, or the 250
 *   came later than timeout_seconds). The server may have it: like a kill in that spot, the message
 *   stays "sending" and is sent again only on request (send --retry-unknown).
 * - refused: an answer, or no connection; `verdict` says whose fault it is (smtp-answer.ts).
 */
export type SendOutcome =
  | { status: "sent"; response: string }
  | { status: "unknown"; error: string }
  | { status: "refused"; verdict: SmtpVerdict; error: string; response: string | null };

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
        return { status: "sent", response: `written to ${file}` };
      } catch (error) {
        return {
          status: "refused",
          verdict: {
            scope: "server",
            permanent: false,
            suppress: false,
            cause: `can't write to ${dir}`,
            fix: "check delivery.outbox_dir: the folder must exist and be writable, with room on the disk",
          },
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

/** A refusal (or a failed connection) as the transport reports it. */
export function refusal(error: SmtpError): Extract<SendOutcome, { status: "refused" }> {
  return {
    status: "refused",
    verdict: classifySmtpAnswer({
      code: error.responseCode,
      text: error.response,
      command: error.command,
      errorCode: error.code,
    }),
    error: error.response ?? error.message,
    response: error.response ?? null,
  };
}

/** The end of a message's data: after it, only the server's reply is missing. */
const END_OF_DATA = Buffer.from("\r\n.\r\n");

/**
 * Notes when a socket has written the end of a message's data and not yet read a byte since:
 * nodemailer reports a dropped connection the same way before and after it, and only after it may
 * the server already have the message.
 */
function watchEndOfData(socket: net.Socket, awaiting: (value: boolean) => void): void {
  let tail = Buffer.alloc(0);
  const write = socket.write.bind(socket) as (...args: unknown[]) => boolean;
  socket.write = ((chunk: unknown, ...rest: unknown[]) => {
    const bytes =
      typeof chunk === "string"
        ? Buffer.from(chunk, typeof rest[0] === "string" ? (rest[0] as BufferEncoding) : "utf8")
        : Buffer.from(chunk as Uint8Array);
    tail = Buffer.concat([tail, bytes.subarray(-END_OF_DATA.length)]).subarray(-END_OF_DATA.length);
    if (tail.equals(END_OF_DATA)) {
      awaiting(true);
      // Added now, after nodemailer's own listener, so no byte of the greeting is taken from it.
      socket.once("data", () => awaiting(false));
    }
    return write(chunk, ...rest);
  }) as typeof socket.write;
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
      watchEndOfData(socket, (value) => (awaitingReply = value));
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
  let awaitingReply = false;
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
        const { cause, fix } = refusal(e).verdict;
        throw new UnavailableError(
          `the SMTP server at ${where} is unavailable: ${cause} (${e.response ?? e.message}); ${fix}; messages stay queued, run comeback send when it is back`,
        );
      }
    },
    async send(message) {
      awaitingReply = false;
      try {
        const info = await transporter.sendMail({ envelope: message.envelope, raw: message.raw });
        if (info.rejected.length > 0) {
          const text = String(info.response ?? "recipient rejected");
          return refusal({
            name: "Error",
            message: text,
            response: text,
            responseCode: 550,
            command: "RCPT TO",
          });
        }
        return { status: "sent", response: info.response };
      } catch (error) {
        const e = error as SmtpError;
        if (awaitingReply && e.responseCode === undefined) {
          return {
            status: "unknown",
            error:
              e.code === "ETIMEDOUT"
                ? "no reply within timeout_seconds after the whole message was sent"
                : "the connection dropped after the whole message was sent, before the reply",
          };
        }
        return refusal(e);
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
