// A small HTTP proxy on loopback in front of a test MCP server, for the hub's tests of what a server's answers can
// look like on the way (error pages, answers cut off, compression) and of connections that break when the server
// restarts: each such test changes only what its hooks say.
import { createServer, request, type IncomingMessage, type OutgoingHttpHeaders, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";

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
  /**
   * Makes every connection the client holds now dead without the client being told, as a NAT or a load balancer does
   * when the server behind it restarts: a request on one of them is reset, and an answer still under way on one (the
   * session's GET stream) is cut.
   */
  breakConnections(): void;
  /** Closes the listener and every open connection (not the server behind it). */
  close(): Promise<void>;
}

/** Passes the server's answer on as it came: status, body, and its headers unless `headers` replaces them. */
export function passOn(answer: IncomingMessage, res: ServerResponse, headers: OutgoingHttpHeaders = answer.headers): void {
  res.writeHead(answer.statusCode ?? 502, headers);
  answer.pipe(res);
  // A server that dies mid-answer: the client sees its answer cut, as it would without the proxy.
  answer.on("error", () => res.destroy());
}

/**
 * A proxy to the MCP endpoint `upstream`, changing what passes as `hooks` say. `upstream` is a URL, or gives the URL
 * each request goes to, for a server that comes back elsewhere after a restart.
 */
export async function startHttpProxy(upstream: string | (() => string), hooks: HttpProxyHooks = {}): Promise<HttpProxy> {
  const open = new Set<Socket>();
  const busy = new Set<Socket>();
  let dead = new Set<Socket>();
  const proxy: Server = createServer((req, res) => {
    if (dead.has(req.socket)) {
      req.socket.resetAndDestroy();
      return;
    }
    busy.add(req.socket);
    res.on("close", () => busy.delete(req.socket));
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      if (hooks.onRequest?.(body, res, req)) return;
      const headers = hooks.upstreamHeaders?.(req) ?? req.headers;
      const forward = request(typeof upstream === "string" ? upstream : upstream(), { method: req.method, headers }, (answer) => {
        if (hooks.relay) hooks.relay(answer, res, req, body);
        else passOn(answer, res);
      });
      forward.on("error", () => res.destroy());
      forward.end(body);
    });
  });
  // Idle connections stay open as long as a test runs (Node's default closes them after 5 s): only breakConnections
  // ends one behind the client's back, never a keep-alive timer racing the client's next request.
  proxy.keepAliveTimeout = 60_000;
  proxy.on("connection", (socket: Socket) => {
    open.add(socket);
    socket.on("close", () => open.delete(socket));
  });
  await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}/mcp`,
    breakConnections() {
      dead = new Set(open);
      for (const socket of busy) socket.destroy();
    },
    async close() {
      proxy.closeAllConnections();
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
    },
  };
}
