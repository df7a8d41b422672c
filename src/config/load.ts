/**
 * Finding, reading and validating the configuration file.
 *
 * Resolution: `--config FILE`, else `$COMEBACK_CONFIG`, else `./comeback.yaml` in the cwd if it
 * exists, else the built-in defaults. A file named explicitly (flag or variable) must exist.
 */
import { readFile, stat } from "node:fs/promises";
import path from "node:path";
import { isNode, LineCounter, parseDocument, type Document } from "yaml";
import { ConfigError, InputMissingError } from "../errors.js";
import { formatKeyPath, interpolateTree, WHOLE_REFERENCE, type KeyPath } from "./env.js";
import {
  configSchema,
  defaultConfig,
  describeIssues,
  MIN_SECRET_BYTES,
  resolveConfigPaths,
  SECRET_KEYS,
  type Config,
  type ConfigProblem,
} from "./schema.js";

export type { Config, ProfileConfig } from "./schema.js";
export { defaultConfig } from "./schema.js";

export const DEFAULT_CONFIG_FILE = "comeback.yaml";
export const CONFIG_ENV_VAR = "COMEBACK_CONFIG";
export const BUILT_IN_DEFAULTS = "built-in defaults";

/** At most this many problems are listed; the rest are counted. */
export const MAX_PROBLEMS = 10;

export type LoadedConfig = Config & {
  /** The absolute path of the file the config came from, or "built-in defaults". */
  source: string;
  /** The folder relative paths were resolved against: the file's folder, or the cwd for defaults. */
  baseDir: string;
};

export interface LoadConfigOptions {
  /** `--config FILE`; relative to `cwd`. */
  configPath?: string;
  /** Defaults to process.env; read for COMEBACK_CONFIG and `${VAR}` interpolation. */
  env?: NodeJS.ProcessEnv;
  /** Defaults to process.cwd(). */
  cwd?: string;
}

export async function loadConfig(opts: LoadConfigOptions = {}): Promise<LoadedConfig> {
  const env = opts.env ?? process.env;
  const cwd = path.resolve(opts.cwd ?? process.cwd());

  let file: string;
  let origin: string | undefined;
  if (opts.configPath !== undefined && opts.configPath !== "") {
    file = path.resolve(cwd, opts.configPath);
    origin = "--config";
  } else if (env[CONFIG_ENV_VAR]) {
    file = path.resolve(cwd, env[CONFIG_ENV_VAR]);
    origin = `$${CONFIG_ENV_VAR}`;
  } else {
    file = path.join(cwd, DEFAULT_CONFIG_FILE);
    if (!(await isFile(file))) {
      return { ...defaultConfig(cwd), source: BUILT_IN_DEFAULTS, baseDir: cwd };
    }
  }

  const label = displayName(file, cwd);
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    const why =
      (error as NodeJS.ErrnoException).code === "ENOENT" ? "not found" : `can't be read (${reason(error)})`;
    throw new InputMissingError(`config file ${label} ${why}${origin ? ` (named by ${origin})` : ""}`);
  }

  const baseDir = path.dirname(file);
  const config = parseConfigText(text, { label, env, baseDir });
  return { ...config, source: file, baseDir };
}

export interface ParseConfigOptions {
  /** How messages name the file, e.g. "comeback.yaml". */
  label: string;
  env: NodeJS.ProcessEnv;
  /** Relative paths in the file resolve against this folder. */
  baseDir: string;
}

/** Parses, interpolates and validates the text of a config file. Throws ConfigError. */
export function parseConfigText(text: string, opts: ParseConfigOptions): Config {
  const { label } = opts;
  const lineCounter = new LineCounter();
  const doc = parseDocument(text.replace(/^\uFEFF/, ""), { lineCounter, prettyErrors: false });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      limit(
        doc.errors.map((error) => {
          const { line, col } = lineCounter.linePos(error.pos[0]);
          return `${label}: YAML syntax error at line ${line}, column ${col}: ${error.message}`;
        }),
      ),
    );
  }

  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (error) {
    throw new ConfigError(`${label}: ${reason(error)}`);
  }

  checkSecretForm(label, data);
  const interpolated = interpolateTree(data, opts.env);
  // A secret whose variable is unset is not an error for every command: `import` needs no secret.
  // It reads as unset, and the commands that need it say so (see requireSecret).
  interpolated.problems = interpolated.problems.filter((problem) => {
    const key = formatKeyPath(problem.path);
    if (!(SECRET_KEYS as readonly string[]).includes(key) || !/ is not set$/.test(problem.message))
      return true;
    setAt(interpolated.value, problem.path, null);
    return false;
  });
  if (interpolated.problems.length > 0) {
    const problems = interpolated.problems.map((problem) => ({
      path: problem.path,
      message: `${formatKeyPath(problem.path)}: ${problem.message}`,
    }));
    throw new ConfigError(report(label, doc, problems));
  }

  const result = configSchema.safeParse(interpolated.value);
  if (!result.success) {
    const problems = describeIssues(result.error.issues, {
      data: interpolated.value,
      templates: interpolated.templates,
    });
    throw new ConfigError(report(label, doc, problems));
  }
  checkSecretLength(label, result.data, interpolated.templates);
  return resolveConfigPaths(result.data, opts.baseDir);
}

