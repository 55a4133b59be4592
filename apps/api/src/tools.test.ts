import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { defineTool } from "@streamchat/core";
import { collectRun, startTestApi, type TestApi } from "./test-support/harness.js";

// Tools that start something on first use (the calculator's worker: about a second of CPU) are prepared when the
// API registers them, so the first call of the first run does not wait for that start (core's
// calculator-warm.test.ts shows the calculator's prepare gives the first call a ready worker).

let prepared = 0;
let calls = 0;
const warmable = defineTool({
  name: "warmable",
  description: "A tool that starts something ahead of its first call",
  input: z.object({ n: z.number() }),
  prepare: () => {
    prepared++;
  },
  execute: ({ n }) => {
    calls++;
    return { n, prepared };
  },
});

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi({ extraTools: [warmable] });
});
afterAll(() => api?.close());

describe("tools prepared at registration", () => {
  it("the API prepares its tools when it starts, before any run calls them, and once", async () => {
    expect(prepared).toBe(1);
    expect(calls).toBe(0);
    const client = api.client();
    const { runId } = await client.chat.send.mutate({ message: 'use the warmable tool with {"n":3}' });
    const received = await collectRun(client, runId);
    expect(received.find((r) => r.event.type === "tool-result")?.event).toMatchObject({ ok: true, result: { n: 3, prepared: 1 } });
    expect(calls).toBe(1);
    expect(prepared).toBe(1);
  });
});
