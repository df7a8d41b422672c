/**
 * Lifecycle benchmark for comeback (issue "Lost customers"): on the benchmark database (the 1M-line
 * generated export, about 100,000 customers) it times, through the built CLI:
 *
 *   plan      the lifecycle under `rhythm` plus the win-back tasks, from nothing   target < 3 s
 *   replan    the same again (must change nothing and add no task)                target < 3 s
 *   fit       comeback model fit (BG/NBD by maximum likelihood)                   target < 10 s
 *   lost      comeback lost --json                                                target < 1 s
 *   tasks     comeback tasks --json                                               target < 1 s
 *   bgnbd     the lifecycle under `bgnbd` (no target; for information)
 *
 *   node bench/lifecycle.mjs [--csv FILE] [--db FILE] [--now DATE]
 *
 * The database is made once by importing the CSV (default bench/out/orders-1m.csv, which
 * `npm run bench` generates) into bench/out/lifecycle/bench.db and reused afterwards; --db names an
 * existing one instead. Benchmarks are not tests: this exits 0 once it has run and marks missed
 * targets in its output. The last line is JSON for scripts.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import Database from "better-sqlite3";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const CLI = join(ROOT, "dist", "bin", "comeback.js");
/** The lifecycle and tasks of `comeback plan` without its replenishment part (see plan-lifecycle.mjs). */
const PLAN_LIFECYCLE = join(ROOT, "bench", "plan-lifecycle.mjs");
const WORK = join(ROOT, "bench", "out", "lifecycle");

function comeback(args, config, script = CLI) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [script, "--config", config, ...args], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    const out = [];
    let err = "";
    child.stdout.on("data", (chunk) => out.push(chunk));
    child.stderr.on("data", (chunk) => (err += chunk));
    child.on("error", reject);
    child.on("close", (code) =>
      resolve({
        code,
        seconds: (performance.now() - started) / 1000,
        stdout: Buffer.concat(out).toString(),
        stderr: err,
      }),
    );
  });
}

const progress = (text) => process.stderr.write(`bench lifecycle: ${text}\n`);

