import { defineConfig } from "vitest/config";

// For Stryker (stryker.config.mjs): the unit tests only, which import the code it mutates.
export default defineConfig({
  test: {
    include: ["test/unit/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
