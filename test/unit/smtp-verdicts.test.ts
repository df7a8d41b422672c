/**
 * The SMTP answer classification (src/deliver/smtp-answer.ts) rule by rule, with the cause and the
 * fix each verdict gives: the cause is what the admin reads in `send`'s report, the fix what to do.
 * test/unit/smtp-answer.test.ts holds the table of real answers by whose fault they are; this one
 * holds each branch's edges (which detail codes, which reply codes, which command).
 */
import { describe, expect, it, vi } from "vitest";
import {
  answerShape,
  classifySmtpAnswer,
  enhancedStatus,
  type FaultScope,
  type SmtpAnswer,
} from "../../src/deliver/smtp-answer.js";

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

type Case = [
  text: string,
  command: string | undefined,
  scope: FaultScope,
  permanent: boolean,
  cause: string,
  fix?: string,
];

const verdict = (text: string, command?: string) =>
  classifySmtpAnswer({ code: Number(text.slice(0, 3)), text, ...(command !== undefined && { command }) });

const check = ([text, command, scope, permanent, cause, fix = ""]: Case) =>
  expect(verdict(text, command), `${text} (${command})`).toEqual({
    scope,
    permanent,
    suppress: scope === "recipient" && permanent,
    cause,
    fix,
  });

describe("the login and TLS answers, whatever their enhanced code", () => {
  it.each<Case>([
    ["530 5.7.0 Authentication required", "MAIL FROM", "server", true, "authentication required", FIX_LOGIN],
    [
      "534 5.7.9 Please log in with your web browser",
      "AUTH PLAIN",
      "server",
      true,
      "login refused",
      FIX_LOGIN,
    ],
    [
      "535 5.7.8 Username and Password not accepted",
      "AUTH PLAIN",
      "server",
      true,
      "login refused",
      FIX_LOGIN,
    ],
    [
      "538 5.7.11 Encryption required for requested authentication mechanism",
      "AUTH PLAIN",
      "server",
      true,
      "login refused",
      FIX_LOGIN,
    ],
    ["454 4.7.0 TLS not available due to local problem", "STARTTLS", "server", false, "TLS failed", FIX_TLS],
  ])("%s (%s)", (...c) => check(c));

  it("reads nodemailer's EAUTH and ETLS as the login and TLS, with or without a reply code", () => {
    expect(classifySmtpAnswer({ code: 501, text: "501 bad", errorCode: "EAUTH" })).toMatchObject({
      cause: "login refused",
      fix: FIX_LOGIN,
      permanent: true,
    });
    expect(classifySmtpAnswer({ code: 554, text: "554 no", errorCode: "ETLS" })).toMatchObject({
      cause: "TLS failed",
      fix: FIX_TLS,
      permanent: false,
    });
  });
});

describe("no reply at all", () => {
  it.each([
    "ECONNECTION",
    "ETIMEDOUT",
    "ESOCKET",
    "EDNS",
    "ECONNREFUSED",
    "ECONNRESET",
    "EPIPE",
    "EPROTOCOL",
  ])("%s is a failed connection, temporary: run send when the server is back", (errorCode) => {
    expect(classifySmtpAnswer({ errorCode })).toEqual({
      scope: "server",
      permanent: false,
      suppress: false,
      cause: "connection failed",
      fix: FIX_CONNECTION,
    });
  });

  it("is 'no answer from the server' when the error is not a connection's", () => {
    for (const answer of [
      {},
      { errorCode: "EMESSAGE" },
      { errorCode: "ENVELOPE", command: "CONN" },
    ] as SmtpAnswer[])
      expect(classifySmtpAnswer(answer)).toEqual({
        scope: "server",
        permanent: false,
        suppress: false,
        cause: "no answer from the server",
        fix: FIX_CONNECTION,
      });
  });

  it("a 421 is the server closing, temporary", () => {
    check([
      "421 4.7.0 Too many connections",
      "RCPT TO",
      "server",
      false,
      "the server is closing the connection (421)",
      FIX_BUSY,
    ]);
  });
});

