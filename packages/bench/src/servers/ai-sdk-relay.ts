/**
 * The peer: Vercel AI SDK 7 `streamText` with `ai-sdk-ollama` pointed at the simulator, answering with its UI
 * message stream (SSE) on plain node:http — the wiring of the AI SDK's own Node example.
 */
import http from "node:http";
import { pipeUIMessageStreamToResponse, streamText, toUIMessageStream } from "ai";
import { createOllama } from "ai-sdk-ollama";
import { announceFailure, announceReady, upstreamFromEnv } from "./child-ipc.js";
import { readBody } from "./relay-io.js";

const { simUrl, model } = upstreamFromEnv();
const ollama = createOllama({ baseURL: simUrl });

async function answer(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const { prompt } = JSON.parse(await readBody(req)) as { prompt: string };
  const abort = new AbortController();
  res.on("close", () => {
    if (!res.writableFinished) abort.abort();
  });
  const result = streamText({ model: ollama(model), prompt, abortSignal: abort.signal });
  pipeUIMessageStreamToResponse({ response: res, stream: toUIMessageStream({ stream: result.stream }) });
}

const server = http.createServer((req, res) => {
  answer(req, res).catch((err: unknown) => {
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
