/**
 * `startSimulator`: a real node:http server speaking Ollama's wire protocol (and the OpenAI-compatible /v1 one),
 * answering from scenarios. Route order for a chat request: controlled streams, custom scenarios, then the
 * built-ins (fault model by name, model lookup and capability checks, `[sim:x]` tag), then the demo model.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { respondDemo } from "./demo-model.js";
import { hasImages } from "./messages.js";
import { baseName, defaultModels, ModelCatalog, traitsOf } from "./models.js";
import { ChatResponder, sleep } from "./responder.js";
import { defaultMaxRecordedBodyBytes, defaultMaxRecordedRequests, RequestLog } from "./request-log.js";
import { answerLimitOf, limitedTo } from "./answer-limit.js";
import { continuing, prefillOf } from "./prefill.js";
import { RequestRepeats } from "./request-repeats.js";
import { matches, modelScenario, taggedScenario } from "./scenarios.js";
import type { ControlledStream, RecordedRequest, Scenario, SimChatRequest, SimChunk, SimulatorOptions, Simulator } from "./types.js";
import { fitPrompt, ResponseMeter, type WireEncoder } from "./wire-common.js";
import { createOllamaEncoder } from "./wire-ollama.js";
import { createOpenAIEncoder } from "./wire-openai.js";

/**
 * Sent with /api/version: tells whoever talks to this server that it is the simulator and not Ollama (the API labels
 * its answers as the demo's). Clients of Ollama ignore it.
 */
export const simulatorHeader = "x-ollama-simulator";

/** The Ollama version /api/version reports (tool-call ids and tool_call_id exist since 0.12.10). */
export const simulatedOllamaVersion = "0.12.10";
const maxBodyBytes = 32 * 1024 * 1024;

/** An OpenAI-compatible body's sampling fields and the Ollama options they become. */
const openaiSamplingFields = [
  ["temperature", "temperature"],
  ["top_p", "top_p"],
  ["seed", "seed"],
] as const;

type Wire = "ollama" | "openai";

class BadRequest extends Error {}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "Content-Type": "application/json; charset=utf-8", "Content-Length": Buffer.byteLength(text) });
  res.end(text);
}

function sendText(res: ServerResponse, status: number, text: string, method: string): void {
  res.writeHead(status, { "Content-Type": "text/plain; charset=utf-8", "Content-Length": Buffer.byteLength(text) });
  res.end(method === "HEAD" ? undefined : text);
}

async function readBody(req: IncomingMessage): Promise<{ text: string; bytes: number }> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const part of req as AsyncIterable<Buffer>) {
    size += part.length;
    if (size > maxBodyBytes) throw new BadRequest("request body too large");
    parts.push(part);
  }
  return { text: Buffer.concat(parts).toString("utf8"), bytes: size };
}

function wantsThinking(think: unknown): boolean {
  return think === true || (typeof think === "string" && think !== "" && think !== "false");
}

const defaultKeepAliveMs = 5 * 60_000;
const goDurationPart = /([+-]?(?:\d+(?:\.\d*)?|\.\d+))(ns|us|µs|ms|s|m|h)/g;
const unitMs: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Ollama's keep_alive: seconds as a number, or a Go duration; negative = forever, 0 = unload at once. */
export function keepAliveMs(value: unknown): number {
  if (typeof value === "number" && Number.isFinite(value)) return value < 0 ? Infinity : value * 1000;
  if (typeof value === "string" && value.trim() !== "") {
    const text = value.trim();
    if (/^[+-]?\d+(\.\d+)?$/.test(text)) return keepAliveMs(Number(text));
    let ms = 0;
    let matched = "";
    for (const m of text.matchAll(goDurationPart)) {
      ms += Number(m[1]) * (unitMs[m[2] ?? "s"] ?? 1000);
      matched += m[0];
    }
    if (matched === text) return text.startsWith("-") ? Infinity : ms;
  }
  return defaultKeepAliveMs;
}

