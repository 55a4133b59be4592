import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { collectRun, startTestApi, tokenText, types, type TestApi } from "../test-support/harness.js";
import { maxBatchSize } from "../trpc-http.js";

/**
 * Models without tool support chat (item: "gemma3 … does not support tools" on every message): the
 * capabilities reach models.list for the UI, and runs leave tools out for such models.
 */
describe("models without tools", () => {
  describe("on Ollama (the simulator's /api/show)", () => {
    let api: TestApi;
    beforeAll(async () => {
      api = await startTestApi();
    });
    afterAll(() => api?.close());

    it("models.list returns each model's capabilities", async () => {
      const { models } = await api.client().models.list.query();
      const capabilities = Object.fromEntries(models.map((m) => [m.name, m.capabilities]));
      expect(capabilities["gemma3"]).toEqual(["completion"]);
      expect(capabilities["llama3.2"]).toEqual(["completion", "tools"]);
      expect(capabilities["qwen3"]).toEqual(expect.arrayContaining(["tools", "thinking"]));
      const words = Object.fromEntries(models.map((m) => [m.name, m.capabilitiesInWords]));
      expect(words["qwen3"]).toEqual(["uses tools", "thinks", "40K context"]);
      expect(words["gemma3"]).toEqual(["128K context"]);
    });

    it("models.room: the window a new message may take, less the answer's reserve, the system message with the caller's instructions and the tools", async () => {
      const alice = api.client();
      const room = await alice.models.room.query({ model: "llama3.2" });
      // MAX_CONTEXT_TOKENS' default caps the model's 128K window; a quarter of it, at most 4096, stays for the answer.
      expect(room).toMatchObject({ limit: 32_768, reserve: 4096 });
      expect(room.room).toBe(32_768 - 4096 - room.fixedTokens);
      // The server's prompt and the three built-in tools' schemas.
      expect(room.fixedTokens).toBeGreaterThan(200);
      // A model without tools is sent none: only the system message is left.
      const gemma = await alice.models.room.query({ model: "gemma3" });
      expect(gemma.fixedTokens).toBeLessThan(room.fixedTokens);
      // The caller's custom instructions go into every run's system message.
      const instructions = "Answer in French, in short sentences, and always end with a question. ".repeat(40);
      await alice.settings.setInstructions.mutate({ instructions });
      try {
        const instructed = await alice.models.room.query({ model: "llama3.2" });
        expect(instructed.fixedTokens - room.fixedTokens).toBeGreaterThanOrEqual(Math.floor(instructions.trim().length / 4));
        // The default model when none is named.
        expect(await alice.models.room.query()).toEqual(await alice.models.room.query({ model: (await alice.models.list.query()).defaultModel }));
      } finally {
        await alice.settings.setInstructions.mutate({ instructions: "" });
      }
      // A model that does not say its window (unknown here) leaves no room to tell.
      const unknown = await alice.models.room.query({ model: "no-such-model" });
      expect([unknown.limit, unknown.room, unknown.reserve]).toEqual([undefined, undefined, 0]);
      await expect(alice.models.room.query({ model: "" })).rejects.toMatchObject({ data: { code: "BAD_REQUEST" } });
    });

    it("keeps the list a few seconds, reads it again on refresh and after a run (which loads a model)", async () => {
      const client = api.client();
      const tagReads = () => api.sim.requests.filter((r) => r.path === "/api/tags").length;
      await client.models.list.query({ refresh: true });
      const before = tagReads();
      await Promise.all([client.models.list.query(), client.models.list.query()]);
      expect(tagReads()).toBe(before);
      await client.models.list.query({ refresh: true });
      expect(tagReads()).toBe(before + 1);
      await client.chat.complete.mutate({ message: "hello", model: "gemma3" });
      const { models } = await client.models.list.query();
      expect(tagReads()).toBe(before + 2);
      expect(models.find((m) => m.name === "gemma3")?.loaded).toBe(true);
    });

    it("a batch of refreshes reads the list once, not once per call", async () => {
      const tagReads = () => api.sim.requests.filter((r) => r.path === "/api/tags").length;
      const before = tagReads();
      const n = maxBatchSize;
      const input = Object.fromEntries(Array.from({ length: n }, (_, i) => [i, { refresh: true }]));
      const res = await fetch(`${api.url}/trpc/${Array.from({ length: n }, () => "models.list").join(",")}?batch=1&input=${encodeURIComponent(JSON.stringify(input))}`);
      expect(res.status).toBe(200);
      const answers = (await res.json()) as Array<{ result: { data: { models: unknown[] } } }>;
      expect(answers).toHaveLength(n);
      for (const answer of answers) expect(answer.result.data.models.length).toBeGreaterThan(0);
      expect(tagReads() - before).toBeLessThanOrEqual(2);
      // A refresh after that one ended still reads anew.
      await api.client().models.list.query({ refresh: true });
      expect(tagReads() - before).toBeLessThanOrEqual(3);
      expect(tagReads()).toBeGreaterThan(before);
    });

    it("a gemma3 run answers without tools (tRPC and REST)", async () => {
      const client = api.client();
      const before = api.sim.chatRequests().length;
      const { runId } = await client.chat.send.mutate({ message: "What time is it in Tokyo?", model: "gemma3" });
      const received = await collectRun(client, runId);
      expect(types(received)).not.toContain("error");
      expect(received.at(-1)?.event).toMatchObject({ type: "done", reason: "stop" });
      expect(tokenText(received).length).toBeGreaterThan(0);

      const rest = await fetch(`${api.url}/api/chat`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ message: "hello", model: "gemma3" }),
      });
      expect(rest.status).toBe(200);
      const sent = api.sim.chatRequests().slice(before).map((r) => r.body as Record<string, unknown>);
      expect(sent.map((b) => [b["model"], b["tools"]])).toEqual([
        ["gemma3", undefined],
        ["gemma3", undefined],
      ]);
      // A model with tools still gets them.
      const tooled = await client.chat.send.mutate({ message: "hello", model: "llama3.2" });
      await collectRun(client, tooled.runId);
      expect((api.sim.chatRequests().at(-1)?.body as { tools?: unknown[] }).tools?.length).toBeGreaterThan(0);
    });
  });

  describe("on an OpenAI-compatible server that refuses tools", () => {
    let api: TestApi;
    beforeAll(async () => {
      api = await startTestApi({ env: (sim) => ({ CHAT_PROVIDER: "openai", OPENAI_BASE_URL: `${sim.url}/v1` }) });
    });
    afterAll(() => api?.close());

    it("answers after one retry without tools, then sends none for that model, and models.list shows tools off", async () => {
      const client = api.client();
      const before = api.sim.chatRequests().length;
      expect((await client.models.list.query()).models.find((m) => m.name === "gemma3")?.capabilities).toEqual(["tools"]);
      for (const message of ["What is 12 * 7?", "hello again"]) {
        const { runId } = await client.chat.send.mutate({ message, model: "gemma3" });
        const received = await collectRun(client, runId);
        expect(received.at(-1)?.event).toMatchObject({ type: "done", reason: "stop" });
        expect(types(received)).not.toContain("error");
      }
      const sent = api.sim.chatRequests().slice(before).map((r) => Array.isArray((r.body as { tools?: unknown }).tools));
      expect(sent).toEqual([true, false, false]);
      const { models } = await client.models.list.query();
      expect(models.find((m) => m.name === "gemma3")?.capabilities).toEqual([]);
      expect(models.find((m) => m.name === "llama3.2")?.capabilities).toEqual(["tools"]);
    });
  });
});

