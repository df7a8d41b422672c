/**
 * Load benchmark for `comeback serve` (issue 18): the cart page at a fixed rate (autocannon on
 * 127.0.0.1, 200 requests/s for 30 s) while `comeback weekly` runs write to the same SQLite file.
 * Benchmarks are not tests: this exits 0 once it has run and marks missed targets in its output.
 *
 *   node bench/serve.mjs [--rate 200] [--seconds 30] [--baseline 10] [--lines N] [--profile] [--keep]
 *   (npm run build first; bench/run.mjs calls it as the "serve" step)
 *
 * The database: `comeback demo` (its cart email gives the signed link), plus the UK retailer's order
 * lines from ../shared/data/online-retail (541,909 lines, 4,372 customers; --lines N for a slice), so
 * that each `weekly` run takes seconds of planning and writing. During the load, weekly runs for one
 * Monday after another, back to back, so a writer is busy the whole time.
 *
 * Figures: p50/p99 latency of the cart page (autocannon, raw: see BENCHMARKS.md on coordinated
 * omission), errors, non-2xx answers, and whether every 2xx answer left its cart_viewed event (none
 * lost while the batch writes). A shorter run without the writer comes first (--baseline seconds;
 * 0 skips it): the difference is what the writer costs. --profile: serve logs each request's own time
 * (fastify's elapsed time, from its log at debug level): time inside serve against time seen by the
 * client, which includes waiting for the event loop (blocked by a write waiting on SQLite's lock) and
 * for a CPU.
 */
import { spawn } from "node:child_process";
import { createReadStream, createWriteStream, existsSync, readFileSync, readdirSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { createInterface } from "node:readline";
import { pipeline } from "node:stream/promises";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { setTimeout as later } from "node:timers/promises";
import { createGunzip } from "node:zlib";
import autocannon from "autocannon";
import Database from "better-sqlite3";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const CLI = join(ROOT, "dist", "bin", "comeback.js");
const UK_DATA = join(ROOT, "..", "shared", "data", "online-retail", "online_retail_2010-12_2011-12.csv.gz");
/** The demo's secret (src/cli/commands/demo.ts); the bench's config reads it from the environment. */
const SECRET = "demo-secret-NOT-FOR-PRODUCTION-0123456789";
/** serve's clock: an hour after the demo's batch, as `serve --demo` runs it. */
const SERVE_NOW = "2026-03-02T10:00:00Z";
/** A person's browser: the cart page records the view as a person's (src/track/machine.ts). */
const USER_AGENT =
  "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
/**
 * Connections autocannon spreads the rate over: each sends 200/50 = 4 requests/s, so a stall of up
 * to 250 ms on one connection delays none of its later requests (no coordinated omission to hide).
 */
const CONNECTIONS = 50;
export const SERVE_TARGETS = { rate: 200, seconds: 30, p99Ms: 50 };

const UK_PROFILE = `
profiles:
  uk-retail:
    kind: orders
    columns:
      order_id: InvoiceNo
      sku: StockCode
      product_name: Description
      quantity: Quantity
      ordered_at: InvoiceDate
      unit_price: UnitPrice
      customer_id: CustomerID
`;

const progress = (message) => process.stderr.write(`[serve] ${message}\n`);

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function runCli(args, cwd) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd,
      env: { ...process.env, COMEBACK_CONFIG: undefined, COMEBACK_SECRET: SECRET },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr = (stderr + chunk).slice(-8192)));
    child.on("error", reject);
    child.on("close", (code) =>
      resolve({ code, stdout, stderr, seconds: (performance.now() - started) / 1000 }),
    );
  });
}

async function mustRun(args, cwd) {
  const run = await runCli(args, cwd);
  if (run.code !== 0)
    throw new Error(`comeback ${args.join(" ")} failed (${run.code}): ${run.stderr.trim()}`);
  return run;
}

