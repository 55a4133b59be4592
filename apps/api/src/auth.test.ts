import { TRPCClientError } from "@trpc/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bearerToken, createAuthenticator } from "./auth.js";
import { collectRun, makeClient, startTestApi, type TestApi } from "./test-support/harness.js";

describe("createAuthenticator", () => {
  const auth = createAuthenticator([
    { userId: "alice", token: "alice-token-1" },
    { userId: "bob", token: "bob-token-22" },
  ]);

  it("maps Bearer tokens and connectionParams tokens to users", () => {
    expect(auth.userFor({ authorization: "Bearer alice-token-1" })).toBe("alice");
    expect(auth.userFor({ authorization: "bearer bob-token-22" })).toBe("bob");
    expect(auth.userFor({ token: "bob-token-22" })).toBe("bob");
    expect(auth.userFor({ authorization: "Bearer alice-token-1", token: "bob-token-22" })).toBe("alice");
  });

  it("refuses missing, wrong and malformed credentials", () => {
    expect(auth.userFor({})).toBeNull();
    expect(auth.userFor({ authorization: "Bearer alice-token-" })).toBeNull();
    expect(auth.userFor({ authorization: "Basic alice-token-1" })).toBeNull();
    expect(auth.userFor({ authorization: "alice-token-1" })).toBeNull();
    expect(auth.userFor({ token: 42 })).toBeNull();
  });

  it("finds each of many users, the first entry of a token shared by two, and none for a near miss", () => {
    const many = createAuthenticator([
      ...Array.from({ length: 1000 }, (_, i) => ({ userId: `user${i}`, token: `token-${i}-secret` })),
      { userId: "late", token: "token-7-secret" },
    ]);
    for (const i of [0, 7, 500, 999]) expect(many.userFor({ authorization: `Bearer token-${i}-secret` })).toBe(`user${i}`);
    expect(many.userFor({ token: "token-1000-secret" })).toBeNull();
    expect(many.userFor({ token: "token-5-secreT" })).toBeNull();
  });

  it("is the local user when auth is off", () => {
    expect(createAuthenticator(null).userFor({})).toBe("local");
    expect(bearerToken(["Bearer x1"])).toBe("x1");
  });
});

