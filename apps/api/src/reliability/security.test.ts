import crypto from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { syncBuiltinESMExports } from "node:module";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { TRPCClientError } from "@trpc/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAuthenticator } from "../auth.js";
import { collectRun, type ApiClient } from "../test-support/harness.js";
import { eventsPath, readAll, startApi, tempDir, type ReliabilityApi } from "../test-support/reliability.js";

/**
 * Security properties of the API: constant-time token checks, user isolation on every procedure that
 * takes an id, CORS, security headers, no internals in error bodies, parameterised SQL, size limits, and
 * auth on SSE (Bearer and connectionParams).
 */

const repoRoot = fileURLToPath(new URL("../../../../", import.meta.url));
function expectNoInternals(body: string, what: string) {
  expect(body, what).not.toContain(repoRoot);
  expect(body, what).not.toContain("/work/");
  expect(body, what).not.toContain("node_modules");
  expect(body, what).not.toMatch(/\bat (?:async )?[\w.<>]+ \(|\n\s+at /);
  expect(body, what).not.toMatch(/"stack"/);
}

describe("bearer tokens are compared in constant time", () => {
  it("hashes every presented token to a fixed length and compares it against every entry", () => {
    const calls: Array<[number, number]> = [];
    const original = crypto.timingSafeEqual;
    // Count the comparisons auth.ts makes through its `node:crypto` import.
    crypto.timingSafeEqual = ((a: NodeJS.ArrayBufferView, b: NodeJS.ArrayBufferView) => {
      calls.push([a.byteLength, b.byteLength]);
      return original(a, b);
    }) as typeof crypto.timingSafeEqual;
    syncBuiltinESMExports();
    try {
      const auth = createAuthenticator([
        { userId: "alice", token: "alice-token-1" },
        { userId: "bob", token: "bob-token-22222222" },
        { userId: "carol", token: "carol-token-3" },
      ]);
      const presented = ["x", "alice-token-", "alice-token-1", "alice-token-1x", "y".repeat(5000), "carol-token-3"];
      const users = presented.map((token) => {
        calls.length = 0;
        const user = auth.userFor({ authorization: `Bearer ${token}` });
        // Whatever the length or the match position: one 32-byte comparison per configured token.
        expect(calls, token.slice(0, 20)).toEqual([
          [32, 32],
          [32, 32],
          [32, 32],
        ]);
        return user;
      });
      expect(users).toEqual([null, null, "alice", null, null, "carol"]);
    } finally {
      crypto.timingSafeEqual = original;
      syncBuiltinESMExports();
    }
  });
});

describe("with auth on", () => {
  let api: ReliabilityApi;
  let alice: ApiClient;
  let bob: ApiClient;
  const aliceToken = "alice-token-1";
  const bobToken = "bob-token-22";
  let conversationId: string;
  let runId: string;
  let userMessageId: number;

  beforeAll(async () => {
    api = await startApi({ env: { AUTH_TOKENS: `alice:${aliceToken},bob:${bobToken}`, MAX_MESSAGE_CHARS: "1000", MAX_BODY_BYTES: "4096", MAX_IMAGE_BYTES: "1024", MAX_FILE_CHARS: "1" } });
    alice = api.client(aliceToken);
    bob = api.client(bobToken);
    const started = await alice.chat.send.mutate({ message: "alice's secret: the cake is a lie" });
    await collectRun(alice, started.runId);
    conversationId = started.conversationId;
    runId = started.runId;
    const conversation = await alice.conversations.get.query({ conversationId });
    userMessageId = conversation.messages.find((m) => m.role === "user")?.id ?? -1;
  });
  afterAll(() => api?.close());

  async function refusal(promise: Promise<unknown>) {
    const error = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(TRPCClientError);
    const e = error as TRPCClientError<never>;
    expect(JSON.stringify({ message: e.message, data: e.data })).not.toContain("cake");
    return (e.data as unknown as { code: string }).code;
  }

  it("another user's ids are NOT_FOUND on every procedure, and nothing of theirs leaks or changes", async () => {
    expect(await refusal(bob.conversations.get.query({ conversationId }))).toBe("NOT_FOUND");
    expect(await refusal(bob.conversations.rename.mutate({ conversationId, title: "pwned" }))).toBe("NOT_FOUND");
    expect(await refusal(bob.conversations.delete.mutate({ conversationId }))).toBe("NOT_FOUND");
    expect(await refusal(bob.chat.cancel.mutate({ runId }))).toBe("NOT_FOUND");
    expect(await refusal(bob.chat.regenerate.mutate({ conversationId }))).toBe("NOT_FOUND");
    expect(await refusal(bob.chat.edit.mutate({ conversationId, messageId: userMessageId, message: "pwned" }))).toBe("NOT_FOUND");
    expect(await refusal(bob.chat.send.mutate({ conversationId, message: "let me in" }))).toBe("NOT_FOUND");
    expect(await refusal(bob.chat.complete.mutate({ conversationId, message: "let me in" }))).toBe("NOT_FOUND");
    await expect(collectRun(bob, runId)).rejects.toMatchObject({ data: { code: "NOT_FOUND" } });
    // Raw SSE as bob: a serialized NOT_FOUND error and not one event.
    const raw = await readAll(api.url, eventsPath(runId), { headers: { authorization: `Bearer ${bobToken}` } });
    expect(raw.received).toEqual([]);
    expect(raw.how).toBe("error");
    expect(raw.control.find((m) => m.event === "serialized-error")?.data).toContain("NOT_FOUND");
    expect(JSON.stringify(raw.control)).not.toContain("cake");
    // Lists and search stay per user.
    expect(await bob.conversations.list.query()).toEqual([]);
    // Alice's data is untouched.
    const conversation = await alice.conversations.get.query({ conversationId });
    expect(conversation.title).toBe("alice's secret: the cake is a lie");
    expect(conversation.messages.map((m) => m.role)).toEqual(["user", "assistant"]);
    expect(conversation.runs).toHaveLength(1);
  });

  it("search_conversations only searches the caller's own conversations", async () => {
    const { runId: bobRun } = await bob.chat.send.mutate({ message: "search my conversations for cake" });
    const events = await collectRun(bob, bobRun);
    const result = events.find((r) => r.event.type === "tool-result")?.event;
    expect(result).toMatchObject({ name: "search_conversations", ok: true });
    expect(JSON.stringify(result)).not.toContain("lie");
  });

  it("REST needs the token too, and a wrong user's conversationId is 404", async () => {
    const post = (headers: Record<string, string>, body: object) =>
      fetch(`${api.url}/api/chat`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
    const anonymous = await post({}, { message: "hi" });
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toMatchObject({ code: "unauthorized" });
    const wrong = await post({ authorization: `Bearer ${bobToken}` }, { message: "hi", conversationId });
    expect(wrong.status).toBe(404);
    expect(await wrong.text()).not.toContain("cake");
    const stream = await fetch(`${api.url}/api/chat/stream`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${bobToken}` },
      body: JSON.stringify({ message: "hi", conversationId }),
    });
    expect(stream.status).toBe(404);
  });

  it("SSE accepts a Bearer header or connectionParams.token, and refuses neither/wrong", async () => {
    const withHeader = await readAll(api.url, eventsPath(runId), { headers: { authorization: `Bearer ${aliceToken}` } });
    expect(withHeader.how).toBe("return");
    expect(withHeader.received.at(-1)?.event.type).toBe("done");
    // What httpSubscriptionLink sends for browsers: connectionParams=1 and the params as JSON in the query.
    const params = (token: string) => `&connectionParams=${encodeURIComponent(JSON.stringify({ token }))}`;
    const withParams = await readAll(api.url, eventsPath(runId, params(aliceToken)));
    expect(withParams.received).toEqual(withHeader.received);
    for (const extra of ["", params("wrong-token-123"), params(bobToken)]) {
      const refused = await readAll(api.url, eventsPath(runId, extra));
      expect(refused.received).toEqual([]);
      expect(refused.how).toBe("error");
      expect(refused.control.find((m) => m.event === "serialized-error")?.data).toMatch(/UNAUTHORIZED|NOT_FOUND/);
    }
  });

  it("limits: oversized bodies are 413 JSON, over-long messages are bad_request, on tRPC and REST", async () => {
    // The routes taking attachments allow 4 × MAX_IMAGE_BYTES in base64 + 8 × MAX_FILE_CHARS × 6 + MAX_BODY_BYTES (9606
    // bytes here), the rest MAX_BODY_BYTES.
    const big = JSON.stringify({ message: "x".repeat(10_000) });
    for (const path of ["/api/chat", "/api/chat/stream", "/trpc/chat.send", "/trpc/conversations.rename"]) {
      const res = await fetch(`${api.url}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${aliceToken}` },
        body: big,
      });
      expect(res.status, path).toBe(413);
      const body = await res.text();
      expect(res.headers.get("content-type"), path).toMatch(/application\/json/);
      expectNoInternals(body, path);
    }
    const long = "y".repeat(1001);
    expect(await refusal(alice.chat.send.mutate({ message: long }))).toBe("BAD_REQUEST");
    const rest = await fetch(`${api.url}/api/chat`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${aliceToken}` },
      body: JSON.stringify({ message: long }),
    });
    expect(rest.status).toBe(400);
    expect(await rest.json()).toMatchObject({ code: "bad_request" });
  });
});