/** The first `lines` data lines of the UK file (all when null), as a plain CSV for the importer. */
async function ukSlice(dir, lines) {
  const out = join(dir, "online-retail.csv");
  if (lines === null) {
    await pipeline(createReadStream(UK_DATA), createGunzip(), createWriteStream(out));
    return out;
  }
  const input = createInterface({ input: createReadStream(UK_DATA).pipe(createGunzip()) });
  const sink = createWriteStream(out);
  let n = -1; // the header
  for await (const line of input) {
    if (n++ >= lines) break;
    if (!sink.write(`${line}\n`)) await new Promise((resolve) => sink.once("drain", resolve));
  }
  input.close();
  await new Promise((resolve) => sink.end(resolve));
  return out;
}

/** The cart page the demo's first cart email leads to (its click redirect's target). */
function cartPageOf(outbox) {
  const file = readdirSync(outbox).find((name) => name.startsWith("cart_") && name.endsWith(".eml"));
  const raw = readFileSync(join(outbox, file), "utf8");
  for (const part of raw.matchAll(/Content-Transfer-Encoding: base64\r?\n\r?\n([A-Za-z0-9+/=\r\n]+)/g)) {
    const text = Buffer.from(part[1], "base64").toString("utf8");
    for (const [url] of text.matchAll(/https?:\/\/[^\s"<>]+\/r\/[^\s"<>]+/g)) {
      const target = new URL(url).searchParams.get("u");
      if (target?.includes("/c/cart.")) return target;
    }
  }
  throw new Error(`no cart link in ${file}`);
}

function startServe(dir, port) {
  const child = spawn(
    process.execPath,
    [CLI, "serve", "--config", "comeback.yaml", "--port", String(port), "--now", SERVE_NOW],
    {
      cwd: dir,
      env: { ...process.env, COMEBACK_CONFIG: undefined, COMEBACK_SECRET: SECRET },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let output = "";
  return new Promise((resolve, reject) => {
    const listen = (chunk) => {
      output += chunk;
      if (output.includes("listening on")) resolve(child);
    };
    child.stdout.on("data", listen);
    child.stderr.on("data", listen);
    child.once("close", (code) => reject(new Error(`serve exited (${code}): ${output}`)));
  });
}

function stopProcess(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once("close", resolve);
    child.kill("SIGTERM");
  });
}

/** CPU seconds (user + system) a process has used so far, from /proc; null elsewhere. */
function cpuSeconds(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ 100)
  } catch {
    return null;
  }
}

function cartViews(db) {
  const conn = new Database(db, { readonly: true });
  try {
    return conn.prepare("SELECT count(*) FROM events WHERE kind = 'cart_viewed'").pluck().get();
  } finally {
    conn.close();
  }
}

/**
 * The load: CONNECTIONS autocannon instances of one connection each, started 1000 / CONNECTIONS ms
 * apart. autocannon's rate limit lets a client send its quota for the second back to back and then
 * pause until the second is over, and all connections of one instance share that second: with 50
 * connections at 4/s each, 200 requests arrived in the first few milliseconds of every second and
 * the last waited for the 199 before it (p99 138 ms, quiet machine, serve 2-3 ms a page). Staggered,
 * the 200 a second arrive spread over it, as real visitors do. Latencies are the raw response times
 * of every answer, merged across instances.
 */
