/**
 * `comeback demo`: the main job on the shipped fixtures, with the built-in defaults, so a new user
 * sees what comeback does before writing any config.
 */
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { defaultConfig, type LoadedConfig } from "../../config/load.js";
import type { Logger } from "../../log.js";
import { openStore } from "../../store/open.js";
import { print } from "../output.js";
import { importFiles } from "./import.js";
import { collectStatus, printStatus } from "./status.js";

/** The package root: dist/src/cli/commands → four levels up (src/cli/commands → three, under vitest). */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json"))) dir = dirname(dir);
  return dir;
}

export async function runDemo(options: { db?: string; json?: boolean }, log: Logger): Promise<void> {
  const cwd = process.cwd();
  const database = resolve(cwd, options.db ?? "comeback-demo.db");
  const config: LoadedConfig = { ...defaultConfig(cwd), database, source: "built-in defaults", baseDir: cwd };
  const fixtures = join(packageRoot(), "fixtures", "demo");
  const db = openStore(database);
  try {
    print(`comeback demo: importing the shipped example exports from ${fixtures}`);
    print(`into ${database}\n`);
    for (const kind of ["products", "customers", "orders"] as const) {
      const { firstError } = await importFiles(db, config, log, kind, [join(fixtures, `${kind}.csv`)], {
        json: false,
      });
      if (firstError) throw firstError;
      print();
    }
    printStatus(collectStatus(db, database), false);
    print(`\nRun it again: every file is reported as already imported and nothing changes.`);
    print(`Look inside: sqlite3 ${database} "select * from orders limit 5"`);
  } finally {
    db.close();
  }
}
