/** issue 17, point 8: a very long customer name still gives header lines within RFC 5322's 998. */
import { describe, expect, it } from "vitest";
import { composeEmail, formatMailbox } from "../../src/deliver/mime.js";

const decodeWords = (value: string) =>
  value
    .replace(/\?=\r\n =\?/g, "?==?") // white space between encoded words is not part of the text (RFC 2047)
    .replace(/\r\n /g, " ")
    .replace(/=\?UTF-8\?B\?([A-Za-z0-9+/=]*)\?=/g, (_all, b64: string) =>
      Buffer.from(b64, "base64").toString("utf8"),
    );

describe("the To header", () => {
  it.each([
    ["plain words", "Anna Schmidt ".repeat(115).trim()],
    ["one long word", "x".repeat(1500)],
    ["quoted ASCII", `Dr. "Ann" ${"a.b ".repeat(372)}`.trim()],
    ["Cyrillic", "Борис Петров ".repeat(115).trim()],
  ])("folds a 1,500-character name (%s) into lines of at most 78, losing nothing", (_kind, name) => {
    const raw = composeEmail({
      from: { name: "Shop", address: "hello@shop.example" },
      to: { name, address: "anna@example.com" },
      subject: "Hi",
      text: "t",
      html: "<p>t</p>",
      messageId: "<m@shop.example>",
      date: "2026-03-02T08:00:00Z",
      headers: [],
    });
    const head = raw.slice(0, raw.indexOf("\r\n\r\n"));
    for (const line of head.split("\r\n")) expect(line.length).toBeLessThanOrEqual(998);
    const to = /^To: (.*(?:\r\n .*)*)/m.exec(head)![1]!;
    for (const line of `To: ${to}`.split("\r\n")) expect(line.length).toBeLessThanOrEqual(78);
    expect(decodeWords(to)).toBe(`${name} <anna@example.com>`);
  });

  it("keeps a short name readable", () => {
    expect(formatMailbox({ name: "Anna Schmidt", address: "anna@example.com" })).toBe(
      "Anna Schmidt <anna@example.com>",
    );
  });
});
