/**
 * The lifecycle and win-back part of `comeback plan`, alone, for bench/lifecycle.mjs: `plan` also
 * recomputes the replenishment reminders, whose cost bench/plan.mjs measures on its own.
 *
 *   node bench/plan-lifecycle.mjs --config FILE --now DATE     prints {"lifecycle": …, "tasks": …}
 */
import { parseArgs } from "node:util";

const dist = (path) => import(new URL(`../dist/src/${path}`, import.meta.url).href);
const { values } = parseArgs({ options: { config: { type: "string" }, now: { type: "string" } } });
const { loadConfig } = await dist("config/load.js");
const { openStore } = await dist("store/open.js");
const { parseNow } = await dist("cli/now.js");
const { planLifecycle } = await dist("plan/lifecycle/plan.js");
const { planTasks } = await dist("plan/winback/tasks.js");

const config = await loadConfig({ configPath: values.config });
const now = parseNow(values.now, config.timezone);
const db = openStore(config.database);
try {
  const lifecycle = planLifecycle(db, config, now);
  const tasks = planTasks(db, config, now);
  process.stdout.write(`${JSON.stringify({ lifecycle, tasks })}\n`);
} finally {
  db.close();
}
