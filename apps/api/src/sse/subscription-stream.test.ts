import { createServer, request, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { isFlatString } from "@streamchat/core/test-support";
import { afterEach, describe, expect, it } from "vitest";
import { rawGet } from "../test-support/sse-conformance.js";
import { attachWriter, type DirectWrite } from "./direct-writes.js";
import { SubscriptionStream } from "./subscription-stream.js";

let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

/** One real request through a SubscriptionStream sending `headers` and one value; what the client got, and the response. */
async function serve(headers: Record<string, string | number | readonly string[]>) {
  let response!: ServerResponse;
  const server = createServer((_req, res) => {
    response = res;
    const stream = new SubscriptionStream(res, { connected: "event: connected\ndata: {}\n\n", clock: null, maxDurationMs: undefined, serialize: (v) => v, serializesAsIs: true });
    void stream.send(headers, { values: (async function* () { yield { hello: "world" }; })() }, (e) => e);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  const { port } = server.address() as AddressInfo;
  const { headers: received, body } = await rawGet(`http://127.0.0.1:${port}/`);
  return { headers: received, body, response };
}

describe("SubscriptionStream's head", () => {
  it("sends the caller's headers and tRPC's, tRPC's winning a name both set, and keeps no header map on the response", async () => {
    const { headers, body, response } = await serve({
      "content-security-policy": "default-src 'self'",
      "x-content-type-options": "nosniff",
      vary: "Origin",
      "x-count": 3,
      "set-cookie": ["a=1", "b=2"],
    });
    expect(headers).toMatchObject({
      "content-security-policy": "default-src 'self'",
      "x-content-type-options": "nosniff",
      "x-count": "3",
      "set-cookie": ["a=1", "b=2"],
      "content-type": "text/event-stream",
      "cache-control": "no-cache, no-transform",
      vary: "trpc-accept, accept",
    });
    expect(body).toContain('data: {"hello":"world"}');
    // The head went out as one list: Node built no name → value map for the response to keep while it streams.
    expect(response.headersSent).toBe(true);
    expect(response.getHeaderNames()).toEqual([]);
    // …and the head it keeps is one string, not the pieces Node concatenated (compactHead).
    const head = Reflect.get(response, "_header") as string;
    expect(isFlatString(head)).toBe(true); // first: reading it in a check would flatten it
    expect(head).toMatch(/^HTTP\/1\.1 200 OK\r\n[^]*content-type: text\/event-stream\r\n[^]*\r\n\r\n$/);
    // No once-wrapper (which has `.listener`) of the writer's stays on the response for the stream's life.
    expect(response.rawListeners("close").filter((listener) => "listener" in listener)).toEqual([]);
  });
});

/** A subscription source that writes directly (direct-writes.ts) when told to, and hands out values pulled otherwise. */
function directSource() {
  let write: DirectWrite | undefined;
  let pulled: ((result: IteratorResult<unknown>) => void) | undefined;
  /** What the next pulls return, once `pull` gave them. */
  const later: IteratorResult<unknown>[] = [];
  let onAttached!: () => void;
  const attached = new Promise<void>((resolve) => (onAttached = resolve));
  const values = {
    [attachWriter](writer: DirectWrite) {
      write = writer;
      onAttached();
    },
    [Symbol.asyncIterator]: () => ({
      next: () => {
        const result = later.shift();
        return result ? Promise.resolve(result) : new Promise<IteratorResult<unknown>>((resolve) => (pulled = resolve));
      },
      return: async () => ({ done: true as const, value: undefined }),
    }),
  };
  return {
    values,
    attached,
    write: (data: unknown, id?: string, json?: string) => write!(data, id, json),
    /** Answers the pull the writer waits in, and the ones after it. */
    pull: (first: IteratorResult<unknown>, ...rest: IteratorResult<unknown>[]) => {
      later.push(...rest);
      pulled!(first);
    },
  };
}

describe("SubscriptionStream's direct writes", () => {
  it("hold a turn's direct writes of every stream until the turn's promise jobs ran: each leaves with the values pulled in them, in one write", async () => {
    const sources = [directSource(), directSource()];
    /** Per stream, the socket writes after the head and `connected` (each a list of the chunks one syscall takes). */
    const writes: string[][][] = [[], []];
    let next = 0;
    const server = createServer((_req, res) => {
      const index = next++;
      const socket = res.socket!;
      // Probes of what the socket hands to the kernel: `_writev` for corked chunks, `_write` for one alone.
      const writev = socket._writev!.bind(socket);
      const write = socket._write.bind(socket);
      socket._writev = (chunks, callback) => {
        writes[index]!.push(chunks.map(({ chunk }) => String(chunk)));
        writev(chunks, callback);
      };
      socket._write = (chunk, encoding, callback) => {
        writes[index]!.push([String(chunk)]);
        write(chunk, encoding, callback);
      };
      const stream = new SubscriptionStream(res, { connected: "event: connected\ndata: {}\n\n", clock: null, maxDurationMs: undefined, serialize: (v) => v, serializesAsIs: true });
      void stream.send({}, { values: sources[index]!.values }, (e) => e);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    close = () => new Promise<void>((resolve) => server.close(() => resolve()));
    const { port } = server.address() as AddressInfo;
    const bodies = [0, 1].map(async () => (await rawGet(`http://127.0.0.1:${port}/`)).body);
    await Promise.all(sources.map((source) => source.attached));
    await new Promise((resolve) => setTimeout(resolve, 20)); // `connected` is out: what follows is written alone
    for (const list of writes) list.length = 0;

    // One turn: a token of each stream written directly, then (promise jobs of the same turn) each stream's end pulled.
    await new Promise<void>((resolve) =>
      setImmediate(() => {
        for (const [index, source] of sources.entries()) {
          expect(source.write({ token: index })).toBe(true);
          void Promise.resolve().then(() => source.pull({ done: false, value: { done: index } }, { done: true, value: undefined }));
        }
        resolve();
      }),
    );
    const texts = await Promise.all(bodies);
    for (const [index, text] of texts.entries()) {
      expect(text).toMatch(new RegExp(`data: \\{"token":${index}\\}\\n+data: \\{"done":${index}\\}\\n+event: return\\n`));
      const first = writes[index]![0]!.join("");
      expect(first).toContain(`{"token":${index}}`);
      expect(first).toContain(`{"done":${index}}`);
    }
  });
});

describe("SubscriptionStream's direct writes with the source's JSON", () => {
  /** One stream whose source writes `data` directly (tracked as `id`, with `json`), then ends; the body the client got. */
  async function writeOne(settings: { serialize(value: unknown): unknown; serializesAsIs: boolean }, data: unknown, id: string | undefined, json: string | undefined) {
    const source = directSource();
    const server = createServer((_req, res) => {
      const stream = new SubscriptionStream(res, { connected: "event: connected\ndata: {}\n\n", clock: null, maxDurationMs: undefined, ...settings });
      void stream.send({}, { values: source.values }, (e) => e);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    close = () => new Promise<void>((resolve) => server.close(() => resolve()));
    const { port } = server.address() as AddressInfo;
    const body = rawGet(`http://127.0.0.1:${port}/`).then((got) => got.body);
    await source.attached;
    await new Promise((resolve) => setTimeout(resolve, 10)); // the writer waits in next()
    const taken = source.write(data, id, json);
    source.pull({ done: true, value: undefined });
    return { taken, body: await body };
  }

  it("sends the source's JSON as the data when the router serializes values as they are, with the id", async () => {
    // The JSON differs from the data on purpose: what goes out shows which one the writer used.
    const { taken, body } = await writeOne({ serialize: (v) => v, serializesAsIs: true }, { a: 1 }, "7", '{"a":1,"from":"source"}');
    expect(taken).toBe(true);
    expect(body).toContain('data: {"a":1,"from":"source"}\nid: 7\n\n\n');
  });

  it("serializes the data through the transformer instead when the router has one, and without JSON", async () => {
    const tagged = { serialize: (v: unknown) => ({ tagged: v }), serializesAsIs: false };
    const withJson = await writeOne(tagged, { a: 1 }, "8", '{"a":1,"from":"source"}');
    expect(withJson.body).toContain('data: {"tagged":{"a":1}}\nid: 8\n\n\n');
    expect(withJson.body).not.toContain("source");
    const untracked = await writeOne({ serialize: (v) => v, serializesAsIs: true }, { b: 2 }, undefined, undefined);
    expect(untracked.body).toContain('data: {"b":2}\n\n\n');
    expect(untracked.body).not.toContain("id:");
  });
});

describe("SubscriptionStream's end", () => {
  /** One stream of `values` on a real server; the body the client got, once the response ended. */
  async function serveValues(values: AsyncIterable<unknown>) {
    const server = createServer((_req, res) => {
      const stream = new SubscriptionStream(res, { connected: "event: connected\ndata: {}\n\n", clock: null, maxDurationMs: undefined, serialize: (v) => v, serializesAsIs: true });
      stream.send({}, { values }, (error) => ({ message: error instanceof Error ? error.message : String(error) }));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    close = () => new Promise<void>((resolve) => server.close(() => resolve()));
    const { port } = server.address() as AddressInfo;
    return (await rawGet(`http://127.0.0.1:${port}/`)).body;
  }

  it("sends the error of a value it cannot serialize, and returns the source so that its cleanup runs", async () => {
    let cleanedUp = false;
    let afterIt = false;
    const body = await serveValues(
      (async function* () {
        try {
          yield { ok: 1 };
          yield { big: 1n }; // JSON.stringify throws on a BigInt
          afterIt = true;
          yield { never: true };
        } finally {
          cleanedUp = true;
        }
      })(),
    );
    expect(body).toContain('data: {"ok":1}');
    expect(body).toMatch(/event: serialized-error\ndata: \{"message":"[^"]*BigInt[^"]*"\}/);
    expect(body).not.toContain("never");
    expect(afterIt).toBe(false);
    expect(cleanedUp).toBe(true);
  });

  it("returns the source when the client leaves while the writer waits for drain, and writes nothing more", async () => {
    let pulls = 0;
    let returned!: () => void;
    const sourceReturned = new Promise<void>((resolve) => (returned = resolve));
    const big = "x".repeat(256 * 1024);
    const values: AsyncIterable<unknown> = {
      [Symbol.asyncIterator]: () => ({
        next: async () => {
          pulls++;
          return { done: false, value: big };
        },
        return: async () => {
          returned();
          return { done: true as const, value: undefined };
        },
      }),
    };
    let response!: ServerResponse;
    const server = createServer((_req, res) => {
      response = res;
      new SubscriptionStream(res, { connected: "event: connected\ndata: {}\n\n", clock: null, maxDurationMs: undefined, serialize: (v) => v, serializesAsIs: true }).send(
        {},
        { values },
        (e) => e,
      );
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    close = () => new Promise<void>((resolve) => server.close(() => resolve()));
    const { port } = server.address() as AddressInfo;
    // A client that reads nothing: the response's buffer fills, and the writer stops pulling until `drain`.
    const req = request({ host: "127.0.0.1", port, path: "/" });
    req.on("response", (res) => res.pause());
    req.on("error", () => undefined);
    req.end();
    await expect.poll(() => response?.writableNeedDrain, { timeout: 10_000 }).toBe(true);
    const pulled = pulls;
    req.destroy();
    await sourceReturned;
    expect(pulls).toBe(pulled);
  });
});

describe("SubscriptionStream's own failure", () => {
  it("closes the connection, returns the source and reports it when a write throws, leaving no rejection unhandled", async () => {
    let cleanedUp = false;
    const faults: unknown[] = [];
    let response!: ServerResponse;
    const values = (async function* () {
      try {
        // A response whose writes throw from now on: what the writer's own net is for (Node's writes do not throw).
        response.write = () => {
          throw new Error("write broke");
        };
        yield { a: 1 };
        yield { never: true };
      } finally {
        cleanedUp = true;
      }
    })();
    const server = createServer((_req, res) => {
      response = res;
      const settings = { connected: "event: connected\ndata: {}\n\n", clock: null, maxDurationMs: undefined, serialize: (v: unknown) => v, serializesAsIs: true };
      new SubscriptionStream(res, { ...settings, onFault: (error) => faults.push(error) }).send({}, { values }, (e) => e);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    close = () => new Promise<void>((resolve) => server.close(() => resolve()));
    const { port } = server.address() as AddressInfo;
    const ended = new Promise<string>((resolve) => {
      const req = request({ host: "127.0.0.1", port, path: "/" }, (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (body += chunk));
        res.on("close", () => resolve(body));
      });
      req.on("error", () => resolve("(reset)"));
      req.end();
    });
    const body = await ended;
    expect(body).not.toContain("never");
    await expect.poll(() => cleanedUp, { timeout: 10_000 }).toBe(true);
    expect(faults).toHaveLength(1);
    expect((faults[0] as Error).message).toBe("write broke");
    expect(response.destroyed).toBe(true);
  });
});
