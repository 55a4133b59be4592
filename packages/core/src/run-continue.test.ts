import { startSimulator, type Simulator } from "@streamchat/ollama-sim";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { ChatMessage } from "./model.js";
import { continueRequest, createOpenAIModel, toOpenAIRequest } from "./providers/openai.js";
import { startHttpServer, writeSse } from "./test-support/http.js";
import { continuingMessage, runChat, type RunResult } from "./run.js";
import { collect } from "./test-support/recorder.js";
import { modelScenario, simRunOptions } from "./test-support/sim-run.js";

/**
 * A cut-short answer continued as a new version (RunOptions.continueAnswer), on the simulator, which continues a final
 * assistant message as Ollama does: the run tells the answer so far, sends its text last, and its result is the whole
 * answer in one message.
 */

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({ tokenDelayMs: 0 });
});
afterEach(() => sim.clearScenarios());
afterAll(async () => {
  await sim.close();
});

const question: ChatMessage[] = [{ role: "user", content: "Explain how a rainbow forms, in detail" }];
const lastChatBody = () => sim.chatRequests().at(-1)?.body as { messages: Array<Record<string, unknown>>; continue_final_message?: boolean };

async function fullAnswer(): Promise<RunResult> {
  return (await collect(runChat(simRunOptions(sim, "demo", { messages: question, tools: [] })))).result;
}

