import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { defineTool, type ChatEvent, type ErrorCode } from "@streamchat/core";
import { heapUsedAfterGc } from "@streamchat/core/test-support";
import { startSimulator, type Scenario, type SimChatRequest, type Simulator } from "@streamchat/ollama-sim";
import {
  collectRun,
  eventually,
  makeClient,
  recordEvents,
  tokenText,
  types,
  type ApiClient,
  type Received,
} from "../test-support/harness.js";
import {
  closedPort,
  activeHandles,
  connectionCounts,
  connectionObjects,
  connectionObjectsSettled,
  connectionsClosed,
  eventsPath,
  prng,
  rawSubscribe,
  readAll,
  sleep,
  smallObjectHeapAfterGc,
  spawnApi,
  startApi,
  tempDir,
  type ChildApi,
  type ReliabilityApi,
} from "../test-support/reliability.js";
import { freshTestData } from "../test-support/backend.js";
import { floodAnswer } from "../test-support/flood-answer.js";

/**
 * The fault matrix: one test per failure, through the whole API over real HTTP (tRPC client or raw SSE),
 * with the simulator's fault scenarios or real process kills. Every row checks the same invariants:
 * the typed error code, exactly one `done` (last), the stored log equal to what the subscriber received
 * (nothing lost, nothing duplicated, same ids), and that the server answers the next request.
 */

type DoneReason = Extract<ChatEvent, { type: "done" }>["reason"];

/** The row's outcome as the subscriber saw it, checked against the store. */
async function expectClosedRun(
  api: { server: ReliabilityApi["server"] },
  runId: string,
  received: Received[],
  expected: { code?: ErrorCode; reason: DoneReason },
) {
  const kinds = types(received);
  expect(kinds.filter((k) => k === "done")).toHaveLength(1);
  expect(kinds.at(-1)).toBe("done");
  expect(received.at(-1)?.event).toMatchObject({ type: "done", reason: expected.reason });
  const errors = received.filter((r) => r.event.type === "error");
  if (expected.code) {
    expect(errors.map((r) => r.event)).toEqual([expect.objectContaining({ code: expected.code })]);
    expect(kinds.at(-2)).toBe("error");
  } else {
    expect(errors).toEqual([]);
  }
  expect(received.map((r) => r.id)).toEqual(received.map((_, i) => String(i + 1)));
  const stored = (await api.server.store.readEvents(runId)).map(({ seq, event }) => ({ id: String(seq), event }));
  expect(stored).toEqual(received);
}

/** The stored conversation holds exactly the streamed answer text. */
async function expectStoredAnswer(client: ApiClient, conversationId: string, runId: string, received: Received[], reason: DoneReason) {
  const conversation = await client.conversations.get.query({ conversationId });
  const answer = conversation.messages
    .filter((m) => m.role === "assistant" && m.runId === runId)
    .map((m) => m.content)
    .join("");
  expect(answer).toBe(tokenText(received));
  expect(conversation.runs.find((r) => r.id === runId)).toMatchObject({ status: "done", reason });
  expect(conversation.activeRunId).toBeNull();
}

/** The server still answers a normal question end to end. */
async function expectServes(client: ApiClient) {
  const { runId } = await client.chat.send.mutate({ message: "hello after the fault" });
  const received = await collectRun(client, runId);
  expect(received.at(-1)?.event).toMatchObject({ type: "done", reason: "stop" });
  expect(tokenText(received).length).toBeGreaterThan(0);
}

const lastRole = (req: SimChatRequest) => (req.messages.at(-1) as { role?: string } | undefined)?.role;

/** Asks for `tool` with `args` in the first round; answers "after tool" once a tool result is there. */
function toolScenario(tag: string, tool: string, args: Record<string, unknown>): Scenario {
  return {
    name: tag,
    match: { lastUserIncludes: tag },
    respond: (req) =>
      lastRole(req) === "tool"
        ? [{ content: "after" }, { content: " tool" }, { done: true }]
        : [{ toolCalls: [{ name: tool, arguments: args }] }, { done: true }],
  };
}

