import { Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { collectGarbage, heapUsedAfterGc } from "@streamchat/core/test-support";
import { eventually, type ApiClient } from "../test-support/harness.js";
import {
  activeHandles,
  activeResources,
  connectionCounts,
  connectionObjects,
  connectionObjectsSettled,
  connectionsClosed,
  type ConnectionCounts,
  eventsPath,
  rawSubscribe,
  readAll,
  smallObjectHeapAfterGc,
  storeHandles,
  startApi,
  type ReliabilityApi,
} from "../test-support/reliability.js";

/**
 * Cancelled runs leave nothing behind: no live runs, listeners or subscriptions in the RunManager, no open
 * model responses in the simulator, no extra handles (sockets, timers) in the process, and the heap after a
 * full GC returns near its baseline; SSE connections leave no heap per connection. (The storm's leak check
 * lives with the storm in fault-matrix.test.ts.)
 */

const cancelledRuns = 500;
const concurrency = 8;

let api: ReliabilityApi;
let client: ApiClient;

beforeAll(async () => {
  // Node's 5 s keep-alive on the simulator (not its 65 s default), so idle API ↔ simulator sockets expire
  // within the handle check's wait below.
  api = await startApi({ env: { MAX_RUNS_PER_USER: String(concurrency * 2) }, sim: { keepAliveTimeoutMs: 5_000 } });
  client = api.client();
});
afterAll(() => api?.close());

/** Starts a run on a model that stalls after three tokens, cancels it, waits for its end. */
async function cancelOne(i: number): Promise<string> {
  const { runId } = await client.chat.send.mutate({ message: `cancel number ${i}`, model: "sim-stall" });
  // Half of them are cancelled at once, half once the model has answered something.
  if (i % 2 === 1) await eventually(async () => (await api.server.store.readEvents(runId)).some((e) => e.event.type === "token"), "a token");
  expect(await client.chat.cancel.mutate({ runId })).toEqual({ cancelled: true });
  await api.server.runs.whenEnded(runId);
  return runId;
}

/**
 * Closes the API's idle keep-alive connections (both ends of them are in this process). How many the test's client
 * keeps open (Fastify's ~70 s keep-alive) depends on how many requests overlapped, i.e. on the machine's load, not on
 * the server; a connection that is not idle (a leak) stays and is counted.
 */
function closeIdleClientConnections(): void {
  api.server.app.server.closeIdleConnections();
}

/** The process's open TCP sockets by the ports they connect (what a failed handle check leaves open). */
function describeSockets(): string {
  const handles = (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles();
  return JSON.stringify(
    handles
      .filter((h): h is Socket => h instanceof Socket)
      .map((s) => `${s.localPort ?? "?"}->${s.remotePort ?? "?"}${s.destroyed ? " destroyed" : ""}`),
  );
}

function quiet() {
  const s = api.server.runs.stats();
  return s.activeRuns === 0 && s.listeners === 0 && s.subscriptions === 0 && api.sim.activeResponses() === 0;
}

describe("leaks", () => {
  it(`${cancelledRuns} cancelled runs leave no runs, listeners, model sockets, handles or heap behind`, { timeout: 120_000 }, async () => {
    // Warm-up: JIT, module caches, connection pools, prepared statements; at the measured concurrency, so that the
    // client's keep-alive connections to the API (kept ~70 s, Fastify's keep-alive hint) are in the baseline: on a
    // slower store more requests overlap, and the client keeps more of them open.
    let warm = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (warm < concurrency * 2) await cancelOne(-++warm);
      }),
    );
    await eventually(quiet, "the warm-up to settle");
    closeIdleClientConnections();
    const http = api.server.app.server;
    await eventually(
      () => new Promise<boolean>((resolve) => http.getConnections((error, count) => resolve(!error && count === 0))),
      "the warm-up's idle connections to close",
    );
    const heapBefore = heapUsedAfterGc();
    const handlesBefore = activeHandles(api.server.store);
    const startedBefore = api.server.runs.stats().startedTotal;
    const simRequestsBefore = api.sim.chatRequests().length;

    let next = 0;
    const runIds: string[] = [];
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < cancelledRuns) runIds.push(await cancelOne(next++));
      }),
    );
    expect(runIds).toHaveLength(cancelledRuns);
    expect(api.server.runs.stats().startedTotal - startedBefore).toBe(cancelledRuns);

    // Every run ended as cancelled, with exactly one done, in the log; a sample is also read over SSE.
    for (const runId of runIds) {
      const events = await api.server.store.readEvents(runId);
      expect(events.filter((e) => e.event.type === "done").map((e) => e.event)).toEqual([
        expect.objectContaining({ reason: "cancelled" }),
      ]);
      expect(events.at(-1)?.event.type).toBe("done");
    }
    for (const runId of runIds.filter((_, i) => i % 50 === 0)) {
      const { received, how } = await readAll(api.url, eventsPath(runId));
      expect(how).toBe("return");
      expect(received.map((r) => ({ seq: Number(r.id), event: r.event }))).toEqual(await api.server.store.readEvents(runId));
    }

    // Every model request the runs made was closed by the API (none left streaming or stalled).
    const modelRequests = api.sim.chatRequests().slice(simRequestsBefore);
    await Promise.all(modelRequests.map((r) => r.finished));
    expect(modelRequests.every((r) => r.clientClosedEarly)).toBe(true);

    await eventually(quiet, "runs, listeners and model responses to drain");
    expect(api.server.runs.stats()).toMatchObject({ activeRuns: 0, listeners: 0, subscriptions: 0 });
    // Idle keep-alive sockets (client ↔ API: closed here, else the client keeps them for the ~70 s Fastify hints;
    // API ↔ simulator: expire within seconds); nothing else may stay. A generous deadline; a leak never gets there and
    // still fails, naming what is left open.
    await eventually(() => {
      closeIdleClientConnections();
      return activeHandles(api.server.store) <= handlesBefore + 4;
    }, "handles to close", 45_000).catch((error: unknown) => {
      throw new Error(
        `${(error as Error).message}: ${JSON.stringify(activeResources())}, store ${JSON.stringify(storeHandles(api.server.store))}, ` +
          `sockets ${describeSockets()}, ${handlesBefore} handles before`,
      );
    });
    collectGarbage();
    expect(heapUsedAfterGc() - heapBefore).toBeLessThan(16 * 1024 * 1024);
  });
});

