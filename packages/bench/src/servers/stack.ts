/**
 * This stack under test: the real API (`buildServer` from @streamchat/api, configured from the environment
 * exactly like apps/api's server.ts) plus the bench's IPC hooks. The bench sets CHAT_PROVIDER=ollama,
 * OLLAMA_HOST=<its simulator>, CHAT_MODEL=sim-bench and DATABASE_PATH (a temp SQLite file, or ":memory:").
 */
import { buildServer, loadConfig } from "@streamchat/api";
import { builtinTools, prepareTools } from "@streamchat/core";
import { announceFailure, announceReady } from "./child-ipc.js";

try {
  const server = await buildServer({ config: loadConfig(process.env), webDistDir: null });
  const url = await server.listen();
  // The API starts the calculator's worker at start-up (about a second of CPU and ~50 MB): ready before the bench
  // measures, as the JIT warm-up is, so that no figure carries a one-time start.
  await prepareTools(builtinTools);
  announceReady(url, () => server.close());
} catch (error) {
  announceFailure(error);
}
