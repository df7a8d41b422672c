/**
 * Every command and subcommand's --help, as a user calls it: the whole commander tree is walked
 * (built in-process, so a command added later is covered without touching this test), and the built
 * binary is asked for the help of each path. Each must end with an "Examples:" section whose lines
 * call that very command.
 */
import type { Command } from "commander";
import { describe, expect, it } from "vitest";
import { IMPORT_KINDS } from "../../src/import/fields.js";
import { buildProgram } from "../../src/cli/main.js";
import { run, workspace } from "../helpers.js";

function commandPaths(command: Command, prefix: string[] = []): string[][] {
  return command.commands
    .filter((sub) => sub.name() !== "help")
    .flatMap((sub) => {
      const path = [...prefix, sub.name()];
      return [path, ...commandPaths(sub, path)];
    });
}

/** The lines after "Examples:" up to the first blank line, each trimmed. */
function examplesOf(help: string): string[] {
  const lines = help.split("\n");
  const start = lines.findIndex((line) => line.trim() === "Examples:");
  if (start < 0) return [];
  const end = lines.findIndex((line, i) => i > start && line.trim() === "");
  return lines.slice(start + 1, end < 0 ? undefined : end).map((line) => line.trim());
}

const paths = commandPaths(buildProgram());

describe("--help of every command", () => {
  it("walks the whole tree (remind, model and tasks subcommands included)", () => {
    const names = paths.map((path) => path.join(" "));
    for (const expected of ["status", "remind set", "remind show", "model fit", "tasks close", "demo"])
      expect(names).toContain(expected);
  });

  it.each(paths.map((path) => [path.join(" "), path] as const))(
    "comeback %s --help has examples of that command",
    async (_name, path) => {
      const result = await run([...path, "--help"], { cwd: workspace() });
      expect(result.code, result.stderr).toBe(0);
      const examples = examplesOf(result.stdout);
      expect(examples.length, `no "Examples:" section in comeback ${path.join(" ")} --help`).toBeGreaterThan(
        0,
      );
      // A parent command's examples may show its subcommands: "comeback remind set …" for remind.
      const prefix = `comeback ${path.join(" ")}`;
      for (const example of examples) expect(example.startsWith(prefix), example).toBe(true);
    },
  );
});

describe("comeback --help", () => {
  it("lists each example once and says import takes every kind", async () => {
    const result = await run(["--help"], { cwd: workspace() });
    const examples = examplesOf(result.stdout).map((line) => line.split(/\s{2,}/)[0]!);
    expect(examples.length).toBeGreaterThan(5);
    const commands = examples.map((example) => example.split(" ")[1]);
    expect(new Set(commands).size, examples.join("\n")).toBe(commands.length);
    const importLine = result.stdout.split("\n").find((line) => line.trim().startsWith("import "))!;
    for (const kind of IMPORT_KINDS) expect(importLine).toContain(kind);
  });
});
