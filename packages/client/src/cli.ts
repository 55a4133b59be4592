#!/usr/bin/env node
import { runCli } from "./cli/main.js";

let interrupt: (() => void) | undefined;
let readerGone = false;
/** Set by SIGTERM or SIGHUP: the code chat exits with. */
let terminatedCode: number | undefined;
let hungUp = false;
// The reader of stdout left (`chat … | head -1`): Node reports the closed pipe as an EPIPE error, which would crash
// with a stack. The answer is stopped as Ctrl-C stops it (nobody reads it), and the CLI leaves quietly.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (hungUp) return;
  if (error.code !== "EPIPE") throw error;
  if (readerGone) return;
  readerGone = true;
  interrupt?.();
});

// SIGTERM (`timeout 60 chat …`, a CI job stopped, `kill`) and SIGHUP (the terminal closed, an ssh session dropped):
// the answer is stopped as Ctrl-C stops it, so the run does not go on on the server without anyone reading it; nothing
// more is asked, and chat exits 128 + the signal's number as a process ended by it does (143 for SIGTERM, 129 for
// SIGHUP). A second such signal (or Ctrl-C) while the run is being cancelled exits at once.
function terminate(code: number): void {
  if (terminatedCode !== undefined) process.exit(terminatedCode);
  terminatedCode = code;
  interrupt?.();
}
process.on("SIGTERM", () => terminate(128 + 15));
process.on("SIGHUP", () => {
  // The terminal that was stdout and stderr is gone: writing there fails (EIO), which must not end the process
  // before the run is cancelled.
  hungUp = true;
  terminate(128 + 1);
});
// (stdin's EIO ends the input: readline takes its errors.)
process.stderr.on("error", (error) => {
  if (!hungUp) throw error;
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
    if (terminatedCode !== undefined) queueMicrotask(handler);
    return () => {
      if (interrupt === handler) interrupt = undefined;
      process.off("SIGINT", handler);
    };
  },
  exit: (code) => process.exit(terminatedCode ?? code),
  stdoutClosed: () => readerGone,
  terminated: () => terminatedCode !== undefined,
});
if (terminatedCode !== undefined) process.exit(terminatedCode);
// A reader that left is no failure (as for `head`'s other writers); nothing more can be written.
if (readerGone) process.exit(0);
// Flush before exiting: writes to pipes are asynchronous on some platforms.
process.stdout.write("", () => process.exit(code));
