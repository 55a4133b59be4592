/**
 * Node runs a timer asked for more than 2^31 - 1 ms (about 24.8 days) after 1 ms instead, with nothing
 * but a TimeoutOverflowWarning on stderr (AbortSignal.timeout too; Infinity included). A timeout a caller
 * meant as "practically never" (Infinity, a year) would then fire at once: a stalled-model error on the
 * first chunk, a tool timed out before it started. Every delay that comes from options goes through here.
 */
export const maxTimerMs = 2 ** 31 - 1;

/**
 * `ms` as a delay setTimeout keeps: capped at maxTimerMs (a longer wait, Infinity included, waits about
 * 24.8 days), at least 0. NaN waits the longest too: a timer that never fires early is the safe mistake.
 */
export function timerDelay(ms: number): number {
  if (Number.isNaN(ms)) return maxTimerMs;
  return Math.min(maxTimerMs, Math.max(0, ms));
}