describe("by the enhanced status", () => {
  it.each<Case>([
    // X.1: addressing. The sender's codes (7, 8) are the server's even when refused at RCPT
    // (Postfix's smtpd_delay_reject reports sender restrictions there).
    ["550 5.1.1 <a@x>: User unknown", "RCPT TO", "recipient", true, "no such recipient"],
    ["553 5.1.3 Bad recipient address syntax", "RCPT TO", "recipient", true, "recipient address refused"],
    [
      "450 4.1.2 <a@x>: Recipient address rejected: Domain not found",
      "RCPT TO",
      "recipient",
      false,
      "recipient address refused",
    ],
    [
      "553 5.1.7 <shop@x>: Sender address rejected",
      "RCPT TO",
      "server",
      true,
      "sender address refused",
      FIX_SENDER,
    ],
    [
      "450 4.1.8 <shop@x>: Sender address rejected: Domain not found",
      "RCPT TO",
      "server",
      false,
      "sender address refused",
      FIX_SENDER,
    ],
    [
      "550 5.1.0 <shop@x>: Sender address rejected",
      "MAIL FROM",
      "server",
      true,
      "sender address refused",
      FIX_SENDER,
    ],
    // X.2: mailbox
    ["452 4.2.2 Mailbox full", "RCPT TO", "recipient", false, "mailbox full"],
    ["550 5.2.1 Mailbox disabled", "RCPT TO", "recipient", true, "mailbox unavailable"],
    [
      "552 5.2.3 Message exceeds maximum size for this mailbox",
      "DATA",
      "message",
      true,
      "message too big for the mailbox",
    ],
    // X.3: mail system
    ["552 5.3.4 Message too big", "DATA", "message", true, "message too big"],
    ["554 5.3.0 Message rejected", "DATA", "message", true, "message refused"],
    ["554 5.3.0 Mail system error", "RCPT TO", "server", true, "the mail system refuses mail", FIX_SERVER],
    [
      "451 4.3.2 System not accepting network messages",
      "DATA",
      "server",
      false,
      "the mail system refuses mail",
      FIX_SERVER,
    ],
    // X.4: network and routing
    ["550 5.4.4 Unable to route", "RCPT TO", "recipient", true, "recipient domain unroutable"],
    [
      "550 5.4.4 Unable to route",
      "DATA",
      "server",
      true,
      "network or routing failure at the server",
      FIX_CONNECTION,
    ],
    [
      "451 4.4.1 No answer from host",
      "RCPT TO",
      "server",
      false,
      "network or routing failure at the server",
      FIX_CONNECTION,
    ],
    ["554 5.4.6 Routing loop detected", "DATA", "message", true, "routing failed for this message"],
    ["554 5.4.7 Delivery time expired", "DATA", "message", true, "routing failed for this message"],
    // X.5: protocol; X.6: content
    [
      "500 5.5.2 Syntax error, command unrecognized",
      "RCPT TO",
      "server",
      true,
      "SMTP protocol error",
      FIX_SERVER,
    ],
    ["554 5.6.0 Message contains invalid header", "DATA", "message", true, "message content refused"],
    // X.7: security and policy
    ["554 5.7.1 <a@x>: Relay access denied", "RCPT TO", "server", true, "relay access denied", FIX_RELAY],
    ["550 5.7.1 Sender not authorized", "MAIL FROM", "server", true, "relay access denied", FIX_RELAY],
    ["550 5.7.1 Message rejected as spam", "DATA", "message", true, "refused by policy"],
    [
      "554 5.7.0 Your account is suspended",
      "MAIL FROM",
      "server",
      true,
      "authentication required or refused",
      FIX_LOGIN,
    ],
    [
      "554 5.7.8 Authentication credentials invalid",
      "MAIL FROM",
      "server",
      true,
      "authentication required or refused",
      FIX_LOGIN,
    ],
    [
      "554 5.7.9 Authentication mechanism is too weak",
      "MAIL FROM",
      "server",
      true,
      "authentication required or refused",
      FIX_LOGIN,
    ],
    [
      "554 5.7.11 Encryption required for requested authentication mechanism",
      "MAIL FROM",
      "server",
      true,
      "authentication required or refused",
      FIX_LOGIN,
    ],
    [
      "554 5.7.12 A password transition is needed",
      "MAIL FROM",
      "server",
      true,
      "authentication required or refused",
      FIX_LOGIN,
    ],
    [
      "554 5.7.13 User account disabled",
      "MAIL FROM",
      "server",
      true,
      "authentication required or refused",
      FIX_LOGIN,
    ],
    ["554 5.7.10 Encryption needed", "MAIL FROM", "server", true, "TLS required", FIX_TLS],
    [
      "554 5.7.3 Security conversion required but not possible",
      "DATA",
      "server",
      true,
      "TLS required",
      FIX_TLS,
    ],
    ["554 5.7.5 Cryptographic failure", "DATA", "server", true, "TLS required", FIX_TLS],
    ["554 5.7.6 Cryptographic algorithm not supported", "DATA", "server", true, "TLS required", FIX_TLS],
    ["554 5.7.2 Mailing list expansion prohibited", "DATA", "message", true, "refused by policy"],
    ["554 5.7.7 Message integrity failure", "DATA", "message", true, "refused by policy"],
    [
      "550 5.7.26 Unauthenticated email is not accepted due to domain's DMARC policy",
      "DATA",
      "message",
      true,
      "refused by policy",
    ],
    // X.0 and unknown subjects: the reply code decides.
    ["550 5.0.0 Requested action not taken", "RCPT TO", "recipient", true, "recipient refused"],
    ["550 5.9.1 Odd", "RCPT TO", "recipient", true, "recipient refused"],
  ])("%s (%s)", (...c) => check(c));

  it("falls back to the reply code when the enhanced status's class disagrees with it", () => {
    check(["550 4.3.4 Odd", "DATA", "message", true, "message refused"]);
    check(["451 5.2.2 Odd", "RCPT TO", "recipient", false, "recipient unavailable for now"]);
  });
});