class ControlHandle implements ControlledStream {
  readonly connected: Promise<RecordedRequest>;
  readonly closedByClient: Promise<void>;
  private resolveConnected!: (r: RecordedRequest) => void;
  private resolveClosed!: () => void;
  private responder: Promise<ChatResponder>;
  private attachResponder!: (r: ChatResponder) => void;
  /** Pushes run one after the other, in call order, even when the test does not await each. */
  private queue: Promise<void> = Promise.resolve();

  private attached = false;

  constructor(
    readonly match: Scenario["match"],
    private readonly withdraw: (handle: ControlHandle) => void,
  ) {
    this.connected = new Promise((resolve) => (this.resolveConnected = resolve));
    this.closedByClient = new Promise((resolve) => (this.resolveClosed = resolve));
    this.responder = new Promise((resolve) => (this.attachResponder = resolve));
  }

  attach(responder: ChatResponder, record: RecordedRequest): void {
    this.attached = true;
    void responder.closedByClient.then(this.resolveClosed);
    this.attachResponder(responder);
    this.resolveConnected(record);
  }

  push(chunk: SimChunk): Promise<void> {
    return this.enqueue((r) => r.write(chunk));
  }

  /** Before any request took the stream, end() withdraws it: no later request will be controlled by it. */
  end(): Promise<void> {
    if (!this.attached) {
      this.withdraw(this);
      return this.queue;
    }
    return this.enqueue((r) => r.cut());
  }

  private enqueue(step: (r: ChatResponder) => Promise<void> | void): Promise<void> {
    this.queue = this.queue.then(async () => step(await this.responder));
    return this.queue;
  }
}

