import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { freshTestData } from "./test-support/backend.js";
import { collectRun, makeClient, recordEvents, startTestApi, tokenText, types } from "./test-support/harness.js";

// The real entry point (src/server.ts via tsx) as a child process, so it can be killed like a real one.
const packageDir = fileURLToPath(new URL("..", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "streamchat-server-"));
const children = new Set<ChildProcess>();

afterAll(() => {
  for (const child of children) child.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

interface ServerProcess {
  child: ChildProcess;
  url: string;
  exited: Promise<number | null>;
}

/** Starts `src/server.ts` (tsx) with the built-in simulator; resolves once it logged its URL. */
async function startServerProcess(env: Record<string, string>): Promise<ServerProcess> {
  const child = spawn(process.execPath, ["--conditions=source", "--import", "tsx", "src/server.ts"], {
    cwd: packageDir,
    env: { ...process.env, HOST: "127.0.0.1", PORT: "0", CHAT_PROVIDER: "sim", LOG_LEVEL: "info", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.add(child);
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => {
      children.delete(child);
      resolve(code);
    }),
  );
  const url = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on("line", (line) => {
      try {
        const entry = JSON.parse(line) as { url?: string; msg?: string };
        if (entry.url && entry.msg?.includes("listening")) resolve(entry.url);
      } catch {
        // not a log line
      }
    });
    void exited.then((code) => reject(new Error(`server exited with ${code}: ${stderr}`)));
  });
  return { child, url, exited };
}

describe("server process", () => {
  it("closes a run killed mid-answer as interrupted after a restart", async () => {
    const data = await freshTestData(dir);
    const first = await startServerProcess(data.env);
    const client = makeClient(first.url);
    const { runId, conversationId } = await client.chat.send.mutate({ message: "drip please tokens:30", model: "sim-slow" });
    const live = recordEvents(client, runId);
    await live.waitFor((e) => e.type === "token" && e.text === "drip2 ");
    live.unsubscribe();
    first.child.kill("SIGKILL"); // no graceful shutdown: the run stays `running` in the database
    await first.exited;

    // Restart on the same database (in-process: one child process is enough to prove the crash part).
    const second = await startTestApi({ dir, data });
    try {
      const again = second.client();
      const replayed = await collectRun(again, runId);
      const kinds = types(replayed);
      expect(kinds.slice(0, 2)).toEqual(["run-start", "status"]);
      expect(kinds.slice(-2)).toEqual(["error", "done"]);
      expect(replayed.at(-2)?.event).toMatchObject({ type: "error", code: "interrupted" });
      expect(replayed.at(-1)?.event).toMatchObject({ type: "done", reason: "interrupted" });
      // Events are committed every few ms: what survived is what the client saw, perhaps minus the last.
      const survived = tokenText(replayed);
      expect(survived.length).toBeGreaterThan(0);
      expect(tokenText(live.received).startsWith(survived)).toBe(true);
      // Consecutive ids up to the crash; the closing events skip past any seq the crash may have lost.
      const ids = replayed.map((r) => Number(r.id));
      expect(ids.slice(0, -2)).toEqual(ids.slice(0, -2).map((_, i) => i + 1));
      expect(ids.at(-2)).toBeGreaterThan(Number(live.received.at(-1)?.id));
      expect(ids.at(-1)).toBe((ids.at(-2) ?? 0) + 1);

      const conversation = await again.conversations.get.query({ conversationId });
      expect(conversation.runs).toEqual([expect.objectContaining({ id: runId, status: "done", reason: "interrupted" })]);
      expect(conversation.messages.map((m) => [m.role, m.content])).toEqual([
        ["user", "drip please tokens:30"],
        ["assistant", survived],
      ]);
      expect(conversation.activeRunId).toBeNull();
    } finally {
      await second.close();
    }
  });
});
