/** `npx comeback` and a PATH install run the bin file itself, through its shebang: it must be executable. */
import { spawnSync } from "node:child_process";
import { statSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { BIN } from "../helpers.js";

describe("the comeback bin", () => {
  it("is executable after a build and runs through its shebang", () => {
    expect(statSync(BIN).mode & 0o111).not.toBe(0);
    const result = spawnSync(BIN, ["--version"], { encoding: "utf8" });
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });
});
