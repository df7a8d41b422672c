/**
 * The README's install, as a shop admin runs it on a fresh machine: pack the checkout, install the
 * tarball into a prefix of its own, and call `comeback` from somewhere else with only that prefix's
 * bin on the PATH. Offline: the tarball carries its dependencies (bundleDependencies, with
 * better-sqlite3 as `npm ci` compiled it), so the install reads no registry and no npm cache. The
 * test proves it: an empty cache, --offline, and a registry URL pointing at a local server that
 * counts the requests it gets and must get none.
 *
 * It packs with --ignore-scripts: `npm pack` would otherwise run `prepare` (the build), which
 * rewrites dist/bin under the other test files running beside it; `npm test` has just built it.
 * Measured on the 2-core CI machine: pack 5-6 s, install 13 s (extracting 2,400 files), under 30 s
 * in all; without --ignore-scripts the install compiles better-sqlite3 again (70 s).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT } from "../helpers.js";

const VERSION = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string }).version;

/** The environment without what `npm test` adds (npm_config_*, npm_package_*), as a login shell has it. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.toLowerCase().startsWith("npm_") && key !== "COMEBACK_CONFIG") env[key] = value;
  }
  return { ...env, ...extra };
}

describe("installing the packed package", () => {
  let registry: Server;
  let registryUrl = "";
  const requests: string[] = [];

  beforeAll(async () => {
    registry = createServer((request, response) => {
      requests.push(request.url ?? "?");
      response.statusCode = 404;
      response.end();
    });
    await new Promise<void>((resolve) => registry.listen(0, "127.0.0.1", resolve));
    registryUrl = `http://127.0.0.1:${(registry.address() as AddressInfo).port}/`;
  });
  afterAll(() => new Promise<void>((resolve) => registry.close(() => resolve())));

  it("puts a working comeback on the PATH with no registry and no npm cache", () => {
    const work = mkdtempSync(join(tmpdir(), "comeback-install-"));
    const npm = (args: string[], cwd: string) => {
      const started = Date.now();
      const result = spawnSync("npm", args, { cwd, env: cleanEnv(), encoding: "utf8" });
      expect(result.status, `npm ${args.join(" ")}\n${result.stdout}\n${result.stderr}`).toBe(0);
      return (Date.now() - started) / 1000;
    };
    // npm's own calls home (update check, audit, funding) are off too, whatever the user's npmrc says.
    const offline = [
      ...["--offline", "--cache", join(work, "empty-cache"), "--registry", registryUrl],
      ...["--no-update-notifier", "--no-audit", "--no-fund"],
    ];

    const packSeconds = npm(["pack", "--ignore-scripts", "--pack-destination", work, ...offline], ROOT);
    const tarball = readdirSync(work).find((name) => name.endsWith(".tgz"));
    expect(tarball).toBe(`comeback-${VERSION}.tgz`);

    const prefix = join(work, "opt-comeback");
    const installSeconds = npm(
      ["install", "--global", "--prefix", prefix, "--ignore-scripts", ...offline, `./${tarball}`],
      work,
    );
    console.log(
      `install test: npm pack ${packSeconds.toFixed(1)} s, npm install ${installSeconds.toFixed(1)} s`,
    );
    expect(requests, "the install asked a registry").toEqual([]);

    // From another folder, found through the PATH as cron and a login shell find it.
    const elsewhere = mkdtempSync(join(tmpdir(), "comeback-elsewhere-"));
    const env = cleanEnv({ PATH: [join(prefix, "bin"), process.env.PATH ?? ""].join(delimiter) });
    const version = spawnSync("comeback", ["--version"], { cwd: elsewhere, env, encoding: "utf8" });
    expect(version.status, version.stderr).toBe(0);
    expect(version.stdout.trim()).toBe(VERSION);
    // The number comes from the installed package.json, not from npm's environment or a constant.
    const manifestPath = join(prefix, "lib", "node_modules", "comeback", "package.json");
    const manifest = JSON.parse(readFileSync(manifestPath, "utf8")) as { version: string };
    writeFileSync(manifestPath, JSON.stringify({ ...manifest, version: "9.8.7-test" }));
    const changed = spawnSync("comeback", ["--version"], { cwd: elsewhere, env, encoding: "utf8" });
    expect(changed.stdout.trim()).toBe("9.8.7-test");

    // The demo uses what the tarball must ship: the native SQLite binding, fixtures/demo, templates/.
    const demo = spawnSync("comeback", ["demo", "--quiet"], { cwd: elsewhere, env, encoding: "utf8" });
    expect(demo.status, demo.stderr).toBe(0);
    expect(readdirSync(join(elsewhere, "outbox")).some((name) => name.endsWith(".eml"))).toBe(true);
  }, 240_000);
});
