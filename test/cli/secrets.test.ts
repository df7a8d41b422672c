/**
 * issue 17, point 4: the secret (and the SMTP password) come wholly from one environment variable,
 * and the secret is long enough to be a key. Every other form is a config error (exit 78) that names
 * the key and what to do, for every command, before anything is read or sent.
 */
import { describe, expect, it } from "vitest";
import { run, workspace } from "../helpers.js";

const KEY = "0123456789abcdef".repeat(4); // 64 hex characters, as `openssl rand -hex 32` gives

async function status(config: string, env: Record<string, string | undefined> = {}) {
  const dir = workspace(config);
  return run(["status"], { cwd: dir, env: { COMEBACK_SECRET: KEY, EMPTY: "", UNSET: undefined, ...env } });
}

describe("secrets come wholly from one environment variable", () => {
  it.each([
    ['secret: "$${COMEBACK_SECRET}"', "secret", /no "\$\$\{"/],
    ['secret: "${UNSET:-literal-literal-literal-literal-literal}"', "secret", /no fallback/],
    ['secret: "${COMEBACK_SECRET:-literal}"', "secret", /no fallback/],
    ['secret: "lit${EMPTY}eral"', "secret", /no text around it/],
    ['secret: "${COMEBACK_SECRET}x"', "secret", /no text around it/],
    ["secret: 12345678901234567890123456789012345", "secret", /not be written in the file/],
    ['delivery: { smtp: { password: "${UNSET:-hunter2}" } }', "delivery.smtp.password", /no fallback/],
    ['delivery: { smtp: { password: "pre${COMEBACK_SECRET}" } }', "delivery.smtp.password", /text around/],
  ])("refuses %s with exit 78", async (config, key, why) => {
    const result = await status(`${config}\n`);
    expect(result.code).toBe(78);
    expect(result.stderr).toContain(`comeback.yaml: ${key}: `);
    expect(result.stderr).toMatch(why);
    expect(result.stderr).toMatch(/write \w+: \$\{COMEBACK_\w+\} and set COMEBACK_\w+ in the environment/);
  });

  it("refuses a secret shorter than 32 bytes, naming the variable and how to make one", async () => {
    const result = await status("secret: ${MY_KEY}\n", { MY_KEY: "x".repeat(31) });
    expect(result.code).toBe(78);
    expect(result.stderr).toContain(
      "comeback.yaml: secret: the value of MY_KEY is 31 bytes long; a key needs at least 32",
    );
    expect(result.stderr).toContain("export MY_KEY=$(openssl rand -hex 32)");
  });

  it("accepts ${VAR} alone, and fallbacks in other keys", async () => {
    const ok = await status(
      'secret: ${COMEBACK_SECRET}\ndelivery: { smtp: { password: "${PW}" } }\ncurrency: "${CUR:-USD}"\n',
      { PW: "pw" },
    );
    // The config is accepted: status goes on to look for the database (none in a fresh folder).
    const accepted = { code: 66, stderr: expect.stringMatching(/^comeback: no database at /) };
    expect(ok).toMatchObject(accepted);
    // 32 bytes is enough; an unset variable reads as "not set" for the commands that need it.
    expect(await status("secret: ${MY_KEY}\n", { MY_KEY: "x".repeat(32) })).toMatchObject(accepted);
    expect(await status("secret: ${COMEBACK_SECRET}\n", { COMEBACK_SECRET: undefined })).toMatchObject(
      accepted,
    );
  });
});
