import { z } from "zod";

/**
 * How long Ollama keeps a model in memory after a request (`keep_alive`): a Go duration string ("5m",
 * "1h30m", "-1m") or a number of seconds; 0 unloads at once, a negative value keeps it forever.
 */
export type KeepAlive = string | number;

/** One or more number+unit pairs, as Go's time.ParseDuration reads them. */
const goDuration = /^[+-]?(?:(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+$/;
const seconds = /^[+-]?\d+(?:\.\d+)?$/;

/**
 * Reads a keep-alive setting the way Ollama's OLLAMA_KEEP_ALIVE does: a bare number is seconds (sent as a
 * JSON number), anything else must be a Go duration (sent as the string). Throws with a message naming the
 * accepted forms.
 */
export function parseKeepAlive(value: string): KeepAlive {
  const text = value.trim();
  if (seconds.test(text)) return Number(text);
  if (goDuration.test(text)) return text;
  throw new Error(`${keepAliveProblem}; got "${value}"`);
}

const keepAliveProblem = 'must be a duration such as "5m", "1h30m" or "-1m", or a number of seconds such as 300 or -1';

/** `parseKeepAlive` as a zod schema (string in, KeepAlive out), for environment validation. */
export const keepAliveSchema = z.string().transform((value, ctx): KeepAlive => {
  try {
    return parseKeepAlive(value);
  } catch {
    // Without the value: whoever reports the issue shows it (loadConfig: "(got …)").
    ctx.addIssue({ code: "custom", message: keepAliveProblem });
    return z.NEVER;
  }
});