describe("errors never show internals", () => {
  let api: ReliabilityApi;
  beforeAll(async () => {
    api = await startApi({ env: { MAX_BODY_BYTES: "2048" } });
  });
  afterAll(() => api?.close());

  it("tRPC errors, REST errors, 404, bad JSON, oversized bodies, unknown procedures", async () => {
    const requests: Array<[string, RequestInit]> = [
      ["/trpc/chat.send", { method: "POST", headers: { "content-type": "application/json" }, body: "{bad json" }],
      ["/trpc/chat.send", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ message: 42 }) }],
      ["/trpc/chat.send", { method: "POST", headers: { "content-type": "application/json" }, body: "x".repeat(5000) }],
      ["/trpc/conversations.get?input=%7B%7D", { method: "GET" }],
      ["/trpc/conversations.get?input=%7Bbad", { method: "GET" }],
      ["/trpc/nope.nope", { method: "GET" }],
      ["/trpc/chat.send", { method: "GET" }],
      ["/trpc/%25", { method: "GET" }],
      ["/api/chat", { method: "POST", headers: { "content-type": "application/json" }, body: "{bad json" }],
      ["/api/chat", { method: "POST", headers: { "content-type": "application/json" }, body: "{}" }],
      ["/api/chat", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ message: "x".repeat(40_000) }) }],
      ["/api/chat", { method: "POST", headers: { "content-type": "text/xml" }, body: "<a/>" }],
      ["/api/nothing", { method: "GET" }],
      ["/../../etc/passwd", { method: "GET" }],
      ["/%", { method: "GET" }],
    ];
    for (const [path, init] of requests) {
      const res = await fetch(`${api.url}${path}`, init);
      const body = await res.text();
      const what = `${init.method} ${path} → ${res.status} ${body.slice(0, 200)}`;
      expect(res.status, what).toBeGreaterThanOrEqual(400);
      expect(res.status, what).toBeLessThan(500);
      expect(res.headers.get("content-type"), what).toMatch(/application\/json/);
      expectNoInternals(body, what);
    }
  });

  it("a run whose model fails shows only the typed message", async () => {
    const client = api.client();
    const { runId } = await client.chat.send.mutate({ message: "hi", model: "sim-error-mid-stream" });
    const events = await collectRun(client, runId);
    expectNoInternals(JSON.stringify(events), "error event");
    const complete = await client.chat.complete.mutate({ message: "hi", model: "sim-not-found" }).catch((e: unknown) => e);
    expect(complete).toBeInstanceOf(TRPCClientError);
    expectNoInternals(JSON.stringify({ message: (complete as Error).message, data: (complete as TRPCClientError<never>).data }), "complete");
  });
});

