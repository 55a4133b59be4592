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

let stringIsFlat: ((value: string) => boolean) | undefined;

/**
 * Whether V8 holds `value` as one flat string rather than a rope of concatenated pieces (V8's own test intrinsic; the
 * flag is set at run time, before the function using it is compiled).
 */
export function isFlatString(value: string): boolean {
  if (!stringIsFlat) {
    setFlagsFromString("--allow-natives-syntax");
    stringIsFlat = new Function("value", "return %StringIsFlat(value)") as (value: string) => boolean;
  }
  return stringIsFlat(value);
}
