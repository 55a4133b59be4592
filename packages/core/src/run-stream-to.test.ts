import { getEventListeners } from "node:events";
import { startSimulator, type Scenario, type Simulator } from "@streamchat/ollama-sim";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { chatEventSchema, type ChatEvent } from "./events.js";
import type { ChatModel } from "./model.js";
import { createOllamaModel } from "./providers/ollama.js";
import { createOpenAIModel } from "./providers/openai.js";
import { runChat, type RunOptions, type RunResult } from "./run.js";
import { collect, shapes } from "./test-support/recorder.js";
import { modelScenario, simRunOptions } from "./test-support/sim-run.js";

/**
 * runChat with `onStreamEvent` over a model with `streamTo` (the API's run executor): the answer's events come
 * through the callback as each chunk arrives instead of through the generator. The run must say exactly what it
 * says through the generator alone, fail and stop the same ways, and hand each chunk on as it arrives.
 */

let sim: Simulator;

beforeAll(async () => {
  sim = await startSimulator({ tokenDelayMs: 0 });
});
afterEach(() => sim.clearScenarios());
afterAll(async () => {
  await sim.close();
});

const options = (model: string, extra: Partial<RunOptions> = {}): RunOptions => simRunOptions(sim, model, extra);
const scenario = (model: string, s: Omit<Scenario, "name" | "match">) => modelScenario(sim, model, s);

/** A run read with onStreamEvent: every event in the order the run said it, and which came through the callback. */
class StreamedRun {
  readonly events: ChatEvent[] = [];
  readonly streamed: ChatEvent[] = [];
  readonly finished: Promise<RunResult>;
  private waiters: Array<{ test: (e: ChatEvent) => boolean; resolve: () => void }> = [];

  constructor(opts: RunOptions) {
    const run = runChat({
      ...opts,
      onStreamEvent: (event) => {
        this.streamed.push(event);
        this.add(event);
      },
    });
    this.finished = (async () => {
      for (;;) {
        const next = await run.next();
        if (next.done) return next.value;
        this.add(next.value);
      }
    })();
  }

  until(test: (e: ChatEvent) => boolean): Promise<void> {
    if (this.events.some(test)) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ test, resolve }));
  }

  shapes(): string[] {
    return shapes(this.events);
  }

  private add(event: ChatEvent): void {
    chatEventSchema.parse(event);
    this.events.push(event);
    this.waiters = this.waiters.filter((w) => {
      if (!w.test(event)) return true;
      w.resolve();
      return false;
    });
  }
}

/** A result without what differs between two runs anyway: timings and the ids made up for tool calls. */
const comparable = (result: RunResult): unknown =>
  JSON.parse(JSON.stringify({ ...result, usage: { ...result.usage, durationMs: 0, ttftMs: 0, tokensPerSecond: 0 } }).replace(/call_[a-z0-9]+/g, "call"));

