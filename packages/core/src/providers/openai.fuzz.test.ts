import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ChatError } from "../errors.js";
import type { ChatModel, ModelChunk, ModelRequest } from "../model.js";
import { startHttpServer, type TestServer } from "../test-support/http.js";
import { joined } from "../test-support/provider-helpers.js";
import { createOpenAIModel } from "./openai.js";

/**
 * Fuzzing the OpenAI-compatible SSE path: the decoded chunks do not depend on how the bytes are split
 * (inside events, lines, CRLF pairs and multi-byte characters), and no body — however broken — makes the
 * provider throw anything but a typed ChatError (provider_error / stream_truncated).
 */

// Fixed seed: CI runs are reproducible. FUZZ_SEED=<n> explores other inputs locally.
const seed = Number(process.env["FUZZ_SEED"] ?? 20261129);

const ask: ModelRequest = { model: "m", messages: [{ role: "user", content: "hi" }] };

async function drain(model: ChatModel): Promise<ModelChunk[]> {
  const out: ModelChunk[] = [];
  for await (const chunk of model.stream(ask)) out.push(chunk);
  return out;
}

/** A model whose fetch answers 200 with `bytes`, delivered in the given pieces (exact chunk boundaries). */
function modelFor(bytes: Uint8Array, cuts: number[]): ChatModel {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const pieces: Uint8Array[] = [];
  let from = 0;
  for (const point of [...points, bytes.length]) {
    if (point > from) pieces.push(bytes.slice(from, point));
    from = Math.max(from, point);
  }
  const fetchPieces: typeof fetch = async () =>
    new Response(
      new ReadableStream<Uint8Array>({
        start(controller) {
          for (const piece of pieces) controller.enqueue(piece);
          controller.close();
        },
      }),
      { status: 200, headers: { "content-type": "text/event-stream" } },
    );
  return createOpenAIModel({ baseUrl: "http://127.0.0.1:9/v1", fetch: fetchPieces });
}

const text = fc.string({ unit: fc.constantFrom("a", " ", "é", "東", "😀", "\n", '"', "\\", "{", ":"), maxLength: 12 });

/** A well-formed OpenAI stream: content / reasoning deltas, fragmented tool calls, finish, usage, [DONE]. */
const wellFormed = fc
  .record({
    deltas: fc.array(fc.oneof(fc.record({ content: text }), fc.record({ reasoning: text })), { maxLength: 8 }),
    tools: fc.array(
      fc.record({
        name: fc.constantFrom("calculator", "current_time"),
        args: fc.dictionary(fc.string({ maxLength: 5 }), fc.oneof(fc.integer(), text), { maxKeys: 3 }),
        fragments: fc.integer({ min: 1, max: 4 }),
      }),
      { maxLength: 2 },
    ),
    finish: fc.constantFrom("stop", "length", "tool_calls"),
    crlf: fc.boolean(),
  })
  .map(({ deltas, tools, finish, crlf }) => {
    const events: object[] = deltas.map((d) => ({ choices: [{ index: 0, delta: d, finish_reason: null }] }));
    tools.forEach((tool, index) => {
      const json = JSON.stringify(tool.args);
      const size = Math.ceil(json.length / tool.fragments) || 1;
      events.push({
        choices: [{ index: 0, delta: { tool_calls: [{ index, id: `call_${index}`, type: "function", function: { name: tool.name, arguments: "" } }] } }],
      });
      for (let at = 0; at < json.length; at += size) {
        events.push({ choices: [{ index: 0, delta: { tool_calls: [{ index, function: { arguments: json.slice(at, at + size) } }] } }] });
      }
    });
    events.push({ choices: [{ index: 0, delta: {}, finish_reason: finish }] });
    events.push({ choices: [], usage: { prompt_tokens: 3, completion_tokens: 4 } });
    const nl = crlf ? "\r\n" : "\n";
    const body = [...events.map((e) => `data: ${JSON.stringify(e)}${nl}${nl}`), `data: [DONE]${nl}${nl}`].join("");
    return new TextEncoder().encode(body);
  });

