import { TRPCClientError } from "@trpc/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect } from "node:net";
import { bearerToken, createAuthenticator, userOfRequest, type Authenticator } from "./auth.js";
import { collectRun, eventually, makeClient, startTestApi, type TestApi } from "./test-support/harness.js";


/**
 * A POST announcing 20 MB whose body has barely begun: the 401 must come on the headers, with Connection: close, and
 * the rest of the upload is never read (the server closes the connection after a lingering moment). The answer's body.
 */
async function refusedBeforeBody(port: string, path: string, authorization: string | undefined, bodyStart: string, bodyEnd: string): Promise<string> {
  const socket = connect(Number(port), "127.0.0.1");
  let received = "";
  socket.on("data", (chunk: Buffer) => (received += chunk.toString("utf8")));
  const closed = new Promise<void>((resolve) => socket.on("close", () => resolve()));
  socket.on("error", () => {});
  const head = [`POST ${path} HTTP/1.1`, `host: 127.0.0.1:${port}`, "content-type: application/json", "content-length: 20000000"];
  if (authorization) head.push(`authorization: ${authorization}`);
  socket.write(`${head.join("\r\n")}\r\n\r\n${bodyStart}`);
  await eventually(() => received.includes(bodyEnd), `a 401 for ${path} before the body`, 3000);
  expect(received, path).toMatch(/^HTTP\/1\.1 401 /);
  expect(received.toLowerCase()).toContain("connection: close");
  socket.end();
  await closed;
  return received.slice(received.indexOf("\r\n\r\n") + 4);
}

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

describe("userOfRequest", () => {
  /** An authenticator that counts its checks. */
  function counted(tokens: Parameters<typeof createAuthenticator>[0]): { auth: Authenticator; checks: () => number } {
    const inner = createAuthenticator(tokens);
    let checks = 0;
    return { auth: { enabled: inner.enabled, userFor: (credential) => (checks++, inner.userFor(credential)) }, checks: () => checks };
  }

  it("checks a request's credential once, however often its user is asked for", () => {
    const { auth, checks } = counted([{ userId: "alice", token: "alice-token-1" }]);
    const userOf = userOfRequest(auth);
    const request = { headers: { authorization: "Bearer alice-token-1" } };
    expect(userOf(request, undefined)).toBe("alice");
    expect(userOf(request, undefined)).toBe("alice");
    expect(checks()).toBe(1);
    // Another request with the same header is checked on its own.
    expect(userOf({ headers: { authorization: "Bearer alice-token-1" } }, undefined)).toBe("alice");
    expect(checks()).toBe(2);
  });

  it("checks again when the same request presents another token, and remembers a refusal too", () => {
    const { auth, checks } = counted([{ userId: "alice", token: "alice-token-1" }]);
    const userOf = userOfRequest(auth);
    const request = { headers: {} };
    expect(userOf(request, "wrong")).toBeNull();
    expect(userOf(request, "wrong")).toBeNull();
    expect(checks()).toBe(1);
    expect(userOf(request, "alice-token-1")).toBe("alice");
    expect(checks()).toBe(2);
  });

  it("is the local user when auth is off", () => {
    expect(userOfRequest(createAuthenticator(null))({ headers: {} }, undefined)).toBe("local");
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

  it("refuses REST without a token on its headers, before receiving the body (up to four images' worth)", async () => {
    const { port } = new URL(api.url);
    for (const path of ["/api/chat", "/api/chat/stream"]) {
      for (const authorization of [undefined, "Bearer nope-nope-nope"]) {
        const body = await refusedBeforeBody(port, path, authorization, '{"message":"', '"code":"unauthorized"}');
        expect(body).toBe(JSON.stringify({ error: "A valid token is required (Authorization: Bearer <token>).", code: "unauthorized" }));
      }
    }
  });

  it("refuses tRPC mutations without a token on their headers, before receiving the body", async () => {
    const { port } = new URL(api.url);
    const paths = ["/trpc/chat.send", "/trpc/chat.send,chat.cancel?batch=1", "/trpc/conversations.import", "/trpc/health,chat.send?batch=1"];
    for (const path of paths) {
      for (const authorization of [undefined, "Bearer nope-nope-nope"]) {
        const body = await refusedBeforeBody(port, path, authorization, '{"0":{"message":"', '"appCode":"unauthorized"}}}');
        // tRPC's error shape, as the procedures' own 401 (a batch's applies to each of its calls).
        const batch = path.includes("batch=1");
        expect(JSON.parse(body)).toEqual({
          error: {
            code: -32001,
            message: "A valid token is required (Authorization: Bearer <token>).",
            data: { code: "UNAUTHORIZED", httpStatus: 401, ...(batch ? {} : { path: path.slice("/trpc/".length) }), appCode: "unauthorized" },
          },
        });
      }
    }
  });

  it("takes a tRPC mutation's token from the header or connectionParams; health stays public", async () => {
    const send = (query: string, headers: Record<string, string> = {}) =>
      fetch(`${api.url}/trpc/chat.send${query}`, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: JSON.stringify({ message: "hi" }),
      });
    expect((await send("", { authorization: "Bearer bob-token-22" })).status).toBe(200);
    const params = `?connectionParams=${encodeURIComponent(JSON.stringify({ token: "bob-token-22" }))}`;
    expect((await send(params)).status).toBe(200);
    expect((await send(`?connectionParams=${encodeURIComponent(JSON.stringify({ token: "nope-nope-nope" }))}`)).status).toBe(401);
    // An anonymous batch of health calls is still answered (queries, no body).
    const health = await fetch(`${api.url}/trpc/health,health?batch=1`);
    expect(health.status).toBe(200);
    // The official client sees the refusal as every call's UNAUTHORIZED, batched or not.
    const anonymous = api.client();
    const [one, two] = await Promise.all([
      errorOf(anonymous.chat.send.mutate({ message: "hi" })),
      errorOf(anonymous.chat.cancel.mutate({ runId: "r" })),
    ]);
    expect(one).toMatchObject({ code: "UNAUTHORIZED", appCode: "unauthorized" });
    expect(two).toMatchObject({ code: "UNAUTHORIZED", appCode: "unauthorized" });
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

describe("AUTH_TOKENS that no request could present", () => {
  it("stops start-up with the variable named, instead of a server that answers every request 401", async () => {
    // A passphrase with spaces: "Authorization: Bearer correct horse battery staple" is not a bearer token, so this
    // user could never sign in; a non-ASCII token arrives as Latin-1 bytes and never matches either.
    for (const tokens of ["alice:correct horse battery staple", "alice:пароль-пароль-1"]) {
      let api: TestApi | undefined;
      let error: unknown;
      try {
        api = await startTestApi({ env: { AUTH_TOKENS: tokens } });
      } catch (caught) {
        error = caught;
      }
      if (api) {
        // The old behaviour: the server started, and the configured user is refused.
        const res = await fetch(`${api.url}/api/chat`, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${Buffer.from(tokens.slice(6), "utf8").toString("latin1")}` },
          body: JSON.stringify({ message: "hi" }),
        });
        await api.close();
        expect.fail(`started with AUTH_TOKENS=${JSON.stringify(tokens)}; its user got ${res.status}`);
      }
      expect(String(error)).toMatch(/AUTH_TOKENS: token of user "alice" must be printable ASCII without spaces/);
    }
  });
});
