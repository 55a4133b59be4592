/**
 * This stack under test: the real API (`buildServer` from @streamchat/api, configured from the environment
 * exactly like apps/api's server.ts) plus the bench's IPC hooks. The bench sets CHAT_PROVIDER=ollama,
 * OLLAMA_HOST=<its simulator>, CHAT_MODEL=sim-bench and DATABASE_PATH (a temp SQLite file, or ":memory:").
 */
import { buildServer, loadConfig } from "@streamchat/api";
import { builtinTools, prepareTools } from "@streamchat/core";
import { announceFailure, announceReady } from "./child-ipc.js";

// A start that takes far longer than the few seconds it needs says where it waits (the bench gives up at 60 s, and
// a server logging at `warn` says nothing while it starts): the step, and what the event loop waits on.
let step = "building the server (store, liveness, streams, provider, recovery)";
const slowStart = setTimeout(() => {
  console.error(`${process.env["BENCH_SERVER_NAME"] ?? "stack"}: still starting after 30 s, at: ${step}; waiting on ${process.getActiveResourcesInfo().join(", ")}`);
}, 30_000);
slowStart.unref();

try {
  const server = await buildServer({ config: loadConfig(process.env), webDistDir: null });
  step = "listening";
  const url = await server.listen();
  // The API starts the calculator's worker at start-up (about a second of CPU and ~50 MB): ready before the bench
  // measures, as the JIT warm-up is, so that no figure carries a one-time start.
  step = "preparing the tools (the calculator's worker)";
  await prepareTools(builtinTools);
  clearTimeout(slowStart);
  announceReady(url, () => server.close());
} catch (error) {
  clearTimeout(slowStart);
  announceFailure(error);
}
