/**
 * Was a pixel fetch or a link click made by a person, or by a machine acting on every message? One
 * place for the rule (issue 18), so the routes record and the report counts the same thing.
 *
 * The machines:
 * - Apple Mail Privacy Protection (iOS 15+, macOS 12+) fetches every image of every message through
 *   Apple's proxy when the message is delivered, whether or not it is ever read. Its fetches carry a
 *   bare `Mozilla/5.0` user agent (no platform, no engine: a real Mail client always says more).
 *   Apple Mail is roughly half of all opens in consumer mail, so counting these would make nearly
 *   every message look opened.
 * - Security scanners (Microsoft Defender Safe Links, Mimecast, Proofpoint, Barracuda, corporate
 *   gateways) fetch images and follow every link within seconds of delivery to check the target;
 *   they often use HEAD, an empty user agent, or a library's (python-requests, curl, Go-http-client).
 * - Any fetch within MACHINE_SECONDS of the message leaving us: a person cannot have opened it yet,
 *   a proxy or scanner on delivery can. Gmail's image proxy (`GoogleImageProxy`) fetches when the
 *   reader opens the message, so it counts as a person, after that delay.
 *
 * A machine event is kept (machine = 1) so nothing is lost, but never counted as a human open or
 * click. The cost of a false "machine": a person who opens within the first minute is not counted;
 * rare next to the proxies, which account for a large share of all fetches.
 */

/**
 * A fetch this soon after the server accepted the message is a machine's. 60 s: scanners and the
 * Apple proxy fetch on delivery (typically within seconds); a person needs to notice the message,
 * open it, and (for a click) read it.
 */
export const MACHINE_SECONDS = 60;

/** User agents of proxies and scanners (case-insensitive, anywhere in the string). */
const MACHINE_AGENTS = [
  /bot\b|crawler|spider|scanner|preview/i,
  /python-|curl\/|wget\/|go-http-client|java\/|okhttp|libwww|httpclient|node-fetch|axios|headlesschrome/i,
  /safelinks|mimecast|proofpoint|barracuda|forcepoint|symantec|trendmicro|sophos|fireeye|zscaler/i,
];

export interface Fetch {
  kind: "open" | "click";
  /** The request's User-Agent header, if any. */
  userAgent: string | undefined;
  /** GET, HEAD, … */
  method: string;
  /** When the message was accepted by the server (outbox `sent_at`), or null if unknown. */
  sentAt: string | null;
  /** When the fetch happened. */
  at: string;
}

export type MachineReason = "apple proxy" | "no user agent" | "scanner agent" | "head request" | "too soon";

/** Why this fetch is a machine's, or null for a person. */
export function machineReason(fetch: Fetch): MachineReason | null {
  const agent = (fetch.userAgent ?? "").trim();
  if (fetch.method.toUpperCase() === "HEAD") return "head request";
  if (agent === "") return "no user agent";
  // Apple's proxy says exactly "Mozilla/5.0"; every browser and mail client adds its platform.
  if (agent === "Mozilla/5.0") return "apple proxy";
  if (MACHINE_AGENTS.some((pattern) => pattern.test(agent))) return "scanner agent";
  if (fetch.sentAt !== null) {
    const seconds = (Date.parse(fetch.at) - Date.parse(fetch.sentAt)) / 1000;
    if (Number.isFinite(seconds) && seconds < MACHINE_SECONDS) return "too soon";
  }
  return null;
}
