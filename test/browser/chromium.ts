/**
 * Debian's chromium driven by playwright-core (issue 18): no browser download, the system package at
 * /usr/bin/chromium (or CHROMIUM_PATH). `.ci/run` installs it when missing and sets
 * COMEBACK_REQUIRE_BROWSER=1, so there a missing browser fails the tests; elsewhere they skip, saying why.
 */
import { existsSync } from "node:fs";
import { chromium, type Browser } from "playwright-core";

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** Why the browser tests can't run here, or null when they can. */
export function browserMissing(): string | null {
  if (existsSync(CHROMIUM_PATH)) return null;
  if (process.env.COMEBACK_REQUIRE_BROWSER === "1") {
    throw new Error(
      `${CHROMIUM_PATH} is missing; .ci/run installs Debian's chromium (apt-get install chromium)`,
    );
  }
  return `no browser at ${CHROMIUM_PATH}: apt-get install chromium (or set CHROMIUM_PATH) to run the browser tests`;
}

/**
 * Headless (playwright gives each launch a new empty profile), with the flags that keep chromium off the network: on a closed machine its background
 * connections (updates, sync, Google lookups) are refused many at a time and slow every start.
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}
