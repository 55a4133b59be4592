#!/usr/bin/env node
import { runCli } from "./cli/main.js";

let interrupt: (() => void) | undefined;
let readerGone = false;
// The reader of stdout left (`chat … | head -1`): Node reports the closed pipe as an EPIPE error, which would crash
// with a stack. The answer is stopped as Ctrl-C stops it (nobody reads it), and the CLI leaves quietly.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code !== "EPIPE") throw error;
  if (readerGone) return;
  readerGone = true;
  interrupt?.();
});

const code = await runCli(process.argv.slice(2), {
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  onInterrupt(handler) {
    interrupt = handler;
    process.on("SIGINT", handler);
    return () => {
      if (interrupt === handler) interrupt = undefined;
      process.off("SIGINT", handler);
    };
  },
  exit: (code) => process.exit(code),
  stdoutClosed: () => readerGone,
});
// A reader that left is no failure (as for `head`'s other writers); nothing more can be written.
if (readerGone) process.exit(0);
// Flush before exiting: writes to pipes are asynchronous on some platforms.
process.stdout.write("", () => process.exit(code));
