import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { benchToken, builtinScenarios } from "./scenarios.js";
import { startSimulator } from "./server.js";
import { allTools, chatLines, contentOf, parseLines, rawRequest, user, type Line } from "./test-support/http.js";
import type { Simulator } from "./types.js";

let sim: Simulator;

beforeAll(async () => {
  sim = await startSimulator({ tokenDelayMs: 0 });
});
afterAll(async () => {
  await sim.close();
});

/** Each fault scenario is reachable by model name and by tag on the default model. */
const selectors = (name: string) => [
  { model: name, messages: user("hello") },
  { model: "demo", messages: user(`hello [sim:${name.slice(4)}]`) },
];

const metricKeys = ["total_duration", "load_duration", "prompt_eval_count", "prompt_eval_duration", "eval_count", "eval_duration"];

function expectDoneLine(line: Line | undefined) {
  expect(line).toMatchObject({ done: true, done_reason: "stop", message: { role: "assistant" } });
  for (const key of metricKeys) expect(line?.[key], key).toEqual(expect.any(Number));
}

describe("built-in fault scenarios", () => {
  it("every contract fault model is a built-in scenario", () => {
    expect(builtinScenarios.map((s) => s.name).sort()).toEqual(
      [
        "sim-bench",
        "sim-error-mid-stream",
        "sim-garbage-line",
        "sim-no-thinking",
        "sim-no-tools",
        "sim-not-found",
        "sim-slow",
        "sim-stall",
        "sim-tool-on-done",
        "sim-truncated",
        "sim-two-tools",
        "sim-utf8-split",
      ].sort(),
    );
  });

  it.each(selectors("sim-error-mid-stream"))("error-mid-stream (%o): tokens then an error line, HTTP 200", async (body) => {
    const res = await rawRequest(sim.url, "/api/chat", body);
    expect(res.status).toBe(200);
    const lines = parseLines(res.text);
    expect(lines.slice(0, -1).map((l) => l.message?.content)).toEqual(["The ", "answer ", "starts "]);
    expect(lines.at(-1)).toEqual({ error: "an error was encountered while running the model" });
  });

  it.each(selectors("sim-truncated"))("truncated (%o): tokens then the stream ends without done", async (body) => {
    const lines = await chatLines(sim.url, body);
    expect(lines.map((l) => l.message?.content)).toEqual(["The ", "answer ", "starts "]);
    expect(lines.every((l) => l.done === false)).toBe(true);
  });

  it.each(selectors("sim-stall"))("stall (%o): tokens then the connection stays open", async (body) => {
    const before = sim.chatRequests().length;
    const seen: string[] = [];
    await new Promise<void>((resolve, reject) => {
      const req = request(`${sim.url}/api/chat`, { method: "POST", agent: false }, (res) => {
        res.on("data", (c: Buffer) => {
          seen.push(...parseLines(c.toString()).map((l) => l.message?.content ?? ""));
          if (seen.length === 3) {
            expect(sim.activeResponses()).toBeGreaterThan(0); // still open after the last token
            req.destroy();
            resolve();
          }
        });
        res.on("end", () => reject(new Error("a stall must not end")));
      });
      req.on("error", () => undefined);
      req.end(JSON.stringify(body));
    });
    const record = sim.chatRequests()[before]!;
    await record.finished;
    expect(record.clientClosedEarly).toBe(true);
    expect(seen).toEqual(["The ", "answer ", "starts "]);
  });

  it("slow: one token per second (tokens:2)", async () => {
    const lines = await chatLines(sim.url, { model: "sim-slow", messages: user("tokens:2") });
    expect(lines.map((l) => l.message?.content)).toEqual(["drip1 ", "drip2 ", ""]);
    expectDoneLine(lines.at(-1));
  });

  it.each(selectors("sim-tool-on-done"))("tool-on-done (%o): the call is on the done:true line", async (body) => {
    const lines = await chatLines(sim.url, { ...body, tools: allTools });
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ done: false, message: { content: "Let me check. " } });
    expectDoneLine(lines[1]);
    expect(lines[1]?.message?.tool_calls).toEqual([
      { id: expect.stringMatching(/^call_[a-z0-9]{8}$/), function: { index: 0, name: "current_time", arguments: { timeZone: "Europe/London" } } },
    ]);
  });

  it.each(selectors("sim-two-tools"))("two-tools (%o): two calls in separate chunks, then a plain done", async (body) => {
    const lines = await chatLines(sim.url, { ...body, tools: allTools });
    expect(lines).toHaveLength(3);
    expect(lines[0]?.message?.tool_calls?.map((c) => c.function)).toEqual([{ index: 0, name: "current_time", arguments: { timeZone: "Asia/Tokyo" } }]);
    expect(lines[1]?.message?.tool_calls?.map((c) => c.function)).toEqual([{ index: 1, name: "calculator", arguments: { expression: "6*7" } }]);
    expect(lines[0]?.message?.tool_calls?.[0]?.id).not.toBe(lines[1]?.message?.tool_calls?.[0]?.id);
    expectDoneLine(lines[2]);
    expect(lines[2]?.message).toEqual({ role: "assistant", content: "" });
  });

  it("tool scenarios answer the follow-up round from the tool results", async () => {
    const messages = [
      ...user("what time is it in Tokyo, and what is 6*7?"),
      { role: "assistant", content: "", tool_calls: [{ function: { name: "current_time", arguments: { timeZone: "Asia/Tokyo" } } }, { function: { name: "calculator", arguments: { expression: "6*7" } } }] },
      { role: "tool", tool_name: "current_time", content: JSON.stringify({ timeZone: "Asia/Tokyo", iso: "2025-06-01T05:05:00.000Z", formatted: "x" }) },
      { role: "tool", tool_name: "calculator", content: JSON.stringify({ expression: "6*7", result: "42" }) },
    ];
    const lines = await chatLines(sim.url, { model: "sim-two-tools", tools: allTools, messages });
    expect(contentOf(lines)).toBe("It's 14:05 (Sunday) in Tokyo.\n\n6*7 = **42**");
    expect(lines.some((l) => l.message?.tool_calls)).toBe(false);
  });

  it.each(selectors("sim-utf8-split"))("utf8-split (%o): multi-byte characters are cut across socket writes", async (body) => {
    const res = await rawRequest(sim.url, "/api/chat", body);
    const cutInsideCharacter = res.chunks.filter((chunk) => {
      // a chunk ending in a lead byte or an unfinished continuation run ends inside a character
      let i = chunk.length - 1;
      let continuation = 0;
      while (i >= 0 && (chunk[i]! & 0xc0) === 0x80) {
        continuation++;
        i--;
      }
      const lead = chunk[i] ?? 0;
      const need = lead >= 0xf0 ? 3 : lead >= 0xe0 ? 2 : lead >= 0xc0 ? 1 : 0;
      return need > continuation;
    });
    // 8 lines are each split 10 ms apart; a starved event loop may merge some halves again, never all of them
    expect(cutInsideCharacter.length).toBeGreaterThanOrEqual(1);
    const lines = parseLines(res.text);
    expect(contentOf(lines)).toBe("Grüße aus 東京 🎉 café — naïve 日本語");
    expectDoneLine(lines.at(-1));
  });

  it.each(selectors("sim-garbage-line"))("garbage-line (%o): a non-JSON line mid-stream", async (body) => {
    const res = await rawRequest(sim.url, "/api/chat", body);
    const raw = res.text.split("\n").filter(Boolean);
    expect(raw[2]).toBe("this is not json {");
    expect(() => JSON.parse(raw[2]!)).toThrow();
    const json = raw.filter((_, i) => i !== 2).map((l) => JSON.parse(l) as Line);
    expect(contentOf(json)).toBe("Before garbage. After garbage.");
    expectDoneLine(json.at(-1));
  });
});

