#!/usr/bin/env node
import { runCli } from "./cli/main.js";

const code = await runCli(process.argv.slice(2), {
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  onInterrupt(handler) {
    process.on("SIGINT", handler);
    return () => process.off("SIGINT", handler);
  },
  exit: (code) => process.exit(code),
});
// Flush before exiting: writes to pipes are asynchronous on some platforms.
process.stdout.write("", () => process.exit(code));
