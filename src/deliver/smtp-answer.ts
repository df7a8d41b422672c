/**
 * Whose fault is an SMTP answer: the recipient's, this message's, or the server's (and so every
 * message's). Decided by the enhanced status code (RFC 3463) when the server gives one, which says
 * more than the reply code, else by the reply code and the command it answered.
 *
 * - recipient: this address (5.1.1 no such user, 5.2.1 mailbox disabled, …). Permanent: fail the
 *   message and suppress the address. Temporary (mailbox full, greylisted): try again later.
 * - message: this message (too big, content refused, a policy about this one). Fail or retry it;
 *   suppress nobody.
 * - server: every message would get it (login, relay, TLS, 421, the connection, our sender address).
 *   The run stops at once, the message is put back without spending an attempt, nobody is
 *   suppressed, and the admin is told what to fix.
 *
 * comeback talks to a relay (the shop's mail provider), not to recipients' servers, so an answer that
 * names policy or security is read as the relay's rule for this sender unless it says otherwise.
 */

export type FaultScope = "recipient" | "message" | "server";

export interface SmtpAnswer {
  /** The reply code (550), or undefined when no reply came (connection refused, dropped, timeout). */
  code?: number;
  /** The whole text the server answered, if any. */
  text?: string;
  /** The command it answered: "MAIL FROM", "RCPT TO", "DATA", "AUTH", "CONN", … */
  command?: string;
  /** nodemailer's error code: EAUTH, ETLS, ECONNECTION, ETIMEDOUT, EENVELOPE, … */
  errorCode?: string;
}

export interface SmtpVerdict {
  scope: FaultScope;
  /** A 5xx: sending this message again will not help. */
  permanent: boolean;
  /** Put the address on the suppression list (a permanent recipient fault only). */
  suppress: boolean;
  /** In a few words, what went wrong: "relay access denied", "no such recipient". */
  cause: string;
  /** For a server fault: what the admin should fix. Empty otherwise. */
  fix: string;
}

/** "5.7.1" out of "554 5.7.1 Relay access denied": [class, subject, detail]. */
export function enhancedStatus(text: string | undefined): [number, number, number] | null {
  const match = /^\s*\d{3}[ -]([245])\.(\d{1,3})\.(\d{1,3})\b/.exec(text ?? "");
  return match ? [Number(match[1]), Number(match[2]), Number(match[3])] : null;
}

const CONNECTION_CODES = new Set([
  "ECONNECTION",
  "ETIMEDOUT",
  "ESOCKET",
  "EDNS",
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "EPROTOCOL",
]);

const FIX_LOGIN =
  "check delivery.smtp.user and the password (COMEBACK_SMTP_PASSWORD or delivery.smtp.password)";
const FIX_RELAY =
  "the server does not relay for comeback: check delivery.smtp.host, port and user, and that the provider lets delivery.from send";
const FIX_TLS = "check delivery.smtp.secure and port (465 is secure: true; 587 and 25 use STARTTLS)";
const FIX_CONNECTION =
  "check delivery.smtp.host and port, and that the server is up; run comeback send when it is back";
const FIX_BUSY = "the server is busy or closing; run comeback send later (cron does)";
const FIX_SENDER = "check delivery.from: the server refuses it as a sender";
const FIX_SERVER = "the server refuses every message; check its logs or ask the mail provider";

function server(cause: string, fix: string, permanent: boolean): SmtpVerdict {
  return { scope: "server", permanent, suppress: false, cause, fix };
}

function recipient(cause: string, permanent: boolean): SmtpVerdict {
  return { scope: "recipient", permanent, suppress: permanent, cause, fix: "" };
}

function message(cause: string, permanent: boolean): SmtpVerdict {
  return { scope: "message", permanent, suppress: false, cause, fix: "" };
}

const atRcpt = (command: string) => /RCPT/i.test(command);
const atMail = (command: string) => /MAIL/i.test(command);
const atData = (command: string) => /DATA|MESSAGE|STREAM/i.test(command);

