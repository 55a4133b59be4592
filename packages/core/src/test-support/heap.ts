import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

let gcFn: (() => void) | undefined;

/**
 * A real full GC, twice (the second collects what the first's finalizers released). The flag is set at run time and
 * a fresh context then exposes `gc`, so no test runner needs `--expose-gc`.
 */
export function collectGarbage(): void {
  if (!gcFn) {
    setFlagsFromString("--expose-gc");
    gcFn = runInNewContext("gc") as () => void;
  }
  gcFn();
  gcFn();
}

/** V8's heap in use after a full GC. */
export function heapUsedAfterGc(): number {
  collectGarbage();
  return process.memoryUsage().heapUsed;
}
