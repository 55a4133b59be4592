/**
 * Heap retained per connection, by kind of request, against an in-process API (investigation tool).
 *
 *   node --expose-gc --conditions=source --import tsx scripts/sse-leak-probe.ts <mode> [stages] [batch] [snap]
 *
 * mode: finished (SSE read to the end of a finished run), finished-drop (SSE, 3 events then destroy),
 * live (SSE on a live run, 3 events then destroy), query (tRPC GET query), rest (Fastify 404), none.
 * stages: cumulative connection counts, e.g. 1000,2000,4000. snap: write heap snapshots to /tmp before/after.
 * SETTLE=3000,10000 measures again after that long idle (retention held only by timers drops there).
 */
import { request } from "node:http";
import { writeHeapSnapshot } from "node:v8";
import { eventsPath, rawSubscribe, sleep, startApi } from "../src/test-support/reliability.js";

const mode = process.argv[2] ?? "finished";
const stages = (process.argv[3] ?? "1000,2000,4000").split(",").map(Number);
const batch = Number(process.argv[4] ?? 20);
const snap = process.argv[5] === "snap";

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("run with --expose-gc");
async function heap(): Promise<number> {
  // Let closes, timers and finalizers run, then collect twice.
  for (let i = 0; i < 3; i++) {
    await sleep(50);
    gc!();
  }
  return process.memoryUsage().heapUsed;
}

function get(url: string, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const u = new URL(path, url);
    const req = request({ host: u.hostname, port: u.port, path: u.pathname + u.search, agent: false }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("error", reject);
    req.end();
  });
}

const api = await startApi({ env: { MAX_RUNS_PER_USER: "4" } });
const c = api.client();
let runId = "";
let stopLive = false;
let liveProducer: Promise<void> | undefined;
if (mode === "live") {
  const control = api.sim.control({ lastUserIncludes: "[probe:live]" });
  ({ runId } = await c.chat.send.mutate({ message: "[probe:live] go" }));
  await control.connected;
  liveProducer = (async () => {
    let n = 0;
    while (!stopLive) {
      await control.push({ content: `t${++n} ` });
      await sleep(5);
    }
    await control.push({ done: true });
  })();
} else {
  ({ runId } = await c.chat.send.mutate({ message: "tell me a story about a long road" }));
  await api.server.runs.whenEnded(runId);
}
const events = (await api.server.store.readEvents(runId)).length;

async function once(): Promise<void> {
  if (mode === "finished") {
    const sub = rawSubscribe(api.url, eventsPath(runId), { onData: () => {} });
    const how = await sub.ended;
    if (how !== "return") throw new Error(`ended ${how}`);
  } else if (mode === "finished-drop" || mode === "live") {
    let got = 0;
    let enough!: () => void;
    const three = new Promise<void>((r) => (enough = r));
    const sub = rawSubscribe(api.url, eventsPath(runId), {
      onData: () => {
        if (++got === 3) enough();
      },
    });
    await Promise.race([three, sub.ended]);
    sub.destroy();
    await sub.ended;
  } else if (mode === "query") {
    const status = await get(api.url, `/trpc/conversations.list?input=${encodeURIComponent(JSON.stringify({}))}`);
    if (status !== 200) throw new Error(`status ${status}`);
  } else if (mode === "rest") {
    await get(api.url, "/api/nothing");
  }
}

let done = 0;
async function runTo(total: number) {
  while (done < total) {
    const n = Math.min(batch, total - done);
    await Promise.all(Array.from({ length: n }, once));
    done += n;
  }
  // Let the server side finish with closed sockets.
  for (let i = 0; i < 100 && api.server.runs.stats().subscriptions > 0; i++) await sleep(20);
}

// Warm-up: JIT, caches.
await runTo(200);
done = 0;
const base = await heap();
if (snap) console.error("snapshot", writeHeapSnapshot(`/tmp/probe-${mode}-before.heapsnapshot`));
console.log(`mode=${mode} events/run=${events} batch=${batch} base=${(base / 1e6).toFixed(1)}MB`);
for (const stage of stages) {
  await runTo(stage);
  const h = await heap();
  const d = h - base;
  console.log(
    `  N=${stage}: +${(d / 1e6).toFixed(2)} MB  ${(d / stage).toFixed(0)} B/conn  subs=${api.server.runs.stats().subscriptions} handles=${process.getActiveResourcesInfo().length}`,
  );
}
if (snap) console.error("snapshot", writeHeapSnapshot(`/tmp/probe-${mode}-after.heapsnapshot`));
// Retention that is only waiting on a timer shows as a drop here.
for (const wait of (process.env["SETTLE"] ?? "").split(",").filter(Boolean).map(Number)) {
  await sleep(wait);
  const d = (await heap()) - base;
  console.log(`  +${wait} ms idle: +${(d / 1e6).toFixed(2)} MB  handles=${process.getActiveResourcesInfo().length}`);
}
if (snap) console.error("snapshot", writeHeapSnapshot(`/tmp/probe-${mode}-settled.heapsnapshot`));
stopLive = true;
await liveProducer;
await api.close();
