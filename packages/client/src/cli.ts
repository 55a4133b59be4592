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

// SIGTERM (`timeout 60 chat …`, a CI job stopped, `kill`): the answer is stopped as Ctrl-C stops it, so the run does
// not go on on the server without anyone reading it; nothing more is asked, and chat exits 143 (128 + 15) as a
// process ended by SIGTERM does. A second SIGTERM (or Ctrl-C) while the run is being cancelled exits at once.
let terminated = false;
const terminatedCode = 128 + 15;
process.on("SIGTERM", () => {
  if (terminated) process.exit(terminatedCode);
  terminated = true;
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
    // Terminated before this answer began: it stops at once.
    if (terminated) queueMicrotask(handler);
    return () => {
      if (interrupt === handler) interrupt = undefined;
      process.off("SIGINT", handler);
    };
  },
  exit: (code) => process.exit(terminated ? terminatedCode : code),
  stdoutClosed: () => readerGone,
  terminated: () => terminated,
});
if (terminated) process.exit(terminatedCode);
// A reader that left is no failure (as for `head`'s other writers); nothing more can be written.
if (readerGone) process.exit(0);
// Flush before exiting: writes to pipes are asynchronous on some platforms.
process.stdout.write("", () => process.exit(code));
