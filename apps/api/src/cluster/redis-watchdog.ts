/**
 * The numbers of the Redis connections' watchdog (redis-connection.ts), in a module of their own: the configuration
 * (config.ts, REDIS_UNANSWERED_MS) checks a deadline against them without loading the Redis client, which only
 * cluster mode pays for.
 */

/** Default deadline: a connection that leaves a PING unanswered this long is broken off and reconnected. */
export const defaultUnansweredMs = 10_000;

/** The shortest deadline REDIS_UNANSWERED_MS takes (why: config.ts). */
export const minUnansweredMs = 1000;

/** The longest deadline REDIS_UNANSWERED_MS takes (why: config.ts). */
export const maxUnansweredMs = 600_000;

/**
 * How often the watchdog of a connection with this deadline looks at it, sending a PING when none is in flight: a
 * quarter of the deadline, so a silent Redis is seen within 1¼ deadlines of going quiet (the next PING leaves within a
 * quarter, and is given up on a deadline later).
 */
export function probeIntervalMs(deadlineMs: number): number {
  return Math.max(Math.ceil(deadlineMs / 4), 10);
}