async function load(url, rate, seconds) {
  const perConnection = rate / CONNECTIONS;
  const latencies = [];
  const started = performance.now();
  const one = (delayMs) =>
    later(delayMs).then(
      () =>
        new Promise((resolve, reject) => {
          const instance = autocannon(
            {
              url,
              connections: 1,
              connectionRate: perConnection,
              // A number of requests (not a duration): autocannon waits for every answer, so the 2xx
              // count can be compared with the events written (a duration drops those still in flight).
              amount: perConnection * seconds,
              headers: { "user-agent": USER_AGENT },
              // autocannon 8 corrects for coordinated omission with an expected interval of ceil(1/rate)
              // = 1 ms (seconds taken for milliseconds), which adds a made-up sample per millisecond of
              // every slow answer: raw latencies instead, and enough connections that none waits.
              ignoreCoordinatedOmission: true,
              timeout: 10,
            },
            (error, result) => (error ? reject(error) : resolve(result)),
          );
          instance.on("response", (_client, _status, _bytes, ms) => latencies.push(ms));
        }),
    );
  const results = await Promise.all(
    Array.from({ length: CONNECTIONS }, (_, i) => one((i * 1000) / CONNECTIONS)),
  );
  const sum = (field) => results.reduce((total, r) => total + field(r), 0);
  latencies.sort((a, b) => a - b);
  const at = (q) =>
    Math.round(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0);
  const elapsed = (performance.now() - started) / 1000;
  return {
    duration: elapsed,
    requests: { total: sum((r) => r.requests.total), average: sum((r) => r.requests.total) / elapsed },
    "2xx": sum((r) => r["2xx"]),
    non2xx: sum((r) => r.non2xx),
    errors: sum((r) => r.errors),
    timeouts: sum((r) => r.timeouts),
    latency: { p50: at(0.5), p90: at(0.9), p99: at(0.99), max: Math.round(latencies.at(-1) ?? 0) },
  };
}

/** `comeback weekly` for one Monday after another until `stop()`: a writer that is always busy. */
function weeklyWriter(dir) {
  const runs = [];
  let stopped = false;
  const done = (async () => {
    for (let week = 1; !stopped; week++) {
      const monday = new Date(Date.parse("2026-03-02T09:00:00Z") + week * 7 * 86_400_000).toISOString();
      const run = await runCli(["weekly", "--now", monday.replace(".000Z", "Z"), "--json"], dir);
      runs.push({
        monday: monday.slice(0, 10),
        code: run.code,
        seconds: run.seconds,
        error: run.code ? run.stderr.trim().split("\n").at(-1) : null,
      });
    }
  })();
  return {
    runs,
    stop: async () => {
      stopped = true;
      await done;
    },
  };
}

/** Percentiles of serve's own request times (ms) per phase, from its debug log. */
function insideServe(file, report) {
  const entries = readFileSync(file, "utf8")
    .split("\n")
    .filter((line) => line.includes('"msg":"request"'))
    .map((line) => JSON.parse(line));
  const pick = (list, q) => list[Math.min(list.length - 1, Math.floor(q * list.length))];
  const stats = (list) => {
    const ms = list.map((e) => e.ms).sort((a, b) => a - b);
    return ms.length === 0
      ? null
      : {
          n: ms.length,
          p50: pick(ms, 0.5),
          p99: pick(ms, 0.99),
          max: ms.at(-1),
          over50: ms.filter((m) => m > 50).length,
        };
  };
  const cart = entries.filter((e) => e.route === "/c/:token");
  const n = report.baseline ? report.baseline.requests : 0;
  const warm = cart.length - n - report.withWriter.requests; // the warm-up's requests come first
  return {
    baseline: report.baseline ? stats(cart.slice(warm, warm + n)) : null,
    withWriter: stats(cart.slice(warm + n)),
  };
}

function figures(result) {
  return {
    seconds: result.duration,
    requests: result.requests.total,
    ok: result["2xx"],
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    p50: result.latency.p50,
    p90: result.latency.p90,
    p99: result.latency.p99,
    max: result.latency.max,
    rps: result.requests.average,
  };
}

/** One load phase: figures, and the cart_viewed events it left (they must equal the 2xx answers). */
async function phase(url, db, rate, seconds, serve) {
  const before = cartViews(db);
  const cpuBefore = cpuSeconds(serve.pid);
  const result = await load(url, rate, seconds);
  const cpuAfter = cpuSeconds(serve.pid);
  const events = cartViews(db) - before;
  return {
    ...figures(result),
    events,
    serveCpuShare: cpuBefore === null || cpuAfter === null ? null : (cpuAfter - cpuBefore) / seconds,
  };
}