/**
 * LM Studio's /v1/models names its models only; its own /api/v1/models says which are loaded, with what window, and
 * which see images or only embed. A real HTTP server on loopback answers as LM Studio 0.4 does.
 */
describe("models on LM Studio", () => {
  let api: TestApi;
  let lmStudio: Server;
  beforeAll(async () => {
    const ids = ["qwen/qwen2.5-vl-7b", "google/gemma-3-12b", "text-embedding-nomic-embed-text-v1.5"];
    lmStudio = createServer((req, res) => {
      res.setHeader("content-type", "application/json");
      if (req.url === "/v1/models") return res.end(JSON.stringify({ object: "list", data: ids.map((id) => ({ id, object: "model", owned_by: "organization_owner" })) }));
      if (req.url === "/api/v1/models") {
        return res.end(
          JSON.stringify({
            models: [
              { type: "llm", key: ids[0], loaded_instances: [{ id: ids[0], config: { context_length: 4096 } }], max_context_length: 128_000, capabilities: { vision: true, trained_for_tool_use: true } },
              { type: "llm", key: ids[1], loaded_instances: [], max_context_length: 131_072, capabilities: { vision: false, trained_for_tool_use: false } },
              { type: "embedding", key: ids[2], loaded_instances: [], max_context_length: 2048 },
            ],
          }),
        );
      }
      res.statusCode = 404;
      res.end(JSON.stringify({ error: "Unexpected endpoint or method." }));
    });
    await new Promise<void>((resolve) => lmStudio.listen(0, "127.0.0.1", resolve));
    const { port } = lmStudio.address() as AddressInfo;
    api = await startTestApi({ env: { CHAT_PROVIDER: "openai", OPENAI_BASE_URL: `http://127.0.0.1:${port}/v1`, CHAT_MODEL: "qwen/qwen2.5-vl-7b" } });
  });
  afterAll(async () => {
    await api?.close();
    await new Promise((resolve) => lmStudio?.close(resolve));
  });

  it("models.list says what LM Studio's own list says; models.room measures against the window a model was loaded with", async () => {
    const client = api.client();
    const { models } = await client.models.list.query();
    expect(models.map((m) => [m.name, m.capabilities, m.unknownCapabilities, m.capabilitiesInWords, m.loaded])).toEqual([
      ["qwen/qwen2.5-vl-7b", ["tools", "vision"], undefined, ["sees images", "uses tools", "4K context"], true],
      ["google/gemma-3-12b", ["tools"], undefined, ["uses tools"], false],
      ["text-embedding-nomic-embed-text-v1.5", ["embedding"], undefined, ["embeddings"], false],
    ]);
    expect((await client.models.room.query({ model: "qwen/qwen2.5-vl-7b" })).limit).toBe(4096);
    // Not loaded: the window it will be loaded with is not known, so no room is claimed.
    expect((await client.models.room.query({ model: "google/gemma-3-12b" })).limit).toBeUndefined();
  });
});