let hangSignal: AbortSignal | undefined;
const throwingTool = defineTool({
  name: "explode",
  description: "always throws (test)",
  input: z.object({}),
  execute: () => {
    throw new Error("kaboom at /work/secret/path.ts");
  },
});
const hangingTool = defineTool({
  name: "hang_forever",
  description: "never settles and ignores its signal (test)",
  input: z.object({}),
  timeoutMs: 300,
  execute: (_args, { signal }) => {
    hangSignal = signal;
    return new Promise<never>(() => {});
  },
});

let api: ReliabilityApi;
let client: ApiClient;

beforeAll(async () => {
  api = await startApi({ extraTools: [throwingTool, hangingTool], env: { MAX_RUNS_PER_USER: "50" } });
  client = api.client();
  api.sim.addScenario(toolScenario("[rel:tool-throws]", "explode", {}));
  api.sim.addScenario(toolScenario("[rel:tool-hangs]", "hang_forever", {}));
  // The server refuses what /api/show claims the model supports (a stale or wrong capability list).
  api.sim.addScenario({
    name: "refuse-tools",
    match: { lastUserIncludes: "[rel:refuse-tools]" },
    reject: (req) => (req.tools?.length ? { status: 400, error: `"${req.model}" does not support tools` } : undefined),
    chunks: [{ content: "no tools here" }, { done: true }],
  });
  api.sim.addScenario({
    name: "refuse-think",
    match: { lastUserIncludes: "[rel:refuse-think]" },
    reject: (req) => (req.think === true ? { status: 400, error: `"${req.model}" does not support thinking` } : undefined),
    chunks: [{ content: "no thinking here" }, { done: true }],
  });
});
afterAll(() => api?.close());

