import { createServer, request, type IncomingHttpHeaders, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { isFlatString } from "@streamchat/core/test-support";
import { afterEach, describe, expect, it } from "vitest";
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
    const stream = new SubscriptionStream(res, { connected: "event: connected\ndata: {}\n\n", clock: null, maxDurationMs: undefined, serialize: (v) => v });
    void stream.send(headers, { values: (async function* () { yield { hello: "world" }; })() }, (e) => e);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  const { port } = server.address() as AddressInfo;
  const answer = await new Promise<{ headers: IncomingHttpHeaders; body: string }>((resolve, reject) => {
    request({ port, host: "127.0.0.1", path: "/", agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => resolve({ headers: res.headers, body }));
    }).on("error", reject).end();
  });
  return { ...answer, response };
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