describe("sim-bench", () => {
  const expectTokens = (lines: Line[], n: number) => {
    expect(lines).toHaveLength(n + 1);
    lines.slice(0, n).forEach((l, i) => expect(l.message?.content).toBe(benchToken(i + 1)));
    expect(lines[n]).toMatchObject({ done: true, done_reason: "stop", eval_count: n });
  };

  it("emits 100 tokens tok1..tok100 by default, ~100-byte lines", async () => {
    const res = await rawRequest(sim.url, "/api/chat", { model: "sim-bench", messages: user("go") });
    const lines = parseLines(res.text);
    expectTokens(lines, 100);
    const firstLine = res.text.slice(0, res.text.indexOf("\n"));
    expect(firstLine.length).toBeGreaterThan(90);
    expect(firstLine.length).toBeLessThan(140);
  });

  it("emits exactly N tokens in order from tokens:N, also via the tag on another model", async () => {
    expectTokens(await chatLines(sim.url, { model: "sim-bench", messages: user("tokens:2500") }), 2500);
    expectTokens(await chatLines(sim.url, { model: "llama3.2", messages: user("[sim:bench] tokens:7") }), 7);
  });

  it("respects backpressure: a paused reader stops the writer, then gets every token in order", async () => {
    const n = 300_000; // ~36 MB of lines: far more than the socket buffers between writer and reader hold
    let pulled = 0;
    sim.addScenario({
      name: "counting-flood",
      match: { lastUserIncludes: "counting-flood" },
      *respond() {
        for (let i = 1; i <= n; i++) {
          pulled = i;
          yield { content: benchToken(i) };
        }
        yield { done: true };
      },
    });
    let paused!: import("node:http").IncomingMessage;
    await new Promise<void>((resolve) => {
      const req = request(`${sim.url}/api/chat`, { method: "POST", agent: false }, (res) => {
        paused = res;
        res.pause();
        resolve();
      });
      req.end(JSON.stringify({ model: "sim-bench", messages: user("counting-flood") }));
    });
    // wait until the writer stops pulling chunks: without backpressure it would run on to n
    let last = -1;
    while (pulled !== last) {
      last = pulled;
      await new Promise((r) => setTimeout(r, 150));
    }
    expect(pulled).toBeGreaterThan(0);
    expect(pulled).toBeLessThan(n);

    let rest = "";
    let count = 0;
    let inOrder = true;
    paused.setEncoding("utf8");
    paused.on("data", (c: string) => {
      const text = rest + c;
      const cut = text.lastIndexOf("\n");
      if (cut < 0) {
        rest = text;
        return;
      }
      rest = text.slice(cut + 1);
      for (const line of text.slice(0, cut).split("\n")) {
        const parsed = JSON.parse(line) as Line;
        if (parsed.done) continue;
        count++;
        if (parsed.message?.content !== benchToken(count)) inOrder = false;
      }
    });
    paused.resume();
    await new Promise((r) => paused.on("end", r));
    expect(count).toBe(n);
    expect(inOrder).toBe(true);
    sim.clearScenarios();
  });
});