const cuts = fc.array(fc.nat({ max: 5000 }), { maxLength: 40 });

describe("createOpenAIModel — fuzz", () => {
  it("decodes the same chunks for any split of a well-formed stream", async () => {
    await fc.assert(
      fc.asyncProperty(wellFormed, cuts, async (bytes, split) => {
        const whole = await drain(modelFor(bytes, []));
        const pieces = await drain(modelFor(bytes, split));
        expect(joined(pieces)).toEqual(joined(whole));
        expect(whole.at(-1)?.type).toBe("finish");
        expect(whole.filter((c) => c.type === "finish")).toHaveLength(1);
      }),
      { numRuns: 150, seed },
    );
  });

  it("splitting every byte apart changes nothing", async () => {
    const [bytes] = fc.sample(wellFormed, { numRuns: 1, seed: 7 });
    if (!bytes) throw new Error("no sample");
    const everyByte = Array.from({ length: bytes.length }, (_, i) => i);
    expect(joined(await drain(modelFor(bytes, everyByte)))).toEqual(joined(await drain(modelFor(bytes, []))));
  });

  it("answers garbage, broken JSON and cut streams only with finish or a typed ChatError", async () => {
    const line = fc.oneof(
      fc.constant('data: {"choices":[{"index":0,"delta":{"content":"a"}}]}'),
      fc.constant('data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}'),
      fc.constant('data: {"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"name":"x","arguments":"{\\"a"}}]}}]}'),
      fc.constant("data: [DONE]"),
      fc.constant('data: {"error":{"message":"boom"}}'),
      fc.constant("data: {not json"),
      fc.constant("event: ping"),
      fc.constant(": comment"),
      fc.constant("retry: 10"),
      fc.constant(""),
      fc.jsonValue({ maxDepth: 3 }).map((v) => `data: ${JSON.stringify(v)}`),
      fc.string({ maxLength: 30 }),
    );
    const body = fc.oneof(
      fc.uint8Array({ maxLength: 300 }),
      fc.array(line, { maxLength: 10 }).map((ls) => new TextEncoder().encode(ls.join("\n"))),
      wellFormed.chain((bytes) => fc.nat({ max: bytes.length }).map((n) => bytes.slice(0, n))), // cut anywhere
    );
    await fc.assert(
      fc.asyncProperty(body, cuts, async (bytes, split) => {
        try {
          const out = await drain(modelFor(bytes, split));
          expect(out.at(-1)?.type).toBe("finish");
          expect(out.filter((c) => c.type === "finish")).toHaveLength(1);
        } catch (error) {
          expect(error).toBeInstanceOf(ChatError);
          expect(["provider_error", "stream_truncated"]).toContain((error as ChatError).code);
        }
      }),
      { numRuns: 300, seed },
    );
  });
});

describe("createOpenAIModel — fuzz over a real socket", () => {
  let server: TestServer;
  let body = new Uint8Array();
  beforeAll(async () => {
    server = await startHttpServer(async (_req, res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      // Written in small pieces so the socket carries real, arbitrary boundaries.
      for (let at = 0; at < body.length; at += 7) {
        res.write(body.slice(at, at + 7));
        if (at % 49 === 0) await new Promise((resolve) => setImmediate(resolve));
      }
      res.end();
    });
  });
  afterAll(() => server?.close());

  it("never throws anything but a ChatError for random bytes on the wire", async () => {
    const model = createOpenAIModel({ baseUrl: `${server.url}/v1` });
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.uint8Array({ maxLength: 200 }), wellFormed), async (bytes) => {
        body = bytes;
        try {
          const out = await drain(model);
          expect(out.at(-1)?.type).toBe("finish");
        } catch (error) {
          expect(error).toBeInstanceOf(ChatError);
          expect(["provider_error", "stream_truncated"]).toContain((error as ChatError).code);
        }
      }),
      { numRuns: 40, seed },
    );
  });
});
