/**
 * Plan and due benchmark: times `comeback plan` (first on a freshly imported database, then again with
 * the same --now, which must change nothing) and `comeback due` for one week, as spawned CLI commands,
 * with wall time and peak RSS. Targets from the issue: plan < 5 s and < 300 MB; due < 0.5 s.
 *
 *   node bench/run.mjs --only plan,due          as steps of the main benchmark (after its import)
 *   node bench/plan.mjs DB [--runs N]          on its own, against an existing imported database
 *                                              (its reminders are rewritten: use a copy you can spare)
 */
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { clearInterval, setInterval } from "node:timers";
import { parseArgs } from "node:util";

const CLI = fileURLToPath(new URL("../dist/bin/comeback.js", import.meta.url));
/** The generator's orders end on 2025-12-31: plan as of the next Monday, when most reminders matter. */
export const BENCH_NOW = "2026-01-05";
export const BENCH_WEEK = "2026-W02";
/** The memory target is in MB (10^6 bytes); RSS is measured in MiB: 300 MB is 286.1 MiB. */
const TARGET = { planSeconds: 5, planRssMb: 300, dueSeconds: 0.5 };
const PLAN_RSS_MIB = (TARGET.planRssMb * 1e6) / 2 ** 20;

/** Supply rules for the generator's product families (bench/generate.mjs), by name, and a catch-all. */
export const BENCH_RULES = `replenishment:
  rules:
    - { match: { name: "(?i)filter cartridge|descaler|entkalker" }, days_per_unit: 60, cycle_days: 30 }
    - { match: { name: "(?i)dog|cat food|puppy" }, days_per_unit: 30, lead_days: 10 }
    - { match: { name: "(?i)litter|bedding|streu" }, days_per_unit: 21 }
    - { match: { name: "(?i)kaffee|espresso|café|кофе|чай" }, days_per_unit: 20 }
    - { match: { name: "(?i)lenses|linsen|линзы" }, days_per_unit: 30 }
    - { match: { name: "(?i)solution|раствор|lösung" }, days_per_unit: 30 }
    - { match: { name: "(?i)vitamin|omega|magnesium" }, days_per_unit: 60 }
    - { match: { name: "(?i)ink|toner|patrone" }, days_per_unit: 90 }
    - { match: { sku: "SKU-*" }, days_per_unit: 40 }
`;

async function writeConfig(dir, db) {
  const config = join(dir, "comeback-plan.yaml");
  await writeFile(config, `database: ${JSON.stringify(db)}\ntimezone: Europe/Berlin\n${BENCH_RULES}`);
  return config;
}

function outcome(run, targets, notes = []) {
  const ok = run.code === 0;
  return {
    status: ok ? "ok" : "failed",
    seconds: run.seconds,
    rows: null,
    peakRssMib: run.peakRssMib,
    vsFloor: null,
    targets: ok ? targets : [],
    checks: [],
    notes: ok ? notes : [`exit ${run.code}: ${run.stderr.trim().split("\n").slice(-3).join(" | ")}`],
  };
}

const target = (label, ok) => ({ label, ok });
const planTargets = (run) => [
  target(`< ${TARGET.planSeconds} s`, run.seconds < TARGET.planSeconds),
  target(
    `< ${TARGET.planRssMb} MB (${PLAN_RSS_MIB.toFixed(1)} MiB)`,
    run.peakRssMib === null ? null : run.peakRssMib < PLAN_RSS_MIB,
  ),
];

function summary(stdout) {
  const r = JSON.parse(stdout).replenishment;
  return `new ${r.new}, changed ${r.changed}, unchanged ${r.unchanged}, expired ${r.expired}, due this week ${r.due_this_week}, open ${r.reminders.open}`;
}

/** Steps for bench/run.mjs: they use the database its "import" step left. */
export const PLAN_STEPS = [
  {
    name: "plan",
    about: "comeback plan on the imported database (first, then again: nothing may change)",
    needs: ["import"],
    cli: true,
    async run(ctx) {
      const { dir } = ctx.importDir;
      const config = await writeConfig(dir, join(dir, "bench.db"));
      const args = ["plan", "--now", BENCH_NOW, "--json", "--config", config];
      const first = await ctx.comeback(args, { cwd: dir });
      const res = outcome(first, planTargets(first));
      if (first.code !== 0) return res;
      res.notes.push(`first: ${summary(first.stdout)}`);
      const again = await ctx.comeback(args, { cwd: dir });
      if (again.code === 0) {
        const r = JSON.parse(again.stdout).replenishment;
        res.checks.push({
          label: `again: changed ${r.changed}, new ${r.new}`,
          ok: r.changed === 0 && r.new === 0,
        });
        res.notes.push(`again: ${again.seconds.toFixed(2)} s, ${again.peakRssMib?.toFixed(1)} MiB`);
      }
      ctx.planConfig = config;
      return res;
    },
  },
  {
    name: "due",
    about: `comeback due --week ${BENCH_WEEK} --json`,
    needs: ["plan"],
    cli: true,
    async run(ctx) {
      const { dir } = ctx.importDir;
      const run = await ctx.comeback(["due", "--week", BENCH_WEEK, "--json", "--config", ctx.planConfig], {
        cwd: dir,
      });
      const startup = await ctx.comeback(["--version"], { cwd: dir });
      return outcome(
        run,
        [target(`< ${TARGET.dueSeconds} s`, run.seconds < TARGET.dueSeconds)],
        run.code === 0
          ? [
              `${JSON.parse(run.stdout).length} rows; node + comeback startup alone: ${startup.seconds.toFixed(2)} s`,
            ]
          : [],
      );
    },
  },
];

// ---------------------------------------------------------------------------------------------
// On its own: node bench/plan.mjs DB [--runs N]

async function measure(args, cwd) {
  const started = performance.now();
  const child = spawn(process.execPath, [CLI, ...args], { cwd, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  let peakKib = 0;
  child.stdout.on("data", (chunk) => (stdout += chunk));
  child.stderr.on("data", (chunk) => (stderr += chunk));
  const poll = setInterval(() => {
    try {
      const status = readFileSync(`/proc/${child.pid}/status`, "utf8");
      peakKib = Math.max(peakKib, Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0));
    } catch {
      // exited
    }
  }, 20);
  const code = await new Promise((done) => child.on("close", done));
  clearInterval(poll);
  return {
    code,
    stdout,
    stderr,
    seconds: (performance.now() - started) / 1000,
    peakRssMib: peakKib ? peakKib / 1024 : null,
  };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { runs: { type: "string", default: "3" } },
  });
  const db = positionals[0] && resolve(positionals[0]);
  if (!db || !existsSync(db) || !existsSync(CLI)) {
    console.error("usage: node bench/plan.mjs DB [--runs N]   (an imported database; npm run build first)");
    process.exit(2);
  }
  const dir = dirname(db);
  const config = await writeConfig(dir, db);
  for (let i = 0; i < Number(values.runs); i++) {
    const plan = await measure(["plan", "--now", BENCH_NOW, "--json", "--config", config], dir);
    const due = await measure(["due", "--week", BENCH_WEEK, "--json", "--config", config], dir);
    console.log(
      `plan ${plan.seconds.toFixed(2)} s ${plan.peakRssMib?.toFixed(0)} MiB (${plan.code === 0 ? summary(plan.stdout) : plan.stderr.trim()}); ` +
        `due ${due.seconds.toFixed(2)} s ${due.peakRssMib?.toFixed(0)} MiB`,
    );
  }
}
