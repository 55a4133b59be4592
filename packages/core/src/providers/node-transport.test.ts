import { execFile } from "node:child_process";
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import { getEventListeners } from "node:events";
import { readFileSync } from "node:fs";
import { createServer, OutgoingMessage, request, type ClientRequest, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { createServer as createNetServer, type AddressInfo, type Socket } from "node:net";
import { fileURLToPath } from "node:url";
import type { Transform } from "node:stream";
import { createBrotliCompress, createDeflate, createGzip, gzipSync } from "node:zlib";
import { startSimulator, type Simulator } from "@streamchat/ollama-sim";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { ChatModel, ModelChunk } from "../model.js";
import { collectGarbage, isFlatString } from "../test-support/heap.js";
import { ask, chunks, chunksTo, failure } from "../test-support/provider-helpers.js";
import { compactHead, defaultSilenceTimeoutMs, idleSocketTimeoutMs, nodeTransport } from "./node-transport.js";
import { createOllamaModel } from "./ollama.js";
import { createOpenAIModel } from "./openai.js";
import type { UnreachableFailure } from "./request.js";

// The default transport (no `fetch` option): node:http with a keep-alive agent per provider instance.

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({ tokenDelayMs: 0 });
});
afterAll(async () => {
  await sim.close();
});

interface RawServer {
  url: string;
  /** Every request seen: its headers and raw body, and the socket it came on. */
  seen: Array<{ path: string; headers: IncomingHttpHeaders; rawHeaders: string[]; body: string; socket: Socket }>;
  close(): Promise<void>;
}

const servers: RawServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/** A plain node:http server (keep-alive as Ollama's: idle connections stay 65 s) that hands each request to `handler`. */
async function rawServer(handler: (req: IncomingMessage, res: ServerResponse, index: number) => void): Promise<RawServer> {
  const seen: RawServer["seen"] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    const seenRequest = { path: req.url ?? "", headers: req.headers, rawHeaders: req.rawHeaders, body: "", socket: req.socket };
    seen.push(seenRequest);
    const index = seen.length;
    req.setEncoding("utf8");
    req.on("data", (part: string) => (seenRequest.body += part));
    req.once("end", () => handler(req, res, index));
  });
  server.keepAliveTimeout = 65_000;
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const raw: RawServer = {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
  servers.push(raw);
  return raw;
}

const doneLines = `${JSON.stringify({ message: { role: "assistant", content: "hi" }, done: false })}\n${JSON.stringify({ done: true, done_reason: "stop" })}\n`;
const answerOllama = (res: ServerResponse) => {
  res.writeHead(200, { "content-type": "application/x-ndjson" });
  res.end(doneLines);
};