describe("continuing an answer", () => {
  it("tells the text so far, sends it last, and ends with the whole answer in one message", async () => {
    const full = (await fullAnswer()).text;
    const cut = full.slice(0, 120);
    const { events, shapes, result } = await collect(
      runChat(simRunOptions(sim, "demo", { messages: question, tools: [], continueAnswer: [{ role: "assistant", content: cut }] })),
    );
    // The answer so far between run-start and the first status, then what the model adds.
    expect(shapes).toEqual(["run-start", `token:${cut}`, `status:${continuingMessage}`, "status:Responding…", `token:${full.slice(120)}`, "done:stop"]);
    expect(events.find((e) => e.type === "token")).toMatchObject({ runId: expect.any(String), text: cut });
    // Its start says it continues (kept in the log); an answer's own start does not.
    expect(events[0]).toMatchObject({ type: "run-start", continues: true });
    expect(result.text).toBe(full);
    expect(result.messages).toEqual([{ role: "assistant", content: full }]);
    const body = lastChatBody();
    expect(body.messages.at(-1)).toEqual({ role: "assistant", content: cut });
    expect(body.continue_final_message).toBeUndefined();
    const own = await collect(runChat(simRunOptions(sim, "demo", { messages: question, tools: [] })));
    expect(own.events[0]?.type).toBe("run-start");
    expect(own.events[0]).not.toHaveProperty("continues");
  });

  it("carries an answer's tool rounds and reasoning: told as events, sent before its text, kept in the result", async () => {
    const before: ChatMessage[] = [
      { role: "assistant", content: "", thinking: "Need math.", toolCalls: [{ id: "call-1", name: "calculator", args: { expression: "6*7" } }] },
      { role: "tool", toolCallId: "call-1", toolName: "calculator", content: "42" },
      { role: "tool", toolCallId: "call-2", toolName: "calculator", content: JSON.stringify({ error: { code: "tool_failed", message: "no" } }) },
    ];
    const last: ChatMessage = { role: "assistant", content: "The answer is " };
    const { events, shapes, result } = await collect(
      runChat(simRunOptions(sim, "demo", { messages: question, continueAnswer: [...before, last] })),
    );
    expect(shapes.slice(0, 7)).toEqual([
      "run-start",
      "reasoning:Need math.",
      "tool-call:calculator",
      "tool-result:calculator:ok",
      "tool-result:calculator:tool_failed",
      "token:The answer is ",
      `status:${continuingMessage}`,
    ]);
    expect(events.find((e) => e.type === "tool-result")).toMatchObject({ callId: "call-1", ok: true, result: 42 });
    // With the results their run logged, those are told as they were: durations and typed errors.
    const logged = [
      { type: "tool-result" as const, runId: "old", at: 1, callId: "call-2", name: "calculator", ok: false, error: { code: "tool_timeout" as const, message: "slow" }, durationMs: 15_000 },
    ];
    const again = await collect(runChat(simRunOptions(sim, "demo", { messages: question, continueAnswer: [...before, last], continuedToolResults: logged })));
    const results = again.events.filter((e) => e.type === "tool-result");
    expect(results[0]).toMatchObject({ callId: "call-1", ok: true, result: 42, durationMs: 0 });
    expect(results[1]).toEqual({ ...logged[0], runId: again.events[0]!.runId, at: expect.any(Number) });
    expect(shapes.at(-1)).toBe("done:stop");
    expect(result.messages.slice(0, 3)).toEqual(before);
    expect(result.messages).toHaveLength(4);
    expect(result.messages[3]).toMatchObject({ role: "assistant", content: expect.stringMatching(/^The answer is .+/s) });
    expect(result.text.startsWith("The answer is ")).toBe(true);
    const sent = lastChatBody().messages;
    expect(sent.slice(-4).map((m) => m["role"])).toEqual(["assistant", "tool", "tool", "assistant"]);
    expect(sent.at(-1)).toEqual({ role: "assistant", content: "The answer is " });
  });

  it("a continuation that fails keeps the text so far joined with what it added", async () => {
    modelScenario(sim, "cont-fails", { respond: () => [{ content: "more " }, { content: "words" }, { error: "the runner crashed" }] });
    const { shapes, result } = await collect(
      runChat(simRunOptions(sim, "cont-fails", { messages: question, tools: [], continueAnswer: [{ role: "assistant", content: "Some text, " }] })),
    );
    expect(shapes.at(-1)).toBe("done:error");
    expect(result.messages).toEqual([{ role: "assistant", content: "Some text, more words" }]);
  });

  it("a continuation that fails or is stopped before the model adds a word stores nothing (no copy of the answer)", async () => {
    const answer: ChatMessage[] = [
      { role: "assistant", content: "", toolCalls: [{ id: "call-1", name: "calculator", args: { expression: "1+1" } }] },
      { role: "tool", toolCallId: "call-1", toolName: "calculator", content: "2" },
      { role: "assistant", content: "So far, " },
    ];
    const missing = await collect(runChat(simRunOptions(sim, "sim-not-found", { messages: question, continueAnswer: answer })));
    expect(missing.shapes.slice(-2)).toEqual(["error:model_not_found", "done:error"]);
    expect(missing.result.messages).toEqual([]);

    const controller = new AbortController();
    const stream = sim.control({ model: "demo" });
    const stopped = collect(runChat(simRunOptions(sim, "demo", { messages: question, continueAnswer: answer, signal: controller.signal })));
    await stream.connected;
    controller.abort();
    const { shapes, result } = await stopped;
    expect(shapes.at(-1)).toBe("done:cancelled");
    expect(result.messages).toEqual([]);
  });

  it("refuses an answer that does not end with the model's text", async () => {
    const endsInCalls: ChatMessage[] = [{ role: "assistant", content: "Checking.", toolCalls: [{ id: "c", name: "calculator", args: {} }] }];
    for (const answer of [endsInCalls, [{ role: "assistant", content: "  " }] as ChatMessage[], [] as ChatMessage[]]) {
      const { shapes, result } = await collect(runChat(simRunOptions(sim, "demo", { messages: question, continueAnswer: answer })));
      expect(shapes.slice(-2)).toEqual(["error:bad_request", "done:error"]);
      expect(result.messages).toEqual([]);
    }
  });

  it("OpenAI-compatible servers: told with continue_final_message (vLLM, SGLang), as is (llama.cpp), else asked", async () => {
    // A server that lists its one model as owned by `owner`, and answers " the rest." to any chat request.
    const asServer = async (owner: string) => {
      const server = await startHttpServer((req, res) => {
        if (req.path === "/v1/models") {
          res.writeHead(200, { "content-type": "application/json" });
          res.end(JSON.stringify({ object: "list", data: [{ id: "m", object: "model", owned_by: owner }] }));
        } else if (req.path === "/v1/chat/completions") {
          writeSse(res, [{ choices: [{ index: 0, delta: { content: " the rest." }, finish_reason: "stop" }] }, "data: [DONE]\n\n"]);
        } else {
          res.writeHead(404).end();
        }
      });
      const model = createOpenAIModel({ baseUrl: `${server.url}/v1` });
      const { result } = await collect(
        runChat({ ...simRunOptions(sim, "m", { messages: question, tools: [], continueAnswer: [{ role: "assistant", content: "The start," }] }), model }),
      );
      await server.close();
      const body = server.requests.find((r) => r.path === "/v1/chat/completions")?.body as Record<string, unknown> & { messages: unknown[] };
      return { result, body };
    };
    const vllm = await asServer("vllm");
    expect(vllm.body).toMatchObject({ continue_final_message: true, add_generation_prompt: false });
    expect(vllm.body.messages.at(-1)).toEqual({ role: "assistant", content: "The start," });
    expect(vllm.result.messages).toEqual([{ role: "assistant", content: "The start, the rest." }]);
    const llama = await asServer("llamacpp");
    expect(llama.body).not.toHaveProperty("continue_final_message");
    expect(llama.body.messages.at(-1)).toEqual({ role: "assistant", content: "The start," });
    // LM Studio, OpenAI, a proxy: asked after the answer so far, in a user message; the answer is joined the same.
    const lmStudio = await asServer("organization_owner");
    expect(lmStudio.body).not.toHaveProperty("continue_final_message");
    expect(lmStudio.body.messages.slice(-2)).toEqual([
      { role: "assistant", content: "The start," },
      { role: "user", content: continueRequest },
    ]);
    expect(lmStudio.result.messages).toEqual([{ role: "assistant", content: "The start, the rest." }]);
    expect(toOpenAIRequest({ model: "m", messages: question, continueFinal: true })).not.toHaveProperty("continue_final_message");
    // Ollama's /v1 lists its models as "library"'s: it continues a final assistant message by itself.
    const model = createOpenAIModel({ baseUrl: `${sim.url}/v1` });
    const full = (await collect(runChat({ ...simRunOptions(sim, "demo", { messages: question, tools: [] }), model }))).result.text;
    const { result } = await collect(
      runChat({ ...simRunOptions(sim, "demo", { messages: question, tools: [], continueAnswer: [{ role: "assistant", content: full.slice(0, 50) }] }), model }),
    );
    expect(result.text).toBe(full);
    expect(lastChatBody().continue_final_message).toBeUndefined();
    expect(lastChatBody().messages.at(-1)).toEqual({ role: "assistant", content: full.slice(0, 50) });
  });
});
