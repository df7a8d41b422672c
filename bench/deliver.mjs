/**
 * Delivery benchmark: 10,000 carts rendered, then sent by `comeback weekly` to a local SMTP sink (a
 * separate process on 127.0.0.1), then written to an outbox folder. Benchmarks are not tests: this
 * exits 0 once it has run and marks missed targets in its output.
 *
 *   node bench/deliver.mjs [--carts 10000] [--keep]      (npm run build first; bench/run.mjs calls it too)
 *
 * Figures: render/s (template render + MIME composition, in process, templates compiled once);
 * SMTP messages/s end to end (the send phase of `weekly`: rules, render, claim, SMTP, bookkeeping;
 * and the whole command including cart assembly and queueing); outbox-folder messages/s likewise.
 */
import { fork, spawn } from "node:child_process";
import { copyFileSync, existsSync, readdirSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const DIST = join(ROOT, "dist", "src");
const CLI = join(ROOT, "dist", "bin", "comeback.js");
const NOW = "2026-03-02T09:00"; // Monday, shop time, inside the send window
export const DELIVER_TARGETS = { renderPerSec: 10_000, smtpPerSec: 500, outboxPerSec: 500 };
const SECRET = "bench-secret-not-for-production-0123456789";

const dist = (path) => import(pathToFileURL(join(DIST, path)).href);

/**
 * A database of `carts` customers, each with one order of 1-3 products lasting 30 days per unit, bought
 * on 2026-01-05: the planner that `weekly` runs first makes their reminders due by the end of 2026-W10.
 */
async function buildDatabase(file, carts) {
  const { openStore } = await dist("store/open.js");
  const db = openStore(file);
  const t = "2026-01-01T00:00:00Z";
  const skus = Array.from({ length: 50 }, (_, i) => `SKU-${String(i).padStart(3, "0")}`);
  const locales = ["en", "de", "ru", null];
  db.transaction(() => {
    const product = db.prepare(
      "INSERT INTO products (sku, name, unit_price_minor, currency, days_per_unit, group_key, from_catalog, updated_at) VALUES (?, ?, ?, 'EUR', 30, ?, 1, ?)",
    );
    skus.forEach((sku, i) =>
      product.run(sku, `Product ${i} "special", <${i}> & more`, 500 + i * 37, `G${i}`, t),
    );
    const customer = db.prepare(
      `INSERT INTO customers (identity_key, external_id, email, email_display, first_name, last_name, name, accepts_marketing, locale, info_as_of, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, 'Doe', ?, 1, ?, ?, ?, ?)`,
    );
    const order = db.prepare(
      "INSERT INTO orders (source, external_id, customer_id, placed_at, status, status_class, currency, created_at, updated_at) VALUES ('bench', ?, ?, '2026-01-05T10:00:00Z', 'paid', 'completed', 'EUR', ?, ?)",
    );
    const line = db.prepare(
      "INSERT INTO order_lines (order_id, line_key, sku, product_name, quantity, unit_price_minor, line_total_minor) VALUES (?, ?, ?, ?, ?, ?, ?)",
    );
    for (let c = 1; c <= carts; c++) {
      const id = Number(
        customer.run(
          `id:B${c}`,
          `B${c}`,
          `c${c}@example.com`,
          `c${c}@example.com`,
          `Name${c}`,
          `Name${c} Doe`,
          locales[c % 4],
          t,
          t,
          t,
        ).lastInsertRowid,
      );
      const orderId = Number(order.run(`O${c}`, id, t, t).lastInsertRowid);
      for (let k = 0; k < 1 + (c % 3); k++) {
        const s = (c * 7 + k * 13) % skus.length;
        line.run(
          orderId,
          String(k + 1),
          skus[s],
          `Product ${s}`,
          1 + (k % 2),
          500 + s * 37,
          (1 + (k % 2)) * (500 + s * 37),
        );
      }
    }
  })();
  db.close();
}

function runCli(args, cwd) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd,
      env: { ...process.env, COMEBACK_SECRET: SECRET, COMEBACK_CONFIG: "" },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (code) =>
      resolve({ code, stdout, stderr, seconds: (performance.now() - started) / 1000 }),
    );
  });
}

async function startSink() {
  const child = fork(join(ROOT, "bench", "smtp-sink.mjs"), [], {
    stdio: ["ignore", "ignore", "inherit", "ipc"],
  });
  const port = await new Promise((resolve, reject) => {
    child.once("message", (m) => resolve(m.port));
    child.once("error", reject);
  });
  const ask = () =>
    new Promise((resolve) => {
      child.once("message", (m) => resolve(m.count));
      child.send("count");
    });
  return { port, count: ask, stop: () => child.kill() };
}

