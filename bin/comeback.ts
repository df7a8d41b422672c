#!/usr/bin/env node
import { main } from "../src/cli/main.js";

// `comeback status | head` closes stdout early: that is the reader's choice, not an error.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
  throw error;
});

// Set the code and let Node exit when the event loop drains, so stdout is flushed even when piped.
main(process.argv).then((code) => {
  process.exitCode = code;
});
