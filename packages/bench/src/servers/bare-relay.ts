/**
 * The practical limit: a minimal node:http relay with no framework. Ollama NDJSON in, one SSE `data:` event
 * per token out, `event: done` at the end. It parses every line (a relay has to, to extract the text) and
 * respects backpressure both ways; it does nothing else.
 */
import http from "node:http";
import { announceFailure, announceReady, upstreamFromEnv } from "./child-ipc.js";
import { forEachLine } from "../lines.js";
import { readBody, upstreamAgent } from "./relay-io.js";

const { simUrl, model } = upstreamFromEnv();
const agent = upstreamAgent();
const chatUrl = new URL("/api/chat", simUrl);

async function relay(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const { prompt } = JSON.parse(await readBody(req)) as { prompt: string };
  const payload = JSON.stringify({ model, messages: [{ role: "user", content: prompt }], stream: true });
  const upstream = http.request(chatUrl, {
    method: "POST",
    agent,
    headers: { "content-type": "application/json", "content-length": Buffer.byteLength(payload) },
  });
  res.on("close", () => {
    if (!res.writableFinished) upstream.destroy();
  });
  upstream.on("error", (err) => {
    if (!res.headersSent) res.writeHead(502).end(err.message);
    else res.end(`event: error\ndata: ${JSON.stringify(err.message)}\n\n`);
  });
  upstream.on("response", (up) => {
    if (up.statusCode !== 200) {
      res.writeHead(502).end(`upstream HTTP ${up.statusCode}`);
      up.resume();
      return;
    }
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", "x-accel-buffering": "no" });
    let finished = false;
    const line = (text: string) => {
      if (text === "" || finished) return;
      const chunk = JSON.parse(text) as { message?: { content?: string }; done?: boolean; error?: string };
      if (chunk.error !== undefined) {
        finished = true;
        res.end(`event: error\ndata: ${JSON.stringify(chunk.error)}\n\n`);
        return;
      }
      const content = chunk.message?.content;
      if (content) {
        if (!res.write(`data: ${JSON.stringify(content)}\n\n`)) {
          up.pause();
          res.once("drain", () => up.resume());
        }
      }
      if (chunk.done) {
        finished = true;
        res.end("event: done\ndata: {}\n\n");
      }
    };
    forEachLine(up, line, () => {
      if (!finished) res.end(`event: error\ndata: "upstream ended without done"\n\n`);
    });
  });
  upstream.end(payload);
}

const server = http.createServer((req, res) => {
  relay(req, res).catch((err: unknown) => {
    if (!res.headersSent) res.writeHead(500);
    res.end(String(err));
  });
});
server.listen(0, "127.0.0.1", () => {
  const address = server.address();
  if (address === null || typeof address === "string") announceFailure(new Error("no TCP address"));
  announceReady(`http://127.0.0.1:${address.port}`, () => {
    server.closeAllConnections();
    server.close();
  });
});
server.on("error", announceFailure);
