// A small HTTP proxy on loopback in front of a test MCP server, for the hub's tests of what a server's answers can
// look like on the way (error pages, answers cut off, compression): each such test changes only what its hooks say.
import { createServer, request, type IncomingMessage, type OutgoingHttpHeaders, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface HttpProxyHooks {
  /**
   * Sees every request with its whole body before it goes on, and may answer it itself (returns true) instead of
   * passing it to the server (false).
   */
  onRequest?(body: string, res: ServerResponse, req: IncomingMessage): boolean;
  /** The headers the request goes to the server with; default its own. */
  upstreamHeaders?(req: IncomingMessage): OutgoingHttpHeaders;
  /** Writes the server's answer to `res`; default its status, headers and body as they came. */
  relay?(answer: IncomingMessage, res: ServerResponse, req: IncomingMessage, body: string): void;
}

export interface HttpProxy {
  /** The proxy's MCP endpoint. */
  url: string;
  /** Closes the listener and every open connection (not the server behind it). */
  close(): Promise<void>;
}

/** Passes the server's answer on as it came: status, headers and body. */
export function passOn(answer: IncomingMessage, res: ServerResponse): void {
  res.writeHead(answer.statusCode ?? 502, answer.headers);
  answer.pipe(res);
}

/** A proxy to the MCP endpoint `upstream` (a URL), changing what passes as `hooks` say. */
export async function startHttpProxy(upstream: string, hooks: HttpProxyHooks = {}): Promise<HttpProxy> {
  const proxy: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      if (hooks.onRequest?.(body, res, req)) return;
      const headers = hooks.upstreamHeaders?.(req) ?? req.headers;
      const forward = request(upstream, { method: req.method, headers }, (answer) => {
        if (hooks.relay) hooks.relay(answer, res, req, body);
        else passOn(answer, res);
      });
      forward.on("error", () => res.destroy());
      forward.end(body);
    });
  });
  await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}/mcp`,
    async close() {
      proxy.closeAllConnections();
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
    },
  };
}
