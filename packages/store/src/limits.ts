/** A caller's limit as a non-negative integer, or the default. Both stores share it so they page alike. */
export function normalizeLimit(limit: number | undefined, fallback: number): number {
  if (limit === undefined || !Number.isFinite(limit)) return fallback;
  return Math.max(0, Math.floor(limit));
}
