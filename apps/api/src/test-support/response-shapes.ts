/**
 * Run as a child process (`node --import tsx --allow-natives-syntax --expose-gc`): a fresh API process that answers
 * six health checks, collects its garbage as V8 does when a server goes idle, then answers three more. Prints, as
 * JSON, whether V8 made each of those three responses with fast properties.
 */
import { subscribe } from "node:diagnostics_channel";
import type { ServerResponse } from "node:http";
import { buildServer } from "../app.js";
import { loadConfig } from "../config.js";

const hasFastProperties = new Function("o", "return %HasFastProperties(o)") as (o: object) => boolean;
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("run with --expose-gc");

const server = await buildServer({
  config: loadConfig({ HOST: "127.0.0.1", PORT: "0", DATABASE_PATH: ":memory:", LOG_LEVEL: "silent", CHAT_PROVIDER: "sim" }),
  webDistDir: null,
});
const url = await server.listen();
const fresh: boolean[] = [];
let watching = false;
subscribe("http.server.request.start", (message) => {
  if (watching) fresh.push(hasFastProperties((message as { response: ServerResponse }).response));
});
const check = async () => {
  const res = await fetch(`${url}/healthz`);
  await res.text();
};
for (let i = 0; i < 6; i++) await check();
await new Promise((resolve) => setTimeout(resolve, 20));
gc();
watching = true;
for (let i = 0; i < 3; i++) await check();
console.log(JSON.stringify({ fast: fresh }));
await server.close();
process.exit(0);