// Win-back emails off: these one-order customers are overdue, and the bench measures the carts.
const config = (extra) => `database: ./bench.db
timezone: Europe/Berlin
winback:
  warm: { email: false }
  cold: { email: false }
  lost: { email: false }
secret: \${COMEBACK_SECRET}
links:
  cart: "https://shop.example/cart/{{#each items}}{{variant}}:{{quantity}}{{#unless @last}},{{/unless}}{{/each}}"
  unsubscribe: "https://shop.example/unsubscribe?token={{token}}"
delivery:
  from: "Bench Shop <hello@shop.example>"
  min_hours_between: 0
${extra}`;

async function renderStep(dbFile) {
  const { openStore } = await dist("store/open.js");
  const { configSchema } = await dist("config/schema.js");
  const { deliverySetup } = await dist("deliver/setup.js");
  const { draftCarts } = await dist("deliver/carts.js");
  const { isoWeekOf } = await dist("deliver/clock.js");
  const { parseNow } = await dist("cli/now.js");
  const { buildMessage, cartPayload } = await dist("deliver/message.js");
  const cfg = configSchema.parse({
    timezone: "Europe/Berlin",
    secret: SECRET,
    delivery: { from: "Bench Shop <hello@shop.example>" },
    links: {
      cart: "https://shop.example/cart/{{#each items}}{{variant}}:{{quantity}}{{/each}}",
      unsubscribe: "https://shop.example/u?t={{token}}",
    },
  });
  const db = openStore(dbFile);
  const now = parseNow(NOW, cfg.timezone);
  const week = isoWeekOf(now, cfg.timezone);
  const customers = new Map(
    db
      .prepare("SELECT id, external_id, first_name, name, email, locale FROM customers")
      .all()
      .map((c) => [c.id, c]),
  );
  const payloads = [...draftCarts(db, week, { defaultCurrency: "EUR" })].map((cart) =>
    cartPayload(cart, week, customers.get(cart.customer_id)),
  );
  db.close();
  const setup = deliverySetup(cfg, { needSecret: true, sending: false });
  // Warm-up: compiles the templates of each locale once (as a run does) and lets the JIT settle, so
  // the figure is the steady rate of a long batch.
  for (const p of payloads.slice(0, 1000))
    setup.renderer.render("cart", p.customer.locale, { ...p, shop: { name: "Bench" } });
  let start = performance.now();
  const cpu = process.cpuUsage();
  for (const p of payloads)
    setup.renderer.render("cart", p.customer.locale, { ...p, shop: { name: "Bench" } });
  const renderSeconds = (performance.now() - start) / 1000;
  const used = process.cpuUsage(cpu);
  // On a shared machine wall time counts other processes' turns too; CPU time is this process's own.
  const renderCpuSeconds = (used.user + used.system) / 1e6;
  start = performance.now();
  let bytes = 0;
  for (const p of payloads) {
    const m = buildMessage(
      {
        key: `cart:${p.customer.id}:${week.week}`,
        kind: "cart",
        marketing: true,
        recipient: p.customer.email,
        payload: p,
      },
      setup.renderer,
      setup.settings,
      now,
    );
    bytes += m.raw.length;
  }
  const buildSeconds = (performance.now() - start) / 1000;
  return {
    carts: payloads.length,
    renderPerSec: payloads.length / renderSeconds,
    renderPerCpuSec: payloads.length / renderCpuSeconds,
    buildPerSec: payloads.length / buildSeconds,
    avgBytes: bytes / payloads.length,
  };
}

function weeklyFigures(run, expected) {
  if (run.code !== 0)
    return { ok: false, error: `exit ${run.code}: ${run.stderr.trim().split("\n").slice(-3).join(" / ")}` };
  const report = JSON.parse(run.stdout);
  const sent = report.messages.sent;
  return {
    ok: sent === expected,
    sent,
    sendSeconds: report.send.seconds,
    commandSeconds: run.seconds,
    perSec: sent / report.send.seconds,
    commandPerSec: sent / run.seconds,
    report: report.messages,
  };
}

