import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createChatClient } from "./client.js";
import { ChatClientError } from "./errors.js";
import { drain, text, types } from "./test-support/events.js";
import { startApi, type TestApi } from "./test-support/api.js";
import { startCuttingProxy, type CuttingProxy } from "./test-support/proxy.js";

// A proxy in front of the API answers 502 while the API restarts, or after the API got the request (its answer lost
// on the way back). The send is repeated with the same clientRequestId, so the server returns the run it started.

describe("send() through a proxy that answers 502", () => {
  let api: TestApi;
  let proxy: CuttingProxy;

  beforeAll(async () => {
    api = await startApi();
    proxy = await startCuttingProxy(api.url);
  });
  afterAll(async () => {
    await proxy?.close();
    await api?.close();
  });

  const runsOf = async (title: string) => {
    const client = createChatClient({ url: api.url });
    const conversations = (await client.conversations.list()).filter((c) => c.title.includes(title));
    return (await Promise.all(conversations.map((c) => client.conversations.get(c.id)))).flatMap((c) => c.runs);
  };

  it("a 502 before the API saw the question: sent again, and the answer streams", async () => {
    proxy.failRequests("POST /trpc/chat.send", 502, { count: 2 });
    const events = await drain(createChatClient({ url: proxy.url }).stream("hello via-proxy-502"));
    expect(types(events).at(-1)).toBe("done");
    expect(text(events).length).toBeGreaterThan(0);
    expect(await runsOf("via-proxy-502")).toHaveLength(1);
  });

  it("a 502 after the API started the run: sent again, the same run comes back, not a second one", async () => {
    proxy.failRequests("POST /trpc/chat.send", 502, { forwarded: true });
    const client = createChatClient({ url: proxy.url });
    const { runId, conversationId } = await client.send("hello answer-lost-502");
    const events = await drain(client.events(runId));
    expect(types(events).at(-1)).toBe("done");
    const runs = await runsOf("answer-lost-502");
    expect(runs.map((r) => r.id)).toEqual([runId]);
    expect((await client.conversations.get(conversationId)).runs).toHaveLength(1);
  });

  it("aborted while retrying a send whose answer was lost: the run the API started is found by its clientRequestId and cancelled", async () => {
    // A model that answers only when told: the run goes on until someone cancels it.
    const control = api.sim.control({ lastUserIncludes: "lost-then-aborted" });
    const abort = new AbortController();
    // The caller gives up as the 502 comes back: during the wait before the next try (or just before it began).
    proxy.failRequests("POST /trpc/chat.send", 502, { forwarded: true, onFailed: () => abort.abort() });
    const client = createChatClient({ url: proxy.url });
    const error = await client.send("hello lost-then-aborted", { signal: abort.signal }).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: "AbortError" });
    expect(await client.cancelsSent({ timeoutMs: 10_000 })).toBe(true);
    const reasons = async () => (await runsOf("lost-then-aborted")).map((r) => r.reason);
    await expect.poll(reasons, { timeout: 5000 }).toEqual(["cancelled"]);
    await control.closedByClient;
  });

  it("aborted while retrying after a proxy's 502 the API may not have seen: whatever run the same send finds is cancelled, none left answering", async () => {
    api.sim.control({ lastUserIncludes: "maybe-lost-then-aborted" });
    const abort = new AbortController();
    // Not forwarded: the API saw nothing, but a 502 cannot say so; the run the lookup starts is stopped at once.
    proxy.failRequests("POST /trpc/chat.send", 502, { onFailed: () => abort.abort() });
    const client = createChatClient({ url: proxy.url });
    const error = await client.send("hello maybe-lost-then-aborted", { signal: abort.signal }).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: "AbortError" });
    expect(await client.cancelsSent({ timeoutMs: 10_000 })).toBe(true);
    const reasons = async () => (await runsOf("maybe-lost-then-aborted")).map((r) => r.reason);
    await expect.poll(reasons, { timeout: 5000 }).toEqual(["cancelled"]);
  });

  it("aborted while retrying a send the API never got (a connection refused): no run is started to find one", async () => {
    const closed = await startCuttingProxy(api.url);
    await closed.close();
    const abort = new AbortController();
    const client = createChatClient({ url: closed.url });
    const sending = client.send("hello refused-then-aborted", { signal: abort.signal }).catch((e: unknown) => e);
    abort.abort();
    expect(await sending).toMatchObject({ name: "AbortError" });
    expect(await client.cancelsSent({ timeoutMs: 10_000 })).toBe(true);
    expect(await runsOf("refused-then-aborted")).toHaveLength(0);
  });

  it("gives up after a few tries with the 502, retryable, when the API stays away", async () => {
    proxy.failRequests("POST /trpc/chat.send", 502, { count: 100 });
    const error = await createChatClient({ url: proxy.url }).send("hello never-through").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ChatClientError);
    expect(error).toMatchObject({ code: "internal", status: 502, retryable: true });
    expect(await runsOf("never-through")).toHaveLength(0);
  });
});
