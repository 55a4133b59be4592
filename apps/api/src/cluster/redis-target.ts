/** Where a REDIS_URL points, for logs and start-up errors: "host:port", never a password. */
export function redisTarget(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}:${parsed.port || "6379"}`;
  } catch {
    return "the configured Redis";
  }
}
