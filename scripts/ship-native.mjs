/**
 * Copies the SQLite binding `npm ci` compiled (node_modules/better-sqlite3/build/Release) into
 * dist/bin/native, where src/store/open.ts looks first. Why: `npm pack` bundles the dependencies
 * (package.json bundleDependencies) but only the files better-sqlite3 publishes, not its build/, so an
 * install from the tarball would compile it again (70 s, and a compiler on the machine). The copy
 * makes the tarball install with --ignore-scripts, offline, in seconds, for the same Node and
 * platform as the machine that packed it (the README says to pack where it will run).
 */
import { copyFileSync, existsSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

const require = createRequire(import.meta.url);
const root = dirname(require.resolve("better-sqlite3/package.json"));
const binding = join(root, "build", "Release", "better_sqlite3.node");
if (!existsSync(binding)) {
  // A better-sqlite3 installed some other way: the package then needs its install script to build it.
  console.warn(
    `ship-native: ${binding} is missing; the packed package will compile better-sqlite3 on install`,
  );
} else {
  mkdirSync("dist/bin/native", { recursive: true });
  copyFileSync(binding, "dist/bin/native/better_sqlite3.node");
}
