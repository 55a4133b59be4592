import type { ServerResponse } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import type { ChatModel, ModelChunk } from "../model.js";
import { startHttpServer, writeSse, type TestServer } from "../test-support/http.js";
import { ask, chunks, failure } from "../test-support/provider-helpers.js";
import { createOllamaModel } from "./ollama.js";
import { createOpenAIModel } from "./openai.js";

// The keep-alive reuse race: the server closes a pooled connection just as the client sends on it, so the
// request dies before any response header (undici: UND_ERR_SOCKET "other side closed").

const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/** Answers with `answer`, except that the first `resets` requests get their socket destroyed unanswered. */
async function resettingServer(resets: number, answer: (res: ServerResponse) => void): Promise<TestServer> {
  let seen = 0;
  const server = await startHttpServer((_req, res) => {
    seen += 1;
    if (seen <= resets) res.socket?.destroy();
    else answer(res);
  });
  servers.push(server);
  return server;
}

const ollamaAnswer = (res: ServerResponse) => {
  res.writeHead(200, { "content-type": "application/x-ndjson" });
  res.end(`${JSON.stringify({ message: { role: "assistant", content: "hi" }, done: false })}\n${JSON.stringify({ done: true, done_reason: "stop" })}\n`);
};
const openaiAnswer = (res: ServerResponse) =>
  writeSse(res, [{ choices: [{ index: 0, delta: { content: "hi" }, finish_reason: null }] }, { choices: [{ index: 0, delta: {}, finish_reason: "stop" }] }, "data: [DONE]\n\n"]);

const providers: Array<{ name: string; answer: (res: ServerResponse) => void; create: (baseUrl: string, f: typeof fetch) => ChatModel }> = [
  { name: "ollama", answer: ollamaAnswer, create: (baseUrl, f) => createOllamaModel({ baseUrl, fetch: f }) },
  { name: "openai", answer: openaiAnswer, create: (baseUrl, f) => createOpenAIModel({ baseUrl: `${baseUrl}/v1`, fetch: f }) },
];

const collect = (model: ChatModel, signal?: AbortSignal): Promise<ModelChunk[]> => chunks(model, ask("m"), signal);

/** The real fetch, counting calls. */
function countingFetch(): { fetch: typeof fetch; calls: () => number } {
  let calls = 0;
  return {
    fetch: (input, init) => {
      calls += 1;
      return fetch(input, init);
    },
    calls: () => calls,
  };
}

describe.each(providers)("$name provider — connection reset before the response", ({ answer, create }) => {
  it("retries once on a fresh connection and streams the answer", async () => {
    const server = await resettingServer(1, answer);
    const counting = countingFetch();
    const chunks = await collect(create(server.url, counting.fetch));
    expect(chunks.filter((c) => c.type === "text")).toEqual([{ type: "text", text: "hi" }]);
    expect(chunks.at(-1)).toMatchObject({ type: "finish", reason: "stop" });
    expect(counting.calls()).toBe(2);
    expect(server.requests).toHaveLength(2);
  });

  it("gives up after the one retry with provider_unavailable", async () => {
    const server = await resettingServer(Number.POSITIVE_INFINITY, answer);
    const counting = countingFetch();
    const error = await failure(collect(create(server.url, counting.fetch)));
    expect(error.code).toBe("provider_unavailable");
    expect(counting.calls()).toBe(2);
    expect(server.requests).toHaveLength(2);
  });

  it("never retries when the request was aborted, even if the socket reset too", async () => {
    const server = await resettingServer(Number.POSITIVE_INFINITY, answer);
    const controller = new AbortController();
    let calls = 0;
    // The user's cancel races the reset: fetch fails with the reset error while our signal is aborted.
    const racing: typeof fetch = async (input, init) => {
      calls += 1;
      const { signal: _ignored, ...rest } = init ?? {};
      try {
        return await fetch(input, rest);
      } catch (error) {
        controller.abort();
        throw error;
      }
    };
    const error = await failure(collect(create(server.url, racing), controller.signal));
    expect(error.code).toBe("cancelled");
    expect(calls).toBe(1);
    expect(server.requests).toHaveLength(1);
  });

  it("never retries once response bytes arrived: a cut mid-answer is stream_truncated", async () => {
    const server = await startHttpServer((_req, res) => {
      res.writeHead(200, { "content-type": "text/plain" });
      // Headers and a partial line reach the socket, then it dies.
      res.write('{"message":{"content":"h', () => res.socket?.destroy());
    });
    servers.push(server);
    const counting = countingFetch();
    const error = await failure(collect(create(server.url, counting.fetch)));
    expect(error.code).toBe("stream_truncated");
    expect(counting.calls()).toBe(1);
    expect(server.requests).toHaveLength(1);
  });
});
