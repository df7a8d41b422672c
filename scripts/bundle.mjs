/**
 * Bundles the command-line program after `tsc` has checked and emitted it.
 *
 * Why: Node 20 resolves, reads and compiles every ES module file on its own. The CLI and its
 * libraries are about 150 files, and loading them took 0.3 s of every command's 0.4 s start
 * (`comeback --version`). One file per entry point, with the lazily loaded commands in shared chunks
 * beside it, starts in about two thirds of that. esbuild is the bundler vitest already installs.
 *
 * Layout (all in dist/bin, so the relative URLs the code uses hold in the bundle too):
 *   dist/bin/comeback.js      the program (with its shebang), and its lazily loaded chunks
 *   dist/bin/read/worker.js   the import's reader thread (src/import/run.ts starts ./read/worker.js)
 *   dist/bin/plan-worker.js   a planner thread (src/plan/replenishment/plan.ts starts ./plan-worker.js)
 *
 * better-sqlite3 is native and stays in node_modules; handlebars and nodemailer are CommonJS loaded
 * with createRequire when a message is rendered (src/deliver/lazy.ts), so they stay there too.
 */
import { chmodSync, rmSync } from "node:fs";
import { build } from "esbuild";

const common = {
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  external: ["better-sqlite3", "handlebars", "nodemailer"],
  // CommonJS libraries inside an ES module bundle still call require() for Node's own modules.
  banner: {
    js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
  },
  sourcemap: true,
  minifyWhitespace: true,
  minifySyntax: true,
  logLevel: "warning",
};

// tsc emitted its own dist/bin; chunks of earlier builds would pile up beside the new ones.
rmSync("dist/bin", { recursive: true, force: true });
await build({
  ...common,
  entryPoints: { comeback: "bin/comeback.ts" },
  outdir: "dist/bin",
  splitting: true,
  chunkNames: "[name]-[hash]",
});
await build({ ...common, entryPoints: ["src/import/read/worker.ts"], outfile: "dist/bin/read/worker.js" });
await build({
  ...common,
  entryPoints: ["src/plan/replenishment/plan-worker.ts"],
  outfile: "dist/bin/plan-worker.js",
});
chmodSync("dist/bin/comeback.js", 0o755);
