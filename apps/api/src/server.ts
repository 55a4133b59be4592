import { StartupError, buildServer } from "./app.js";
import { ConfigError, loadConfig } from "./config.js";

// Entry of `pnpm start` (node apps/api/dist/server.js) and `pnpm dev` (tsx watch).

/** Shutdown ends at most this long after SHUTDOWN_GRACE_MS, whatever is stuck. */
const shutdownSlackMs = 10_000;

async function main() {
  // A stderr reader that went away must not crash the server on its next warning (EPIPE); logs go to
  // stdout through their own non-blocking destination (log-destination.ts).
  process.stderr.on("error", () => {});
  let config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }

  // The production simulator keeps no request log: it exists for tests, and each request would stay in memory.
  let server;
  try {
    server = await buildServer({ config, simulator: { maxRecordedRequests: 0 } });
  } catch (error) {
    if (error instanceof StartupError) {
      // One line that names the setting to fix (e.g. DATABASE_URL and where it points, never its password).
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
  const log = server.app.log;
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      log.warn({ signal }, "second signal: exiting now");
      process.exit(1);
    }
    stopping = true;
    log.info({ signal, graceMs: config.shutdownGraceMs }, "shutting down");
    // A backstop, not the plan: close() ends well before this (runs get the grace period, then 5 s to
    // end once aborted; connections 2 s). Whatever hangs past it (a stuck socket, a stuck disk), we exit.
    const deadline = setTimeout(() => {
      log.error({ signal }, "shutdown took too long: exiting now");
      process.exit(1);
    }, config.shutdownGraceMs + shutdownSlackMs);
    deadline.unref();
    server.close().then(
      () => process.exit(0),
      (error: unknown) => {
        log.error({ err: error }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));

  let url: string;
  try {
    url = await server.listen();
  } catch (error) {
    console.error(listenFailure(error, config.host, config.port));
    // What was started (MCP servers, the simulator, the store) is ended, not left to outlive us.
    const closing = setTimeout(() => process.exit(1), shutdownSlackMs);
    closing.unref();
    await server.close().catch(() => {});
    process.exit(1);
  }
  log.info(
    { url, provider: server.provider.kind, demo: server.provider.demo, model: server.provider.defaultModel },
    `streamchat API listening on ${url} (provider: ${server.provider.kind}${server.provider.demo ? ", demo model" : ""})`,
  );
}

/** One line saying why the server cannot listen and which setting to change. */
function listenFailure(error: unknown, host: string, port: number): string {
  const code = (error as { code?: unknown } | null)?.code;
  const where = `${host}:${port}`;
  if (code === "EADDRINUSE") return `PORT: ${where} is already in use (another server listens there); set PORT (or HOST) to a free one.`;
  if (code === "EACCES") return `PORT: no permission to listen on ${where} (ports below 1024 need privileges); set PORT to another one.`;
  if (code === "EADDRNOTAVAIL") return `HOST: ${host} is not an address of this machine; set HOST to one of its addresses (or 0.0.0.0).`;
  return `cannot listen on ${where}: ${error instanceof Error ? error.message : String(error)}`;
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