export async function main(argv = process.argv.slice(2)) {
  const { values } = parseArgs({
    args: argv,
    options: {
      csv: { type: "string", default: join(ROOT, "bench", "out", "orders-1m.csv") },
      db: { type: "string" },
      now: { type: "string", default: "2025-07-01" },
    },
  });
  if (!existsSync(CLI)) {
    console.log(`${CLI} is missing: run npm run build first`);
    return 0;
  }
  await mkdir(WORK, { recursive: true });
  const db = values.db ? resolve(values.db) : join(WORK, "bench.db");
  const config = join(WORK, "comeback.yaml");
  const bgnbdConfig = join(WORK, "comeback-bgnbd.yaml");
  await writeFile(config, `database: ${JSON.stringify(db)}\n`);
  await writeFile(bgnbdConfig, `database: ${JSON.stringify(db)}\nlifecycle:\n  model: bgnbd\n`);

  if (!existsSync(db)) {
    if (!existsSync(values.csv)) {
      console.log(
        `no benchmark export at ${values.csv}: run npm run bench (it generates it) or pass --csv FILE`,
      );
      return 0;
    }
    progress(`importing ${values.csv} into ${db} (once)…`);
    const imported = await comeback(["import", "orders", values.csv], config);
    if (imported.code !== 0) {
      console.log(`import failed: ${imported.stderr.trim()}`);
      return 0;
    }
    progress(`imported in ${imported.seconds.toFixed(1)} s`);
  }
  // Start from no derived state, so "plan" measures a first plan.
  const handle = new Database(db);
  handle.pragma("busy_timeout = 5000");
  const hasTables = handle
    .prepare("SELECT count(*) FROM sqlite_master WHERE name = 'lifecycle_state'")
    .pluck()
    .get();
  if (hasTables)
    handle.exec(
      "DELETE FROM tasks; DELETE FROM customer_lifecycle; DELETE FROM lifecycle_state; DELETE FROM model_params;",
    );
  const customers = handle.prepare("SELECT count(*) FROM customers").pluck().get();
  const lines = handle.prepare("SELECT count(*) FROM order_lines").pluck().get();
  handle.close();

  const now = values.now;
  const steps = [
    { name: "plan", args: ["--now", now], script: PLAN_LIFECYCLE, target: 3 },
    { name: "replan", args: ["--now", now], script: PLAN_LIFECYCLE, target: 3 },
    { name: "fit", args: ["model", "fit", "--now", now, "--json"], target: 10 },
    { name: "lost", args: ["lost", "--now", now, "--json"], target: 1 },
    { name: "tasks", args: ["tasks", "--now", now, "--json"], target: 1 },
    { name: "bgnbd", args: ["--now", now], script: PLAN_LIFECYCLE, target: null, config: bgnbdConfig },
  ];
  const results = [];
  for (const step of steps) {
    progress(`${step.name}…`);
    const run = await comeback(step.args, step.config ?? config, step.script);
    const result = {
      name: step.name,
      seconds: run.seconds,
      target: step.target,
      ok: run.code === 0,
      notes: [],
    };
    if (run.code !== 0) result.notes.push(`exit ${run.code}: ${run.stderr.trim().split("\n")[0]}`);
    else {
      const out = JSON.parse(run.stdout);
      if (step.name === "plan" || step.name === "bgnbd")
        result.notes.push(
          `counts ${JSON.stringify(out.lifecycle.counts)}; tasks created ${out.tasks.created}`,
        );
      if (step.name === "replan") {
        const same = out.lifecycle.changed === 0 && out.tasks.created === 0;
        result.notes.push(
          `changed ${out.lifecycle.changed}, tasks created ${out.tasks.created}${same ? "" : "  ✗ EXPECTED NONE"}`,
        );
        if (!same) result.ok = false;
      }
      if (step.name === "fit")
        result.notes.push(
          `r ${out.r.toPrecision(4)} alpha ${out.alpha.toPrecision(4)} a ${out.a.toPrecision(4)} b ${out.b.toPrecision(4)}${out.degenerate ? " (degenerate)" : ""}`,
        );
      if (step.name === "lost" || step.name === "tasks") result.notes.push(`${out.length} rows`);
    }
    results.push(result);
  }

  console.log(
    `\ncomeback lifecycle benchmark: ${customers.toLocaleString("en-US")} customers, ${lines.toLocaleString("en-US")} order lines, now ${now}\n`,
  );
  for (const r of results) {
    const verdict =
      r.target === null ? "" : r.seconds < r.target ? `< ${r.target} s ✓` : `< ${r.target} s ✗ MISS`;
    console.log(
      `${r.name.padEnd(7)} ${r.seconds.toFixed(2).padStart(6)} s  ${verdict.padEnd(12)} ${r.ok ? "" : "FAILED "}${r.notes.join("; ")}`,
    );
  }
  const missed = results
    .filter((r) => !r.ok || (r.target !== null && r.seconds >= r.target))
    .map((r) => r.name);
  console.log(missed.length ? `✗ MISSED or FAILED: ${missed.join(", ")}` : "✓ all lifecycle targets met");
  console.log(
    JSON.stringify({
      bench: "lifecycle",
      customers,
      lines,
      now,
      steps: Object.fromEntries(
        // `ran`: the command succeeded (and replan changed nothing); `met`: under the target, if any.
        results.map((r) => [
          r.name,
          {
            seconds: Number(r.seconds.toFixed(3)),
            target: r.target,
            ran: r.ok,
            met: r.target === null ? null : r.ok && r.seconds < r.target,
          },
        ]),
      ),
      missed,
    }),
  );
  if (!values.db && process.env.COMEBACK_BENCH_CLEAN) await rm(WORK, { recursive: true, force: true });
  return 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) process.exitCode = await main();