describe("SSE connection leaks", () => {
  /** One subscriber: reads the finished run to its end, or (every other one) hangs up after the first event. */
  async function connectOnce(runId: string, hangUp: boolean): Promise<void> {
    let first!: () => void;
    const gotOne = new Promise<void>((resolve) => (first = resolve));
    const sub = rawSubscribe(api.url, eventsPath(runId), { onData: () => first() });
    if (hangUp) {
      await Promise.race([gotOne, sub.ended]);
      sub.destroy();
      await sub.ended;
    } else {
      expect(await sub.ended).toBe("return");
    }
  }

  async function connections(runId: string, n: number, baseline: ConnectionCounts): Promise<void> {
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < n) await connectOnce(runId, next++ % 2 === 1);
      }),
    );
    await eventually(() => api.server.runs.stats().subscriptions === 0, "the subscriptions to end");
    // A hung-up connection may still be closing on the server's side: measure only once it is gone.
    await connectionsClosed(api.server.app.server, baseline, undefined, api.server.store);
  }

  // Compares two connection counts instead of one absolute bound: per connection retention, not warm-up, is
  // what grows without end. The reconnect storm once seemed to keep ~3 KB per connection; that was tRPC's
  // WeakMap table and compiled code, which this measure leaves out (smallObjectHeapAfterGc).
  it("retained heap per SSE connection stays near zero and does not grow with the number of connections", { timeout: 120_000 }, async () => {
    const control = api.sim.control({ lastUserIncludes: "[leak:sse]" });
    const { runId } = await client.chat.send.mutate({ message: "[leak:sse] go" });
    await control.connected;
    for (let i = 0; i < 3; i++) await control.push({ content: `t${i} ` });
    await control.push({ done: true });
    await api.server.runs.whenEnded(runId);

    const perStep = 600;
    const baseline = await connectionCounts(api.server.app.server, api.server.store);
    await connections(runId, 200, baseline); // warm-up: JIT, HTTP parser pool, tRPC's WeakMap table
    const heap0 = await smallObjectHeapAfterGc();
    const objects0 = connectionObjects();
    await connections(runId, perStep, baseline);
    const heap1 = await smallObjectHeapAfterGc();
    const objects1 = await connectionObjectsSettled(objects0, concurrency + 4);
    await connections(runId, perStep, baseline);
    const heap2 = await smallObjectHeapAfterGc();
    const objects2 = await connectionObjectsSettled(objects1, 4);

    // Not one request, response, socket, signal or stream per connection stays reachable: none more after the second
    // step than after the first (a leak of one per connection adds 600), and none beyond one per concurrent
    // connection since before both. (CI, on a loaded machine, twice kept 8 AbortSignals more after the steps than
    // before them — this test's concurrency — while every other class was back; not seen on a quieter machine.)
    for (const [name, before] of Object.entries(objects1)) expect(objects2[name], name).toBeLessThanOrEqual(before + 4);
    for (const [name, before] of Object.entries(objects0)) expect(objects2[name], name).toBeLessThanOrEqual(before + concurrency + 4);
    // A leak of k bytes per connection adds k per connection in each step. Measured: a few hundred bytes up
    // or down (leftovers of the warm-up collected late); an injected 1 KB per subscription fails the second
    // step, 3 KB fails both.
    expect((heap2 - heap1) / perStep).toBeLessThan(1024);
    expect((heap2 - heap0) / (2 * perStep)).toBeLessThan(1024);
    expect(api.server.runs.stats()).toMatchObject({ activeRuns: 0, listeners: 0, subscriptions: 0 });
  });
});