/** The verdict for one answer. Pure: the table in test/unit/smtp-answer.test.ts holds real answers. */
export function classifySmtpAnswer(answer: SmtpAnswer): SmtpVerdict {
  const code = answer.code;
  const command = answer.command ?? "";
  const errorCode = answer.errorCode ?? "";

  if (errorCode === "EAUTH" || code === 530 || code === 534 || code === 535 || code === 538)
    return server(code === 530 ? "authentication required" : "login refused", FIX_LOGIN, true);
  if (errorCode === "ETLS" || code === 454) return server("TLS failed", FIX_TLS, false);
  if (code === undefined) {
    return server(
      CONNECTION_CODES.has(errorCode) ? "connection failed" : "no answer from the server",
      FIX_CONNECTION,
      false,
    );
  }
  if (code === 421) return server("the server is closing the connection (421)", FIX_BUSY, false);
  const permanent = code >= 500;
  const enhanced = enhancedStatus(answer.text);
  if (enhanced && enhanced[0] !== Math.floor(code / 100)) return byReplyCode(code, command, permanent);
  if (!enhanced) return byReplyCode(code, command, permanent);
  const [, subject, detail] = enhanced;

  switch (subject) {
    case 1: // addressing
      if (detail === 7 || detail === 8) return server("sender address refused", FIX_SENDER, permanent);
      if (atMail(command)) return server("sender address refused", FIX_SENDER, permanent);
      return recipient(detail === 1 ? "no such recipient" : "recipient address refused", permanent);
    case 2: // mailbox
      if (detail === 3) return message("message too big for the mailbox", permanent);
      return recipient(detail === 2 ? "mailbox full" : "mailbox unavailable", permanent);
    case 3: // mail system
      if (detail === 4) return message("message too big", permanent);
      if (atData(command) && detail === 0) return message("message refused", permanent);
      return server("the mail system refuses mail", FIX_SERVER, permanent);
    case 4: // network and routing
      if (detail === 4 && atRcpt(command)) return recipient("recipient domain unroutable", permanent);
      if (detail === 6 || detail === 7) return message("routing failed for this message", permanent);
      return server("network or routing failure at the server", FIX_CONNECTION, permanent);
    case 5: // protocol
      return server("SMTP protocol error", FIX_SERVER, permanent);
    case 6: // content
      return message("message content refused", permanent);
    case 7: // security and policy
      if (detail === 1) {
        if (/relay/i.test(answer.text ?? "") || atMail(command))
          return server("relay access denied", FIX_RELAY, permanent);
        return message("refused by policy", permanent);
      }
      if (detail === 0 || detail === 8 || detail === 9 || detail === 11 || detail === 12 || detail === 13)
        return server("authentication required or refused", FIX_LOGIN, permanent);
      if (detail === 10 || (detail >= 3 && detail <= 6)) return server("TLS required", FIX_TLS, permanent);
      return message("refused by policy", permanent);
    default:
      return byReplyCode(code, command, permanent);
  }
}

/** No usable enhanced code: the reply code and the command decide. */
function byReplyCode(code: number, command: string, permanent: boolean): SmtpVerdict {
  if (code >= 500 && code <= 504) return server("SMTP protocol error", FIX_SERVER, true);
  if (atMail(command))
    return permanent
      ? server("sender refused", FIX_SENDER, true)
      : server("the server refuses mail for now", FIX_BUSY, false);
  // No command known (an answer stored in the outbox, read again by requeue): read it as RCPT's.
  if (atRcpt(command) || command === "") {
    if (code === 550 || code === 551 || code === 553) return recipient("recipient refused", true);
    if (code === 450 || code === 451) return recipient("recipient unavailable for now", false);
    if (code === 452) return server("the server is out of storage", FIX_BUSY, false);
    return message("refused at RCPT", permanent);
  }
  if (atData(command)) return message(permanent ? "message refused" : "message deferred", permanent);
  if (/EHLO|HELO|LHLO|CONN|GREETING/i.test(command))
    return server("the server refused the session", FIX_SERVER, permanent);
  return message(permanent ? "refused" : "deferred", permanent);
}

/**
 * An answer as it would look for any recipient: addresses and numbers (queue ids, times) taken out,
 * so "550 5.1.1 <a@x>: no such user" and "550 5.1.1 <b@y>: no such user" compare equal for the
 * circuit breaker.
 */
export function answerShape(text: string): string {
  const codes = /^\s*\d{3}(?:[ -][245]\.\d{1,3}\.\d{1,3})?/.exec(text)?.[0] ?? "";
  const rest = text
    .slice(codes.length)
    .replace(/<[^<>\s]*@[^<>\s]*>/g, "<@>")
    .replace(/[^\s<>"'(),;:]+@[^\s<>"'(),;:]+/g, "@")
    .replace(/\d+/g, "#");
  return `${codes.trim()} ${rest}`.replace(/\s+/g, " ").trim().toLowerCase();
}
