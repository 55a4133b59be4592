import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SimChatRequest } from "@streamchat/ollama-sim";
import { collectRun, recordEvents, tokenText, types, type ApiClient } from "../test-support/harness.js";
import { startApi, type ReliabilityApi } from "../test-support/reliability.js";

/**
 * Calculator inputs that used to take the whole API down (heap OOM abort of the process) or freeze it
 * (seconds to minutes of synchronous mathjs work), through the API over real HTTP: the run gets a failed
 * tool result and goes on, and everyone else is served meanwhile by the same process.
 */

const lastRole = (req: SimChatRequest) => (req.messages.at(-1) as { role?: string } | undefined)?.role;

let api: ReliabilityApi;
let client: ApiClient;

beforeAll(async () => {
  api = await startApi({ env: { TOOL_TIMEOUT_MS: "120000" } });
  client = api.client();
  for (const [tag, expression] of [
    ["[bomb:cpu]", "inv(diag(1:1000) + 1)"],
    ["[bomb:heap]", "size(diag(1:30000))"],
    ["[bomb:recursion]", "f(n) = n > 0 ? f(n-1) + f(n-1) : 1; f(40)"],
  ] as const) {
    api.sim.addScenario({
      name: tag,
      match: { lastUserIncludes: tag },
      respond: (req) =>
        lastRole(req) === "tool"
          ? [{ content: "The calculator" }, { content: " could not do it." }, { done: true }]
          : [{ toolCalls: [{ name: "calculator", arguments: { expression } }] }, { done: true }],
    });
  }
});
afterAll(() => api?.close());

describe("calculator bombs through the API", () => {
  it("while a long calculation runs, other requests and runs are answered; cancelling stops it", async () => {
    const bomb = await client.chat.send.mutate({ message: "compute [bomb:cpu]" });
    const recorder = recordEvents(client, bomb.runId);
    await recorder.waitFor((e) => e.type === "tool-call");

    expect(await client.health.query()).toMatchObject({ ok: true });
    const other = await client.chat.send.mutate({ message: "hello there" });
    const answered = await collectRun(client, other.runId);
    expect(answered.at(-1)?.event).toMatchObject({ type: "done", reason: "stop" });
    expect(tokenText(answered).length).toBeGreaterThan(0);
    // The calculation is still going: the answers above did not wait for it.
    expect(types(recorder.received)).not.toContain("tool-result");

    await client.chat.cancel.mutate({ runId: bomb.runId });
    const received = await recorder.completed;
    expect(received.at(-1)?.event).toMatchObject({ type: "done", reason: "cancelled" });
  });

  it.each([
    ["[bomb:heap]", "tool_failed", /more memory than the calculator allows/],
    ["[bomb:recursion]", "invalid_tool_args", /defining functions is not supported/],
  ] as const)("%s: a failed tool result, then the model answers", { timeout: 60_000 }, async (tag, code, message) => {
    const { runId } = await client.chat.send.mutate({ message: `compute ${tag}` });
    const received = await collectRun(client, runId);
    expect(received.find((r) => r.event.type === "tool-result")?.event).toMatchObject({
      ok: false,
      error: { code, message: expect.stringMatching(message) },
    });
    expect(received.at(-1)?.event).toMatchObject({ type: "done", reason: "stop" });
    expect(tokenText(received)).toBe("The calculator could not do it.");
    expect(await client.health.query()).toMatchObject({ ok: true });
  });
});
