import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface HttpStub {
  url: string;
  /** Each request's method and target, and its Authorization header. */
  requests: Array<{ method: string | undefined; target: string | undefined; authorization: string | undefined }>;
  close(): Promise<void>;
}

/** A loopback HTTP server answering every request with `handler`: a stand-in for what the real API never does. */
export async function startHttpStub(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<HttpStub> {
  const requests: HttpStub["requests"] = [];
  const server = createServer((req, res) => {
    requests.push({ method: req.method, target: req.url, authorization: req.headers.authorization });
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** JSON Lines headers, as the API's GET /api/export sends them. */
export const jsonLinesHead = { "content-type": "application/x-ndjson; charset=utf-8" } as const;

/**
 * GET /api/export that sends `lines` (each with its newline), then `partial` (a line without its end), and then
 * either ends the body there (`ending: "end"`: a complete HTTP answer whose last line has no newline) or destroys the
 * socket (`"cut"`: the connection broken mid-way, the chunked body never finished).
 */
export function cutShortExport(lines: string[], partial: string, ending: "end" | "cut") {
  return (_req: IncomingMessage, res: ServerResponse) => {
    res.writeHead(200, jsonLinesHead);
    res.write(lines.map((line) => `${line}\n`).join(""));
    if (ending === "end") res.end(partial);
    else res.write(partial, () => res.socket?.destroy());
  };
}
