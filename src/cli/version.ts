/**
 * The version `comeback --version` prints: the one in the package.json the running program was
 * installed from. npm sets npm_package_version only inside `npm run`/`npx`, so an installed binary
 * called from cron would otherwise print a made-up number.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** Walks up from this file (dist/bin when bundled, src/cli under vitest) to comeback's package.json. */
export function packageVersion(from: string = dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const file = join(dir, "package.json");
    if (existsSync(file)) {
      const manifest = JSON.parse(readFileSync(file, "utf8")) as { name?: string; version?: string };
      if (manifest.name === "comeback" && manifest.version) return manifest.version;
    }
    if (dirname(dir) === dir) return "unknown";
  }
}