describe("fault matrix", () => {
  it("Ollama not running: provider_unavailable, and the server keeps serving", async () => {
    const port = await closedPort();
    const down = await startApi({ env: { OLLAMA_HOST: `http://127.0.0.1:${port}` } });
    try {
      const downClient = down.client();
      const { conversationId, runId } = await downClient.chat.send.mutate({ message: "anyone there?" });
      const received = await collectRun(downClient, runId);
      expect(types(received)).toEqual(["run-start", "status", "error", "done"]);
      await expectClosedRun(down, runId, received, { code: "provider_unavailable", reason: "error" });
      expect(received[2]?.event).toMatchObject({ retryable: true });
      await expectStoredAnswer(downClient, conversationId, runId, received, "error");
      const health = await downClient.health.query();
      expect(health).toMatchObject({ providerReachable: false, store: { ok: true } });
      // A second run fails the same way instead of hanging: the server is fine, the model server is not.
      const again = await downClient.chat.send.mutate({ conversationId, message: "still there?" });
      await expectClosedRun(down, again.runId, await collectRun(downClient, again.runId), { code: "provider_unavailable", reason: "error" });
    } finally {
      await down.close();
    }
  });

  it("model not found (404): model_not_found", async () => {
    const { conversationId, runId } = await client.chat.send.mutate({ message: "hi", model: "sim-not-found" });
    const received = await collectRun(client, runId);
    expect(types(received)).toEqual(["run-start", "status", "error", "done"]);
    await expectClosedRun(api, runId, received, { code: "model_not_found", reason: "error" });
    await expectStoredAnswer(client, conversationId, runId, received, "error");
    await expectServes(client);
  });

  it("model without the tools capability: answers, the request carries no tools", async () => {
    const before = api.sim.chatRequests().length;
    const { conversationId, runId } = await client.chat.send.mutate({ message: "hi", model: "sim-no-tools" });
    const received = await collectRun(client, runId);
    await expectClosedRun(api, runId, received, { reason: "stop" });
    expect(tokenText(received).length).toBeGreaterThan(0);
    await expectStoredAnswer(client, conversationId, runId, received, "stop");
    expect(api.sim.chatRequests().slice(before).map((r) => (r.body as Record<string, unknown>)["tools"])).toEqual([undefined]);
  });

  it("tools refused by the server (400) although /api/show lists them: model_unsupported", async () => {
    const { conversationId, runId } = await client.chat.send.mutate({ message: "hi [rel:refuse-tools]", model: "llama3.2" });
    const received = await collectRun(client, runId);
    expect(types(received)).toEqual(["run-start", "status", "error", "done"]);
    await expectClosedRun(api, runId, received, { code: "model_unsupported", reason: "error" });
    await expectStoredAnswer(client, conversationId, runId, received, "error");
    await expectServes(client);
  });

  it("thinking asked of a model without the capability: model_unsupported before any model request", async () => {
    const before = api.sim.chatRequests().length;
    const { conversationId, runId } = await client.chat.send.mutate({ message: "hi", model: "sim-no-thinking", think: true });
    const received = await collectRun(client, runId);
    expect(types(received)).toEqual(["run-start", "status", "error", "done"]);
    await expectClosedRun(api, runId, received, { code: "model_unsupported", reason: "error" });
    await expectStoredAnswer(client, conversationId, runId, received, "error");
    expect(api.sim.chatRequests()).toHaveLength(before);
    // Without think the same model answers: the failure was the capability, not the model.
    const plain = await client.chat.send.mutate({ conversationId, message: "hi again", model: "sim-no-thinking" });
    await expectClosedRun(api, plain.runId, await collectRun(client, plain.runId), { reason: "stop" });
  });

  it("thinking refused by the server (400) although /api/show lists it: model_unsupported", async () => {
    const before = api.sim.chatRequests().length;
    const { conversationId, runId } = await client.chat.send.mutate({ message: "hi [rel:refuse-think]", model: "qwen3", think: true });
    const received = await collectRun(client, runId);
    expect(types(received)).toEqual(["run-start", "status", "error", "done"]);
    await expectClosedRun(api, runId, received, { code: "model_unsupported", reason: "error" });
    await expectStoredAnswer(client, conversationId, runId, received, "error");
    const request = api.sim.chatRequests()[before]?.body as Record<string, unknown>;
    expect(request["think"]).toBe(true);
    const plain = await client.chat.send.mutate({ conversationId, message: "hi again [rel:refuse-think]", model: "qwen3" });
    await expectClosedRun(api, plain.runId, await collectRun(client, plain.runId), { reason: "stop" });
  });

  it('{"error"} line mid-stream: provider_error after the tokens before it', async () => {
    const { conversationId, runId } = await client.chat.send.mutate({ message: "hi", model: "sim-error-mid-stream" });
    const received = await collectRun(client, runId);
    expect(types(received)).toContain("token");
    await expectClosedRun(api, runId, received, { code: "provider_error", reason: "error" });
    await expectStoredAnswer(client, conversationId, runId, received, "error");
    await expectServes(client);
  });

  it("stream cut without done: stream_truncated, the partial answer is kept", async () => {
    const { conversationId, runId } = await client.chat.send.mutate({ message: "hi", model: "sim-truncated" });
    const received = await collectRun(client, runId);
    expect(tokenText(received).length).toBeGreaterThan(0);
    await expectClosedRun(api, runId, received, { code: "stream_truncated", reason: "error" });
    await expectStoredAnswer(client, conversationId, runId, received, "error");
    await expectServes(client);
  });

  it("model stalls past CHAT_IDLE_TIMEOUT_MS: provider_error and the model request is aborted", async () => {
    // The idle timeout also bounds the wait for the model's first chunk: at 400 ms, a stall of the loaded test process
    // (which runs the simulator and the API) before the API read that chunk ended the run with no token at all.
    const stalled = await startApi({ env: { CHAT_IDLE_TIMEOUT_MS: "2500" } });
    try {
      const c = stalled.client();
      const { conversationId, runId } = await c.chat.send.mutate({ message: "hi", model: "sim-stall" });
      const received = await collectRun(c, runId);
      expect(tokenText(received).length).toBeGreaterThan(0);
      await expectClosedRun(stalled, runId, received, { code: "provider_error", reason: "error" });
      expect(received.at(-2)?.event).toMatchObject({ message: expect.stringContaining("stalled") });
      await expectStoredAnswer(c, conversationId, runId, received, "error");
      // The simulator saw the client close the stalled response.
      const request = stalled.sim.chatRequests().find((r) => r.scenario === "sim-stall");
      await request?.finished;
      expect(request?.clientClosedEarly).toBe(true);
      await eventually(() => stalled.sim.activeResponses() === 0, "the stalled response to close");
      await expectServes(c);
    } finally {
      await stalled.close();
    }
  });

  it("tool throws: tool-result{tool_failed} without internals, the run answers on", async () => {
    const { conversationId, runId } = await client.chat.send.mutate({ message: "[rel:tool-throws] go" });
    const received = await collectRun(client, runId);
    const result = received.find((r) => r.event.type === "tool-result")?.event;
    expect(result).toMatchObject({ name: "explode", ok: false, error: { code: "tool_failed" } });
    expect(JSON.stringify(result)).not.toMatch(/\n\s+at |node_modules/);
    await expectClosedRun(api, runId, received, { reason: "stop" });
    expect(tokenText(received)).toBe("after tool");
    await expectStoredAnswer(client, conversationId, runId, received, "stop");
    await expectServes(client);
  });

  it("tool hangs past its timeout: tool-result{tool_timeout}, its signal aborted, the run answers on", async () => {
    hangSignal = undefined;
    const { conversationId, runId } = await client.chat.send.mutate({ message: "[rel:tool-hangs] go" });
    const received = await collectRun(client, runId);
    expect(received.find((r) => r.event.type === "tool-result")?.event).toMatchObject({
      name: "hang_forever",
      ok: false,
      error: { code: "tool_timeout" },
    });
    expect((hangSignal as AbortSignal | undefined)?.aborted).toBe(true);
    await expectClosedRun(api, runId, received, { reason: "stop" });
    expect(tokenText(received)).toBe("after tool");
    await expectStoredAnswer(client, conversationId, runId, received, "stop");
    await expectServes(client);
  });

  it("client disconnects mid-run: the run completes and is stored; a late subscriber gets all of it", async () => {
    const control = api.sim.control({ lastUserIncludes: "[rel:disconnect]" });
    const { conversationId, runId } = await client.chat.send.mutate({ message: "[rel:disconnect] go" });
    await control.connected;
    await control.push({ content: "one" });
    const sub = rawSubscribe(api.url, eventsPath(runId));
    await eventually(() => sub.received.some((r) => r.event.type === "token"), "the first token");
    sub.destroy();
    await eventually(() => api.server.runs.stats().listeners === 0, "the listener to go");
    await control.push({ content: " two" });
    await control.push({ done: true });
    await api.server.runs.whenEnded(runId);
    const received = await collectRun(client, runId);
    expect(tokenText(received)).toBe("one two");
    expect(received.slice(0, sub.received.length)).toEqual(sub.received);
    await expectClosedRun(api, runId, received, { reason: "stop" });
    await expectStoredAnswer(client, conversationId, runId, received, "stop");
    await expectServes(client);
  });

  it("chat.cancel: the model connection closes, done{cancelled}, the partial answer is kept", async () => {
    const control = api.sim.control({ lastUserIncludes: "[rel:cancel]" });
    const { conversationId, runId } = await client.chat.send.mutate({ message: "[rel:cancel] go" });
    const request = await control.connected;
    await control.push({ content: "partial" });
    const rec = recordEvents(client, runId);
    await rec.waitFor((e) => e.type === "token");
    expect(await client.chat.cancel.mutate({ runId })).toEqual({ cancelled: true });
    await control.closedByClient;
    expect(request.clientClosedEarly).toBe(true);
    const received = await rec.completed;
    expect(types(received)).toEqual(["run-start", "status", "status", "token", "done"]);
    await expectClosedRun(api, runId, received, { reason: "cancelled" });
    await expectStoredAnswer(client, conversationId, runId, received, "cancelled");
    await expectServes(client);
  });

  // 32 MB through the API and the log: seconds on an idle box, but past vitest's default 20 s on a loaded one.
  it("slow client that never reads: the run completes and is stored, others finish, memory stays bounded", { timeout: 120_000 }, async () => {
    const slow = await startApi({ sim: { tokenDelayMs: 0 }, env: { MAX_RUNS_PER_USER: "10" } });
    const chunks = 4000; // ~32 MB of answer text: far more than socket buffers hold
    const flood = floodAnswer("[rel:flood]", chunks);
    slow.sim.addScenario(flood.scenario);
    try {
      const c = slow.client();
      const heapBefore = heapUsedAfterGc();
      const rssBefore = process.memoryUsage().rss;
      const { runId } = await c.chat.send.mutate({ message: "[rel:flood] go" });
      const stuck = rawSubscribe(slow.url, eventsPath(runId));
      const res = await stuck.response;
      res.pause(); // never reads again: the kernel buffers fill, then the server must hold back
      // Another stream on the same server is not held up by the stuck one.
      const other = await c.chat.send.mutate({ message: "hello meanwhile" });
      expect((await collectRun(c, other.runId)).at(-1)?.event).toMatchObject({ type: "done", reason: "stop" });
      await slow.server.runs.whenEnded(runId);
      // The stuck subscriber is still connected and has not read the run; what it costs stays bounded
      // (measured before this test reads the log itself).
      expect(slow.server.runs.stats().subscriptions).toBe(1);
      expect(stuck.received.length).toBeLessThan(chunks);
      const heapGrowth = heapUsedAfterGc() - heapBefore;
      const rssGrowth = process.memoryUsage().rss - rssBefore;
      expect(heapGrowth).toBeLessThan(16 * 1024 * 1024);
      expect(rssGrowth).toBeLessThan(512 * 1024 * 1024);
      const stored = await slow.server.store.readEvents(runId);
      expect(stored.at(-1)?.event).toMatchObject({ type: "done", reason: "stop" });
      // The whole answer, however the reads cut it into token events.
      const text = stored.map((e) => (e.event.type === "token" ? e.event.text : "")).join("");
      expect(text).toBe(flood.text());
      // Once it reads, it gets the whole run in order, from the log.
      res.resume();
      expect(await stuck.ended).toBe("return");
      expect(stuck.received.map((r) => Number(r.id))).toEqual(stored.map((e) => e.seq));
      expect(stuck.received.map((r) => r.event)).toEqual(stored.map((e) => e.event));
      await expectServes(c);
    } finally {
      await slow.close();
    }
  });

  it("1,000-subscriber reconnect storm on one run: everyone who stays gets the full ordered stream", { timeout: 240_000 }, async () => {
    const storm = await startApi();
    const subscribers = 1000;
    // ~20 s in the issue, scaled to 10 s for CI time (docs/operations.md); STORM_MS=20000 runs the full one.
    const stormMs = Number(process.env["STORM_MS"] ?? 10_000);
    const random = prng(20261129);
    try {
      const c = storm.client();
      const control = storm.sim.control({ lastUserIncludes: "[rel:storm]" });
      const { runId } = await c.chat.send.mutate({ message: "[rel:storm] go" });
      await control.connected;
      const heapBaseline = await smallObjectHeapAfterGc();
      const connectionsBefore = await connectionCounts(storm.server.app.server, storm.server.store);
      const objectsBefore = connectionObjects();
      const resourcesBefore = activeHandles(storm.server.store);
      let stop = false;
      let pushed = 0;
      const producer = (async () => {
        // Tokens for the storm's duration, then done: the run outlives every random disconnect.
        const until = Date.now() + stormMs;
        while (Date.now() < until) {
          await control.push({ content: `t${++pushed} ` });
          await sleep(40);
        }
        await control.push({ done: true });
      })();
      let connects = 0;
      let drops = 0;
      // Subscribers keep a running digest of what they got (1,000 copies of the parsed run would dwarf the
      // server's own memory) and check the ids as they come: each must be the previous one + 1.
      const subscriber = async () => {
        const digest = createHash("sha256");
        let last = 0;
        let gaps = 0;
        let sawDone = false;
        for (let attempt = 0; attempt < 300; attempt++) {
          const finalRound = stop;
          const sub = rawSubscribe(storm.url, eventsPath(runId), {
            lastEventId: last > 0 ? String(last) : undefined,
            onData: (id, data) => {
              if (Number(id) !== last + 1) gaps++;
              last = Number(id);
              digest.update(`${id}\n${data}\n`);
              if (data.startsWith('{"type":"done"')) sawDone = true;
            },
          });
          connects++;
          if (finalRound) {
            await sub.ended; // stays to the end
          } else {
            const how = await Promise.race([sub.ended, sleep(800 + random() * 2700).then(() => "timeout" as const)]);
            if (how === "timeout") {
              sub.destroy();
              drops++;
            }
          }
          if (sawDone) return { digest: digest.digest("hex"), gaps, last };
          if (!finalRound) await sleep(random() * 400);
        }
        throw new Error("a subscriber never finished");
      };
      const stormEnd = sleep(stormMs).then(() => (stop = true));
      const results = await Promise.all(Array.from({ length: subscribers }, (_, i) => sleep((i % 100) * 10).then(subscriber)));
      await stormEnd;
      await producer;
      await storm.server.runs.whenEnded(runId);
      const stored = await storm.server.store.readEvents(runId);
      expect(stored.filter((e) => e.event.type === "token")).toHaveLength(pushed);
      const expected = createHash("sha256");
      for (const { seq, event } of stored) expected.update(`${seq}\n${JSON.stringify(event)}\n`);
      const want = { digest: expected.digest("hex"), gaps: 0, last: stored.length };
      // It was a storm: on average more than 1.5 connections per subscriber, and hundreds of mid-stream drops.
      expect(connects).toBeGreaterThan(subscribers * 1.5);
      expect(drops).toBeGreaterThan(subscribers / 2);
      expect(results.filter((r) => r.digest !== want.digest || r.gaps !== 0 || r.last !== want.last)).toEqual([]);
      expect(results).toHaveLength(subscribers);

      // Leaks: no listeners, subscriptions, runs, model responses, sockets, requests or heap per connection left.
      await eventually(() => {
        const s = storm.server.runs.stats();
        return s.activeRuns === 0 && s.listeners === 0 && s.subscriptions === 0;
      }, "the storm's subscriptions to drain", 30_000);
      expect(storm.sim.activeResponses()).toBe(0);
      // The storm's last connections may still be closing when their subscribers are done: count objects
      // only once the server has no more connections than before and no more sockets are open.
      await connectionsClosed(storm.server.app.server, connectionsBefore, undefined, storm.server.store);
      await eventually(() => activeHandles(storm.server.store) <= resourcesBefore + 10, "handles to close", 15_000);
      // Exact counts, whatever the GC timing: every connection's request, response, socket, fetch Request,
      // abort signal and stream (server and client side) was collected.
      const objectsAfter = await connectionObjectsSettled(objectsBefore, 10);
      for (const [name, before] of Object.entries(objectsBefore)) expect(objectsAfter[name], name).toBeLessThanOrEqual(before + 10);
      // Bytes: the storm made thousands of connections; a leak of even 2 KB each shows. (Not the whole heap:
      // code and tRPC's WeakMap table grow to a high-water mark that varies by 8-16 MB with GC timing; see
      // smallObjectHeapAfterGc. What stays here is warm-up: parser pools, JIT feedback, ~2 MB.)
      const retainedPerConnection = ((await smallObjectHeapAfterGc()) - heapBaseline) / connects;
      expect(retainedPerConnection).toBeLessThan(2048);
      await expectServes(c);
    } finally {
      await storm.close();
    }
  });
});