async function until(condition: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const text = (model: ChatModel, modelName: string, signal?: AbortSignal) =>
  chunks(model, ask(modelName), signal).then((all) => all.flatMap((c) => (c.type === "text" ? [c.text] : [])).join(""));

describe("default transport against the simulator", () => {
  it("streams answers over one kept-alive connection and leaves no abort listener behind", async () => {
    const model = createOllamaModel({ baseUrl: sim.url });
    const controller = new AbortController();
    const before = sim.requests.length;
    for (let i = 0; i < 3; i += 1) expect(await text(model, "demo", controller.signal)).not.toBe("");
    expect(sim.requests.length - before).toBe(3);
    expect(getEventListeners(controller.signal, "abort")).toHaveLength(0);
    // Sequential requests reuse the pooled socket: the simulator holds a single connection from this model.
    expect(sim.openConnections()).toBe(1);
  });

  it("abort mid-answer closes the connection (the simulator sees it) and maps to cancelled", async () => {
    const model = createOllamaModel({ baseUrl: sim.url });
    const stream = sim.control({ model: "m-abort" });
    const controller = new AbortController();
    const seen: string[] = [];
    const run = (async () => {
      for await (const chunk of model.stream(ask("m-abort"), { signal: controller.signal })) {
        if (chunk.type === "text") {
          seen.push(chunk.text);
          controller.abort();
        }
      }
    })();
    await stream.connected;
    await stream.push({ content: "first " });
    const error = await failure(run);
    expect(error.code).toBe("cancelled");
    expect(seen).toEqual(["first "]);
    await stream.closedByClient;
    expect(getEventListeners(controller.signal, "abort")).toHaveLength(0);
  });

  it("an abort before the headers destroys the request; the signal's reason is the cause", async () => {
    const model = createOllamaModel({ baseUrl: sim.url });
    const stream = sim.control({ model: "m-early" });
    const controller = new AbortController();
    const run = chunks(model, ask("m-early"), controller.signal);
    const request = await stream.connected;
    const reason = new Error("user stop");
    controller.abort(reason);
    const error = await failure(run);
    expect(error).toMatchObject({ code: "cancelled", cause: reason });
    await request.finished;
    expect(request.clientClosedEarly).toBe(true);
    expect(getEventListeners(controller.signal, "abort")).toHaveLength(0);
  });

  it("an already aborted signal sends nothing", async () => {
    const model = createOllamaModel({ baseUrl: sim.url });
    const before = sim.requests.length;
    const error = await failure(chunks(model, ask("demo"), AbortSignal.abort()));
    expect(error.code).toBe("cancelled");
    expect(sim.requests.length).toBe(before);
  });

  it("maps the simulator's 404 to model_not_found with its message", async () => {
    const model = createOllamaModel({ baseUrl: sim.url });
    const error = await failure(chunks(model, ask("no-such-model")));
    expect(error.code).toBe("model_not_found");
    expect(error.message).toContain("no-such-model");
  });

  it("a cut stream (no done line) is stream_truncated", async () => {
    const model = createOllamaModel({ baseUrl: sim.url });
    sim.addScenario({ name: "cut", match: { model: "m-cut" }, chunks: [{ content: "par" }] });
    try {
      expect((await failure(chunks(model, ask("m-cut")))).code).toBe("stream_truncated");
    } finally {
      sim.clearScenarios();
    }
  });
});

describe("default transport — edge cases on small node:http servers", () => {
  it("sends the JSON body with its content-length and the configured headers", async () => {
    const server = await rawServer((_req, res) => answerOllama(res));
    expect(await text(createOllamaModel({ baseUrl: server.url, headers: { "x-team": "a" } }), "m")).toBe("hi");
    const [seen] = server.seen;
    expect(seen?.headers).toMatchObject({ "content-type": "application/json", "x-team": "a", "content-length": String(Buffer.byteLength(seen?.body ?? "")) });
    expect(seen?.headers["transfer-encoding"]).toBeUndefined();
    expect(JSON.parse(seen?.body ?? "")).toMatchObject({ model: "m", stream: true });
  });

  it("sends fetch's accept and user-agent unless the headers set their own, and asks for no compression", async () => {
    const server = await rawServer((_req, res) => answerOllama(res));
    await text(createOllamaModel({ baseUrl: server.url }), "m");
    await text(createOllamaModel({ baseUrl: server.url, headers: { "User-Agent": "mine/1" } }), "m");
    expect(server.seen.map((s) => [s.headers["accept"], s.headers["accept-encoding"], s.headers["user-agent"]])).toEqual([
      ["*/*", "identity", "node"],
      ["*/*", "identity", "mine/1"],
    ]);
  });

  it("sends one of each header whatever its case, Host as the URL names it, and a URL's credentials as Basic auth", async () => {
    const server = await rawServer((_req, res) => answerOllama(res));
    const names = () => server.seen.at(-1)!.rawHeaders.filter((_, i) => i % 2 === 0).map((name) => name.toLowerCase());
    await text(createOllamaModel({ baseUrl: `${server.url}/`, headers: { "User-Agent": "mine/1", ACCEPT: "application/x-ndjson", "Content-Length": "1" } }), "m");
    expect(names()).toHaveLength(new Set(names()).size);
    expect(server.seen.at(-1)!.headers).toMatchObject({ host: server.url.slice("http://".length), accept: "application/x-ndjson", "user-agent": "mine/1" });
    expect(server.seen.at(-1)!.headers["content-length"]).toBe(String(Buffer.byteLength(server.seen.at(-1)!.body)));
    const withCredentials = new URL(server.url);
    withCredentials.username = "ann";
    withCredentials.password = "s3cret/x";
    await text(createOllamaModel({ baseUrl: withCredentials.href }), "m");
    expect(server.seen.at(-1)!.headers["authorization"]).toBe(`Basic ${Buffer.from("ann:s3cret/x").toString("base64")}`);
    expect(names()).toHaveLength(new Set(names()).size);
  });

  it("decodes a body that comes compressed anyway (gzip, deflate, br, stacked), line by line as the server flushes", async () => {
    const lines = [
      `${JSON.stringify({ message: { role: "assistant", content: "comp" }, done: false })}\n`,
      `${JSON.stringify({ message: { role: "assistant", content: "ressed ✓" }, done: false })}\n`,
      `${JSON.stringify({ done: true, done_reason: "stop" })}\n`,
    ];
    const encoders: Record<string, () => Transform[]> = {
      gzip: () => [createGzip()],
      deflate: () => [createDeflate()],
      br: () => [createBrotliCompress()],
      "gzip, br": () => [createGzip(), createBrotliCompress()],
    };
    // The second line is written only once the client has read the first: a decoder that waited for more would hang.
    let firstRead: () => void = () => {};
    const server = await rawServer((req, res) => {
      const coding = req.headers["x-coding"] as string;
      res.writeHead(200, { "content-type": "application/x-ndjson", "content-encoding": coding });
      const chain = encoders[coding]!();
      chain.slice(1).reduce<Transform>((from, to) => from.pipe(to), chain[0]!).pipe(res);
      const flush = async (line: string) => {
        chain[0]!.write(line);
        for (const stage of chain) await new Promise<void>((resolve) => (stage as unknown as { flush(cb: () => void): void }).flush(resolve));
      };
      void (async () => {
        const readByClient = new Promise<void>((resolve) => (firstRead = resolve));
        await flush(lines[0]!);
        await readByClient;
        await flush(lines[1]!);
        chain[0]!.end(lines[2]);
      })();
    });
    for (const coding of Object.keys(encoders)) {
      const model = createOllamaModel({ baseUrl: server.url, headers: { "x-coding": coding } });
      const seen: ModelChunk[] = [];
      for await (const chunk of model.stream(ask("m"))) {
        seen.push(chunk);
        if (seen.length === 1) firstRead();
      }
      expect(seen.slice(0, 2), coding).toEqual([
        { type: "text", text: "comp" },
        { type: "text", text: "ressed ✓" },
      ]);
      expect(seen.at(-1), coding).toMatchObject({ type: "finish", reason: "stop" });
    }
  });

  it("hands what queued while the reader was busy over as one chunk: one pass for the lines a server flushed apart", async () => {
    const line = (content: string) => `${JSON.stringify({ message: { role: "assistant", content }, done: false })}\n`;
    const server = await rawServer((_req, res) => {
      res.writeHead(200, { "content-type": "application/x-ndjson" });
      // One HTTP chunk per line, as Ollama flushes them; written in one tick, they arrive in one socket read.
      for (const word of ["one ", "two ", "three ", "four "]) res.write(line(word));
      res.end(`${JSON.stringify({ done: true, done_reason: "stop" })}\n`);
    });
    const texts = (await chunks(createOllamaModel({ baseUrl: server.url }), ask("m"))).filter((c) => c.type === "text");
    // The first goes to the waiting reader at once; the rest queued meanwhile and come as one.
    expect(texts.map((c) => c.text).join("")).toBe("one two three four ");
    expect(texts.length).toBeLessThan(4);
    expect(texts.reduce((n, c) => n + (c.pieces ?? 1), 0)).toBe(4);
  });

  it("reads a compressed JSON answer, and leaves a coding it does not know as it came", async () => {
    const tags = JSON.stringify({ models: [{ name: "packed:1b", model: "packed:1b" }] });
    const server = await rawServer((req, res) => {
      if (req.url === "/api/tags" && req.headers["x-coding"] === "unknown") {
        res.writeHead(200, { "content-type": "application/json", "content-encoding": "x-unknown" });
        res.end(tags);
        return;
      }
      res.writeHead(200, { "content-type": "application/json", "content-encoding": "gzip" });
      res.end(gzipSync(tags));
    });
    expect((await createOllamaModel({ baseUrl: server.url }).listModels!()).map((m) => m.name)).toEqual(["packed:1b"]);
    const unknown = createOllamaModel({ baseUrl: server.url, headers: { "x-coding": "unknown" } });
    expect((await unknown.listModels!()).map((m) => m.name)).toEqual(["packed:1b"]);
  });

  it("an abort while a compressed answer streams rejects as cancelled and closes the connection", async () => {
    let serverSocketClosed = false;
    const server = await rawServer((req, res) => {
      req.socket.once("close", () => (serverSocketClosed = true));
      res.writeHead(200, { "content-type": "application/x-ndjson", "content-encoding": "gzip" });
      const gzip = createGzip();
      gzip.pipe(res);
      gzip.write(`${JSON.stringify({ message: { role: "assistant", content: "a" }, done: false })}\n`);
      gzip.flush();
    });
    const controller = new AbortController();
    const iterator = createOllamaModel({ baseUrl: server.url }).stream(ask("m"), { signal: controller.signal })[Symbol.asyncIterator]();
    expect((await iterator.next()).value).toEqual({ type: "text", text: "a" });
    const pending = iterator.next();
    controller.abort();
    expect((await failure(pending)).code).toBe("cancelled");
    await until(() => serverSocketClosed, "the server to see the close");
    expect(getEventListeners(controller.signal, "abort")).toHaveLength(0);
  });

  it("follows redirects as fetch does: 307/308 keep the POST and its body, credentials stay with their origin", async () => {
    const target = await rawServer((_req, res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.end(`data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: "hi" }, finish_reason: "stop" }] })}\n\ndata: [DONE]\n\n`);
    });
    const proxy = await rawServer((req, res) => {
      const location = req.url === "/v1/chat/completions" ? "/moved/chat/completions" : `${target.url}/final`;
      res.writeHead(req.url === "/v1/chat/completions" ? 308 : 307, { location });
      res.end();
    });
    const openai = createOpenAIModel({ baseUrl: `${proxy.url}/v1`, apiKey: "sk-secret" });
    expect(await text(openai, "m")).toBe("hi");
    expect(proxy.seen.map((s) => s.path)).toEqual(["/v1/chat/completions", "/moved/chat/completions"]);
    expect(proxy.seen[1]?.headers["authorization"]).toBe("Bearer sk-secret");
    expect(proxy.seen[1]?.body).toBe(proxy.seen[0]?.body);
    expect(target.seen).toHaveLength(1);
    expect(target.seen[0]).toMatchObject({ path: "/final", body: proxy.seen[0]?.body });
    expect(target.seen[0]?.headers["authorization"]).toBeUndefined();
  });

  it("a 303 after a POST is followed with a GET without the body", async () => {
    const server = await rawServer((req, res) => {
      if (req.method === "POST") {
        res.writeHead(303, { location: "/api/tags" });
        res.end();
        return;
      }
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ models: [] }));
    });
    const response = await nodeTransport().request({ url: `${server.url}/api/show`, method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    expect(await response.json()).toEqual({ models: [] });
    expect(server.seen.map((s) => [s.path, s.body, s.headers["content-type"]])).toEqual([
      ["/api/show", "{}", "application/json"],
      ["/api/tags", "", undefined],
    ]);
  });

  it("a redirect loop ends as provider_unavailable", async () => {
    const server = await rawServer((_req, res) => {
      res.writeHead(302, { location: "/api/version" });
      res.end();
    });
    const error = await failure(createOllamaModel({ baseUrl: server.url }).version!());
    expect(error.code).toBe("provider_unavailable");
    expect(server.seen).toHaveLength(21);
  });

  it("a refused port is provider_unavailable (ECONNREFUSED) and onUnreachable gets the URL and the errno error", async () => {
    const server = await rawServer(() => undefined);
    const url = server.url;
    await server.close();
    const reported: UnreachableFailure[] = [];
    const model = createOpenAIModel({ baseUrl: `${url}/v1`, onUnreachable: (f) => reported.push(f) });
    const error = await failure(chunks(model, ask("m")));
    expect(error).toMatchObject({ code: "provider_unavailable", message: "Cannot reach the model server (ECONNREFUSED). Is it running?" });
    expect(reported).toHaveLength(1);
    expect(reported[0]?.url).toBe(`${url}/v1/chat/completions`);
    expect(reported[0]?.error).toMatchObject({ code: "ECONNREFUSED" });
  });

  it("an unknown host is provider_unavailable", async () => {
    const model = createOllamaModel({ baseUrl: "http://no-such-host.invalid:11434" });
    const error = await failure(model.version!());
    expect(error.code).toBe("provider_unavailable");
    expect(error.message).toMatch(/\((ENOTFOUND|EAI_AGAIN)\)/);
  });

  it("a reset before the headers on a reused keep-alive socket is retried once, on a fresh connection", async () => {
    const server = await rawServer((req, res, index) => {
      if (index === 2) req.socket.destroy(); // the pooled connection dies under the second request
      else answerOllama(res);
    });
    const model = createOllamaModel({ baseUrl: server.url });
    expect(await text(model, "m")).toBe("hi");
    expect(await text(model, "m")).toBe("hi");
    expect(server.seen).toHaveLength(3);
    expect(server.seen[1]?.socket).toBe(server.seen[0]?.socket); // the second went out on the reused socket
    expect(server.seen[2]?.socket).not.toBe(server.seen[1]?.socket);
  });

  it("is not retried twice: a second reset is provider_unavailable", async () => {
    const server = await rawServer((req, res, index) => {
      if (index >= 2) req.socket.destroy();
      else answerOllama(res);
    });
    const model = createOllamaModel({ baseUrl: server.url });
    expect(await text(model, "m")).toBe("hi");
    const error = await failure(chunks(model, ask("m")));
    expect(error.code).toBe("provider_unavailable");
    expect(error.message).toContain("(ECONNRESET)");
    expect(server.seen).toHaveLength(3);
  });

  it("abort mid-stream: the server sees the connection close, no listener is left on the signal", async () => {
    let serverSocketClosed = false;
    const server = await rawServer((req, res) => {
      req.socket.once("close", () => (serverSocketClosed = true));
      res.writeHead(200, { "content-type": "application/x-ndjson" });
      res.write(`${JSON.stringify({ message: { role: "assistant", content: "a" }, done: false })}\n`);
    });
    const model = createOllamaModel({ baseUrl: server.url });
    const controller = new AbortController();
    const iterator = model.stream(ask("m"), { signal: controller.signal })[Symbol.asyncIterator]();
    expect((await iterator.next()).value).toEqual({ type: "text", text: "a" });
    expect(getEventListeners(controller.signal, "abort")).toHaveLength(1);
    const pending = iterator.next();
    controller.abort();
    expect((await failure(pending)).code).toBe("cancelled");
    await until(() => serverSocketClosed, "the server to see the close");
    expect(getEventListeners(controller.signal, "abort")).toHaveLength(0);
  });

  it("a consumer that stops reading closes the connection too", async () => {
    let serverSocketClosed = false;
    const server = await rawServer((req, res) => {
      req.socket.once("close", () => (serverSocketClosed = true));
      res.writeHead(200, { "content-type": "application/x-ndjson" });
      res.write(`${JSON.stringify({ message: { role: "assistant", content: "a" }, done: false })}\n`);
    });
    const controller = new AbortController();
    for await (const chunk of createOllamaModel({ baseUrl: server.url }).stream(ask("m"), { signal: controller.signal })) {
      expect(chunk).toEqual({ type: "text", text: "a" });
      break;
    }
    await until(() => serverSocketClosed, "the server to see the close");
    expect(getEventListeners(controller.signal, "abort")).toHaveLength(0);
  });

  it("a reader that is slower than the server holds the socket, not memory: the server's writes back up", async () => {
    const chunk = "x".repeat(64 * 1024);
    const total = 400; // 25 MiB: far more than the socket buffers on both ends
    let written = 0;
    let backedUp = false;
    const server = await rawServer((_req, res) => {
      res.writeHead(200, { "content-type": "application/octet-stream" });
      const pump = () => {
        while (written < total) {
          written += 1;
          if (!res.write(chunk)) {
            backedUp = true;
            res.once("drain", pump);
            return;
          }
        }
        res.end();
      };
      pump();
    });
    const res = await nodeTransport().request({ url: `${server.url}/big`, method: "GET", headers: {} });
    const iterator = res.body![Symbol.asyncIterator]();
    const first = await iterator.next();
    let bytes = first.done ? 0 : first.value.byteLength;
    // The reader takes one chunk and then nothing for a while: the server must be stopped by backpressure.
    await until(() => backedUp, "the server's writes to back up");
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(written).toBeLessThan(total);
    // Read on to the end: every byte arrives.
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) bytes += next.value.byteLength;
    expect(bytes).toBe(total * chunk.length);
    expect(written).toBe(total);
  });

  it("keeps no hold on the request body (the whole conversation) while the answer streams", async () => {
    // A server of its own: rawServer keeps the bodies it receives, in this very heap.
    const server = createServer((req, res) => {
      req.resume();
      req.once("end", () => {
        res.writeHead(200, { "content-type": "application/x-ndjson" });
        // One line, and then the answer stays open until the test ends.
        res.write(`${JSON.stringify({ message: { role: "assistant", content: "a" }, done: false })}\n`);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/chat`;
    const controller = new AbortController();
    const transport = nodeTransport();
    try {
      collectGarbage();
      const before = process.memoryUsage().heapUsed;
      const open: Array<AsyncIterator<Uint8Array>> = [];
      for (let i = 0; i < 20; i++) {
        // 2 MB each: what a long conversation's request is. Built here, so nothing but the transport can keep it.
        const res = await transport.request({ url, method: "POST", headers: {}, body: JSON.stringify({ n: i, text: "x".repeat(2_000_000) }), signal: controller.signal });
        const iterator = res.body![Symbol.asyncIterator]();
        expect((await iterator.next()).done).toBe(false);
        open.push(iterator);
      }
      collectGarbage();
      // 20 answers still streaming; their 40 MB of requests must not be in the heap any more.
      expect(process.memoryUsage().heapUsed - before).toBeLessThan(10_000_000);
      expect(open).toHaveLength(20);
    } finally {
      controller.abort();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it("keeps what lives as long as the answer streams small: the request's head as one string, no once-wrappers", async () => {
    const server = await rawServer((_req, res) => {
      res.writeHead(200, { "content-type": "application/x-ndjson" });
      res.write(`${JSON.stringify({ message: { role: "assistant", content: "a" }, done: false })}\n`);
    });
    const created: ClientRequest[] = [];
    const onCreated = (message: unknown) => created.push((message as { request: ClientRequest }).request);
    subscribe("http.client.request.created", onCreated);
    const controller = new AbortController();
    try {
      const res = await nodeTransport().request({
        url: `${server.url}/api/chat`,
        method: "POST",
        headers: { "content-type": "application/json", authorization: "Bearer x", "x-a": "1", "x-b": "2" },
        body: "{}",
        signal: controller.signal,
      });
      expect((await res.body![Symbol.asyncIterator]().next()).done).toBe(false);
      expect(created).toHaveLength(1);
      const head = Reflect.get(created[0]!, "_header") as string;
      expect(isFlatString(head)).toBe(true); // first: reading it in a check would flatten it
      expect(head).toMatch(/^POST \/api\/chat HTTP\/1\.1\r\n[^]*authorization: Bearer x\r\n[^]*\r\n\r\n$/);
      // `once` wraps its listener (the wrapper has `.listener`), and the wrapper stays until the event comes.
      const wrapped = ["close", "timeout", "error"].flatMap((event) => created[0]!.rawListeners(event).filter((listener) => "listener" in listener));
      expect(wrapped).toEqual([]);
    } finally {
      unsubscribe("http.client.request.created", onCreated);
      controller.abort();
    }
  });

  it("non-2xx: the server's JSON error message, typed by status", async () => {
    const server = await rawServer((_req, res) => {
      res.writeHead(401, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: { message: "Incorrect API key provided", type: "invalid_request_error" } }));
    });
    const error = await failure(chunks(createOpenAIModel({ baseUrl: `${server.url}/v1`, apiKey: "k" }), ask("m")));
    expect(error).toMatchObject({ code: "unauthorized", status: 401 });
    expect(error.message).toContain("Incorrect API key provided");
  });

  it("a JSON endpoint answering something else is provider_error", async () => {
    const server = await rawServer((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end("<html>proxy login</html>");
    });
    const error = await failure(createOllamaModel({ baseUrl: server.url }).version!());
    expect(error.code).toBe("provider_error");
    expect(error.message).toContain("invalid JSON");
  });

  it("a connection cut mid-answer is stream_truncated, and not retried", async () => {
    const server = await rawServer((req, res) => {
      res.writeHead(200, { "content-type": "application/x-ndjson" });
      res.write('{"message":{"content":"h', () => req.socket.destroy());
    });
    const error = await failure(chunks(createOllamaModel({ baseUrl: server.url }), ask("m")));
    expect(error.code).toBe("stream_truncated");
    expect(server.seen).toHaveLength(1);
  });

  it("a server silent for the silence timeout fails the request, before the headers or mid-body, and the connection closes", async () => {
    expect(defaultSilenceTimeoutMs).toBe(300_000); // undici's headers/body timeouts, which fetch had
    const transport = nodeTransport({ silenceTimeoutMs: 300 });
    const post = (url: string) => transport.request({ url: `${url}/api/chat`, method: "POST", headers: {}, body: "{}" });

    const hung = await rawServer(() => {}); // takes the request, never answers
    expect(await post(hung.url).catch((e: unknown) => e)).toMatchObject({ code: "ETIMEDOUT" });
    await until(() => hung.seen[0]?.socket.destroyed === true, "the hung server's connection to close");

    const stalled = await rawServer((_req, res) => {
      res.writeHead(200, { "content-type": "application/x-ndjson" });
      res.write('{"message":{"content":"h"}}\n'); // then nothing
    });
    const res = await post(stalled.url);
    const read: string[] = [];
    const broke = await (async () => {
      for await (const part of res.body!) read.push(Buffer.from(part).toString("utf8"));
    })().catch((e: unknown) => e);
    expect(read.join("")).toBe('{"message":{"content":"h"}}\n');
    expect(broke).toMatchObject({ code: "ETIMEDOUT" });
    await until(() => stalled.seen[0]?.socket.destroyed === true, "the stalled server's connection to close");
  });

  it("the silence timeout counts silence, not the answer's length: a server that keeps sending is read to the end", async () => {
    const transport = nodeTransport({ silenceTimeoutMs: 5_000 });
    const server = await rawServer((_req, res) => {
      res.writeHead(200, { "content-type": "application/x-ndjson" });
      let sent = 0;
      const timer = setInterval(() => {
        res.write(`${sent}\n`);
        if (++sent === 5) {
          clearInterval(timer);
          res.end();
        }
      }, 10);
    });
    const res = await transport.request({ url: `${server.url}/api/chat`, method: "POST", headers: {}, body: "{}" });
    expect(await res.text()).toBe("0\n1\n2\n3\n4\n");
  });

  it("keeps no cap on concurrent connections (every request is open at once)", async () => {
    const count = 300;
    const waiting: ServerResponse[] = [];
    const server = await rawServer((_req, res) => {
      waiting.push(res);
      // Nothing is answered until every request arrived: a capped pool would never get there.
      if (waiting.length === count) for (const r of waiting) answerOllama(r);
    });
    const model = createOllamaModel({ baseUrl: server.url });
    const answers = await Promise.all(Array.from({ length: count }, () => text(model, "m")));
    expect(answers.every((a) => a === "hi")).toBe(true);
    expect(new Set(server.seen.map((s) => s.socket)).size).toBe(count);
  });

  it("an https URL speaks TLS (node:https), and a failed handshake is provider_unavailable", async () => {
    let firstByte: number | undefined;
    const sockets = new Set<Socket>();
    const tcp = createNetServer((socket) => {
      sockets.add(socket);
      socket.once("data", (data: Buffer) => {
        firstByte = data[0];
        socket.destroy();
      });
    });
    await new Promise<void>((resolve) => tcp.listen(0, "127.0.0.1", resolve));
    const { port } = tcp.address() as AddressInfo;
    try {
      const error = await failure(chunks(createOpenAIModel({ baseUrl: `https://127.0.0.1:${port}/v1` }), ask("m")));
      expect(error.code).toBe("provider_unavailable");
      expect(firstByte).toBe(0x16); // a TLS handshake record, not "POST"
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => tcp.close(() => resolve()));
    }
  });

  it("streams over https from a server whose CA the process trusts (NODE_EXTRA_CA_CERTS), two requests on one TLS connection", async () => {
    const tls = (name: string) => readFileSync(fileURLToPath(new URL(`../test-support/tls/${name}`, import.meta.url)));
    let handshakes = 0;
    let answered = 0;
    const server = createHttpsServer({ cert: tls("localhost-cert.pem"), key: tls("localhost-key.pem") }, (req, res) => {
      req.resume();
      req.once("end", () => {
        answered += 1;
        res.writeHead(200, { "content-type": "application/x-ndjson" });
        res.write(`${JSON.stringify({ message: { role: "assistant", content: `over tls ${answered}` }, done: false })}\n`);
        setTimeout(() => res.end(`${JSON.stringify({ done: true, done_reason: "stop" })}\n`), 20);
      });
    });
    server.keepAliveTimeout = 65_000;
    server.on("secureConnection", () => (handshakes += 1));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    const script = [
      `import { nodeTransport } from ${JSON.stringify(fileURLToPath(new URL("./node-transport.ts", import.meta.url)))};`,
      `const transport = nodeTransport();`,
      `for (let i = 0; i < 2; i++) {`,
      `  const res = await transport.request({ url: "https://127.0.0.1:${port}/api/chat", method: "POST", headers: {}, body: "{}" });`,
      `  const parts = [];`,
      `  for await (const part of res.body) parts.push(Buffer.from(part).toString("utf8"));`,
      `  console.log(JSON.stringify({ status: res.status, parts }));`,
      `}`,
      `process.exit(0);`,
    ].join("\n");
    try {
      const output = await new Promise<string>((resolve, reject) => {
        execFile(
          process.execPath,
          ["--input-type=module", "-e", script],
          { timeout: 15_000, env: { ...process.env, NODE_EXTRA_CA_CERTS: fileURLToPath(new URL("../test-support/tls/localhost-cert.pem", import.meta.url)) } },
          (error, stdout, stderr) => (error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout)),
        );
      });
      const answers = output.trim().split("\n").map((line) => JSON.parse(line) as { status: number; parts: string[] });
      expect(answers.map((a) => a.status)).toEqual([200, 200]);
      // Each answer arrived as it was written: the line, then (20 ms later) the done line.
      expect(answers.map((a) => a.parts.length >= 2)).toEqual([true, true]);
      expect(answers.map((a) => a.parts.join(""))).toEqual([1, 2].map((n) => `${JSON.stringify({ message: { role: "assistant", content: `over tls ${n}` }, done: false })}\n${JSON.stringify({ done: true, done_reason: "stop" })}\n`));
      expect(handshakes).toBe(1);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it.skipIf(process.platform !== "linux")("a quiet answer's connection gets TCP keep-alive after 30 s of silence, not after 1 s (Node's default)", async () => {
    let clientPort = 0;
    const server = await rawServer((req, res) => {
      clientPort = req.socket.remotePort ?? 0;
      res.writeHead(200, { "content-type": "application/x-ndjson" });
      res.write(`${JSON.stringify({ message: { role: "assistant", content: "a" }, done: false })}\n`);
    });
    const serverPort = Number(new URL(server.url).port);
    const controller = new AbortController();
    const iterator = createOllamaModel({ baseUrl: server.url }).stream(ask("m"), { signal: controller.signal })[Symbol.asyncIterator]();
    try {
      expect((await iterator.next()).value).toEqual({ type: "text", text: "a" });
      // The kernel's view of the client's socket: its timer ("02" keep-alive) and when it fires, in 1/100 s.
      const row = ["/proc/net/tcp", "/proc/net/tcp6"]
        .flatMap((file) => readFileSync(file, "utf8").split("\n").slice(1))
        .map((line) => line.trim().split(/\s+/))
        .find((cols) => cols.length > 5 && parseInt(cols[1]!.split(":")[1]!, 16) === clientPort && parseInt(cols[2]!.split(":")[1]!, 16) === serverPort);
      expect(row, "the client's socket in /proc/net/tcp").toBeDefined();
      const [timer, when] = row![5]!.split(":");
      expect(timer).toBe("02");
      expect(parseInt(when!, 16) / 100).toBeGreaterThan(20);
    } finally {
      controller.abort();
      await iterator.next().catch(() => undefined);
    }
  });

  it("an idle pooled connection does not keep the process alive", async () => {
    const server = await rawServer((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end('{"version":"1"}');
    });
    const script = [
      `import { nodeTransport } from ${JSON.stringify(fileURLToPath(new URL("./node-transport.ts", import.meta.url)))};`,
      `const res = await nodeTransport().request({ url: ${JSON.stringify(`${server.url}/api/version`)}, method: "GET", headers: {} });`,
      `console.log(JSON.stringify(await res.json()));`,
    ].join("\n");
    const output = await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, ["--input-type=module", "-e", script], { timeout: 15_000 }, (error, stdout) => (error ? reject(error) : resolve(stdout)));
    });
    expect(output.trim()).toBe('{"version":"1"}');
    // The server still held the connection open (65 s keep-alive) when the child exited on its own.
    expect(server.seen).toHaveLength(1);
  });

  it("closes a pooled connection once it has been idle a few seconds, and not while a slow answer streams", async () => {
    const closed: number[] = [];
    const server = await rawServer((_req, res, index) => {
      res.writeHead(200, { "content-type": "application/x-ndjson" });
      // The first answer pauses longer than the idle timeout between its lines: an active request is not idle.
      const pauseMs = index === 1 ? idleSocketTimeoutMs + 1_000 : 0;
      res.write(`${JSON.stringify({ message: { role: "assistant", content: "h" }, done: false })}\n`);
      setTimeout(() => res.end(`${JSON.stringify({ message: { role: "assistant", content: "i" }, done: false })}\n${JSON.stringify({ done: true, done_reason: "stop" })}\n`), pauseMs);
    });
    const model = createOllamaModel({ baseUrl: server.url });
    expect(await text(model, "m")).toBe("hi");
    const socket = server.seen[0]!.socket;
    socket.once("close", () => closed.push(Date.now()));
    // The server keeps idle connections 65 s: the client is the one that closes this one.
    await until(() => closed.length === 1, "the idle connection to close");
    expect(server.seen).toHaveLength(1);
  }, 30_000);

  it("rejects a URL with another scheme as provider_unavailable", async () => {
    const error = await failure(createOllamaModel({ baseUrl: "ftp://127.0.0.1:1" }).version!());
    expect(error.code).toBe("provider_unavailable");
    await expect(nodeTransport().request({ url: "ftp://127.0.0.1:1/x", method: "GET", headers: {} })).rejects.toMatchObject({ code: "ERR_INVALID_PROTOCOL" });
  });
});

