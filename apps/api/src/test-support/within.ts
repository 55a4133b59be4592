/**
 * `answer`, or "still waiting" once `ms` passed without it: for tests of what must not hang, with a bound far past what
 * the code under test needs (never a speed assertion).
 */
export function within<T>(answer: Promise<T>, ms: number): Promise<T | "still waiting"> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<"still waiting">((resolve) => (timer = setTimeout(() => resolve("still waiting"), ms)));
  return Promise.race([answer, late]).finally(() => clearTimeout(timer));
}
