/** What the bench's reference servers (bare-relay, trpc-floor, ai-sdk-relay) share: plain node:http plumbing. */
import http from "node:http";

/** The model connections' agent: TCP keep-alive after 30 s of silence, as the stack's (node-transport.ts), so a held stream costs the same kernel work. */
export const upstreamAgent = (): http.Agent => new http.Agent({ keepAlive: true, keepAliveMsecs: 30_000 });

export function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => (body += chunk));
    req.on("end", () => resolve(body));
    req.on("error", reject);
  });
}