describe("default transport — streamTo: the body handed over as it arrives (forEach)", () => {
  const line = (content: string) => `${JSON.stringify({ message: { role: "assistant", content }, done: false })}\n`;
  const done = `${JSON.stringify({ done: true, done_reason: "stop", eval_count: 5 })}\n`;

  it("hands each socket read over as it arrives: its first HTTP chunk at once, the rest of the read as one", async () => {
    let firstSeen: () => void = () => {};
    const seenFirst = new Promise<void>((resolve) => (firstSeen = resolve));
    const server = await rawServer((_req, res) => {
      res.writeHead(200, { "content-type": "application/x-ndjson" });
      res.write(line("one "));
      void seenFirst.then(() => {
        // One HTTP chunk per line, as Ollama flushes them; written in one tick, they arrive in one socket read.
        for (const word of ["two ", "three ", "four "]) res.write(line(word));
        res.end(done);
      });
    });
    const out: ModelChunk[] = [];
    await createOllamaModel({ baseUrl: server.url }).streamTo!(ask("m"), {}, (chunk) => {
      out.push(chunk);
      if (chunk.type === "text" && chunk.text === "one ") firstSeen();
    });
    const texts = out.filter((c) => c.type === "text");
    // The first came alone, before the server wrote the rest; the rest in fewer passes than lines.
    expect(texts[0]).toEqual({ type: "text", text: "one " });
    expect(texts.map((c) => c.text).join("")).toBe("one two three four ");
    expect(texts.length).toBeLessThan(4);
    expect(texts.reduce((n, c) => n + (c.pieces ?? 1), 0)).toBe(4);
    expect(out.at(-1)).toMatchObject({ type: "finish", reason: "stop" });
  });

  it("gives the same chunks as stream, and reads to the end after the done line", async () => {
    const server = await rawServer((_req, res) => {
      res.writeHead(200, { "content-type": "application/x-ndjson" });
      res.end(line("a") + line("b") + done + "junk after done\n");
    });
    const model = createOllamaModel({ baseUrl: server.url });
    expect(await chunksTo(model, ask("m"))).toEqual(await chunks(model, ask("m")));
    // Both answers on one connection: the first was read to its end, not cut.
    expect(new Set(server.seen.map((s) => s.socket)).size).toBe(1);
  });

  it("a connection cut mid-answer is stream_truncated", async () => {
    const server = await rawServer((req, res) => {
      res.writeHead(200, { "content-type": "application/x-ndjson" });
      res.write(line("h"), () => req.socket.destroy());
    });
    const out: ModelChunk[] = [];
    const error = await failure(createOllamaModel({ baseUrl: server.url }).streamTo!(ask("m"), {}, (chunk) => out.push(chunk)));
    expect(error.code).toBe("stream_truncated");
    expect(out).toEqual([{ type: "text", text: "h" }]);
  });

  it("abort mid-answer: cancelled, the server sees the connection close, no listener is left on the signal", async () => {
    let serverSocketClosed = false;
    const server = await rawServer((req, res) => {
      req.socket.once("close", () => (serverSocketClosed = true));
      res.writeHead(200, { "content-type": "application/x-ndjson" });
      res.write(line("a"));
    });
    const controller = new AbortController();
    const streaming = createOllamaModel({ baseUrl: server.url }).streamTo!(ask("m"), { signal: controller.signal }, (chunk) => {
      if (chunk.type === "text") controller.abort();
    });
    expect((await failure(streaming)).code).toBe("cancelled");
    await until(() => serverSocketClosed, "the server to see the close");
    expect(getEventListeners(controller.signal, "abort")).toHaveLength(0);
  });

  it("keeps nothing of its reader once the answer ended, while the connection waits in the pool for the next", async () => {
    const server = await rawServer((_req, res) => {
      res.writeHead(200, { "content-type": "application/x-ndjson" });
      res.end(line("a") + done);
    });
    const transport = nodeTransport();
    const readers: Array<WeakRef<object>> = [];
    // A function of its own, so that nothing of the answer stays in the test's frame.
    const readOne = async () => {
      // What a run's reader holds (its whole answer so far), reachable only through the callback.
      const answer = { text: "x".repeat(1_000_000) };
      readers.push(new WeakRef(answer));
      const res = await transport.request({ url: `${server.url}/api/chat`, method: "POST", headers: {}, body: "{}" });
      await res.forEach!(() => {
        answer.text += "";
      });
    };
    for (let i = 0; i < 3; i++) await readOne();
    collectGarbage();
    expect(readers.map((reader) => reader.deref() === undefined)).toEqual([true, true, true]);
    // The answers came over one kept-alive connection, which is still open.
    expect(new Set(server.seen.map((s) => s.socket)).size).toBe(1);
  });

  it("a callback that throws closes the connection and fails the answer", async () => {
    let serverSocketClosed = false;
    const server = await rawServer((req, res) => {
      req.socket.once("close", () => (serverSocketClosed = true));
      res.writeHead(200, { "content-type": "application/x-ndjson" });
      res.write(line("a"));
    });
    const streaming = createOllamaModel({ baseUrl: server.url }).streamTo!(ask("m"), {}, () => {
      throw new Error("the reader broke");
    });
    expect((await failure(streaming)).code).toBe("stream_truncated");
    await until(() => serverSocketClosed, "the server to see the close");
  });
});

