// conversations.exportAll: GET /api/export read line by line, against the real API (the simulator as its model
// server), and against loopback stand-ins for what the API never does (a body cut short, another server).
import type { ServerResponse } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createChatClient, type ChatClient } from "./client.js";
import { ChatClientError } from "./errors.js";
import { startApi, type TestApi } from "./test-support/api.js";
import { cutShortExport, jsonLinesHead, startHttpStub, type HttpStub } from "./test-support/http-stub.js";
import { closedPort } from "./test-support/closed-port.js";

async function failure(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error("expected a failure");
    },
    (error: unknown) => error,
  );
}

/** Every line the export yields, or the lines before its failure and the failure. */
async function readAll(lines: AsyncIterable<string>): Promise<{ lines: string[]; error: unknown }> {
  const read: string[] = [];
  try {
    for await (const line of lines) read.push(line);
  } catch (error) {
    return { lines: read, error };
  }
  return { lines: read, error: undefined };
}

/** What a ChatClientError tells a caller (the fields compared between two ways of failing). */
const shape = (error: unknown) => {
  expect(error).toBeInstanceOf(ChatClientError);
  const { code, message, status, trpcCode, retryable } = error as ChatClientError;
  return { code, message, status, trpcCode, retryable };
};

describe("conversations.exportAll against the API", () => {
  let api: TestApi;
  const tokens = { exporter: "exporter-secret-token", copier: "copier-secret-token", empty: "empty-secret-token" };
  const clientOf = (user: keyof typeof tokens, opts: { fetch?: typeof fetch } = {}): ChatClient =>
    createChatClient({ url: api.url, token: tokens[user], ...opts });

  beforeAll(async () => {
    api = await startApi({ AUTH_TOKENS: Object.entries(tokens).map(([user, token]) => `${user}:${token}`).join(",") });
  });
  afterAll(async () => {
    await api?.close();
  });

  it("yields each conversation once, in the list's order, as its JSON export on one line, and each line imports back", async () => {
    const exporter = clientOf("exporter");
    const first = await exporter.complete("What is 6*7?");
    const second = await exporter.complete("Explain server-sent events in a short list");
    const third = await exporter.complete("Name a smiling marsupial");
    // A title with a line break stays inside its line (JSON escapes it).
    await exporter.conversations.rename(second.conversationId, "Line one\nLine two");
    await exporter.conversations.pin(third.conversationId, true);

    // Through the client's own fetch, with its token.
    const seen: Array<{ url: string; authorization: string | null }> = [];
    const recording: typeof fetch = (input, init) => {
      seen.push({ url: String(input), authorization: new Headers(init?.headers).get("authorization") });
      return fetch(input, init);
    };
    const { lines, error } = await readAll(clientOf("exporter", { fetch: recording }).conversations.exportAll());
    expect(error).toBeUndefined();
    expect(seen).toEqual([{ url: `${api.url}/api/export`, authorization: `Bearer ${tokens.exporter}` }]);
    expect(lines).toHaveLength(3);
    expect(lines.every((line) => !line.includes("\n"))).toBe(true);
    const docs = lines.map((line) => JSON.parse(line) as { exportedAt: number; conversation: { id: string; title: string } });
    const listed = await exporter.conversations.list();
    expect(docs.map((doc) => doc.conversation.id)).toEqual(listed.map((c) => c.id));
    expect(new Set(docs.map((doc) => doc.conversation.id))).toEqual(new Set([first.conversationId, second.conversationId, third.conversationId]));
    for (const doc of docs) {
      const single = JSON.parse((await exporter.conversations.export(doc.conversation.id)).content) as typeof doc;
      expect({ ...doc, exportedAt: 0 }).toEqual({ ...single, exportedAt: 0 });
    }

    // Each line, as it is, is what import reads: a new conversation with the same title and messages.
    const copier = clientOf("copier");
    for (const [i, line] of lines.entries()) {
      const { conversationId } = await copier.conversations.import(line);
      const copy = await copier.conversations.get(conversationId);
      const original = await exporter.conversations.get(docs[i]!.conversation.id);
      expect(copy.title).toBe(original.title);
      expect(copy.messages.map((m) => [m.role, m.content])).toEqual(original.messages.map((m) => [m.role, m.content]));
    }
    // The copier's export holds its own three, not the exporter's.
    const copied = (await readAll(copier.conversations.exportAll())).lines.map((line) => (JSON.parse(line) as typeof docs[number]).conversation.title);
    expect(copied.sort()).toEqual(docs.map((doc) => doc.conversation.title).sort());
  });

  it("a user without conversations gets no line, and the export ends normally", async () => {
    expect(await readAll(clientOf("empty").conversations.exportAll())).toEqual({ lines: [], error: undefined });
  });

  it("a token refused, or none given: the same ChatClientError (unauthorized, 401) as any other call", async () => {
    for (const token of ["not-the-token", undefined]) {
      const client = createChatClient({ url: api.url, token });
      const elsewhere = shape(await failure(client.conversations.list()));
      expect(elsewhere).toMatchObject({ code: "unauthorized", status: 401 });
      const exported = await readAll(client.conversations.exportAll());
      expect(exported.lines).toEqual([]);
      expect(shape(exported.error)).toEqual(elsewhere);
    }
  });

  it("a base URL ending with /trpc (which the client takes) still reaches /api/export", async () => {
    const { lines, error } = await readAll(createChatClient({ url: `${api.url}/trpc/`, token: tokens.exporter }).conversations.exportAll());
    expect(error).toBeUndefined();
    expect(lines.length).toBeGreaterThan(0);
  });
});

