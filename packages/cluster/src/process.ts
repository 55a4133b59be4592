import type { ChildProcess } from "node:child_process";

/** Polls `check` until it is true; fails after `timeoutMs`, or as soon as `child` exits. */
export async function waitUntil(
  check: () => boolean | Promise<boolean>,
  opts: { timeoutMs: number; what: string; child?: ChildProcess; intervalMs?: number },
): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    if (opts.child && (opts.child.exitCode !== null || opts.child.signalCode !== null)) {
      throw new Error(`${opts.what}: the process exited (${opts.child.exitCode ?? opts.child.signalCode}) before it was ready`);
    }
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`${opts.what}: not ready within ${opts.timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, opts.intervalMs ?? 50));
  }
}

export function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/** Sends `signal`, then SIGKILL if the child is still there after `timeoutMs`; resolves once it exited. */
export function stopChild(child: ChildProcess, signal: NodeJS.Signals, timeoutMs: number): Promise<void> {
  if (hasExited(child)) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.once("exit", () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill(signal);
  });
}
