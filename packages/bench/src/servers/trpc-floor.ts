/**
 * The floor under this stack's protocol: the least a server can do that answers `chat.send` and then streams the
 * run over a separate `chat.events` request, on tRPC's wire (the JSON envelope, SSE with `connected`, `id:` lines and
 * `return`), on plain node:http. No framework, no auth, no input validation, no store, no run machinery: what two
 * HTTP exchanges and one model request cost, against the bare relay's one exchange. A reference, not a product.
 */
import http from "node:http";
import { randomUUID } from "node:crypto";
import { announceFailure, announceReady, upstreamFromEnv } from "./child-ipc.js";
import { forEachLine } from "../lines.js";
import { readBody, upstreamAgent } from "./relay-io.js";

const { simUrl, model } = upstreamFromEnv();
const agent = upstreamAgent();
const chatUrl = new URL("/api/chat", simUrl);

interface FloorRun {
  seq: number;
  /** Frames written before the subscriber came. */
  backlog: string[];
  subscriber: http.ServerResponse | null;
  upstream: http.IncomingMessage | null;
  ended: boolean;
}

const runs = new Map<string, FloorRun>();
const returnFrame = "event: return\ndata: \n\n";

/** Hands one event to the subscriber (or keeps it until one comes), with backpressure on the model's response. */
function emit(id: string, run: FloorRun, event: object, last = false): void {
  run.seq += 1;
  const frame = `data: ${JSON.stringify(event)}\nid: ${run.seq}\n\n`;
  if (last) run.ended = true;
  const res = run.subscriber;
  if (res === null) {
    run.backlog.push(frame);
    return;
  }
  if (last) {
    res.end(frame + returnFrame);
    runs.delete(id);
  } else if (!res.write(frame) && run.upstream) {
    const upstream = run.upstream;
    upstream.pause();
    res.once("drain", () => upstream.resume());
  }
}

async function send(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const { message } = JSON.parse(await readBody(req)) as { message: string };
  const id = randomUUID();
  const run: FloorRun = { seq: 0, backlog: [], subscriber: null, upstream: null, ended: false };
  runs.set(id, run);
  const payload = JSON.stringify({ model, messages: [{ role: "user", content: message }], stream: true });
  const upstream = http.request(chatUrl, {
    method: "POST",
    agent,
    headers: { "content-type": "application/json", "content-length": Buffer.byteLength(payload) },
  });
  upstream.on("error", (err) => {
    if (!run.ended) emit(id, run, { type: "done", reason: "error", message: err.message }, true);
  });
  upstream.on("response", (up) => {
    run.upstream = up;
    emit(id, run, { type: "run-start", runId: id });
    const line = (text: string) => {
      if (text === "" || run.ended) return;
      const chunk = JSON.parse(text) as { message?: { content?: string }; done?: boolean };
      if (chunk.message?.content) emit(id, run, { type: "token", text: chunk.message.content });
      if (chunk.done) emit(id, run, { type: "done", reason: "stop" }, true);
    };
    forEachLine(up, line, () => {
      if (!run.ended) emit(id, run, { type: "done", reason: "error", message: "upstream ended without done" }, true);
    });
  });
  upstream.end(payload);
  const body = JSON.stringify({ result: { data: { runId: id, conversationId: id } } });
  res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) }).end(body);
}

function events(req: http.IncomingMessage, res: http.ServerResponse): void {
  const input = new URL(req.url ?? "", "http://floor").searchParams.get("input");
  const runId = (JSON.parse(input ?? "{}") as { runId?: string }).runId ?? "";
  const run = runs.get(runId);
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache, no-transform", connection: "keep-alive" });
  res.write('event: connected\ndata: {"reconnectAfterInactivityMs":25000}\n\n');
  if (!run) {
    res.end(returnFrame);
    return;
  }
  const backlog = run.backlog.join("");
  run.backlog = [];
  if (run.ended) {
    res.end(backlog + returnFrame);
    runs.delete(runId);
    return;
  }
  if (backlog !== "") res.write(backlog);
  run.subscriber = res;
  // Unlike the stack (a run outlives its subscribers), the floor keeps no run without a reader: a client that leaves
  // ends the model request.
  res.once("close", () => {
    if (!run.ended) run.upstream?.destroy();
    runs.delete(runId);
  });
}

const server = http.createServer((req, res) => {
  const url = req.url ?? "";
  if (url.startsWith("/trpc/chat.send")) {
    send(req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500);
      res.end(String(err));
    });
  } else if (url.startsWith("/trpc/chat.events")) {
    events(req, res);
  } else {
    res.writeHead(404).end();
  }
});
server.listen(0, "127.0.0.1", () => {
  const address = server.address();
  if (address === null || typeof address === "string") announceFailure(new Error("no TCP address"));
  announceReady(`http://127.0.0.1:${address.port}`, () => new Promise<void>((resolve) => server.close(() => resolve())));
});
