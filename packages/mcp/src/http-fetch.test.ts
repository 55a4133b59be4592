// The fetch the HTTP transport uses tells a request that never reached the server from one that may have: real
// node:http servers on loopback that refuse, reset and answer.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { brotliCompressSync, createGzip, deflateSync, gzipSync } from "node:zlib";
import { afterEach, describe, expect, it } from "vitest";
import { ResponseTooLargeError } from "./response-limit.js";
import { nodeFetch, RequestNotDeliveredError, RequestOutcomeUnknownError, type NodeFetch } from "./http-fetch.js";

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function serve(handler: (req: IncomingMessage, res: ServerResponse, count: number) => void): Promise<string> {
  let count = 0;
  const server: Server = createServer((req, res) => handler(req, res, ++count));
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  cleanups.push(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`;
}

function client(maxMessageBytes = 32 * 1024 * 1024): NodeFetch {
  const http = nodeFetch(maxMessageBytes);
  cleanups.push(() => http.close());
  return http;
}

const post = { method: "POST", body: '{"jsonrpc":"2.0","id":1,"method":"tools/call"}', headers: { "content-type": "application/json" } };

describe("nodeFetch", () => {
  it("a refused connection never reached the server", async () => {
    // A port that was just free: nothing listens there now.
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const { fetch } = client();
    await expect(fetch(url, post)).rejects.toBeInstanceOf(RequestNotDeliveredError);
  });

  it("a reused connection reset before any answer byte never reached the server (a GET); a new one reset after the request may have", async () => {
    const url = await serve((req, res, count) => {
      req.resume();
      // The first request opens the connection and is answered; the second, on that connection, is reset unread.
      if (count === 1) res.end("ok");
      else req.socket.resetAndDestroy();
    });
    const { fetch } = client();
    expect(await (await fetch(url)).text()).toBe("ok");
    await expect(fetch(url)).rejects.toBeInstanceOf(RequestNotDeliveredError);
    // Now on a new connection: the server read the request, then reset it. It may have acted on it.
    await expect(fetch(url, post)).rejects.toBeInstanceOf(RequestOutcomeUnknownError);
  });

  it("every POST goes on a connection of its own: a reset can never be the reused connection's race, and says the call may have run", async () => {
    const sockets = new Set<unknown>();
    const url = await serve((req, res, count) => {
      sockets.add(req.socket);
      req.resume();
      if (count <= 2) res.end("ok");
      else req.socket.resetAndDestroy();
    });
    const { fetch } = client();
    expect(await (await fetch(url, post)).text()).toBe("ok");
    expect(await (await fetch(url, post)).text()).toBe("ok");
    await expect(fetch(url, post)).rejects.toBeInstanceOf(RequestOutcomeUnknownError);
    expect(sockets.size).toBe(3);
  });

  it("passes status, headers and a streamed body through; a body cut short errors its reader", async () => {
    const url = await serve((req, res, count) => {
      req.resume();
      if (count === 1) {
        res.writeHead(201, { "content-type": "text/event-stream", "mcp-session-id": "s1" });
        res.end("data: 1\n\n");
      } else if (count === 2) {
        res.writeHead(204).end();
      } else {
        res.writeHead(200, { "content-type": "text/event-stream" });
        res.write("data: part\n\n");
        setTimeout(() => res.socket?.destroy(), 50);
      }
    });
    const { fetch } = client();
    const first = await fetch(url, post);
    expect([first.status, first.headers.get("mcp-session-id"), await first.text()]).toEqual([201, "s1", "data: 1\n\n"]);
    const empty = await fetch(url, post);
    expect([empty.status, empty.body]).toEqual([204, null]);
    const cut = await fetch(url, post);
    await expect(cut.text()).rejects.toThrow();
  });

  it("a body with a message over the limit errors there: a JSON body as a whole, an event stream per event", async () => {
    const event = (size: number) => `data: ${"x".repeat(size)}\r\n\r\n`;
    const url = await serve((req, res, count) => {
      req.resume();
      if (count === 1) res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify("y".repeat(2000)));
      else if (count === 2) {
        // 20 events of 500 bytes: 10 000 bytes in all, each under the limit.
        res.writeHead(200, { "content-type": "text/event-stream" });
        for (let i = 0; i < 20; i++) res.write(event(500));
        res.end();
      } else {
        res.writeHead(200, { "content-type": "text/event-stream" });
        res.write(event(500));
        // One event sent in small pieces, over the limit only as a whole.
        for (let i = 0; i < 30; i++) res.write("data: " + "z".repeat(60) + "\n");
        res.end("\n");
      }
    });
    const { fetch } = client(1000);
    await expect((await fetch(url, post)).text()).rejects.toBeInstanceOf(ResponseTooLargeError);
    expect(await (await fetch(url, post)).text()).toBe(event(500).repeat(20));
    await expect((await fetch(url, post)).text()).rejects.toThrow("the server sent a message larger than 1000 bytes (the limit)");
  });

  it("asks for a POST's answer compressed and decodes gzip, deflate and br; a GET is not asked", async () => {
    const answer = JSON.stringify({ jsonrpc: "2.0", id: 1, result: { content: [{ type: "text", text: "z".repeat(50_000) }] } });
    const encodings: Array<string | undefined> = [];
    const url = await serve((req, res, count) => {
      req.resume();
      encodings.push(req.headers["accept-encoding"]);
      if (count === 1) res.writeHead(200, { "content-type": "application/json", "content-encoding": "gzip" }).end(gzipSync(answer));
      else if (count === 2) res.writeHead(200, { "content-type": "application/json", "content-encoding": "deflate" }).end(deflateSync(answer));
      else if (count === 3) res.writeHead(200, { "content-type": "text/event-stream", "content-encoding": "br" }).end(brotliCompressSync(`data: ${answer}\n\n`));
      // Stacked codings are undone last first; identity is no coding.
      else if (count === 4) res.writeHead(200, { "content-type": "application/json", "content-encoding": "gzip, identity, br" }).end(brotliCompressSync(gzipSync(answer)));
      else res.writeHead(200, { "content-type": "text/plain" }).end("plain");
    });
    const { fetch } = client();
    expect(await (await fetch(url, post)).text()).toBe(answer);
    expect(await (await fetch(url, post)).text()).toBe(answer);
    expect(await (await fetch(url, post)).text()).toBe(`data: ${answer}\n\n`);
    expect(await (await fetch(url, post)).text()).toBe(answer);
    expect(await (await fetch(url)).text()).toBe("plain");
    // Before: no accept-encoding was sent, and a compressed body reached the SDK as it came (not JSON).
    expect(encodings).toEqual(["gzip, deflate, br", "gzip, deflate, br", "gzip, deflate, br", "gzip, deflate, br", undefined]);
  });

  it("a compressed event stream is decoded as it comes: each event is read before the server sends the next", async () => {
    let sendRest: () => void = () => undefined;
    const rest = new Promise<void>((resolve) => (sendRest = resolve));
    const url = await serve((req, res) => {
      req.resume();
      res.writeHead(200, { "content-type": "text/event-stream", "content-encoding": "gzip" });
      const gzip = createGzip();
      gzip.pipe(res);
      gzip.write("data: first\n\n");
      // As a compressing server must for an event stream: what it has compressed so far goes out now.
      gzip.flush();
      void rest.then(() => gzip.end("data: second\n\n"));
    });
    const { fetch } = client();
    const reader = (await fetch(url, post)).body!.getReader();
    const decoder = new TextDecoder();
    let read = "";
    // The second event is sent only once the first was read: a decoder that waited for more input would hang here.
    while (!read.includes("\n\n")) read += decoder.decode((await reader.read()).value, { stream: true });
    expect(read).toBe("data: first\n\n");
    sendRest();
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) read += decoder.decode(chunk.value, { stream: true });
    expect(read).toBe("data: first\n\ndata: second\n\n");
  }, 5_000);

  it("a small compressed body that decodes past the limit (a bomb) errors as an oversized one, a JSON body and an event stream's event", async () => {
    const limit = 1024 * 1024;
    const bomb = gzipSync(Buffer.alloc(64 * limit, "a"));
    const eventBomb = gzipSync(`data: ${"b".repeat(4 * limit)}\n\n`);
    expect(bomb.length).toBeLessThan(limit / 4);
    const url = await serve((req, res, count) => {
      req.resume();
      if (count === 1) res.writeHead(200, { "content-type": "application/json", "content-encoding": "gzip" }).end(bomb);
      else res.writeHead(200, { "content-type": "text/event-stream", "content-encoding": "gzip" }).end(eventBomb);
    });
    const { fetch } = client(limit);
    const body = fetch(url, post).then((response) => response.text());
    await expect(body).rejects.toBeInstanceOf(ResponseTooLargeError);
    await expect(body).rejects.toThrow("the server sent a message larger than 1 MiB (the limit)");
    await expect((await fetch(url, post)).text()).rejects.toThrow("the server sent a message larger than 1 MiB (the limit)");
  });

  it("an aborted request rejects with the signal's reason", async () => {
    const url = await serve((req) => req.resume());
    const { fetch } = client();
    const controller = new AbortController();
    const pending = fetch(url, { ...post, signal: controller.signal });
    setTimeout(() => controller.abort(new Error("run cancelled")), 50);
    await expect(pending).rejects.toThrow("run cancelled");
  });
});
