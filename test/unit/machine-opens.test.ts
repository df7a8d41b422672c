import { describe, expect, it } from "vitest";
import { MACHINE_SECONDS, machineReason, type Fetch } from "../../src/track/machine.js";

const SENT = "2026-03-02T09:00:00.000Z";
const LATER = "2026-03-02T11:30:00.000Z";
const fetch = (over: Partial<Fetch>): Fetch => ({
  kind: "open",
  userAgent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0",
  method: "GET",
  sentAt: SENT,
  at: LATER,
  ...over,
});

describe("machine opens and clicks", () => {
  it("a person's mail client, hours after sending, is a person", () => {
    expect(machineReason(fetch({}))).toBeNull();
    expect(machineReason(fetch({ kind: "click" }))).toBeNull();
    // Gmail's image proxy fetches when the reader opens: a person.
    expect(
      machineReason(
        fetch({
          userAgent:
            "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)",
        }),
      ),
    ).toBeNull();
    expect(machineReason(fetch({ sentAt: null }))).toBeNull();
  });

  it("Apple Mail Privacy Protection's bare user agent is the proxy", () => {
    expect(machineReason(fetch({ userAgent: "Mozilla/5.0" }))).toBe("apple proxy");
    expect(machineReason(fetch({ userAgent: " Mozilla/5.0 " }))).toBe("apple proxy");
  });

  it("scanners: no user agent, a HEAD, a library's or a security product's agent", () => {
    expect(machineReason(fetch({ userAgent: undefined }))).toBe("no user agent");
    expect(machineReason(fetch({ userAgent: "" }))).toBe("no user agent");
    expect(machineReason(fetch({ method: "HEAD", kind: "click" }))).toBe("head request");
    expect(machineReason(fetch({ userAgent: "python-requests/2.31", kind: "click" }))).toBe("scanner agent");
    expect(machineReason(fetch({ userAgent: "Mozilla/5.0 (compatible; Barracuda Sentinel)" }))).toBe(
      "scanner agent",
    );
  });

  it("within a minute of sending is a machine; a minute later a person", () => {
    const at = (seconds: number) => new Date(Date.parse(SENT) + seconds * 1000).toISOString();
    expect(machineReason(fetch({ at: at(3), kind: "click" }))).toBe("too soon");
    expect(machineReason(fetch({ at: at(MACHINE_SECONDS - 1) }))).toBe("too soon");
    expect(machineReason(fetch({ at: at(MACHINE_SECONDS) }))).toBeNull();
  });
});
