import type { ServerResponse } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { runChat } from "../run.js";
import { collect } from "../test-support/recorder.js";
import { startHttpServer, writeSse, type SeenRequest, type TestServer } from "../test-support/http.js";
import { createOpenAIModel } from "./openai.js";

const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

/** A real HTTP server answering GETs from `routes` (path with its query → body; a number is a bare status). */
async function serve(routes: Record<string, unknown>, onPost?: (req: SeenRequest, res: ServerResponse) => void): Promise<TestServer> {
  const server = await startHttpServer((req, res) => {
    if (req.method === "POST" && onPost) return onPost(req, res);
    const route = routes[req.path];
    if (route === undefined) return json(res, 404, { error: "Unexpected endpoint or method." });
    if (typeof route === "number") return json(res, route, { error: `status ${route}` });
    json(res, 200, route);
  });
  servers.push(server);
  return server;
}

const paths = (server: TestServer) => server.requests.map((r) => r.path);

describe("llama.cpp's /props", () => {
  const listed = { object: "list", data: [{ id: "qwen3-8b.gguf", object: "model", owned_by: "llamacpp", meta: { n_ctx_train: 40_960 } }] };

  it("gives the window the server runs with (not the training context) and whether it sees images", async () => {
    const server = await serve({ "/v1/models": listed, "/props": { default_generation_settings: { n_ctx: 8192 }, total_slots: 1, modalities: { vision: true, audio: false } } });
    const m = createOpenAIModel({ baseUrl: `${server.url}/v1` });
    expect(await m.listModels!()).toEqual([{ name: "qwen3-8b.gguf", capabilities: ["tools", "vision"], contextLength: 8192, loaded: true }]);
    expect(await m.capabilities!("qwen3-8b.gguf")).toEqual({ tools: undefined, thinking: undefined, vision: true, contextLength: 8192 });
    expect(paths(server)).toEqual(["/v1/models", "/props"]);
  });

  it("an older build without modalities leaves images unknown; without /props the list's training context stays", async () => {
    const older = await serve({ "/v1/models": listed, "/props": { default_generation_settings: { n_ctx: 4096 } } });
    expect(await createOpenAIModel({ baseUrl: `${older.url}/v1` }).listModels!()).toEqual([
      { name: "qwen3-8b.gguf", capabilities: ["tools"], unknownCapabilities: ["vision"], contextLength: 4096, loaded: true },
    ]);
    const without = await serve({ "/v1/models": listed });
    expect(await createOpenAIModel({ baseUrl: `${without.url}/v1` }).listModels!()).toEqual([
      { name: "qwen3-8b.gguf", capabilities: ["tools"], unknownCapabilities: ["vision"], contextLength: 40_960 },
    ]);
  });

  it("a template with enable_thinking (Qwen3) makes thinking a switch: think goes as chat_template_kwargs, a level as on", async () => {
    const qwen3Template = "{%- if enable_thinking is defined and enable_thinking is false %}{{- '<think>\\n\\n</think>\\n\\n' }}{%- endif %}";
    const server = await serve(
      { "/v1/models": listed, "/props": { default_generation_settings: { n_ctx: 8192 }, chat_template: qwen3Template } },
      (_req, res) => writeSse(res, [{ choices: [{ index: 0, delta: { content: "Hi." }, finish_reason: "stop" }] }, "[DONE]"]),
    );
    const m = createOpenAIModel({ baseUrl: `${server.url}/v1` });
    expect((await m.listModels!())[0]?.capabilities).toEqual(["tools", "thinking"]);
    expect(await m.capabilities!("qwen3-8b.gguf")).toMatchObject({ thinking: true, thinkLevels: false });
    const messages = [{ role: "user" as const, content: "Hello" }];
    for (const think of [false, true, "high"] as const) {
      await collect(runChat({ model: m, modelName: "qwen3-8b.gguf", conversationId: "c", runId: `r-${think}`, messages, think }));
    }
    const sent = server.requests.filter((r) => r.method === "POST").map((r) => r.body as Record<string, unknown>);
    expect(sent.map((b) => [b["chat_template_kwargs"], b["reasoning_effort"]])).toEqual([
      [{ enable_thinking: false }, undefined],
      [{ enable_thinking: true }, undefined],
      [{ enable_thinking: true }, undefined],
    ]);
    // A template without the switch: on/off is not sent (no portable field), a level goes as reasoning_effort.
    const plain = await serve(
      { "/v1/models": listed, "/props": { default_generation_settings: { n_ctx: 8192 }, chat_template: "{{ messages }}" } },
      (_req, res) => writeSse(res, [{ choices: [{ index: 0, delta: { content: "Hi." }, finish_reason: "stop" }] }, "[DONE]"]),
    );
    const p = createOpenAIModel({ baseUrl: `${plain.url}/v1` });
    expect((await p.listModels!())[0]?.capabilities).toEqual(["tools"]);
    for (const think of [false, "high"] as const) {
      await collect(runChat({ model: p, modelName: "qwen3-8b.gguf", conversationId: "c", runId: `p-${think}`, messages, think }));
    }
    const plainSent = plain.requests.filter((r) => r.method === "POST").map((r) => r.body as Record<string, unknown>);
    expect(plainSent.map((b) => [b["chat_template_kwargs"], b["reasoning_effort"]])).toEqual([
      [undefined, undefined],
      [undefined, "high"],
    ]);
  });

  it("gives the temperature, top P and seed a request without its own gets, as the server was set (float noise and a random seed left out)", async () => {
    // Today's shape: the settings under `params`, 32-bit floats printed as doubles; seed 4294967295 is "random".
    const params = { n_predict: -1, seed: 4294967295, temperature: 0.800000011920929, top_k: 40, top_p: 0.949999988079071, min_p: 0.05000000074505806 };
    const server = await serve({ "/v1/models": listed, "/props": { default_generation_settings: { n_ctx: 8192, params } } });
    const [model] = await createOpenAIModel({ baseUrl: `${server.url}/v1` }).listModels!();
    expect(model?.samplingDefaults).toEqual({ temperature: 0.8, topP: 0.95 });
    // Older builds had them at the top level; a fixed seed (--seed 42) is the model's own.
    const older = await serve({ "/v1/models": listed, "/props": { default_generation_settings: { n_ctx: 4096, temperature: 0.699999988079071, top_p: 1, seed: 42 } } });
    expect((await createOpenAIModel({ baseUrl: `${older.url}/v1` }).listModels!())[0]?.samplingDefaults).toEqual({ temperature: 0.7, topP: 1, seed: 42 });
    // Values a conversation could not set, or not numbers, are not shown; none at all leaves the field out.
    const odd = await serve({ "/v1/models": listed, "/props": { default_generation_settings: { n_ctx: 4096, params: { temperature: 3, top_p: "0.9", seed: -1 } } } });
    expect((await createOpenAIModel({ baseUrl: `${odd.url}/v1` }).listModels!())[0]).not.toHaveProperty("samplingDefaults");
  });

  it("in router mode asks only of loaded models, without loading any", async () => {
    const server = await serve({
      "/v1/models": {
        data: [
          { id: "gemma-3-4b", owned_by: "llamacpp", status: { value: "loaded", args: ["--mmproj", "mmproj.gguf"] } },
          { id: "qwen3-8b", owned_by: "llamacpp", status: { value: "unloaded" }, meta: { n_ctx_train: 40_960 } },
        ],
      },
      "/props?model=gemma-3-4b&autoload=false": { default_generation_settings: { n_ctx: 16_384 }, modalities: { vision: true } },
    });
    const models = await createOpenAIModel({ baseUrl: `${server.url}/v1/` }).listModels!();
    expect(models.map((x) => [x.name, x.contextLength, x.loaded, x.capabilities])).toEqual([
      ["gemma-3-4b", 16_384, true, ["tools", "vision"]],
      ["qwen3-8b", 40_960, false, ["tools"]],
    ]);
    expect(paths(server)).toEqual(["/v1/models", "/props?model=gemma-3-4b&autoload=false"]);
  });
});

