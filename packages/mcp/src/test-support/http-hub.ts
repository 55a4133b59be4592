// The hub as the Streamable HTTP tests start it: one server, named "web", in front of which a test puts what it tests.
import type { HttpServerConfig } from "../config.js";
import { createMcpHub, type McpHub, type McpHubOptions } from "../hub.js";
import { configOf, recordingLogger } from "./servers.js";

export interface HttpHubOptions extends McpHubOptions {
  /** The headers configured for the server; default none. */
  headers?: Record<string, string>;
  /** The server's `requireApproval` (every tool, none, or those named); default none. */
  requireApproval?: HttpServerConfig["requireApproval"];
}

/**
 * A ready hub on the Streamable HTTP server at `url` (its tools offered as `web__<tool>`, none needing approval unless
 * `options.requireApproval` says otherwise). Restarts are a minute away, one at most, unless `options.restart` says
 * otherwise: a test sees what one failure does, not what a restart mends. The hub's close goes to `cleanups` before it
 * starts, so one that fails to start is closed too.
 */
export async function startHttpHub(
  url: string,
  cleanups: Array<() => Promise<void>>,
  { headers = {}, requireApproval = false, ...options }: HttpHubOptions = {},
): Promise<McpHub> {
  const hub = createMcpHub(configOf({ web: { url, headers, requireApproval, enabled: true } }), {
    log: recordingLogger(),
    restart: { initialDelayMs: 60_000, maxAttempts: 1 },
    ...options,
  });
  cleanups.push(() => hub.close());
  await hub.ready();
  return hub;
}
