import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildServer, loadConfig, type ApiServer } from "@streamchat/api";
import type { Simulator } from "@streamchat/ollama-sim";

export interface TestApi {
  url: string;
  server: ApiServer;
  sim: Simulator;
  close(): Promise<void>;
}

/** The real API on 127.0.0.1:0 with the in-process simulator as its model server and SQLite in a temp dir. */
export async function startApi(env: Record<string, string> = {}): Promise<TestApi> {
  const dir = mkdtempSync(join(tmpdir(), "streamchat-client-"));
  const config = loadConfig({
    HOST: "127.0.0.1",
    PORT: "0",
    CHAT_PROVIDER: "sim",
    DATABASE_PATH: join(dir, "chat.db"),
    LOG_LEVEL: "silent",
    SHUTDOWN_GRACE_MS: "200",
    // The client's tests count the simulator's requests; a generated title would add one per conversation.
    GENERATE_TITLES: "0",
    ...env,
  });
  const server = await buildServer({ config, logger: false, simulator: { tokenDelayMs: 1 }, webDistDir: null });
  const url = await server.listen();
  const { sim } = server;
  if (!sim) throw new Error("CHAT_PROVIDER=sim should start the simulator");
  return {
    url,
    server,
    sim,
    async close() {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
