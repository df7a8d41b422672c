/**
 * The backtest on the UK retailer (issue 15): `comeback backtest` over the Mondays against the
 * outside replay (../shared/tools/weekly_replay.py, which runs `weekly` Monday by Monday), and the time
 * of one `plan` against the time of the backtest (target: at most 3 ×). Not a test: always exits 0,
 * and says when ../shared is absent.
 *
 *   npm run build && node bench/backtest.mjs [--no-replay]
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const CLI = join(ROOT, "dist", "bin", "comeback.js");
const SHARED = join(ROOT, "..", "shared");
const REPLAY = join(SHARED, "tools", "weekly_replay.py");
const env = { ...process.env, COMEBACK_SECRET: "bench-secret-0123456789abcdef-0123456789" };

if (!existsSync(REPLAY)) {
  console.log(`skipped: ${REPLAY} is absent (the UK retailer and the outside replay live in ../shared)`);
  process.exit(0);
}
const work = mkdtempSync(join(tmpdir(), "comeback-backtest-"));
// The outside replay imports the data and leaves the database and config behind: reuse them.
const t0 = performance.now();
const replay = spawnSync("python3", [REPLAY, "uk", work], {
  env: { ...env, CB: `node ${CLI}` },
  encoding: "utf8",
});
const replaySeconds = (performance.now() - t0) / 1000;
if (replay.status !== 0) {
  console.log(`the outside replay failed: ${replay.stderr.slice(-500)}`);
  process.exit(0);
}
const outside = JSON.parse(replay.stdout.trim().split("\n").at(-1));
const config = join(work, "uk.yaml");
const timed = (args) => {
  const start = performance.now();
  const run = spawnSync(process.execPath, [CLI, "-c", config, ...args], {
    env,
    encoding: "utf8",
    maxBuffer: 1 << 26,
  });
  if (run.status !== 0) throw new Error(`comeback ${args.join(" ")}: ${run.stderr}`);
  return { seconds: (performance.now() - start) / 1000, stdout: run.stdout };
};
const backtest = timed(["backtest", "--from", "2011-06-06", "--to", "2011-09-26", "--json"]);
const report = JSON.parse(backtest.stdout);
const plans = [1, 2].map(() => timed(["plan", "--now", "2011-09-26T09:00", "--json"]).seconds);
const plan = Math.min(...plans);
const ours = report.comeback;
const agree = ["precision", "recall", "f1"].every((k) => Math.abs(ours[k] - outside[k]) <= 0.01);
console.log(
  `outside replay (${replaySeconds.toFixed(1)} s): ${outside.sent_per_week} items/week, P ${outside.precision}, R ${outside.recall}, F1 ${outside.f1}`,
);
console.log(
  `comeback backtest: ${ours.items_per_week} items/week, P ${ours.precision}, R ${ours.recall}, F1 ${ours.f1} — ${agree ? "agrees" : "DISAGREES"} (±0.01)`,
);
for (const b of report.baselines)
  console.log(`  ${b.method}: ${b.items_per_week} items/week, P ${b.precision}, R ${b.recall}, F1 ${b.f1}`);
const ratio = backtest.seconds / plan;
console.log(
  `backtest ${backtest.seconds.toFixed(1)} s; one plan ${plans.map((s) => s.toFixed(2)).join(" / ")} s: ${ratio.toFixed(1)} × (target ≤ 3 ×: ${ratio <= 3 ? "met" : "MISSED"})`,
);
writeFileSync(
  join(work, "result.json"),
  JSON.stringify({ outside, backtest: report, seconds: backtest.seconds, plan }),
);
console.log(
  JSON.stringify({
    f1: ours.f1,
    outside_f1: outside.f1,
    agree,
    backtest_seconds: backtest.seconds,
    plan_seconds: plan,
    ratio,
  }),
);