export async function runServeBench(options = {}) {
  const rate = options.rate ?? SERVE_TARGETS.rate;
  const seconds = options.seconds ?? SERVE_TARGETS.seconds;
  const baselineSeconds = options.baseline ?? 10;
  const lines = options.lines ?? null;
  const dir = await mkdtemp(join(tmpdir(), "comeback-bench-serve-"));
  const report = { rate, seconds, dir, machine: { cores: cpus().length, cpu: cpus()[0]?.model ?? "?" } };
  let serve = null;
  try {
    const port = await freePort();
    progress(`comeback demo --port ${port} in ${dir}`);
    await mustRun(["demo", "--port", String(port)], dir);
    const db = join(dir, "comeback-demo.db");
    await writeFile(
      join(dir, "comeback.yaml"),
      [
        "database: comeback-demo.db",
        "secret: ${COMEBACK_SECRET}",
        'operator: { email: "Shop owner <owner@shop.example>" }',
        `links: { base_url: "http://127.0.0.1:${port}" }`,
        // One address sends all the load: the per-IP limit (120/min by default) would answer 429.
        "serve: { rate_limit_per_minute: 0 }",
        ...(options.profile ? [`log: { level: debug, file: "serve-log.jsonl" }`] : []),
        UK_PROFILE,
      ].join("\n"),
    );
    if (existsSync(UK_DATA)) {
      progress(`importing the UK retailer's order lines (${lines ?? "all"})…`);
      const csv = await ukSlice(dir, lines);
      const imported = await mustRun(["import", "orders", csv, "--profile", "uk-retail", "--json"], dir);
      const [entry] = JSON.parse(imported.stdout);
      report.data = {
        rows: entry.rows,
        orders: entry.orders_new,
        customers: entry.customers_new,
        seconds: imported.seconds,
      };
    } else {
      report.data = null;
      report.note = `${UK_DATA} is missing: the database is the demo's alone and weekly runs are short`;
    }
    const url = cartPageOf(join(dir, "outbox"));
    serve = await startServe(dir, port);
    progress(`serve on ${port}; warming up`);
    await load(url, 50, 2);

    if (baselineSeconds > 0) {
      progress(`baseline: ${rate}/s for ${baselineSeconds} s, no writer`);
      report.loadBefore = loadavg();
      report.baseline = await phase(url, db, rate, baselineSeconds, serve);
    }
    progress(`${rate}/s for ${seconds} s while weekly runs write`);
    report.loadDuring = loadavg();
    const writer = weeklyWriter(dir);
    report.withWriter = await phase(url, db, rate, seconds, serve);
    await writer.stop();
    report.loadAfter = loadavg();
    report.weekly = writer.runs;
    if (options.profile) report.inside = insideServe(join(dir, "serve-log.jsonl"), report);
    const w = report.withWriter;
    report.met = {
      p99: w.p99 < SERVE_TARGETS.p99Ms,
      noError: w.errors === 0 && w.timeouts === 0 && w.non2xx === 0,
      // Every 2xx left its event; a request autocannon gave up on (timeout) may have left one too.
      noLostEvent: w.events >= w.ok && w.events <= w.ok + w.timeouts + w.non2xx,
      // The rate held when the requests took (about) the time they were spread over.
      rate: w.seconds <= seconds * 1.1,
    };
    return report;
  } finally {
    if (serve) await stopProcess(serve);
    if (!options.keep) await rm(dir, { recursive: true, force: true });
  }
}

