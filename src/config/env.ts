/**
 * `${VAR}` interpolation of configuration values from the environment (where secrets live).
 *
 * Syntax, inside any string value of the parsed YAML (never in keys, never before parsing,
 * so an environment value can't inject YAML structure):
 *   ${NAME}            the variable's value; an unset variable is an error (a set but empty one gives "")
 *   ${NAME:-fallback}  the variable's value, or `fallback` when it is unset or empty (as in sh)
 *   $${                a literal `${`
 * NAME is letters, digits and `_`, not starting with a digit. A `$` not followed by `{` is literal.
 */

export type KeyPath = readonly (string | number)[];

export interface InterpolationProblem {
  path: KeyPath;
  message: string;
}

export interface InterpolationResult {
  value: unknown;
  problems: InterpolationProblem[];
  /** The original text of every string that contained `${…}`, by its key path (see formatKeyPath). */
  templates: Map<string, string>;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * A value that is exactly one `${NAME}` and nothing else: the only form a secret may take. No
 * `:-fallback` (a literal in the file), no text around it, no `$${` (which makes a literal `${`).
 */
export const WHOLE_REFERENCE = /^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$/;

export type StringInterpolation =
  { ok: true; value: string; interpolated: boolean } | { ok: false; message: string };

/** Interpolates one string. The error message doesn't name the key path; the caller adds it. */
export function interpolateString(text: string, env: NodeJS.ProcessEnv): StringInterpolation {
  if (!text.includes("${")) return { ok: true, value: text, interpolated: false };
  let out = "";
  let interpolated = false;
  let i = 0;
  while (i < text.length) {
    if (text.startsWith("$${", i)) {
      out += "${";
      i += 3;
      interpolated = true;
      continue;
    }
    if (!text.startsWith("${", i)) {
      out += text[i];
      i += 1;
      continue;
    }
    interpolated = true;
    const close = text.indexOf("}", i + 2);
    if (close < 0) {
      return {
        ok: false,
        message: `unterminated "\${" in ${JSON.stringify(text)} (write "$\${" for a literal "\${")`,
      };
    }
    const inner = text.slice(i + 2, close);
    const sep = inner.indexOf(":-");
    const name = sep < 0 ? inner : inner.slice(0, sep);
    if (!NAME.test(name)) {
      return {
        ok: false,
        message: `invalid reference "\${${inner}}": expected \${NAME} or \${NAME:-fallback} (write "$\${" for a literal "\${")`,
      };
    }
    const value = env[name];
    if (sep >= 0) {
      out += value === undefined || value === "" ? inner.slice(sep + 2) : value;
    } else if (value === undefined) {
      return { ok: false, message: `environment variable ${name} is not set` };
    } else {
      out += value;
    }
    i = close + 1;
  }
  return { ok: true, value: out, interpolated };
}

/** Formats a key path for messages: `profiles.ru-shop.columns.order_id`, `statuses.cancelled[2]`. */
export function formatKeyPath(path: KeyPath): string {
  let out = "";
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`;
    else if (/^[\p{L}\p{N}_-]+$/u.test(key)) out += out === "" ? key : `.${key}`;
    else out += `[${JSON.stringify(key)}]`;
  }
  return out;
}

/** Interpolates every string leaf of a parsed YAML tree, collecting all problems. */
export function interpolateTree(data: unknown, env: NodeJS.ProcessEnv): InterpolationResult {
  const problems: InterpolationProblem[] = [];
  const templates = new Map<string, string>();
  const walk = (node: unknown, path: (string | number)[]): unknown => {
    if (typeof node === "string") {
      const result = interpolateString(node, env);
      if (!result.ok) {
        problems.push({ path: [...path], message: result.message });
        return node;
      }
      if (result.interpolated) templates.set(formatKeyPath(path), node);
      return result.value;
    }
    if (Array.isArray(node)) return node.map((item, index) => walk(item, [...path, index]));
    if (node !== null && typeof node === "object") {
      // fromEntries defines own properties, so a "__proto__" key stays an ordinary (unknown) key.
      return Object.fromEntries(
        Object.entries(node).map(([key, value]) => [key, walk(value, [...path, key])]),
      );
    }
    return node;
  };
  const value = walk(data, []);
  return { value, problems, templates };
}