describe("CORS and security headers", () => {
  let sameOrigin: ReliabilityApi;
  let configured: ReliabilityApi;
  const webDir = tempDir();
  beforeAll(async () => {
    mkdirSync(join(webDir, "assets"), { recursive: true });
    writeFileSync(join(webDir, "index.html"), "<!doctype html><title>streamchat</title>");
    sameOrigin = await startApi({ webDistDir: webDir });
    configured = await startApi({ env: { CORS_ORIGINS: "http://app.example.test,https://chat.example.test" } });
  });
  afterAll(async () => {
    await sameOrigin?.close();
    await configured?.close();
  });

  it("same origin by default: no CORS headers for any other origin, preflight included", async () => {
    const res = await fetch(`${sameOrigin.url}/trpc/health`, { headers: { origin: "http://evil.example.test" } });
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
    const preflight = await fetch(`${sameOrigin.url}/trpc/chat.send`, {
      method: "OPTIONS",
      headers: { origin: "http://evil.example.test", "access-control-request-method": "POST" },
    });
    expect(preflight.headers.get("access-control-allow-origin")).toBeNull();
    expect(preflight.headers.get("access-control-allow-credentials")).toBeNull();
  });

  it("CORS_ORIGINS allows exactly the listed origins", async () => {
    for (const origin of ["http://app.example.test", "https://chat.example.test"]) {
      const res = await fetch(`${configured.url}/trpc/health`, { headers: { origin } });
      expect(res.headers.get("access-control-allow-origin")).toBe(origin);
      const preflight = await fetch(`${configured.url}/api/chat`, {
        method: "OPTIONS",
        headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "content-type,authorization" },
      });
      expect(preflight.status).toBeLessThan(300);
      expect(preflight.headers.get("access-control-allow-origin")).toBe(origin);
    }
    const other = await fetch(`${configured.url}/trpc/health`, { headers: { origin: "http://app.example.test.evil.test" } });
    expect(other.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("`/` carries helmet's headers with a strict CSP", async () => {
    const res = await fetch(`${sameOrigin.url}/`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("streamchat");
    const csp = res.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("object-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toMatch(/script-src[^;]*'unsafe-(inline|eval)'/);
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("x-frame-options")).toBe("SAMEORIGIN");
    expect(res.headers.get("referrer-policy")).toBe("no-referrer");
    expect(res.headers.get("cross-origin-opener-policy")).toBe("same-origin");
    expect(res.headers.get("x-powered-by")).toBeNull();
    // The SPA fallback carries them too.
    expect((await fetch(`${sameOrigin.url}/some/client/route`)).headers.get("content-security-policy")).toBe(csp);
  });

  it("the API's paths (JSON, event streams) carry a CSP that allows nothing, and no document-only headers", async () => {
    const api = [
      await fetch(`${sameOrigin.url}/trpc/nope`),
      await fetch(`${sameOrigin.url}/api/nothing`),
      await fetch(`${sameOrigin.url}/api/chat`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" }),
    ];
    for (const res of api) {
      expect(res.headers.get("content-security-policy"), res.url).toBe("default-src 'none';frame-ancestors 'none'");
      expect(res.headers.get("x-content-type-options"), res.url).toBe("nosniff");
      expect(res.headers.get("x-frame-options"), res.url).toBe("DENY");
      expect(res.headers.get("cross-origin-resource-policy"), res.url).toBe("same-origin");
      expect(res.headers.get("referrer-policy"), res.url).toBe("no-referrer");
      expect(res.headers.get("cross-origin-opener-policy"), res.url).toBeNull();
      expect(res.headers.get("x-xss-protection"), res.url).toBeNull();
      expect(res.headers.get("x-powered-by"), res.url).toBeNull();
    }
  });
});

describe("Host header (DNS rebinding)", () => {
  let local: ReliabilityApi;
  let listed: ReliabilityApi;
  beforeAll(async () => {
    local = await startApi();
    listed = await startApi({ env: { ALLOWED_HOSTS: "chat.example.test" } });
  });
  afterAll(async () => {
    await local?.close();
    await listed?.close();
  });

  /** GET with an explicit Host header (fetch would set its own). */
  function getWithHost(baseUrl: string, path: string, host: string): Promise<{ status: number; body: string }> {
    const url = new URL(baseUrl);
    return new Promise((resolve, reject) => {
      const req = httpRequest({ host: url.hostname, port: url.port, path, headers: { host }, agent: false }, (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (body += chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on("error", reject);
      req.end();
    });
  }

  it("without auth, a page that rebinds its own host name to 127.0.0.1 is refused", async () => {
    const port = new URL(local.url).port;
    const refused = await getWithHost(local.url, "/trpc/conversations.list", `evil.example.test:${port}`);
    expect(refused.status).toBe(403);
    expect(JSON.parse(refused.body)).toMatchObject({ code: "unauthorized" });
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`]) {
      expect((await getWithHost(local.url, "/trpc/conversations.list", host)).status).toBe(200);
    }
    const sse = await getWithHost(local.url, eventsPath("nope"), `evil.example.test:${port}`);
    expect(sse.status).toBe(403);
  });

  it("ALLOWED_HOSTS admits the listed names (a reverse proxy's Host)", async () => {
    expect((await getWithHost(listed.url, "/trpc/health", "chat.example.test")).status).toBe(200);
    expect((await getWithHost(listed.url, "/trpc/health", "other.example.test")).status).toBe(403);
  });
});

describe("SQL only through parameters", () => {
  // A review aid that fails loudly: SQL text in the store may interpolate only fixed column lists, a fixed
  // predicate, the validated busy_timeout and wal_autocheckpoint integers and (PostgreSQL) the numbered placeholders
  // and the fixed CTE of a multi-row INSERT; every value goes through `?` / `$n` placeholders.
  it("no template-literal interpolation into SQL in packages/store except the allow-listed ones", () => {
    const storeSrc = fileURLToPath(new URL("../../../../packages/store/src/", import.meta.url));
    const allowed = new Set([
      "${runColumns}",
      "${messageColumns}",
      "${conversationColumns}",
      // rows.ts: conversation_settings' fixed column list (schema v13), as the ones above.
      "${settingsColumns}",
      // rows.ts: user_settings' fixed column list (schema v14).
      "${userSettingsColumns}",
      "${busyTimeoutMs}",
      // checkpointer.ts: the checked integer threshold of wal_autocheckpoint.
      "${thresholdFrames}",
      "${notStreamedPredicate}",
      // postgres/store.ts insertEventsText: the tuples of "$1, $2 …" placeholders for n rows, joined, and the fixed
      // runs UPDATE of a finishing INSERT (placeholders only).
      '${tuples.join(", ")}',
      "${finishRunsCte}",
      // sqlite.ts and postgres/store.ts listConversations (schema v11): one of two fixed predicates, chosen by a boolean.
      "${archivedFilter(archived)}",
    ]);
    const offenders: string[] = [];
    const files = [
      ...readdirSync(storeSrc).map((f) => f),
      ...readdirSync(join(storeSrc, "postgres")).map((f) => `postgres/${f}`),
    ].filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts"));
    expect(files).toContain("postgres/store.ts");
    for (const file of files) {
      const text = readFileSync(join(storeSrc, file), "utf8");
      const sqlTemplates = [
        ...text.matchAll(/(?:prepare|exec)\(\s*`([^`]*)`/g),
        // PostgreSQL statements are template literals that start like SQL (the store's `q` table, INSERT texts).
        ...text.matchAll(/`(\s*(?:SELECT|INSERT|UPDATE|DELETE|WITH|CREATE|DROP|ALTER)\b[^`]*)`/g),
      ];
      for (const match of sqlTemplates) {
        for (const interpolation of match[1]?.match(/\$\{[^}]*\}/g) ?? []) {
          if (!allowed.has(interpolation)) offenders.push(`${file}: ${interpolation}`);
        }
      }
      // String concatenation into prepare/exec/query is just as bad.
      for (const match of text.matchAll(/(?:prepare|exec|query)\(\s*["'][^"']*["']\s*\+/g)) offenders.push(`${file}: ${match[0]}`);
    }
    expect(offenders).toEqual([]);
  });
});