/**
 * Without CHAT_MODEL the default was llama3.2 whatever the server had: on a machine without it, a first message without
 * a model answered "not installed". The default is now a model the server lists.
 */
describe("the default model without CHAT_MODEL", () => {
  it("is a model the server lists that can chat (not an embedding model) when it has no llama3.2; llama3.2 under its listed name when it has", async () => {
    const without = await startTestApi({
      env: { CHAT_MODEL: "" },
      sim: {
        models: [
          { name: "nomic-embed-text:latest", capabilities: ["embedding"] },
          { name: "qwen3:8b", capabilities: ["completion", "tools", "thinking"], contextLength: 40_960 },
        ],
      },
    });
    try {
      const client = without.client();
      expect((await client.models.list.query()).defaultModel).toBe("qwen3:8b");
      const { runId } = await client.chat.send.mutate({ message: "hello" });
      const received = await collectRun(client, runId);
      expect(received.at(-1)?.event).toMatchObject({ type: "done", reason: "stop" });
      expect(without.sim.chatRequests().at(-1)?.body).toMatchObject({ model: "qwen3:8b" });
    } finally {
      await without.close();
    }
    const withIt = await startTestApi({
      env: { CHAT_MODEL: "" },
      sim: { models: [{ name: "gemma3:latest", capabilities: ["completion"] }, { name: "llama3.2:latest", capabilities: ["completion", "tools"] }] },
    });
    try {
      expect((await withIt.client().models.list.query()).defaultModel).toBe("llama3.2:latest");
    } finally {
      await withIt.close();
    }
  });
});