describe("conversations.exportAll against a server that is not the whole API", () => {
  let stub: HttpStub | undefined;
  afterAll(async () => {
    await stub?.close();
  });
  const serve = async (handler: Parameters<typeof startHttpStub>[0]) => {
    await stub?.close();
    stub = await startHttpStub(handler);
    return createChatClient({ url: stub.url, token: "tok" });
  };
  const line = (id: string) => JSON.stringify({ format: "streamchat.conversation", version: 1, conversation: { id, title: `T ${id}` } });

  it("a body that ends in the middle of a line: the whole lines, then stream_truncated (never an end that looks complete)", async () => {
    const client = await serve(cutShortExport([line("a"), line("b")], line("c").slice(0, 30), "end"));
    const { lines, error } = await readAll(client.conversations.exportAll());
    expect(lines).toEqual([line("a"), line("b")]);
    expect(error).toBeInstanceOf(ChatClientError);
    expect(error).toMatchObject({ code: "stream_truncated", status: undefined, retryable: true });
    expect((error as Error).message).toMatch(/^The export was cut short: it ended in the middle of a conversation/);
    expect(stub?.requests).toEqual([{ method: "GET", target: "/api/export", authorization: "Bearer tok" }]);
  });

  it("a connection cut mid-line: the whole lines, then stream_truncated", async () => {
    const client = await serve(cutShortExport([line("a")], line("b").slice(0, 12), "cut"));
    const { lines, error } = await readAll(client.conversations.exportAll());
    expect(lines).toEqual([line("a")]);
    expect(error).toMatchObject({ code: "stream_truncated", status: undefined });
    expect((error as Error).message).toMatch(/^The export was cut short: the connection to the server broke before its end\.$/);
  });

  it("a connection cut right after a whole line (the chunked body never finished) is cut short too", async () => {
    const client = await serve((_req, res) => {
      res.writeHead(200, jsonLinesHead);
      res.write(`${line("a")}\n`, () => res.socket?.destroy());
    });
    const { lines, error } = await readAll(client.conversations.exportAll());
    expect(lines).toEqual([line("a")]);
    expect(error).toMatchObject({ code: "stream_truncated" });
  });

  it("yields each line as it arrives, before the rest of the body exists; leaving early or aborting stops the download", async () => {
    let held: ServerResponse | undefined;
    let answered = () => {};
    const answering = new Promise<void>((resolve) => (answered = resolve));
    const client = await serve((_req, res) => {
      held = res;
      res.writeHead(200, jsonLinesHead);
      res.write(`${line("a")}\n`);
      answered();
    });
    const lines = client.conversations.exportAll();
    expect(await lines.next()).toEqual({ done: false, value: line("a") });
    await answering;
    // The server has not ended the body: the first line came on its own.
    expect(held?.writableEnded).toBe(false);
    const closed = new Promise<void>((resolve) => held?.on("close", resolve));
    held?.write(`${line("b")}\n`);
    expect(await lines.next()).toEqual({ done: false, value: line("b") });
    // Leaving the loop closes the connection: the server sees its response closed before it ended it.
    await lines.return();
    await closed;
    expect(held?.writableEnded).toBe(false);

    const abort = new AbortController();
    const aborted = client.conversations.exportAll({ signal: abort.signal });
    expect((await aborted.next()).value).toBe(line("a"));
    const reason = new Error("stop the export");
    abort.abort(reason);
    expect(await failure(aborted.next())).toBe(reason);
  });

  it("an API older than the endpoint (its 404), a web page, a proxy's 502, nothing answering: the client's usual errors", async () => {
    let client = await serve((_req, res) => res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ error: "Not found", code: "not_found" })));
    expect(shape(await failure(client.conversations.exportAll().next()))).toMatchObject({ code: "bad_request", status: 404, trpcCode: undefined });

    // The API answers a GET under a wrong base path with the web app: a 200 that is no export.
    client = await serve((_req, res) => res.writeHead(200, { "content-type": "text/html" }).end("<!doctype html><title>chat</title>"));
    const page = shape(await failure(client.conversations.exportAll().next()));
    expect(page).toEqual({ ...page, code: "bad_request", status: 200, trpcCode: undefined });
    expect(page.message).toBe("The server answered 200, which is not the streamchat API: is the URL right?");

    client = await serve((_req, res) => res.writeHead(502, { "content-type": "text/html" }).end("<html>Bad gateway</html>"));
    expect(shape(await failure(client.conversations.exportAll().next()))).toMatchObject({ code: "internal", status: 502, retryable: true });

    // The API's own REST error body (here a 503 while it stops): its code and message, as the API's answer.
    client = await serve((_req, res) =>
      res.writeHead(503, { "content-type": "application/json" }).end(JSON.stringify({ error: "The server is shutting down.", code: "interrupted" })),
    );
    expect(shape(await failure(client.conversations.exportAll().next()))).toEqual({
      code: "interrupted",
      message: "The server is shutting down.",
      status: 503,
      trpcCode: "SERVICE_UNAVAILABLE",
      retryable: true,
    });

    const closed = await closedPort();
    const unreachable = shape(await failure(createChatClient({ url: `http://127.0.0.1:${closed}` }).conversations.exportAll().next()));
    expect(unreachable).toMatchObject({ code: "unreachable", status: undefined });
    expect(unreachable.message).toMatch(/ECONNREFUSED/);
  });
});