describe("by the reply code and the command, with no enhanced status", () => {
  it.each<Case>([
    ["500 Syntax error, command unrecognized", "RCPT TO", "server", true, "SMTP protocol error", FIX_SERVER],
    ["502 Command not implemented", "DATA", "server", true, "SMTP protocol error", FIX_SERVER],
    ["504 Command parameter not implemented", "RCPT TO", "server", true, "SMTP protocol error", FIX_SERVER],
    ["505 Odd", "RCPT TO", "message", true, "refused at RCPT"],
    ["550 Sender rejected", "MAIL FROM", "server", true, "sender refused", FIX_SENDER],
    ["451 Try again later", "MAIL FROM", "server", false, "the server refuses mail for now", FIX_BUSY],
    ["550 No such user here", "RCPT TO", "recipient", true, "recipient refused"],
    ["551 User not local", "RCPT TO", "recipient", true, "recipient refused"],
    ["553 Mailbox name not allowed", "RCPT TO", "recipient", true, "recipient refused"],
    ["450 Mailbox unavailable", "RCPT TO", "recipient", false, "recipient unavailable for now"],
    ["451 Temporary lookup failure", "RCPT TO", "recipient", false, "recipient unavailable for now"],
    ["452 Insufficient system storage", "RCPT TO", "server", false, "the server is out of storage", FIX_BUSY],
    ["552 Exceeded storage allocation", "RCPT TO", "message", true, "refused at RCPT"],
    ["453 Odd", "RCPT TO", "message", false, "refused at RCPT"],
    // An answer stored in the outbox, read again by requeue: no command, read as RCPT's.
    ["550 No such user here", undefined, "recipient", true, "recipient refused"],
    ["451 Temporary lookup failure", undefined, "recipient", false, "recipient unavailable for now"],
    ["554 Transaction failed", "DATA", "message", true, "message refused"],
    ["451 Local error in processing", "DATA", "message", false, "message deferred"],
    ["554 Message refused", "MESSAGE", "message", true, "message refused"],
    ["554 Message refused", "STREAM", "message", true, "message refused"],
    ["554 No SMTP service here", "CONN", "server", true, "the server refused the session", FIX_SERVER],
    ["554 Go away", "EHLO", "server", true, "the server refused the session", FIX_SERVER],
    ["554 Go away", "GREETING", "server", true, "the server refused the session", FIX_SERVER],
    ["550 Odd", "VRFY", "message", true, "refused"],
    ["450 Odd", "VRFY", "message", false, "deferred"],
  ])("%s (%s)", (...c) => check(c));
});