const headOf = (message: object): string => Reflect.get(message, "_header") as string;

describe("compactHead", () => {
  const closers: (() => void)[] = [];
  afterEach(() => {
    for (const close of closers.splice(0)) close();
  });

  it("leaves the head a response keeps as one flat string, byte for byte the same", async () => {
    let held: ServerResponse | undefined;
    const server = createServer((_req, res) => {
      res.writeHead(200, ["content-type", "text/event-stream", "cache-control", "no-cache", "x-a", "1", "x-b", "2", "x-c", "3"]);
      res.write(": open\n\n");
      held = res;
    }).listen(0, "127.0.0.1");
    closers.push(() => server.closeAllConnections(), () => server.close());
    await new Promise((resolve) => server.once("listening", resolve));
    const { port } = server.address() as AddressInfo;
    const req = request({ host: "127.0.0.1", port, path: "/" });
    closers.push(() => req.destroy());
    await new Promise((resolve) => req.once("response", resolve).end());

    const res = held!;
    const before = headOf(res);
    // What this is for: Node keeps the head as the pieces it concatenated.
    expect(isFlatString(before)).toBe(false);
    compactHead(res);
    expect(isFlatString(headOf(res))).toBe(true);
    expect(headOf(res)).toBe(before);
    expect(headOf(res)).toMatch(/^HTTP\/1\.1 200 OK\r\ncontent-type: text\/event-stream\r\n[^]*\r\n\r\n$/);
  });

  it("does nothing to a message that has no head yet", () => {
    const message = new OutgoingMessage();
    compactHead(message);
    expect(Reflect.get(message, "_header")).toBeNull();
  });
});

describe("request shapes", () => {
  it("keeps later requests out of dictionary mode when a full GC ran after the first few finished", async () => {
    // A fresh process: V8 fixes ClientRequest's size once per process, from its first seven requests.
    const script = fileURLToPath(new URL("../test-support/request-shapes.ts", import.meta.url));
    const output = await new Promise<string>((resolve, reject) => {
      execFile(
        process.execPath,
        ["--import", "tsx", "--allow-natives-syntax", "--expose-gc", script],
        { timeout: 30_000 },
        (error, stdout, stderr) => (error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout)),
      );
    });
    expect(JSON.parse(output) as unknown).toEqual({ fast: [true, true, true] });
  });
});
