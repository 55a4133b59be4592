import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

export interface OlderApi {
  url: string;
  close(): Promise<void>;
}

/**
 * A loopback HTTP server that answers every tRPC call as an API older than `error.data.conflict` answered a
 * chat.approve that lost (CONFLICT with the message, no `conflict`), or with `conflict` set to what `data` says (a
 * newer server's reason). The real API always sends the field now, so only a stand-in can show the client's fallback.
 */
export async function startOlderApi(data: Record<string, unknown> = {}): Promise<OlderApi> {
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      const error = {
        message: "This call was already approved.",
        code: -32009,
        data: { code: "CONFLICT", httpStatus: 409, path: "chat.approve", appCode: "bad_request", ...data },
      };
      // httpBatchLink asks with ?batch=1 and reads one answer per call.
      const batched = new URL(req.url ?? "/", "http://older").searchParams.get("batch") === "1";
      res.writeHead(409, { "Content-Type": "application/json" });
      res.end(JSON.stringify(batched ? [{ error }] : { error }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve()))),
  };
}