describe("runChat with onStreamEvent over Ollama's streamTo", () => {
  it("says what the generator alone says, for answers, reasoning, tool rounds, split characters and failures", async () => {
    scenario("m-text", { chunks: [{ content: "Hel" }, { content: "lo " }, { content: "😀" }, { done: true }] });
    scenario("m-think", { chunks: [{ thinking: "Let me " }, { thinking: "see." }, { content: "Yes." }, { done: true }] });
    const cases: Array<[string, Partial<RunOptions>]> = [
      ["m-text", {}],
      ["m-think", { think: true }],
      ["sim-tool-on-done", {}],
      ["sim-two-tools", {}],
      ["sim-utf8-split", {}],
      ["sim-error-mid-stream", {}],
      ["sim-truncated", {}],
      ["sim-garbage-line", {}],
      ["sim-not-found", {}],
    ];
    for (const [model, extra] of cases) {
      const pulled = await collect(runChat(options(model, extra)));
      const streamed = new StreamedRun(options(model, extra));
      const result = await streamed.finished;
      expect(streamed.shapes(), model).toEqual(pulled.shapes);
      expect(comparable(result), model).toEqual(comparable(pulled.result));
      // The answer's own events came through the callback, none through the generator.
      const answer = streamed.events.filter((e) => e.type === "token" || e.type === "reasoning");
      expect(answer.every((e) => streamed.streamed.includes(e)), model).toBe(true);
      expect(streamed.streamed.every((e) => e.type === "token" || e.type === "reasoning" || e.type === "status"), model).toBe(true);
    }
  });

  it("says the same over the OpenAI-compatible provider's streamTo", async () => {
    for (const model of ["sim-two-tools", "sim-utf8-split", "sim-error-mid-stream"]) {
      const openai = { model: createOpenAIModel({ baseUrl: `${sim.url}/v1` }) };
      const pulled = await collect(runChat(options(model, openai)));
      const streamed = new StreamedRun(options(model, openai));
      const result = await streamed.finished;
      expect(streamed.shapes(), model).toEqual(pulled.shapes);
      expect(comparable(result), model).toEqual(comparable(pulled.result));
      expect(streamed.streamed.some((e) => e.type === "token"), model).toBe(true);
    }
  });

  it("takes a reasoning block that opens a round's text as its reasoning, on both wires and both ways of reading", async () => {
    // As llama.cpp, vLLM or a proxy that does not take a reasoning model's thinking apart sends it: tags split anywhere.
    scenario("m-tagged", {
      chunks: [{ content: "\n<thi" }, { content: "nk>\nThe user " }, { content: "asks x.\n</th" }, { content: "ink>\n\nIt is " }, { content: "<b>x</b>." }, { done: true }],
    });
    const expected = [...["run-start", "status:Processing your question…"], "reasoning:The user asks x.\n", "status:Responding…", "token:It is <b>x</b>.", "done:stop"];
    for (const extra of [{}, { model: createOpenAIModel({ baseUrl: `${sim.url}/v1` }) }]) {
      const pulled = await collect(runChat(options("m-tagged", extra)));
      expect(pulled.shapes).toEqual(expected);
      expect(pulled.result.messages).toEqual([{ role: "assistant", content: "It is <b>x</b>.", thinking: "The user asks x.\n" }]);
      const streamed = new StreamedRun(options("m-tagged", extra));
      await streamed.finished;
      expect(streamed.shapes()).toEqual(expected);
    }
    // Mistral's Magistral marks its block [THINK]…[/THINK]: a text opening with "[" is read the same way.
    scenario("m-magistral", { chunks: [{ content: "[TH" }, { content: "INK]Short.[/THI" }, { content: "NK]Yes." }, { done: true }] });
    const magistral = await collect(runChat(options("m-magistral", { model: createOpenAIModel({ baseUrl: `${sim.url}/v1` }) })));
    expect(magistral.result.messages).toEqual([{ role: "assistant", content: "Yes.", thinking: "Short." }]);
    // Text that does not open with the block is the answer, tags and all.
    scenario("m-untagged", { chunks: [{ content: "Use " }, { content: "<think>" }, { content: " tags." }, { done: true }] });
    const plain = await collect(runChat(options("m-untagged")));
    expect(plain.result.messages).toEqual([{ role: "assistant", content: "Use <think> tags." }]);
  });

  it("hands each chunk on as it arrives: every token is out before the next is written", async () => {
    const ctl = sim.control({ model: "m-drip" });
    const run = new StreamedRun(options("m-drip"));
    await ctl.connected;
    for (const word of ["one ", "two ", "three"]) {
      await ctl.push({ content: word });
      await run.until((e) => e.type === "token" && e.text === word);
    }
    await ctl.push({ done: true });
    const result = await run.finished;
    expect(run.streamed.flatMap((e) => (e.type === "token" ? [e.text] : []))).toEqual(["one ", "two ", "three"]);
    expect(result.text).toBe("one two three");
  });

  it("cancels mid-stream: done{cancelled}, the partial answer kept, and the model connection closed", async () => {
    const ctl = sim.control({ model: "m-cancel" });
    const abort = new AbortController();
    const signal = abort.signal;
    const run = new StreamedRun(options("m-cancel", { signal }));
    const record = await ctl.connected;
    await ctl.push({ content: "Partial " });
    await run.until((e) => e.type === "token");
    abort.abort();
    const result = await run.finished;
    expect(run.shapes()).toEqual(["run-start", "status:Processing your question…", "status:Responding…", "token:Partial ", "done:cancelled"]);
    expect(result).toMatchObject({ reason: "cancelled", text: "Partial ", messages: [{ role: "assistant", content: "Partial " }] });
    await ctl.closedByClient;
    await record.finished;
    expect(record.clientClosedEarly).toBe(true);
    expect(getEventListeners(signal, "abort")).toHaveLength(0);
  });

  it("fails a model silent for idleTimeoutMs after its last chunk and closes its connection", async () => {
    const run = new StreamedRun(options("sim-stall", { idleTimeoutMs: 200 }));
    await run.finished;
    expect(run.shapes()).toEqual([
      "run-start",
      "status:Processing your question…",
      "status:Responding…",
      "token:The answer starts ",
      "error:provider_error",
      "done:error",
    ]);
    expect(run.events.at(-2)).toMatchObject({ message: "The model stalled: no data from the model server for 0.2 s." });
    const record = sim.chatRequests().at(-1)!;
    await record.finished;
    expect(record.clientClosedEarly).toBe(true);
  });

  it("yields everything from a model without streamTo, as if no callback were given", async () => {
    const ollama = createOllamaModel({ baseUrl: sim.url });
    const iteratorOnly: ChatModel = { provider: "ollama", stream: (request, opts) => ollama.stream(request, opts) };
    scenario("m-plain", { chunks: [{ content: "Just " }, { content: "text." }, { done: true }] });
    const run = new StreamedRun(options("m-plain", { model: iteratorOnly }));
    const result = await run.finished;
    expect(run.streamed).toEqual([]);
    expect(run.shapes()).toEqual(["run-start", "status:Processing your question…", "status:Responding…", "token:Just text.", "done:stop"]);
    expect(result.text).toBe("Just text.");
  });
});