describe("fault matrix: API process killed", () => {
  let sim: Simulator;
  let dir: string;
  const children: ChildApi[] = [];
  beforeAll(async () => {
    sim = await startSimulator({ tokenDelayMs: 1 });
    dir = tempDir();
  });
  afterAll(async () => {
    for (const child of children) await child.kill("SIGKILL");
    await sim?.close();
  });

  // Two child processes started one after the other (seconds each on a loaded box): the suite's 20 s default is too little.
  it("SIGKILL mid-run, restart: resume yields the transcript + error{interrupted} + done{interrupted}", { timeout: 120_000 }, async () => {
    const data = await freshTestData(dir);
    const env = {
      CHAT_PROVIDER: "ollama",
      OLLAMA_HOST: sim.url,
      CHAT_MODEL: "demo",
      LOG_LEVEL: "info",
      ...data.env,
    };
    const first = await spawnApi(env);
    children.push(first);
    const control = sim.control({ lastUserIncludes: "[rel:kill]" });
    const firstClient = makeClient(first.url);
    const { conversationId, runId } = await firstClient.chat.send.mutate({ message: "[rel:kill] go" });
    await control.connected;
    await control.push({ content: "Part" });
    await control.push({ content: " one" });
    const sub = rawSubscribe(first.url, eventsPath(runId));
    await eventually(() => tokenText(sub.received) === "Part one", "the tokens to arrive");
    // Events are committed in batches (≤ 25 ms); wait until what the subscriber saw is committed.
    const observer = await data.openStore();
    try {
      await eventually(async () => (await observer.readEvents(runId)).length === sub.received.length, "the events to be committed");
    } finally {
      await observer.close();
    }
    await first.kill("SIGKILL");
    expect(await sub.ended).toBe("closed");
    await control.closedByClient; // the dead process's model connection closed

    const second = await spawnApi(env);
    children.push(second);
    const secondClient = makeClient(second.url);
    const lastSeen = sub.received.at(-1)?.id;
    const resumed = await readAll(second.url, eventsPath(runId), lastSeen ? { lastEventId: lastSeen } : {});
    expect(resumed.how).toBe("return");
    expect(resumed.received.map((r) => r.event.type)).toEqual(["error", "done"]);
    expect(resumed.received[0]?.event).toMatchObject({ code: "interrupted", retryable: true });
    expect(resumed.received[1]?.event).toMatchObject({ reason: "interrupted" });
    const received = [...sub.received, ...resumed.received];
    const replay = await readAll(second.url, eventsPath(runId));
    expect(replay.received).toEqual(received);
    // Ids ascend; the closing events skip past seqs a crash may have lost (none here: all was committed).
    const ids = received.map((r) => Number(r.id));
    expect(ids.slice(0, -2)).toEqual(ids.slice(0, -2).map((_, i) => i + 1));
    expect(ids.at(-2)).toBeGreaterThan(ids.at(-3) ?? 0);
    expect(ids.at(-1)).toBe((ids.at(-2) ?? 0) + 1);
    expect(received.filter((r) => r.event.type === "done")).toHaveLength(1);
    await expectStoredAnswer(secondClient, conversationId, runId, received, "interrupted");
    await expectServes(secondClient);
    await second.kill("SIGTERM");
  });
});