describe("enhancedStatus", () => {
  it("reads the status right after the reply code, of any width the syntax allows", () => {
    expect(enhancedStatus("  550 5.1.1 x")).toEqual([5, 1, 1]);
    expect(enhancedStatus("550 5.1.10 RESOLVER.ADR.RecipientNotFound")).toEqual([5, 1, 10]);
    expect(enhancedStatus("554 5.10.1 odd")).toEqual([5, 10, 1]);
    expect(enhancedStatus("550 5.1.1000 odd")).toBeNull();
    expect(enhancedStatus("Error: 550 5.1.1 x")).toBeNull();
    expect(enhancedStatus("550 3.1.1 x")).toBeNull();
    expect(enhancedStatus(undefined)).toBeNull();
  });
});

describe("answerShape", () => {
  it("keeps the codes, lower-cases, and squeezes the spaces", () => {
    expect(answerShape("  550  5.1.1   User   Unknown ")).toBe("550 #.#.# user unknown");
    expect(answerShape("550 5.1.1  User   Unknown")).toBe("550 5.1.1 user unknown");
    expect(answerShape("550 5.1.10 User unknown")).toBe("550 5.1.10 user unknown");
    expect(answerShape("554 5.10.1 Odd")).toBe("554 5.10.1 odd");
    expect(answerShape("550 No such user")).toBe("550 no such user");
    expect(answerShape("id 123 refused")).toBe("id # refused");
    expect(answerShape("Connection refused")).toBe("connection refused");
  });

  it("takes out an address in angle brackets whole, also one with an apostrophe, and numbers", () => {
    expect(answerShape("550 5.1.1 <o'brien@example.com>: no such user (queue 42)")).toBe(
      "550 5.1.1 <@>: no such user (queue #)",
    );
  });
});

describe("the module's constants", () => {
  // The fixes, the connection codes and the command tests are made once when the module loads;
  // Stryker switches a mutant on after that (MUTATION.md), so these are read from a fresh copy of
  // the module, loaded inside the test.
  it("give every verdict its fix and read every command, when the module is loaded afresh", async () => {
    vi.resetModules();
    const fresh = await import("../../src/deliver/smtp-answer.js");
    const cases: [SmtpAnswer, string, string][] = [
      [{ errorCode: "EAUTH" }, "login refused", FIX_LOGIN],
      [
        { code: 554, text: "554 5.7.1 Relay access denied", command: "RCPT TO" },
        "relay access denied",
        FIX_RELAY,
      ],
      [{ errorCode: "ETLS" }, "TLS failed", FIX_TLS],
      [{ errorCode: "ECONNREFUSED" }, "connection failed", FIX_CONNECTION],
      [{ code: 421, text: "421 bye" }, "the server is closing the connection (421)", FIX_BUSY],
      [{ code: 550, text: "550 no", command: "MAIL FROM" }, "sender refused", FIX_SENDER],
      [{ code: 554, text: "554 5.5.0 odd" }, "SMTP protocol error", FIX_SERVER],
      [{ code: 550, text: "550 no", command: "RCPT TO" }, "recipient refused", ""],
      [{ code: 550, text: "550 no", command: "DATA" }, "message refused", ""],
    ];
    for (const [answer, cause, fix] of cases)
      expect(fresh.classifySmtpAnswer(answer), JSON.stringify(answer)).toMatchObject({ cause, fix });
    for (const errorCode of [
      "ECONNECTION",
      "ETIMEDOUT",
      "ESOCKET",
      "EDNS",
      "ECONNREFUSED",
      "ECONNRESET",
      "EPIPE",
      "EPROTOCOL",
    ])
      expect(fresh.classifySmtpAnswer({ errorCode }).cause).toBe("connection failed");
  });
});