export async function runDeliverBench({
  carts = 10_000,
  keep = false,
  log = (m) => process.stderr.write(`${m}\n`),
} = {}) {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: npm run build first`);
  const scratch = await mkdtemp(join(tmpdir(), "comeback-deliver-bench-"));
  const out = { carts, targets: DELIVER_TARGETS };
  try {
    const seed = join(scratch, "seed.db");
    log(`deliver: building a database with ${carts} carts due…`);
    await buildDatabase(seed, carts);
    // Plan once into the seed, so rendering has the reminders (weekly plans again: nothing changes).
    await writeFile(join(scratch, "comeback.yaml"), config("").replace("./bench.db", "./seed.db"));
    const planned = await runCli(["plan", "--now", NOW], scratch);
    if (planned.code !== 0) throw new Error(`comeback plan failed: ${planned.stderr}`);

    log("deliver: rendering…");
    out.render = await renderStep(seed);

    log("deliver: weekly → SMTP sink (separate process)…");
    const sink = await startSink();
    const smtpDir = await mkdtemp(join(scratch, "smtp-"));
    copyFileSync(seed, join(smtpDir, "bench.db"));
    await writeFile(
      join(smtpDir, "comeback.yaml"),
      config(
        `  transport: smtp\n  smtp:\n    host: 127.0.0.1\n    port: ${sink.port}\n    rate_per_second: 0\n`,
      ),
    );
    const smtpRun = await runCli(["weekly", "--now", NOW, "--json", "--confirm-surge"], smtpDir);
    out.smtp = weeklyFigures(smtpRun, carts);
    out.smtp.received = await sink.count();
    out.smtp.ok = out.smtp.ok && out.smtp.received === carts;
    sink.stop();

    log("deliver: weekly → outbox folder…");
    const dirDir = await mkdtemp(join(scratch, "outbox-"));
    copyFileSync(seed, join(dirDir, "bench.db"));
    await writeFile(join(dirDir, "comeback.yaml"), config("  transport: outbox\n  outbox_dir: ./outbox\n"));
    const dirRun = await runCli(["weekly", "--now", NOW, "--json", "--confirm-surge"], dirDir);
    out.outbox = weeklyFigures(dirRun, carts);
    out.outbox.files = existsSync(join(dirDir, "outbox"))
      ? readdirSync(join(dirDir, "outbox")).filter((f) => f.endsWith(".eml")).length
      : 0;
    out.outbox.ok = out.outbox.ok && out.outbox.files === carts;
  } finally {
    if (keep) log(`deliver: kept ${scratch}`);
    else await rm(scratch, { recursive: true, force: true });
  }
  out.met = {
    render: out.render.renderPerSec >= DELIVER_TARGETS.renderPerSec,
    smtp: Boolean(out.smtp.ok) && out.smtp.perSec >= DELIVER_TARGETS.smtpPerSec,
    outbox: Boolean(out.outbox.ok) && out.outbox.perSec >= DELIVER_TARGETS.outboxPerSec,
  };
  return out;
}

export function formatDeliverBench(r) {
  const n = (x) => Math.round(x).toLocaleString("en-US");
  const mark = (ok) => (ok ? "✓" : "✗ MISS");
  const lines = [
    `comeback delivery benchmark: ${r.carts.toLocaleString("en-US")} carts, node ${process.version}`,
    `  render       ${n(r.render.renderPerSec)} emails/s (subject, HTML and text; ${n(r.render.renderPerCpuSec)} per CPU-second)  target ≥ ${n(r.targets.renderPerSec)}/s ${mark(r.met.render)}; ` +
      `${n(r.render.buildPerSec)}/s with signed links and MIME composition (avg ${n(r.render.avgBytes)} bytes)`,
  ];
  for (const [name, f, target] of [
    ["smtp", r.smtp, r.targets.smtpPerSec],
    ["outbox dir", r.outbox, r.targets.outboxPerSec],
  ]) {
    if (f.error) lines.push(`  ${name.padEnd(12)} FAILED: ${f.error}`);
    else
      lines.push(
        `  ${name.padEnd(12)} ${n(f.perSec)} messages/s in the send phase (${f.sent} in ${f.sendSeconds.toFixed(2)} s); ` +
          `${n(f.commandPerSec)}/s for the whole weekly (${f.commandSeconds.toFixed(2)} s)  target ≥ ${n(target)}/s ${mark(f.ok && f.perSec >= target)}` +
          (f.received !== undefined ? `; sink received ${f.received}` : "") +
          (f.files !== undefined ? `; ${f.files} .eml files` : ""),
      );
  }
  return lines.join("\n");
}

/** The step bench/run.mjs runs: figures as notes, the three targets as targets, rows = carts. */
export async function deliverStep(_ctx, result, target) {
  const r = await runDeliverBench();
  const checks = [
    { label: `SMTP sink received ${r.smtp.received} of ${r.carts}`, ok: r.smtp.received === r.carts },
    {
      label: `outbox folder holds ${r.outbox.files} of ${r.carts} .eml files`,
      ok: r.outbox.files === r.carts,
    },
  ];
  return result({
    seconds: r.smtp.commandSeconds ?? null,
    rows: r.carts,
    targets: [
      target(`render ≥ ${DELIVER_TARGETS.renderPerSec}/s`, r.met.render),
      target(`SMTP ≥ ${DELIVER_TARGETS.smtpPerSec}/s`, r.met.smtp),
      target(`outbox ≥ ${DELIVER_TARGETS.outboxPerSec}/s`, r.met.outbox),
    ],
    checks,
    notes: formatDeliverBench(r)
      .split("\n")
      .slice(1)
      .map((line) => line.trim()),
  });
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({
    options: { carts: { type: "string", default: "10000" }, keep: { type: "boolean", default: false } },
  });
  const result = await runDeliverBench({ carts: Number(values.carts), keep: values.keep });
  console.log(formatDeliverBench(result));
  console.log(JSON.stringify({ bench: "deliver", ...result }));
}