/** What to write for a secret key, and the variable to set. */
function secretAdvice(key: string): string {
  const variable = key === "secret" ? "COMEBACK_SECRET" : "COMEBACK_SMTP_PASSWORD";
  const hint = key === "secret" ? ` to a random key, e.g. export ${variable}=$(openssl rand -hex 32)` : "";
  return `write ${key.split(".").at(-1)}: \${${variable}} and set ${variable} in the environment${hint}`;
}

/**
 * A secret must come wholly from one environment variable: its text in the file is exactly
 * `${NAME}`. Anything else would put (part of) the key in the file, which is not secret: a literal,
 * `${NAME:-fallback}`, text around a reference, or `$${NAME}` (the literal string "${NAME}").
 */
function checkSecretForm(label: string, data: unknown): void {
  const problems: string[] = [];
  for (const key of SECRET_KEYS) {
    const raw = valueAtKey(data, key);
    if (raw === undefined || raw === null) continue;
    if (typeof raw === "string" && WHOLE_REFERENCE.test(raw)) continue;
    const what =
      typeof raw !== "string" || !raw.includes("$")
        ? "a secret must come from the environment, not be written in the file"
        : `a secret must be exactly one environment variable, \${NAME}, with no fallback, no text around it and no "$\${", got ${JSON.stringify(raw)}`;
    problems.push(`${label}: ${key}: ${what}: ${secretAdvice(key)}`);
  }
  if (problems.length > 0) throw new ConfigError(problems.join("\n"));
}

/** A set `secret` must be long enough to be a key (an empty variable reads as unset). */
function checkSecretLength(label: string, config: Config, templates: ReadonlyMap<string, string>): void {
  const secret = config.secret;
  if (secret === null || secret === "") return;
  const bytes = Buffer.byteLength(secret, "utf8");
  if (bytes >= MIN_SECRET_BYTES) return;
  const variable = WHOLE_REFERENCE.exec(templates.get("secret") ?? "")?.[1] ?? "COMEBACK_SECRET";
  throw new ConfigError(
    `${label}: secret: the value of ${variable} is ${bytes} bytes long; a key needs at least ${MIN_SECRET_BYTES}: ` +
      `set ${variable} to a random key, e.g. export ${variable}=$(openssl rand -hex 32)`,
  );
}

function valueAtKey(tree: unknown, key: string): unknown {
  return key
    .split(".")
    .reduce<unknown>(
      (node, part) =>
        node !== null && typeof node === "object" ? (node as Record<string, unknown>)[part] : undefined,
      tree,
    );
}

/** One line per problem, in the order they appear in the file, each naming the file. */
function report(label: string, doc: Document, problems: ConfigProblem[]): string {
  const ordered = problems
    .map((problem, index) => ({ problem, index, offset: offsetOf(doc, problem.path) }))
    .sort(
      (a, b) => a.offset - b.offset || a.problem.path.length - b.problem.path.length || a.index - b.index,
    );
  return limit(ordered.map(({ problem }) => `${label}: ${problem.message}`));
}

/** Where a key path starts in the file; a missing key counts as its parent's position. */
function offsetOf(doc: Document, keyPath: KeyPath): number {
  for (let length = keyPath.length; length > 0; length--) {
    const node = doc.getIn(keyPath.slice(0, length), true);
    if (isNode(node) && node.range) return node.range[0];
  }
  return 0;
}

function setAt(tree: unknown, keyPath: KeyPath, value: unknown): void {
  let node = tree as Record<string | number, unknown>;
  for (const key of keyPath.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  node[keyPath.at(-1)!] = value;
}

function limit(lines: string[]): string {
  if (lines.length <= MAX_PROBLEMS) return lines.join("\n");
  const more = lines.length - MAX_PROBLEMS;
  return [...lines.slice(0, MAX_PROBLEMS), `… and ${more} more problem${more === 1 ? "" : "s"}`].join("\n");
}

/** The path as the user would write it: relative to the cwd when inside it, else absolute. */
function displayName(file: string, cwd: string): string {
  const relative = path.relative(cwd, file);
  return relative !== "" && !relative.startsWith("..") && !path.isAbsolute(relative) ? relative : file;
}

async function isFile(file: string): Promise<boolean> {
  try {
    return (await stat(file)).isFile();
  } catch {
    return false;
  }
}

function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
