import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ChatEvent, EventOf } from "@streamchat/core";
import { everythingServer } from "@streamchat/mcp/test-support";
import { startSimulator, type Simulator } from "@streamchat/ollama-sim";
import { freshTestData } from "../test-support/backend.js";
import { eventually, makeClient, recordEvents, type ApiClient } from "../test-support/harness.js";
import { spawnApi, tempDir, type ChildApi } from "../test-support/reliability.js";

// A run that waits for approval of an MCP tool outlives its API process: `src/server.ts` as a child process with
// MCP_CONFIG naming the reference server from npm, stopped with SIGTERM (graceful: the run is suspended) or SIGKILL
// (nothing runs at all), then started again on the same data: the same runId/callId is approved and the same run
// finishes with the MCP tool's result. (In-process variants with more detail: src/runs/approval-restart.test.ts.)

let sim: Simulator;
let dir: string;
let configPath: string;
const children: ChildApi[] = [];

beforeAll(async () => {
  sim = await startSimulator({ tokenDelayMs: 1 });
  dir = tempDir();
  configPath = join(dir, "mcp.json");
  writeFileSync(configPath, JSON.stringify({ mcpServers: { every: { ...everythingServer(), requireApproval: ["echo"] } } }));
});
afterAll(async () => {
  for (const child of children) await child.kill("SIGKILL");
  await sim?.close();
});

const isRequest = (e: ChatEvent): e is EventOf<"approval-request"> => e.type === "approval-request";

async function connected(client: ApiClient): Promise<void> {
  await eventually(async () => (await client.tools.list.query()).servers.every((s) => s.state === "connected"), "the MCP server to connect", 60_000);
}

describe("approval across API process restarts (child processes, a real MCP server)", () => {
  it.each(["SIGTERM", "SIGKILL"] as const)(
    "%s while a run waits for approval: after the restart the same call is approved and the same run finishes",
    async (signal) => {
      const data = await freshTestData(mkdirSync(join(dir, signal), { recursive: true }) ?? join(dir, signal));
      const env = { CHAT_PROVIDER: "ollama", OLLAMA_HOST: sim.url, CHAT_MODEL: "demo", LOG_LEVEL: "info", MCP_CONFIG: configPath, ...data.env };
      const first = await spawnApi(env, 60_000);
      children.push(first);
      const client = makeClient(first.url);
      await connected(client);
      const { runId, conversationId } = await client.chat.send.mutate({ message: 'use the every__echo tool with {"message":"survives"}' });
      const events = recordEvents(client, runId);
      const request = (await events.waitFor(isRequest)).event as EventOf<"approval-request">;
      expect(request).toMatchObject({ name: "every__echo", source: "every", args: { message: "survives" } });
      await events.waitFor((e) => e.type === "status" && e.phase === "waiting");
      events.unsubscribe();
      await first.kill(signal);
      if (signal === "SIGTERM") expect(first.output()).toContain("runs waiting for approval suspended");

      const store = await data.openStore();
      try {
        expect(await store.getRun(runId)).toMatchObject({ status: "running" });
        expect((await store.readEvents(runId)).map((e) => e.event.type)).not.toContain("done");
      } finally {
        await store.close();
      }

      const second = await spawnApi(env, 60_000);
      children.push(second);
      const next = makeClient(second.url);
      const reloaded = recordEvents(next, runId);
      expect((await reloaded.waitFor(isRequest)).event).toEqual(request);
      await next.chat.approve.mutate({ runId, callId: request.callId, approved: true });
      const received = await reloaded.completed;
      const result = received.map((r) => r.event).find((e) => e.type === "tool-result");
      expect(result).toMatchObject({ callId: request.callId, name: "every__echo", ok: true });
      expect(received.filter((r) => r.event.type === "run-start")).toHaveLength(1);
      expect(received.at(-1)?.event).toMatchObject({ type: "done", reason: "stop" });
      const stored = await next.conversations.get.query({ conversationId });
      expect(stored.messages.map((m) => m.role)).toEqual(["user", "assistant", "tool", "assistant"]);
      expect(stored.messages[2]!.content.startsWith("Echo: survives")).toBe(true);
      expect(stored.runs).toEqual([expect.objectContaining({ id: runId, status: "done", reason: "stop" })]);
      await second.kill("SIGTERM");
    },
    180_000,
  );
});