export function formatServeBench(r) {
  const row = (name, f) =>
    `  ${name.padEnd(13)} ${String(f.requests).padStart(6)} requests in ${f.seconds.toFixed(1)} s (${f.rps.toFixed(0)}/s), 2xx ${f.ok}, non-2xx ${f.non2xx}, errors ${f.errors}, timeouts ${f.timeouts}; ` +
    `latency p50 ${f.p50} ms, p90 ${f.p90} ms, p99 ${f.p99} ms, max ${f.max} ms; cart_viewed events ${f.events}; ` +
    `serve CPU ${f.serveCpuShare === null ? "?" : `${Math.round(f.serveCpuShare * 100)} %`}`;
  const lines = [
    `serve: the cart page at ${r.rate}/s for ${r.seconds} s, ${r.machine.cores} × ${r.machine.cpu}`,
    r.data
      ? `  data: the demo + ${r.data.rows} UK order lines (${r.data.orders} orders, ${r.data.customers} customers), imported in ${r.data.seconds.toFixed(1)} s`
      : `  ${r.note}`,
  ];
  if (r.baseline) lines.push(row("no writer", r.baseline));
  lines.push(row("weekly writes", r.withWriter));
  if (r.inside) {
    const inside = (name, s) =>
      s &&
      lines.push(
        `  inside serve, ${name}: p50 ${s.p50} ms, p99 ${s.p99} ms, max ${s.max} ms; ${s.over50} of ${s.n} over 50 ms`,
      );
    inside("no writer", r.inside.baseline);
    inside("weekly writes", r.inside.withWriter);
  }
  const ok = r.weekly.filter((w) => w.code === 0);
  lines.push(
    `  weekly runs during the load: ${r.weekly.length} (${ok.length} ok), ${r.weekly.map((w) => `${w.monday} ${w.seconds.toFixed(1)} s${w.code ? ` exit ${w.code}: ${w.error}` : ""}`).join(", ")}`,
  );
  const fmt = (l) => (l ? l.map((x) => x.toFixed(2)).join(" ") : "?");
  lines.push(
    `  load average: before ${fmt(r.loadBefore)}, during ${fmt(r.loadDuring)}, after ${fmt(r.loadAfter)}`,
  );
  lines.push(
    `  targets: p99 < ${SERVE_TARGETS.p99Ms} ms ${r.met.p99 ? "met" : "MISSED"}; no error ${r.met.noError ? "met" : "MISSED"}; ` +
      `no lost event (2xx ≤ events ≤ 2xx + timeouts) ${r.met.noLostEvent ? "met" : "MISSED"}; rate held ${r.met.rate ? "yes" : "NO"}`,
  );
  return lines.join("\n");
}

/** The "serve" step of bench/run.mjs. */
export async function serveStep(ctx, result, target) {
  const r = await runServeBench({ profile: true });
  const w = r.withWriter;
  return result({
    seconds: r.seconds,
    rows: w.requests,
    targets: [
      target(`p99 < ${SERVE_TARGETS.p99Ms} ms`, r.met.p99),
      target("no error, no non-2xx", r.met.noError),
    ],
    checks: [
      {
        label: `cart_viewed events ${w.events} for ${w.ok} 2xx answers (+ ${w.timeouts} timed out)`,
        ok: r.met.noLostEvent,
      },
      { label: `${w.requests} requests in ${w.seconds.toFixed(1)} s (the rate held)`, ok: r.met.rate },
      {
        label: `weekly runs during the load: ${r.weekly.length}, all exit 0`,
        ok: r.weekly.length > 0 && r.weekly.every((x) => x.code === 0),
      },
    ],
    notes: formatServeBench(r)
      .split("\n")
      .slice(1)
      .map((line) => line.trim()),
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({
    options: {
      rate: { type: "string", default: String(SERVE_TARGETS.rate) },
      seconds: { type: "string", default: String(SERVE_TARGETS.seconds) },
      baseline: { type: "string", default: "10" },
      lines: { type: "string" },
      profile: { type: "boolean", default: false },
      keep: { type: "boolean", default: false },
    },
  });
  const r = await runServeBench({
    rate: Number(values.rate),
    seconds: Number(values.seconds),
    baseline: Number(values.baseline),
    lines: values.lines === undefined ? null : Number(values.lines),
    profile: values.profile,
    keep: values.keep,
  });
  console.log(formatServeBench(r));
  console.log(JSON.stringify({ bench: "serve", ...r }));
}
