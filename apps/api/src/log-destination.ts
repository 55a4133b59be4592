import type { Writable } from "node:stream";

/** Log output the process may hold when its reader falls behind; beyond it, lines are dropped and counted. */
export const defaultMaxBufferedBytes = 4 * 1024 * 1024;

/** Where pino writes: never blocks the event loop, never grows without bound, never throws. */
export interface LogDestination {
  write(line: string): boolean;
  /** Lines dropped so far because the reader fell behind by more than the bound or went away. */
  dropped(): number;
  /** Resolves when everything written has been handed to the OS, or after `timeoutMs`, whichever comes first. */
  flush(timeoutMs: number): Promise<void>;
  /** Stops listening to `out` (the server closed); later lines are dropped. */
  detach(): void;
}

/**
 * Log lines for `out` (stdout) that cannot hang the server, whatever reads them.
 *
 * pino's default destination is a sonic-boom on fd 1, and pino flushes it synchronously when the process
 * exits. When stdout is a pipe whose reader stopped reading (the pipe is full), that flush gets EAGAIN
 * and sonic-boom retries it forever, sleeping in Atomics.wait between tries: a server told to stop by
 * SIGTERM hung in its exit handler for good and could not even handle another signal.
 *
 * Node's own stdout stream writes a pipe asynchronously (queued in libuv when the pipe is full) and
 * never blocks at exit, so lines go there; what it has queued is bounded here (lines beyond
 * `maxBufferedBytes` are dropped, and one warning line says how many once the reader catches up).
 * A reader that went away (EPIPE) stops logging instead of crashing the process.
 */
export function createLogDestination(
  out: Writable = process.stdout,
  maxBufferedBytes: number = defaultMaxBufferedBytes,
  now: () => number = Date.now,
): LogDestination {
  let dropped = 0;
  let droppedSinceNotice = 0;
  let broken = false;
  const stop = () => {
    broken = true;
  };
  // EPIPE (the reader closed its end) or any other write error: an unhandled 'error' would crash.
  const onDrain = () => {
    if (droppedSinceNotice === 0 || broken) return;
    const notice = { level: 40, time: now(), pid: process.pid, msg: `log output fell behind: dropped ${droppedSinceNotice} lines` };
    droppedSinceNotice = 0;
    out.write(`${JSON.stringify(notice)}\n`);
  };
  out.on("error", stop);
  out.on("close", stop);
  out.on("drain", onDrain);

  return {
    write(line) {
      if (broken || out.destroyed || !out.writable || out.writableLength >= maxBufferedBytes) {
        dropped++;
        droppedSinceNotice++;
        return true;
      }
      out.write(line);
      return true;
    },
    dropped: () => dropped,
    flush(timeoutMs) {
      if (broken || out.writableLength === 0) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          out.off("drain", done);
          out.off("error", done);
          out.off("close", done);
          resolve();
        };
        const timer = setTimeout(done, timeoutMs);
        timer.unref();
        out.once("drain", done);
        out.once("error", done);
        out.once("close", done);
      });
    },
    detach() {
      // Keep swallowing write errors: a write still queued may fail after this.
      out.off("close", stop);
      out.off("drain", onDrain);
      broken = true;
    },
  };
}
