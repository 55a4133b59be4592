import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { collectRun, startTestApi, type TestApi } from "../test-support/harness.js";

// The production default: token events that arrive in one event-loop turn are merged (token-coalescer.ts).
describe("token coalescing through the API (COALESCE_TOKENS=1)", () => {
  let api: TestApi;

  beforeAll(async () => {
    api = await startTestApi({ env: { COALESCE_TOKENS: "1" }, sim: { tokenDelayMs: 0 } });
  });
  afterAll(async () => {
    await api?.close();
  });

  it("a flooding model gives fewer token events carrying exactly the same text, stored and streamed alike", async () => {
    const n = 3000;
    const expected = Array.from({ length: n }, (_, i) => `tok${i + 1} `).join("");
    const client = api.client();
    const { conversationId, runId } = await client.chat.send.mutate({ message: `tokens:${n}`, model: "sim-bench" });
    const received = await collectRun(client, runId);

    const tokens = received.flatMap((r) => (r.event.type === "token" ? [r.event.text] : []));
    expect(tokens.join("")).toBe(expected);
    // The simulator writes up to 16 KB of lines at once when flooding, so merging must happen.
    expect(tokens.length).toBeLessThan(n);
    expect(received.at(-1)?.event).toMatchObject({ type: "done", reason: "stop" });
    expect(received.map((r) => Number(r.id))).toEqual(received.map((_, i) => i + 1));

    const stored = await api.server.store.readEvents(runId);
    expect(stored.map((s) => s.event)).toEqual(received.map((r) => r.event));
    const conversation = await client.conversations.get.query({ conversationId });
    expect(conversation.messages.at(-1)).toMatchObject({ role: "assistant", content: expected });
  });

  it("a model that sends one token at a time still streams token by token", async () => {
    const control = api.sim.control({ lastUserIncludes: "[coalesce:slow]" });
    const client = api.client();
    const { runId } = await client.chat.send.mutate({ message: "[coalesce:slow] hi" });
    await control.connected;
    const seen: string[] = [];
    const done = collectRun(client, runId);
    for (const text of ["one ", "two ", "three"]) {
      await control.push({ content: text });
      // Wait until the API has published this token before writing the next one.
      await waitUntil(async () => {
        const events = (await api.server.store.readEvents(runId)).flatMap((s) => (s.event.type === "token" ? [s.event.text] : []));
        return events.length === seen.length + 1;
      });
      seen.push(text);
    }
    await control.push({ done: true });
    const received = await done;
    expect(received.flatMap((r) => (r.event.type === "token" ? [r.event.text] : []))).toEqual(["one ", "two ", "three"]);
  });
});

async function waitUntil(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 2000 && !(await check()); i++) await new Promise((resolve) => setTimeout(resolve, 5));
  expect(await check()).toBe(true);
}
