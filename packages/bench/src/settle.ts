import { setTimeout as sleep } from "node:timers/promises";
import { machineBusyMs } from "@streamchat/cluster";

export interface QuietOptions {
  /** Length of one look at the machine. */
  sampleMs: number;
  /** Quiet: the machine spent at most this share of one core over a look. */
  busyShare: number;
  /** Give up after this long and measure anyway (a shared machine may never be quiet). */
  timeoutMs: number;
  /** The machine's CPU time so far, in ms (default: /proc/stat). */
  busyMs?: () => number;
}

export interface QuietResult {
  quiet: boolean;
  waitedMs: number;
  /** The last look's busy share of one core. */
  busyShare: number;
}

/**
 * Waits until the machine is quiet before a measured window: the previous window's tail (a server's garbage
 * collection, the teardown of its streams, a database's checkpoint after its writes) must not land in the next
 * path's window (`stack` runs right after `ai-sdk`, the heaviest).
 */
export async function waitForQuiet(opts: QuietOptions): Promise<QuietResult> {
  const read = opts.busyMs ?? machineBusyMs;
  const started = performance.now();
  for (;;) {
    const before = read();
    const lookStarted = performance.now();
    await sleep(opts.sampleMs);
    const busyShare = (read() - before) / (performance.now() - lookStarted);
    const waitedMs = performance.now() - started;
    if (busyShare <= opts.busyShare) return { quiet: true, waitedMs, busyShare };
    if (waitedMs >= opts.timeoutMs) return { quiet: false, waitedMs, busyShare };
  }
}
