import { createServer, type IncomingHttpHeaders, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";

export interface SeenRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: unknown;
}

export interface TestServer {
  url: string;
  requests: SeenRequest[];
  close(): Promise<void>;
}

/**
 * A tiny real HTTP server on 127.0.0.1:0 for wire cases the simulator does not script (headers, odd SSE
 * shapes). The handler writes the response; the request body is parsed as JSON when it is JSON.
 */
export async function startHttpServer(handler: (req: SeenRequest, res: ServerResponse) => void | Promise<void>): Promise<TestServer> {
  const requests: SeenRequest[] = [];
  const sockets = new Set<Socket>();
  const server = createServer(async (req, res) => {
    const parts: Buffer[] = [];
    for await (const part of req as AsyncIterable<Buffer>) parts.push(part);
    const text = Buffer.concat(parts).toString("utf8");
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      // keep the text
    }
    const seen = { method: req.method ?? "", path: req.url ?? "", headers: req.headers, body };
    requests.push(seen);
    await handler(seen, res);
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Writes SSE `data:` events (strings as is, objects as JSON), then ends the response. */
export function writeSse(res: ServerResponse, events: Array<string | object>, opts: { end?: boolean } = {}): void {
  res.writeHead(200, { "content-type": "text/event-stream" });
  for (const e of events) res.write(typeof e === "string" ? e : `data: ${JSON.stringify(e)}\n\n`);
  if (opts.end !== false) res.end();
}
