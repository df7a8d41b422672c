// Mutation testing of the modules that carry comeback's promises (issue 16): never send twice, never
// mail someone who opted out, sign links that verify, keep every fact an export gives. `npm run mutate`
// runs it; see MUTATION.md for the scores, the time it takes and the survivors judged equivalent.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  mutate: [
    "src/deliver/outbox.ts",
    "src/deliver/send.ts",
    "src/deliver/rules.ts",
    "src/deliver/lock.ts",
    "src/deliver/unsubscribe.ts",
    "src/deliver/suppress.ts",
    "src/deliver/dry-run.ts",
    // Whose fault an SMTP answer is (issue 17): a wrong verdict suppresses a good address or stops nothing.
    "src/deliver/smtp-answer.ts",
    // Where "refused" (may go again) and "unknown" (the server may have it: never again on its own) part.
    "src/deliver/transports.ts",
    // Which carts are mailed and which are held out (issue 18): a wrong draw mails the control group.
    "src/deliver/carts.ts",
    // One follow-up per stage and cart email, stopped by an answer (issue 18): never sent twice.
    "src/deliver/followups.ts",
    "src/import/write/**/*.ts",
    "src/import/normalize/**/*.ts",
    "src/plan/replenishment/**/*.ts",
    // The worker thread's entry: it runs in its own thread, out of reach of in-process tests.
    "!src/plan/replenishment/plan-worker.ts",
    "src/plan/winback/**/*.ts",
    "src/cli/csv.ts",
  ],
  testRunner: "vitest",
  // Only the unit tests: the CLI tests spawn the built dist/, which Stryker's mutation of src/ never
  // reaches, so they could kill no mutant and would only slow every run (they are most of npm test).
  vitest: { configFile: "vitest.stryker.config.ts" },
  coverageAnalysis: "perTest",
  // Static mutants (module-level code run once at import, like a constant Set) are reported "survived"
  // by the vitest runner 9.6.1 even when a test kills them: it activates the mutant after the module has
  // loaded (stryker-js issues 6144 and 6209; checked by hand here on row.ts PLACEHOLDERS and send.ts
  // bump). Counted, they would be false survivors; ignored, they show as "Ignored" in the report.
  ignoreStatic: true,
  // Results kept between runs: only mutants in changed code, or covered by changed tests, run again.
  // Gitignored (reports/): see MUTATION.md for why.
  incremental: true,
  incrementalFile: "reports/mutation/stryker-incremental.json",
  reporters: ["html", "json", "clear-text", "progress"],
  htmlReporter: { fileName: "reports/mutation/index.html" },
  jsonReporter: { fileName: "reports/mutation/mutation.json" },
  clearTextReporter: { allowColor: false, logTests: false, reportMutants: false, reportScoreTable: true },
  // The machine has 2 cores shared with others.
  concurrency: 2,
  // A busy machine: let a slow test finish before calling the mutant a timeout.
  timeoutMS: 10000,
  // break: under this the run fails (exit 1). 80, the score issue 16 asks of these modules: the merged main
  // scores 83.5 % (MUTATION.md), so a change that drops tests or adds untested promise code fails the run.
  thresholds: { high: 80, low: 70, break: 80 },
  ignorePatterns: ["dist", "bench/out", "coverage", "reports", ".ci/out", "*.db", "*.db-wal", "*.db-shm"],
  tempDirName: ".stryker-tmp",
  cleanTempDir: "always",
};