export async function startSimulator(opts: SimulatorOptions = {}): Promise<Simulator> {
  const host = opts.host ?? "127.0.0.1";
  const baseCtx = { tokenDelayMs: opts.tokenDelayMs ?? 20 };
  const repeats = new RequestRepeats();
  const catalog = new ModelCatalog(opts.models ?? defaultModels);
  let scenarios: Scenario[] = [...(opts.scenarios ?? [])];
  const controls: ControlHandle[] = [];
  const log = new RequestLog({
    maxEntries: opts.maxRecordedRequests ?? defaultMaxRecordedRequests,
    maxBodyBytes: opts.maxRecordedBodyBytes ?? defaultMaxRecordedBodyBytes,
  });
  const requests = log.entries;
  const sockets = new Set<Socket>();
  const active = new Set<ChatResponder>();
  const loadDelayMs = opts.loadDelayMs ?? 0;
  const defaultNumCtx = opts.defaultNumCtx ?? 4096;
  /** Loaded models by base name: when they unload and the window they run with (only used when loadDelayMs > 0). */
  const loaded = new Map<string, { expiresAt: number; numCtx: number }>();
  /** The window each model last ran with (for /api/ps when every model is always loaded). */
  const lastNumCtx = new Map<string, number>();
  const loadedEntries = () => {
    if (loadDelayMs === 0) {
      const forever = Number.POSITIVE_INFINITY;
      return catalog.all().map((m) => ({ name: m.name, expiresAt: forever, numCtx: lastNumCtx.get(baseName(m.name)) ?? defaultNumCtx }));
    }
    const now = Date.now();
    return [...loaded].filter(([, e]) => e.expiresAt > now).map(([name, e]) => ({ name, ...e }));
  };
  let nextId = 1;
  let closing = false;

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      // never leak internals to the client; a half-written response is cut
      if (!res.headersSent) sendJson(res, 500, { error: "internal simulator error" });
      else res.destroy();
    });
  });
  // Node's default 5 s keep-alive races clients that reuse a pooled connection just as it is closed
  // (undici: "other side closed"). Ollama's Go server keeps idle connections far longer; so do we.
  // headersTimeout must exceed keepAliveTimeout or Node cuts idle sockets early.
  server.keepAliveTimeout = opts.keepAliveTimeoutMs ?? 65_000;
  server.headersTimeout = Math.max(60_000, server.keepAliveTimeout + 1_000);
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });

  function isLoaded(key: string, numCtx: number): boolean {
    const entry = loaded.get(key);
    // Ollama reloads a model to change its context window.
    return entry !== undefined && entry.expiresAt > Date.now() && entry.numCtx === numCtx;
  }

  /** The model stays loaded for keep_alive after the request ends (0: unloaded as soon as it ends). */
  function markLoaded(key: string, numCtx: number, keepAlive: unknown, record: RecordedRequest): void {
    const ms = keepAliveMs(keepAlive);
    lastNumCtx.set(key, numCtx);
    loaded.set(key, { expiresAt: Number.POSITIVE_INFINITY, numCtx });
    void record.finished.then(() => {
      const entry = loaded.get(key);
      if (!entry || entry.numCtx !== numCtx) return;
      if (ms <= 0) loaded.delete(key);
      else loaded.set(key, { expiresAt: Date.now() + ms, numCtx });
    });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? "GET";
    const path = new URL(req.url ?? "/", "http://sim").pathname;
    let markFinished!: () => void;
    const record: RecordedRequest = {
      id: nextId++,
      method,
      path,
      body: undefined,
      bodyBytes: 0,
      startedAt: Date.now(),
      clientClosedEarly: false,
      finished: new Promise((resolve) => (markFinished = resolve)),
    };
    log.add(record);
    let responder: ChatResponder | undefined;
    res.on("close", () => {
      record.clientClosedEarly = !res.writableFinished && !closing && !(responder?.destroyedByUs ?? false);
      if (responder) active.delete(responder);
      markFinished();
    });

    let text = "";
    let bytes = 0;
    if (method === "POST" || method === "PUT") {
      try {
        ({ text, bytes } = await readBody(req));
      } catch (err) {
        if (err instanceof BadRequest) return sendJson(res, 413, { error: err.message });
        return; // the client went away while sending
      }
    }
    let body: unknown;
    let badJson: string | undefined;
    if (text) {
      try {
        body = JSON.parse(text);
      } catch (err) {
        badJson = err instanceof Error ? err.message : "invalid JSON";
        body = text;
      }
    }
    log.setBody(record, body, bytes);

    const route = `${method === "HEAD" ? "GET" : method} ${path}`;
    switch (route) {
      case "GET /":
        return sendText(res, 200, "Ollama is running", method);
      case "GET /api/version":
        // Ollama's body, and a header Ollama never sends: an API pointed at this server says it is the simulator.
        res.setHeader(simulatorHeader, "1");
        return sendJson(res, 200, { version: simulatedOllamaVersion });
      case "GET /api/tags":
        return sendJson(res, 200, catalog.tags());
      case "GET /api/ps":
        return sendJson(res, 200, catalog.ps(loadedEntries()));
      case "GET /v1/models":
        return sendJson(res, 200, catalog.openAIModels());
      case "POST /api/show": {
        if (badJson !== undefined) return sendJson(res, 400, { error: badJson });
        const b = (body ?? {}) as Record<string, unknown>;
        const name = b["model"] ?? b["name"];
        if (typeof name !== "string" || name === "") return sendJson(res, 400, { error: "model is required" });
        const model = catalog.find(name);
        if (!model) return sendJson(res, 404, { error: `model '${name}' not found` });
        return sendJson(res, 200, catalog.show(model));
      }
      case "POST /api/chat":
      case "POST /v1/chat/completions": {
        const wire: Wire = path === "/api/chat" ? "ollama" : "openai";
        responder = await chat(res, record, wire, body, badJson);
        return;
      }
      default: {
        const known = ["/", "/api/version", "/api/tags", "/api/ps", "/v1/models", "/api/show", "/api/chat", "/v1/chat/completions"];
        if (known.includes(path)) return sendText(res, 405, "405 method not allowed", method);
        return sendText(res, 404, "404 page not found", method);
      }
    }
  }

  /** Answers one chat request; returns the responder when a 200 answer started. */
  async function chat(res: ServerResponse, record: RecordedRequest, wire: Wire, body: unknown, badJson: string | undefined): Promise<ChatResponder | undefined> {
    const fail = (enc: WireEncoder | undefined, status: number, message: string) => {
      sendJson(res, status, enc ? enc.errorBody(status, message) : wire === "ollama" ? { error: message } : { error: { message, type: "invalid_request_error", param: null, code: null } });
      return undefined;
    };
    if (badJson !== undefined) return fail(undefined, 400, badJson);
    if (!body || typeof body !== "object" || Array.isArray(body)) return fail(undefined, 400, "request body must be a JSON object");
    const b = body as Record<string, unknown>;
    if (typeof b["model"] !== "string" || b["model"] === "") return fail(undefined, 400, "model is required");
    if (b["messages"] !== undefined && !Array.isArray(b["messages"])) return fail(undefined, 400, "messages must be an array");

    const simReq: SimChatRequest = {
      model: b["model"],
      messages: ((b["messages"] as unknown[] | undefined) ?? []).filter((m): m is Record<string, unknown> => !!m && typeof m === "object"),
      wire,
      // Ollama streams unless told not to; OpenAI answers in one body unless told to stream
      stream: wire === "ollama" ? b["stream"] !== false : b["stream"] === true,
    };
    if (Array.isArray(b["tools"])) simReq.tools = b["tools"];
    // Ollama's /v1 reads reasoning_effort as its think level.
    const think = b["think"] ?? (wire === "openai" && typeof b["reasoning_effort"] === "string" ? b["reasoning_effort"] : undefined);
    if (typeof think === "boolean" || typeof think === "string") simReq.think = think;
    if (b["options"] && typeof b["options"] === "object") simReq.options = b["options"] as Record<string, unknown>;
    // Ollama's /v1 takes an OpenAI-compatible request's sampling fields into the options its runner reads.
    if (wire === "openai") {
      const sampling = Object.fromEntries(openaiSamplingFields.filter(([field]) => b[field] !== undefined).map(([field, option]) => [option, b[field]]));
      if (Object.keys(sampling).length > 0) simReq.options = { ...simReq.options, ...sampling };
    }

    // The context window, and the prompt cut to fit it as Ollama does (prompt_eval_count reports the rest).
    const known = catalog.find(simReq.model);
    const askedNumCtx = simReq.options?.["num_ctx"];
    let numCtx = typeof askedNumCtx === "number" && Number.isInteger(askedNumCtx) && askedNumCtx > 0 ? askedNumCtx : defaultNumCtx;
    if (known) numCtx = Math.min(numCtx, traitsOf(known).contextLength); // Ollama caps it at the trained length
    const fitted = fitPrompt(simReq.messages, simReq.tools ?? [], numCtx);
    record.prompt = { numCtx, tokens: fitted.tokens, droppedMessages: fitted.droppedMessages, truncated: fitted.truncated };
    simReq.messages = fitted.messages;
    const modelKey = baseName(simReq.model);
    const cold = loadDelayMs > 0 && known !== undefined && !isLoaded(modelKey, numCtx);

    const meter = new ResponseMeter(fitted.tokens, cold ? loadDelayMs : 0);
    const streamOptions = b["stream_options"] as { include_usage?: unknown } | undefined;
    const enc =
      wire === "ollama"
        ? createOllamaEncoder(simReq.model, meter)
        : createOpenAIEncoder({ model: simReq.model, meter, includeUsage: streamOptions?.include_usage === true });
    const newResponder = () => {
      const r = new ChatResponder(res, enc, meter, simReq.stream === true, opts.chunkPerLine === true);
      active.add(r);
      return r;
    };

    const ctx = { ...baseCtx, ...(known ? { model: known } : {}) };
    const controlIndex = controls.findIndex((c) => matches(c.match, simReq));
    const control = controls[controlIndex];
    if (control) {
      controls.splice(controlIndex, 1);
      record.scenario = "control";
      if (known) markLoaded(modelKey, numCtx, b["keep_alive"], record);
      const responder = newResponder();
      responder.start();
      control.attach(responder, record);
      return responder;
    }

    let scenario = scenarios.find((s) => matches(s.match, simReq));
    if (!scenario) {
      const byModel = modelScenario(simReq);
      const refused = byModel?.reject?.(simReq);
      if (refused) return fail(enc, refused.status, refused.error);
      const model = catalog.find(simReq.model);
      if (!model) return fail(enc, 404, `model "${simReq.model}" not found, try pulling it first`);
      if (wantsThinking(simReq.think) && !model.capabilities.includes("thinking")) {
        return fail(enc, 400, `"${simReq.model}" does not support thinking`);
      }
      if (simReq.tools?.length && !model.capabilities.includes("tools")) return fail(enc, 400, `"${simReq.model}" does not support tools`);
      // What Ollama's runner answers when a model without a vision projector gets images.
      if (hasImages(simReq) && !model.capabilities.includes("vision")) return fail(enc, 500, "this model is missing data required for image input");
      scenario = byModel ?? taggedScenario(simReq);
    }

    if (scenario?.httpError) return fail(enc, scenario.httpError.status, scenario.httpError.error);
    const refused = scenario?.reject?.(simReq);
    if (refused) return fail(enc, refused.status, refused.error);

    if (known) {
      if (cold) {
        // Like Ollama, the answer (headers included) starts only once the model is in memory.
        record.coldStart = true;
        const gone = new AbortController();
        res.once("close", () => gone.abort());
        await sleep(loadDelayMs, gone.signal);
        if (res.destroyed || closing) return undefined;
      }
      markLoaded(modelKey, numCtx, b["keep_alive"], record);
    }

    record.scenario = scenario?.name ?? "demo";
    const answer: Iterable<SimChunk> = scenario
      ? (scenario.chunks ?? (scenario.respond ? scenario.respond(simReq, ctx) : []))
      : respondDemo(simReq, { ...ctx, repeat: repeats.next(simReq) });
    const prefill = prefillOf(simReq);
    const continued = prefill === undefined ? answer : continuing(answer, prefill);
    const limit = answerLimitOf(b, wire);
    const chunks = limit === undefined ? continued : limitedTo(continued, limit);
    const responder = newResponder();
    void responder.run(chunks, scenario?.stallAfterChunks === true).catch(() => responder.cut());
    return responder;
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(":") ? `[${host}]` : host;

  return {
    url: `http://${urlHost}:${port}`,
    port,
    requests,
    chatRequests: () => requests.filter((r) => r.path === "/api/chat" || r.path === "/v1/chat/completions"),
    addScenario(s: Scenario) {
      scenarios = [s, ...scenarios];
    },
    clearScenarios() {
      scenarios = [];
    },
    control(match?: Scenario["match"]): ControlledStream {
      const handle = new ControlHandle(match, (h) => {
        const i = controls.indexOf(h);
        if (i >= 0) controls.splice(i, 1);
      });
      controls.push(handle);
      return handle;
    },
    openConnections: () => sockets.size,
    activeResponses: () => active.size,
    unload(model?: string) {
      if (model === undefined) loaded.clear();
      else loaded.delete(baseName(model));
    },
    async close(): Promise<void> {
      closing = true;
      const socketsClosed = [...sockets].map((socket) => new Promise<void>((resolve) => socket.once("close", () => resolve())));
      const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
      // stalled and keep-alive connections would keep close() waiting forever
      server.closeAllConnections();
      for (const socket of sockets) socket.destroy();
      await Promise.all([serverClosed, ...socketsClosed]);
    },
  };
}
