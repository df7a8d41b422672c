/** Whose fault each SMTP answer is: a table of answers real servers give (Postfix, Exchange, Gmail, SES). */
import { describe, expect, it } from "vitest";
import {
  answerShape,
  classifySmtpAnswer,
  enhancedStatus,
  type FaultScope,
} from "../../src/deliver/smtp-answer.js";

type Row = [text: string, command: string, scope: FaultScope, permanent: boolean, suppress: boolean];
const reply = (text: string) => Number(text.slice(0, 3));

const TABLE: Row[] = [
  // the recipient's fault: fail and suppress (permanent), or try again later
  [
    "550 5.1.1 <nobody@example.com>: Recipient address rejected: User unknown in virtual mailbox table",
    "RCPT TO",
    "recipient",
    true,
    true,
  ],
  ["550-5.1.1 The email account that you tried to reach does not exist.", "RCPT TO", "recipient", true, true],
  [
    "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup",
    "RCPT TO",
    "recipient",
    true,
    true,
  ],
  ["551 5.1.6 Recipient no longer on server", "RCPT TO", "recipient", true, true],
  ["553 5.1.3 Invalid recipient address syntax", "RCPT TO", "recipient", true, true],
  ["550 5.2.1 The email account that you tried to reach is disabled.", "RCPT TO", "recipient", true, true],
  ["552 5.2.2 Mailbox full", "RCPT TO", "recipient", true, true],
  [
    "452 4.2.2 The email account that you tried to reach is over quota.",
    "RCPT TO",
    "recipient",
    false,
    false,
  ],
  ["450 4.2.1 Mailbox busy, try again later", "RCPT TO", "recipient", false, false],
  ["550 5.4.4 Unable to route: no mail hosts for domain", "RCPT TO", "recipient", true, true],
  ["550 No such user here", "RCPT TO", "recipient", true, true],
  ["450 Requested mail action not taken: mailbox unavailable", "RCPT TO", "recipient", false, false],
  // this message's fault: fail or retry it, suppress nobody
  ["552 5.3.4 Message size exceeds fixed maximum message size", "DATA", "message", true, false],
  ["552 5.2.3 Message exceeds maximum size for this mailbox", "DATA", "message", true, false],
  ["550 5.7.1 Message rejected as spam by Content Filtering.", "DATA", "message", true, false],
  ["554 5.6.0 Message contains invalid header", "DATA", "message", true, false],
  [
    "550 5.7.26 Unauthenticated email from shop.example is not accepted due to domain's DMARC policy",
    "DATA",
    "message",
    true,
    false,
  ],
  ["451 4.7.1 Greylisted, please try again in 300 seconds", "RCPT TO", "message", false, false],
  ["554 Transaction failed", "DATA", "message", true, false],
  ["451 Requested action aborted: local error in processing", "DATA", "message", false, false],
  // the server's fault: stop, put back, suppress nobody
  ["554 5.7.1 <anna@example.com>: Relay access denied", "RCPT TO", "server", true, false],
  ["550 5.7.1 Unable to relay", "RCPT TO", "server", true, false],
  ["530 5.7.0 Authentication required", "MAIL FROM", "server", true, false],
  ["530 5.7.0 Must issue a STARTTLS command first", "MAIL FROM", "server", true, false],
  ["535 5.7.8 Username and Password not accepted", "AUTH PLAIN", "server", true, false],
  ["535 Authentication credentials invalid", "AUTH LOGIN", "server", true, false],
  ["421 4.3.2 Try again later", "MAIL FROM", "server", false, false],
  [
    "421 4.7.0 Too many concurrent SMTP connections; please try again later.",
    "RCPT TO",
    "server",
    false,
    false,
  ],
  ["421 Service not available, closing transmission channel", "DATA", "server", false, false],
  ["454 4.7.0 TLS not available due to local problem", "STARTTLS", "server", false, false],
  ["550 5.1.8 Sender address rejected: Domain not found", "MAIL FROM", "server", true, false],
  [
    "553 5.1.7 The sender address <hello@shop.example> is not a valid RFC-5321 address.",
    "MAIL FROM",
    "server",
    true,
    false,
  ],
  ["550 5.7.1 Sender not authorized", "MAIL FROM", "server", true, false],
  ["452 4.3.1 Insufficient system storage", "MAIL FROM", "server", false, false],
  ["451 4.3.0 Mail server temporarily rejected message.", "MAIL FROM", "server", false, false],
  ["503 5.5.1 Error: need MAIL command", "RCPT TO", "server", true, false],
  ["554 5.7.0 Your account is suspended for sending spam", "MAIL FROM", "server", true, false],
  ["530 5.7.10 Encryption required", "MAIL FROM", "server", true, false],
  ["554 fault-sink: no SMTP service here", "CONN", "server", true, false],
];

describe("classifySmtpAnswer", () => {
  it.each(TABLE)("%s (%s) is the %s's fault", (text, command, scope, permanent, suppress) => {
    expect(classifySmtpAnswer({ code: reply(text), text, command })).toMatchObject({
      scope,
      permanent,
      suppress,
    });
  });

  it("calls every server fault by a cause and a fix, and no other fault has a fix", () => {
    for (const [text, command] of TABLE) {
      const verdict = classifySmtpAnswer({ code: reply(text), text, command });
      expect(verdict.cause.length, text).toBeGreaterThan(3);
      expect(verdict.fix.length > 0, text).toBe(verdict.scope === "server");
    }
  });

  it.each([
    ["ECONNECTION", "connection failed"],
    ["ETIMEDOUT", "connection failed"],
    ["ECONNREFUSED", "connection failed"],
    ["ETLS", "TLS failed"],
    ["EAUTH", "login refused"],
  ])("a %s without a reply is the server's fault (%s)", (errorCode, cause) => {
    expect(classifySmtpAnswer({ errorCode, command: "CONN" })).toMatchObject({ scope: "server", cause });
  });

  it("reads the enhanced status only when its class agrees with the reply code", () => {
    expect(enhancedStatus("554 5.7.1 Relay access denied")).toEqual([5, 7, 1]);
    expect(enhancedStatus("550-5.1.1 The email account")).toEqual([5, 1, 1]);
    expect(enhancedStatus("550 No such user")).toBeNull();
    // "4.1.1" under a 550 is inconsistent: the reply code alone decides (permanent recipient fault).
    expect(classifySmtpAnswer({ code: 550, text: "550 4.1.1 odd", command: "RCPT TO" })).toMatchObject({
      scope: "recipient",
      permanent: true,
    });
  });
});

describe("answerShape", () => {
  it("takes addresses and numbers out, so one answer to many recipients compares equal", () => {
    expect(answerShape("550 5.1.1 <anna@example.com>: User unknown (queue 1234)")).toBe(
      answerShape("550 5.1.1 <boris@example.org>: user unknown (queue 98)"),
    );
    expect(answerShape("550 5.1.1 no such user bob@x.example")).toBe("550 5.1.1 no such user @");
    expect(answerShape("550 5.1.1 no such user")).not.toBe(answerShape("550 5.2.1 no such user"));
  });
});
