/// <reference lib="dom" />
/**
 * `comeback report --html FILE` on the demo's data, opened in Debian's chromium as a shop owner
 * opens it (a file:// page): the SVG charts show, nothing errs, and the file asks for nothing else
 * (one self-contained file, issue 18). A screenshot is left in test/browser/screenshots/.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT } from "../helpers.js";
import { browserMissing, launchChromium } from "./chromium.js";
import { makeDemo, PERSON, readEmail, serveDemo, type Demo } from "./demo-server.js";

const missing = browserMissing();
// Skips only where chromium is not installed (browserMissing says how to get it); .ci/run requires it.
if (missing) console.warn(`SKIPPED: browser tests: ${missing}`);

const SHOTS = join(ROOT, "test", "browser", "screenshots");

describe.skipIf(missing !== null)("comeback report --html in a browser", () => {
  let demo: Demo;
  let browser: Browser;

  beforeAll(async () => {
    demo = await makeDemo();
    // A customer opens the cart page once, so the funnel has a step beyond "sent".
    const server = await serveDemo(demo);
    try {
      const text = readEmail(join(demo.outbox, "cart_2_2026-W10.eml")).text;
      const click = /https?:\/\/\S+\/r\/\S+/.exec(text)![0];
      expect((await fetch(click, { headers: { "user-agent": PERSON } })).status).toBe(200);
    } finally {
      await server.stop();
    }
    browser = await launchChromium();
    mkdirSync(SHOTS, { recursive: true });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
  });

  it("shows the funnel and the lift charts, with no error and no request", async () => {
    const file = join(demo.dir, "report.html");
    const made = await demo.comeback(["report", "--now", "2026-03-09T09:00:00Z", "--html", file]);
    expect(made.code, made.stderr).toBe(0);

    const page = await browser.newPage({ viewport: { width: 1024, height: 800 } });
    const problems: string[] = [];
    const requests: string[] = [];
    page.on("console", (message) => {
      if (message.type() === "error" || message.type() === "warning") problems.push(message.text());
    });
    page.on("pageerror", (error) => problems.push(error.message));
    page.on("request", (request) => requests.push(request.url()));
    const url = pathToFileURL(file).href;
    await page.goto(url);

    await page.screenshot({ path: join(SHOTS, "report.png"), fullPage: true });
    const charts = await page.locator("svg").evaluateAll((svgs) =>
      svgs.map((svg) => {
        const box = svg.getBoundingClientRect();
        return {
          label: svg.getAttribute("aria-label"),
          width: Math.round(box.width),
          height: Math.round(box.height),
          shapes: svg.querySelectorAll("rect, line, path, circle, polyline").length,
          words: svg.querySelectorAll("text").length,
          visible: getComputedStyle(svg).visibility === "visible" && getComputedStyle(svg).display !== "none",
        };
      }),
    );
    expect(charts.length).toBeGreaterThanOrEqual(2);
    for (const chart of charts) {
      expect(chart.visible, JSON.stringify(chart)).toBe(true);
      expect(chart.width, JSON.stringify(chart)).toBeGreaterThan(100);
      expect(chart.height, JSON.stringify(chart)).toBeGreaterThan(50);
      expect(chart.shapes, JSON.stringify(chart)).toBeGreaterThan(0);
      expect(chart.words, JSON.stringify(chart)).toBeGreaterThan(0);
    }
    expect(charts.map((chart) => chart.label)).toEqual(
      expect.arrayContaining(["Funnel of cart emails", "Repurchase rate, emailed against held out"]),
    );
    // The funnel counts the customer who followed the link (a person's browser, an hour later).
    const funnel = await page.locator('svg[aria-label="Funnel of cart emails"]').textContent();
    expect(funnel).toMatch(/clicked\s*1/);
    expect(funnel).toMatch(/cart viewed\s*1/);
    expect(problems).toEqual([]);
    expect(requests).toEqual([url]);
    await page.close();
  });
});
