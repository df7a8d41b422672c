#!/usr/bin/env node
import { main } from "../src/cli/main.js";

// Set the code and let Node exit when the event loop drains, so stdout is flushed even when piped.
main(process.argv).then((code) => {
  process.exitCode = code;
});