describe("LM Studio's own model list", () => {
  const openaiList = {
    object: "list",
    data: ["qwen/qwen2.5-vl-7b", "google/gemma-3-12b", "text-embedding-nomic-embed-text-v1.5"].map((id) => ({ id, object: "model", owned_by: "organization_owner" })),
  };
  const v1 = {
    models: [
      {
        type: "llm",
        publisher: "qwen",
        key: "qwen/qwen2.5-vl-7b",
        display_name: "Qwen2.5 VL 7B",
        architecture: "qwen2vl",
        quantization: { name: "Q4_K_M", bits_per_weight: 4 },
        size_bytes: 6_000_000_000,
        params_string: "7B",
        loaded_instances: [{ id: "qwen/qwen2.5-vl-7b", config: { context_length: 4096, flash_attention: false } }],
        max_context_length: 128_000,
        format: "gguf",
        capabilities: { vision: true, trained_for_tool_use: true },
      },
      {
        type: "llm",
        key: "google/gemma-3-12b",
        architecture: "gemma3",
        quantization: { name: "Q4_0", bits_per_weight: 4 },
        size_bytes: 8_000_000_000,
        params_string: "12B",
        loaded_instances: [],
        max_context_length: 131_072,
        capabilities: { vision: false, trained_for_tool_use: false },
      },
      { type: "embedding", key: "text-embedding-nomic-embed-text-v1.5", quantization: { name: "F16", bits_per_weight: 16 }, size_bytes: 274_290_560, params_string: null, loaded_instances: [], max_context_length: 2048 },
    ],
  };

  it("/api/v1/models: the window a loaded model got, images, loaded state and details; embedding models are not chat models", async () => {
    const server = await serve({ "/v1/models": openaiList, "/api/v1/models": v1 });
    const m = createOpenAIModel({ baseUrl: `${server.url}/v1` });
    expect(await m.listModels!()).toEqual([
      { name: "qwen/qwen2.5-vl-7b", capabilities: ["tools", "vision"], family: "qwen2vl", parameterSize: "7B", quantization: "Q4_K_M", sizeBytes: 6_000_000_000, contextLength: 4096, loaded: true },
      // Not loaded: its window is only known once LM Studio loads it (its maximum, 131,072, is not what it gets).
      { name: "google/gemma-3-12b", capabilities: ["tools"], family: "gemma3", parameterSize: "12B", quantization: "Q4_0", sizeBytes: 8_000_000_000, loaded: false },
      { name: "text-embedding-nomic-embed-text-v1.5", capabilities: ["embedding"], quantization: "F16", sizeBytes: 274_290_560, loaded: false },
    ]);
    expect(await m.capabilities!("qwen/qwen2.5-vl-7b")).toMatchObject({ vision: true, contextLength: 4096 });
    expect(paths(server)).toEqual(["/v1/models", "/api/v1/models"]);
  });

  it("an older LM Studio (/api/v0/models): images from the type and the loaded state", async () => {
    const server = await serve({
      "/v1/models": openaiList,
      "/api/v0/models": {
        object: "list",
        data: [
          { id: "qwen/qwen2.5-vl-7b", object: "model", type: "vlm", arch: "qwen2_vl", quantization: "4bit", state: "loaded", max_context_length: 32_768 },
          { id: "google/gemma-3-12b", object: "model", type: "llm", arch: "gemma3", quantization: "Q4_0", state: "not-loaded", max_context_length: 131_072 },
          { id: "text-embedding-nomic-embed-text-v1.5", object: "model", type: "embeddings", state: "not-loaded", max_context_length: 2048 },
        ],
      },
    });
    const models = await createOpenAIModel({ baseUrl: `${server.url}/v1` }).listModels!();
    expect(models.map((x) => [x.name, x.capabilities, x.unknownCapabilities, x.loaded, x.family, x.contextLength])).toEqual([
      ["qwen/qwen2.5-vl-7b", ["tools", "vision"], undefined, true, "qwen2_vl", undefined],
      ["google/gemma-3-12b", ["tools"], undefined, false, "gemma3", undefined],
      ["text-embedding-nomic-embed-text-v1.5", ["embedding"], undefined, false, undefined, undefined],
    ]);
    expect(paths(server)).toEqual(["/v1/models", "/api/v1/models", "/api/v0/models"]);
  });

  it("a list with a model not loaded is read again after 30 s, so the window it was loaded with is known", async () => {
    let loadedWindow: number | undefined;
    const server = await startHttpServer((req, res) => {
      if (req.path === "/v1/models") return json(res, 200, { data: [{ id: "google/gemma-3-12b", owned_by: "organization_owner" }] });
      const instances = loadedWindow ? [{ id: "google/gemma-3-12b", config: { context_length: loadedWindow } }] : [];
      json(res, 200, { models: [{ ...v1.models[1], loaded_instances: instances }] });
    });
    servers.push(server);
    let clock = 0;
    const m = createOpenAIModel({ baseUrl: `${server.url}/v1`, now: () => clock });
    expect((await m.capabilities!("google/gemma-3-12b")).contextLength).toBeUndefined();
    loadedWindow = 8192; // its first request loaded it
    clock += 29_000;
    expect((await m.capabilities!("google/gemma-3-12b")).contextLength).toBeUndefined();
    clock += 1_001;
    expect((await m.capabilities!("google/gemma-3-12b")).contextLength).toBe(8192);
    // Loaded, the list holds for the usual 5 minutes.
    const reads = server.requests.length;
    clock += 60_000;
    await m.capabilities!("google/gemma-3-12b");
    expect(server.requests).toHaveLength(reads);
  });

  // ~4,000 tokens a message: two of them cannot fit in 4,096.
  const long = "word ".repeat(4000);
  const longHistory = [
    { role: "user" as const, content: `First: ${long}` },
    { role: "assistant" as const, content: `Answer: ${long}` },
    { role: "user" as const, content: "And now?" },
  ];
  const short = (res: ServerResponse) => writeSse(res, [{ choices: [{ index: 0, delta: { content: "Short." }, finish_reason: "stop" }] }, "[DONE]"]);

  /** LM Studio with google/gemma-3-12b not loaded until a chat request loads it with `window` (just-in-time); `chat` answers. */
  async function loadedOnFirstChat(window: number, chat: (req: SeenRequest, res: ServerResponse) => void): Promise<TestServer> {
    let loaded = false;
    const server = await startHttpServer((req, res) => {
      if (req.path === "/v1/models") return json(res, 200, { data: [{ id: "google/gemma-3-12b", owned_by: "organization_owner" }] });
      if (req.path === "/api/v1/models") {
        const instances = loaded ? [{ id: "google/gemma-3-12b", config: { context_length: window } }] : [];
        return json(res, 200, { models: [{ ...v1.models[1], loaded_instances: instances }] });
      }
      loaded = true;
      chat(req, res);
    });
    servers.push(server);
    return server;
  }

  it("a run on a model not loaded says it is loading (LM Studio loads it for the request); once it answered, the list is read again", async () => {
    const server = await loadedOnFirstChat(8192, (_req, res) => writeSse(res, [{ choices: [{ index: 0, delta: { content: "Hi." }, finish_reason: "stop" }] }, "[DONE]"]));
    const m = createOpenAIModel({ baseUrl: `${server.url}/v1` });
    const run = (runId: string) => collect(runChat({ model: m, modelName: "google/gemma-3-12b", conversationId: "c", runId, messages: [{ role: "user", content: "Hello" }] }));
    const first = await run("r1");
    expect(first.shapes).toContain('status:Loading google/gemma-3-12b…');
    expect(first.shapes.at(-1)).toBe("done:stop");
    const second = await run("r2");
    expect(second.shapes.filter((shape) => shape.startsWith("status:Loading"))).toEqual([]);
    expect(await m.capabilities!("google/gemma-3-12b")).toMatchObject({ contextLength: 8192 });
    expect(server.requests.map((r) => r.path)).toEqual(["/v1/models", "/api/v1/models", "/v1/chat/completions", "/v1/models", "/api/v1/models", "/v1/chat/completions"]);
  });

  it("a prompt refused without its size by a model loaded for it: the list is read again and the round goes cut to the window it got", async () => {
    const server = await loadedOnFirstChat(4096, (req, res) => {
      const tokens = Math.ceil(JSON.stringify((req.body as { messages: unknown }).messages).length / 4);
      if (tokens > 4096) return json(res, 400, { error: "The number of tokens to keep from the initial prompt is greater than the context length. Try to load the model with a larger context length, or provide a shorter input" });
      short(res);
    });
    const m = createOpenAIModel({ baseUrl: `${server.url}/v1` });
    const { events, shapes } = await collect(runChat({ model: m, modelName: "google/gemma-3-12b", conversationId: "c", runId: "r", messages: longHistory }));
    expect(shapes.at(-1)).toBe("done:stop");
    expect(events.find((e) => e.type === "status" && e.contextTrimmed)).toMatchObject({ contextTrimmed: { droppedMessages: 2 } });
    expect(server.requests.filter((r) => r.method === "POST").map((r) => (r.body as { messages: unknown[] }).messages.length)).toEqual([3, 1]);
  });

  it("a run on a model loaded with a small window keeps the conversation within it", async () => {
    const server = await serve(
      {
        "/v1/models": { data: [{ id: "google/gemma-3-12b", owned_by: "organization_owner" }] },
        "/api/v1/models": { models: [{ ...v1.models[1], loaded_instances: [{ id: "google/gemma-3-12b", config: { context_length: 4096 } }] }] },
      },
      (_req, res) => short(res),
    );
    const m = createOpenAIModel({ baseUrl: `${server.url}/v1` });
    const { events, shapes } = await collect(runChat({ model: m, modelName: "google/gemma-3-12b", conversationId: "c", runId: "r", messages: longHistory }));
    expect(shapes.at(-1)).toBe("done:stop");
    expect(events.some((e) => e.type === "status" && e.contextTrimmed !== undefined)).toBe(true);
    const sent = server.requests.find((r) => r.method === "POST")?.body as { messages: Array<{ content: string }> };
    expect(sent.messages.map((x) => x.content)).toEqual(["And now?"]);
  });
});

describe("servers without an API of their own", () => {
  it("are asked nothing more than /v1/models (vLLM's list, a base URL without /v1)", async () => {
    const vllm = await serve({ "/v1/models": { data: [{ id: "Qwen/Qwen3-8B", owned_by: "vllm", max_model_len: 32_768 }] } });
    expect((await createOpenAIModel({ baseUrl: `${vllm.url}/v1` }).listModels!()).map((x) => x.contextLength)).toEqual([32_768]);
    expect(paths(vllm)).toEqual(["/v1/models"]);
    const proxied = await serve({ "/openai/models": { data: [{ id: "local", owned_by: "llamacpp" }] }, "/props": { default_generation_settings: { n_ctx: 2048 } } });
    expect((await createOpenAIModel({ baseUrl: `${proxied.url}/openai` }).listModels!()).map((x) => x.contextLength)).toEqual([undefined]);
    expect(paths(proxied)).toEqual(["/openai/models"]);
  });
});