describe("auth over HTTP", () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi({ env: { AUTH_TOKENS: "alice:alice-token-1,bob:bob-token-22" } });
  });
  afterAll(() => api?.close());

  const errorOf = (promise: Promise<unknown>) =>
    promise.then(
      () => {
        throw new Error("expected a failure");
      },
      (error: unknown) => {
        expect(error).toBeInstanceOf(TRPCClientError);
        return (error as TRPCClientError<never>).data as unknown as { code: string; appCode: string | null };
      },
    );

  it("refuses tRPC calls and subscriptions without a valid token", async () => {
    const anonymous = api.client();
    expect(await errorOf(anonymous.conversations.list.query())).toMatchObject({ code: "UNAUTHORIZED", appCode: "unauthorized" });
    expect(await errorOf(api.client("wrong-token-123").chat.send.mutate({ message: "hi" }))).toMatchObject({
      code: "UNAUTHORIZED",
    });
    const { runId } = await api.client("alice-token-1").chat.send.mutate({ message: "hi" });
    await expect(collectRun(anonymous, runId)).rejects.toMatchObject({ data: { code: "UNAUTHORIZED" } });
    await collectRun(api.client("alice-token-1"), runId);
  });

  it("answers REST without a token with 401 JSON", async () => {
    for (const path of ["/api/chat", "/api/chat/stream"]) {
      const res = await fetch(`${api.url}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: "Bearer nope-nope-nope" },
        body: JSON.stringify({ message: "hi" }),
      });
      expect(res.status).toBe(401);
      expect(await res.json()).toMatchObject({ error: expect.any(String) });
    }
    const ok = await fetch(`${api.url}/api/chat`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: "Bearer bob-token-22" },
      body: JSON.stringify({ message: "hello" }),
    });
    expect(ok.status).toBe(200);
  });

  it("accepts the token as connectionParams (browsers cannot set SSE headers)", async () => {
    const alice = api.client("alice-token-1");
    const { runId } = await alice.chat.send.mutate({ message: "from a browser" });
    const { createTRPCClient, httpSubscriptionLink } = await import("@trpc/client");
    const { EventSource } = await import("eventsource");
    const browserLike = createTRPCClient<import("./router/root.js").AppRouter>({
      links: [httpSubscriptionLink({ url: `${api.url}/trpc`, EventSource, connectionParams: { token: "alice-token-1" } })],
    });
    const received = await new Promise<string[]>((resolve, reject) => {
      const types: string[] = [];
      browserLike.chat.events.subscribe(
        { runId },
        { onData: (d) => types.push(d.data.type), onComplete: () => resolve(types), onError: reject },
      );
    });
    expect(received.at(-1)).toBe("done");
  });

  it("keeps users apart: B cannot see, change or follow A's data", async () => {
    const alice = api.client("alice-token-1");
    const bob = api.client("bob-token-22");
    const control = api.sim.control();
    const { conversationId, runId } = await alice.chat.send.mutate({ message: "alice's secret" });
    await control.connected;

    expect(await errorOf(bob.conversations.get.query({ conversationId }))).toMatchObject({ code: "NOT_FOUND" });
    expect(await errorOf(bob.conversations.rename.mutate({ conversationId, title: "mine" }))).toMatchObject({ code: "NOT_FOUND" });
    expect(await errorOf(bob.conversations.delete.mutate({ conversationId }))).toMatchObject({ code: "NOT_FOUND" });
    expect(await errorOf(bob.chat.cancel.mutate({ runId }))).toMatchObject({ code: "NOT_FOUND" });
    expect(await errorOf(bob.chat.send.mutate({ conversationId, message: "hijack" }))).toMatchObject({ code: "NOT_FOUND" });
    expect(await errorOf(bob.chat.regenerate.mutate({ conversationId }))).toMatchObject({ code: "NOT_FOUND" });
    await expect(collectRun(bob, runId)).rejects.toMatchObject({ data: { code: "NOT_FOUND" } });
    expect((await bob.conversations.list.query()).map((c) => c.id)).not.toContain(conversationId);

    await control.push({ content: "still alice's" });
    await control.push({ done: true });
    const events = await collectRun(alice, runId);
    expect(events.at(-1)?.event).toMatchObject({ type: "done", reason: "stop" });
    expect((await alice.conversations.get.query({ conversationId })).title).toBe("alice's secret");
  });

  it("keeps search_conversations to the user's own conversations", async () => {
    const alice = api.client("alice-token-1");
    await alice.chat.complete.mutate({ message: "the zebra codeword is quartz" });
    const store = api.server.store;
    expect((await store.searchMessages("alice", "zebra codeword")).length).toBeGreaterThan(0);
    expect(await store.searchMessages("bob", "zebra codeword")).toEqual([]);
    const { toolsFor } = await import("./tools.js");
    const bobSearch = toolsFor(store, "bob").find((t) => t.name === "search_conversations");
    const aliceSearch = toolsFor(store, "alice").find((t) => t.name === "search_conversations");
    const signal = new AbortController().signal;
    expect(await bobSearch?.execute({ query: "zebra codeword" }, { signal })).toMatchObject({ hits: [] });
    expect(await aliceSearch?.execute({ query: "zebra codeword" }, { signal })).toMatchObject({
      hits: expect.arrayContaining([expect.objectContaining({ role: "user", snippet: "the zebra codeword is quartz" })]),
    });
  });
});

describe("makeClient", () => {
  it("is importable without a server", () => {
    expect(typeof makeClient("http://127.0.0.1:1").health.query).toBe("function");
  });
});
