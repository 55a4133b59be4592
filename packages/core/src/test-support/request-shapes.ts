/**
 * Run as a child process (`node --import tsx --allow-natives-syntax --expose-gc`): a fresh process, as a server is
 * after a start. It talks to a model server of its own the way a server that answered a couple of chats does
 * (/api/show, /api/ps, four answers), collects its garbage as V8 does when such a server goes idle, then opens three
 * answers that stay open and prints, as JSON, whether V8 keeps each of their requests with fast properties.
 */
import { subscribe } from "node:diagnostics_channel";
import { createServer, type ClientRequest } from "node:http";
import type { AddressInfo } from "node:net";
import { createOllamaModel } from "../providers/ollama.js";

const hasFastProperties = new Function("o", "return %HasFastProperties(o)") as (o: object) => boolean;
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("run with --expose-gc");

const line = (value: object) => `${JSON.stringify(value)}\n`;
const server = createServer((req, res) => {
  req.resume();
  if (req.url === "/api/show") return void res.writeHead(200, { "content-type": "application/json" }).end(line({ capabilities: ["completion"] }));
  if (req.url === "/api/ps") return void res.writeHead(200, { "content-type": "application/json" }).end(line({ models: [] }));
  res.writeHead(200, { "content-type": "application/x-ndjson" });
  res.write(line({ message: { role: "assistant", content: "hi" }, done: false }));
  // The first four answers end; the rest stay open until the process exits.
  if (held === null) res.end(line({ done: true, done_reason: "stop" }));
});
let held: ClientRequest[] | null = null;
subscribe("http.client.request.created", (message) => held?.push((message as { request: ClientRequest }).request));
await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
const model = createOllamaModel({ baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
const ask = { model: "m", messages: [{ role: "user" as const, content: "hello" }] };

await model.capabilities?.("m");
await model.state?.("m");
for (let i = 0; i < 4; i++) for await (const _chunk of model.stream(ask)) void _chunk;
await new Promise((resolve) => setTimeout(resolve, 20));
gc();

held = [];
const controller = new AbortController();
for (let i = 0; i < 3; i++) {
  const iterator = model.stream(ask, { signal: controller.signal })[Symbol.asyncIterator]();
  await iterator.next();
}
console.log(JSON.stringify({ fast: held.map(hasFastProperties) }));
process.exit(0);
