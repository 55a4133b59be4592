import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  eventually,
  normalised,
  observe,
  openRawStream,
  rawGet,
  startPair,
  type Observed,
  type Producer,
  type TestServer,
} from "../test-support/sse-conformance.js";

/**
 * The same event sequences through tRPC's own SSE producer (its Fastify plugin) and through the lean writer
 * (subscription-route.ts in front of the same plugin), on the same test router: the official client must see
 * the same events, ids, errors, reconnects and completion, and the bytes on the wire must be the same but for
 * the Date header and the number of pings.
 */

const producers: Producer[] = ["trpc", "lean"];

// Pings every 40 ms and a 10 s client inactivity timeout: a quiet stream is pinged many times and never reconnects,
// and a dropped one is resumed by the EventSource itself (3 s later, with Last-Event-ID) before the link's timeout.
let pinged: Record<Producer, TestServer>;
// Pings every 40 ms and a 2.5 s inactivity timeout: only the pings keep a quiet stream from being resubscribed. (The
// margin is wide on purpose: a 600 ms timeout failed once in CI when the loaded box stalled the test process that long.)
let pingedTight: Record<Producer, TestServer>;
// No pings and a 2.5 s inactivity timeout: the client gives up on a quiet stream and resubscribes with lastEventId. (The
// timeout also runs while the client resubscribes: at 400 ms, a stall of the loaded test process during that reconnect
// timed it out a second time, with one more resubscription, on one producer and not the other.)
let unpinged: Record<Producer, TestServer>;
// maxDurationMs: the server ends every stream after 300 ms; the client resumes.
let capped: Record<Producer, TestServer>;

beforeAll(async () => {
  [pinged, pingedTight, unpinged, capped] = await Promise.all([
    startPair({ ping: { enabled: true, intervalMs: 40 }, client: { reconnectAfterInactivityMs: 10_000 } }),
    startPair({ ping: { enabled: true, intervalMs: 40 }, client: { reconnectAfterInactivityMs: 2500 } }),
    startPair({ ping: { enabled: false }, client: { reconnectAfterInactivityMs: 2500 } }),
    startPair({ maxDurationMs: 300 }),
  ]);
});
afterAll(async () => {
  await Promise.all([pinged, pingedTight, unpinged, capped].flatMap((pair) => (pair ? producers.map((p) => pair[p].app.close()) : [])));
});

const url = (server: TestServer, path: string, input?: unknown, extra = "") =>
  `${server.url}/trpc/${path}${input === undefined ? "?" : `?input=${encodeURIComponent(JSON.stringify(input))}`}${extra}`;

/** The same request to both servers; the normalised answers must be equal. */
async function sameBytes(pair: Record<Producer, TestServer>, path: string, query: string, headers: Record<string, string> = {}, method = "GET") {
  const [trpc, lean] = await Promise.all(producers.map((p) => rawGet(`${pair[p].url}/trpc/${path}${query}`, headers, method)));
  const a = normalised(trpc!);
  const b = normalised(lean!);
  expect({ status: b.status, headers: b.headers, body: b.body }).toEqual({ status: a.status, headers: a.headers, body: a.body });
  return { trpc: a, lean: b };
}

/** The same subscription through the official client against both servers, at the same time. */
async function sameTranscript(
  pair: Record<Producer, TestServer>,
  path: Parameters<typeof observe>[1],
  input: unknown,
  opts: Parameters<typeof observe>[3] = {},
): Promise<Observed[]> {
  const [trpc, lean] = await Promise.all(producers.map((p) => observe(pair[p], path, input, opts).finished));
  expect(lean).toEqual(trpc);
  return trpc!;
}

const q = (input: unknown) => `?input=${encodeURIComponent(JSON.stringify(input))}`;

describe("the bytes on the wire", () => {
  it("tracked events, untracked values of every JSON shape, and the end of the stream", async () => {
    const { lean } = await sameBytes(pinged, "numbers", q({ count: 3 }));
    expect(lean.status).toBe(200);
    expect(lean.headers["content-type"]).toBe("text/event-stream");
    expect(lean.body).toBe(
      'event: connected\ndata: {"reconnectAfterInactivityMs":10000}\n\n\n' +
        'data: {"i":1,"text":"n1"}\nid: 1\n\n\n' +
        'data: {"i":2,"text":"n2"}\nid: 2\n\n\n' +
        'data: {"i":3,"text":"n3"}\nid: 3\n\n\n' +
        "event: return\ndata: \n\n\n",
    );
    const values = [null, 0, -1.5, "", "line\nbreak\r\n", "ünïcødé ✓ 😀", [1, [2]], { a: { b: null } }, true, "x".repeat(70_000)];
    await sameBytes(pinged, "plain", q({ values }));
    await sameBytes(pinged, "observed", q({ count: 3 }));
    await sameBytes(pinged, "numbers", q({ count: 0 }));
  });

  it("lastEventId from the Last-Event-ID header, ?lastEventId=, ?Last-Event-Id= and the input itself", async () => {
    for (const [query, headers] of [
      [q({ count: 5 }), { "last-event-id": "3" }],
      [`${q({ count: 5 })}&lastEventId=2`, {}],
      [`${q({ count: 5 })}&Last-Event-Id=4`, {}],
      [q({ count: 5, lastEventId: "1" }), {}],
      // The header wins over the query, and both over the input (tRPC's order).
      [`${q({ count: 5, lastEventId: "1" })}&lastEventId=2`, { "last-event-id": "4" }],
      // No input at all: tRPC makes one of the lastEventId alone (and zod then refuses it).
      ["?", { "last-event-id": "2" }],
    ] as const) {
      const { lean } = await sameBytes(pinged, "numbers", query, headers);
      expect(lean.status).toBe(200);
    }
  });

  it("errors before the first event: validation, malformed input, auth, a refused context, a bad resolver", async () => {
    for (const [path, query, headers] of [
      ["numbers", q({ count: -1 }), {}],
      ["numbers", q({ count: "three" }), {}],
      ["numbers", "?input=%7Bnot%20json", {}],
      ["numbers", "", {}],
      ["authed", "", {}],
      ["authed", q({ n: 1 }), { authorization: "Bearer alice" }],
      ["authed", `${q({ n: 2 })}&connectionParams=${encodeURIComponent(JSON.stringify({ token: "bob" }))}`, {}],
      ["numbers", q({ count: 1 }), { "x-refuse-context": "1" }],
      ["notIterable", "", {}],
    ] as const) {
      await sameBytes(pinged, path, query, headers);
    }
    const { lean } = await sameBytes(pinged, "numbers", q({ count: -1 }));
    expect(lean.body).toMatch(/^event: connected\n.*\n\n\nevent: serialized-error\ndata: \{"message":.*"code":-32600.*"httpStatus":400/s);
  });

  it("errors thrown mid-stream, every code, formatted by the router's errorFormatter", async () => {
    for (const code of ["BAD_REQUEST", "NOT_FOUND", "FORBIDDEN", "UNAUTHORIZED", "TOO_MANY_REQUESTS", "CONFLICT", "SERVICE_UNAVAILABLE", "BAD_GATEWAY", "INTERNAL_SERVER_ERROR", "plain-error"]) {
      const { lean } = await sameBytes(pinged, "fails", q({ key: `bytes-${code}`, code, after: 2, total: 4, once: false }));
      expect(lean.body).toContain("event: serialized-error\n");
      expect(lean.body).not.toContain("event: return");
    }
    // A plain Error becomes INTERNAL_SERVER_ERROR (-32603); its message is the errorFormatter's business.
    const { lean } = await sameBytes(pinged, "fails", q({ key: "bytes-plain-2", code: "plain-error", after: 0, total: 1, once: false }));
    expect(lean.body).toContain('"code":-32603');
  });

  it("requests the lean routes hand to tRPC: batches, jsonl, bad connectionParams, HEAD, other content types, queries", async () => {
    await sameBytes(pinged, "numbers", `?batch=1&input=${encodeURIComponent(JSON.stringify({ 0: { count: 1 } }))}`);
    await sameBytes(pinged, "numbers", q({ count: 1 }), { "trpc-accept": "application/jsonl" });
    await sameBytes(pinged, "numbers", q({ count: 1 }), { accept: "text/html, application/jsonl" });
    await sameBytes(pinged, "numbers", `${q({ count: 1 })}&connectionParams=%7Bbroken`);
    await sameBytes(pinged, "numbers", `${q({ count: 1 })}&connectionParams=${encodeURIComponent(JSON.stringify({ token: 1 }))}`);
    await sameBytes(pinged, "numbers", q({ count: 1 }), {}, "HEAD");
    await sameBytes(pinged, "numbers", q({ count: 1 }), { "content-type": "application/octet-stream" });
    await sameBytes(pinged, "numbers", q({ count: 1 }), { "content-type": "multipart/form-data; boundary=x" });
    await sameBytes(pinged, "echo", q({ text: "hi" }));
  });

  it("pings a quiet stream at the configured interval, as whole frames between events", async () => {
    const { trpc, lean } = await sameBytes(pinged, "idle", q({ key: "bytes-idle", idleMs: 600 }));
    // 600 ms of silence at a 40 ms interval; timers on a loaded machine run late, so only a lower bound.
    expect(trpc.pings).toBeGreaterThanOrEqual(4);
    expect(lean.pings).toBeGreaterThanOrEqual(4);
    // Without pings, nothing but the events.
    const quiet = await sameBytes(unpinged, "numbers", q({ count: 2 }));
    expect(quiet.lean.pings).toBe(0);
  });
});

describe("what the official client sees (httpSubscriptionLink + eventsource@4)", () => {
  it("events, ids and completion", async () => {
    const transcript = await sameTranscript(pinged, "numbers", { count: 3 });
    expect(transcript).toEqual([
      { state: "connecting", error: null },
      { started: true },
      { state: "pending", error: null },
      { data: { i: 1, text: "n1" }, id: "1" },
      { data: { i: 2, text: "n2" }, id: "2" },
      { data: { i: 3, text: "n3" }, id: "3" },
      { state: "idle", error: null },
      { complete: true },
    ]);
    await sameTranscript(pinged, "plain", { values: [1, "two", { three: 3 }, null] });
  });

  it("errors that end the subscription: thrown codes, validation, UNAUTHORIZED", async () => {
    for (const code of ["BAD_REQUEST", "NOT_FOUND", "FORBIDDEN", "UNAUTHORIZED", "TOO_MANY_REQUESTS"] as const) {
      const transcript = await sameTranscript(pinged, "fails", { key: `client-${code}`, code, after: 1, total: 3, once: false });
      expect(transcript.at(-1)).toEqual({ error: expect.objectContaining({ message: `failed with ${code}` }) });
    }
    const invalid = await sameTranscript(pinged, "numbers", { count: -1 });
    expect(invalid.at(-1)).toEqual({ error: expect.objectContaining({ shape: expect.objectContaining({ data: expect.objectContaining({ code: "BAD_REQUEST" }) }) }) });
    const refused = await sameTranscript(pinged, "authed", { n: 1 });
    expect(refused.at(-1)).toEqual({ error: expect.objectContaining({ message: "a token is required" }) });
    const header = await sameTranscript(pinged, "authed", { n: 2 }, { token: "alice" });
    const params = await sameTranscript(pinged, "authed", { n: 3 }, { connectionParams: { token: "bob" } });
    expect([header[3], params[3]]).toEqual([{ data: { user: "alice", n: 2 }, id: "1" }, { data: { user: "bob", n: 3 }, id: "1" }]);
  });

  it("retryable errors (SERVICE_UNAVAILABLE, a plain Error): the client reconnects with lastEventId and finishes", async () => {
    for (const code of ["SERVICE_UNAVAILABLE", "plain-error"] as const) {
      const k = `retry-${code}`;
      const transcript = await sameTranscript(pinged, "fails", { key: k, code, after: 2, total: 4, once: true });
      expect(transcript.filter((o) => "data" in o)).toEqual([1, 2, 3, 4].map((i) => ({ data: { i }, id: String(i) })));
      expect(transcript.at(-1)).toEqual({ complete: true });
      // Resumed by the EventSource's own reconnect, not by the link's inactivity timeout.
      expect(transcript).not.toContainEqual({ state: "connecting", error: expect.stringMatching(/^Timeout/) });
      for (const p of producers) {
        // The EventSource reconnected by itself, sending Last-Event-ID: 2.
        expect(pinged[p].log.inputs.get(k)?.map((i) => (i as { lastEventId?: string }).lastEventId)).toEqual([undefined, "2"]);
      }
    }
  });

  it("a connection cut mid-stream: the client reconnects with Last-Event-ID and resumes without gaps or repeats", async () => {
    const k = "cut";
    const runs = producers.map((p) => {
      const observed = observe(pinged[p], "cut", { key: k, total: 5, cutAfter: 2 }, {
        // The server cuts the connection only once the client holds event 2.
        onData: (data) => {
          if ((data as { id?: string }).id === "2") pinged[p].log.open(k);
        },
      });
      return observed.finished;
    });
    const [trpc, lean] = await Promise.all(runs);
    expect(lean).toEqual(trpc);
    expect(trpc!.filter((o) => "data" in o)).toEqual([1, 2, 3, 4, 5].map((i) => ({ data: { i }, id: String(i) })));
    expect(trpc).toContainEqual({ state: "connecting", error: expect.any(String) });
    expect(trpc).not.toContainEqual({ state: "connecting", error: expect.stringMatching(/^Timeout/) });
    for (const p of producers) expect(pinged[p].log.inputs.get(k)?.map((i) => (i as { lastEventId?: string }).lastEventId)).toEqual([undefined, "2"]);
  });

  it("pings keep a quiet stream open; without them the client resubscribes with lastEventId after its inactivity timeout", async () => {
    // 4 s of silence against a 2.5 s inactivity timeout.
    const kept = await sameTranscript(pingedTight, "idle", { key: "client-idle", idleMs: 4000 });
    expect(kept.filter((o) => "state" in o).map((o) => (o as { state: string }).state)).toEqual(["connecting", "pending", "idle"]);

    const resumed = await sameTranscript(unpinged, "idle", { key: "client-timeout", idleMs: 5000 });
    expect(resumed).toContainEqual({ state: "connecting", error: "Timeout of 2500ms reached while waiting for a response" });
    expect(resumed.filter((o) => "data" in o)).toEqual([{ data: { i: 1 }, id: "1" }, { data: { i: 2 }, id: "2" }]);
    for (const p of producers) {
      // A new EventSource: the link put lastEventId into the input this time.
      expect(unpinged[p].log.inputs.get("client-timeout")?.map((i) => (i as { lastEventId?: string }).lastEventId)).toEqual([undefined, "1"]);
    }
  });

  it("maxDurationMs ends the stream without `return`; the client resumes after the last id", async () => {
    const transcript = await sameTranscript(capped, "idle", { key: "client-capped", idleMs: 60_000 });
    expect(transcript.filter((o) => "data" in o)).toEqual([{ data: { i: 1 }, id: "1" }, { data: { i: 2 }, id: "2" }]);
    for (const p of producers) {
      expect(capped[p].log.inputs.get("client-capped")?.map((i) => (i as { lastEventId?: string }).lastEventId)).toEqual([undefined, "1"]);
    }
  });

  it("reports each error to onError with the same code, path, type and input", async () => {
    for (const p of producers) pinged[p].log.errors.length = 0;
    await sameTranscript(pinged, "fails", { key: "onerror", code: "CONFLICT", after: 0, total: 1, once: false });
    await sameTranscript(pinged, "numbers", { count: -2 });
    // tRPC's adapter reports an error thrown while the procedure is set up twice (once per layer); the lean writer once.
    const distinct = (p: Producer) => pinged[p].log.errors.filter((e, i, all) => i === 0 || JSON.stringify(e) !== JSON.stringify(all[i - 1]));
    expect(distinct("lean")).toEqual(distinct("trpc"));
    expect(pinged.lean.log.errors).toEqual([
      { code: "CONFLICT", path: "fails", type: "subscription", input: expect.objectContaining({ key: "onerror" }) },
      { code: "BAD_REQUEST", path: "numbers", type: "subscription", input: { count: -2 } },
    ]);
  });
});

describe.each(producers)("the server side (%s)", (producer) => {
  it("a slow reader: the generator is not pulled ahead while the socket is full, and every event arrives once it reads", { timeout: 120_000 }, async () => {
    const server = pinged[producer];
    const k = `flood-${producer}`;
    const count = 1000;
    const size = 64 * 1024;
    const stream = await openRawStream(url(server, "flood", { key: k, count, size }));
    try {
      await stream.until("id: 1\n");
      stream.socket.pause();
      // The kernel's socket buffers fill (and grow, on loopback), then the writer waits for "drain" for good.
      let seen = -1;
      let since = Date.now();
      await eventually(() => {
        const now = server.log.produced.get(k) ?? 0;
        if (now !== seen) [seen, since] = [now, Date.now()];
        return Date.now() - since > 500;
      }, "the writer to stop pulling", 30_000);
      const ctx = server.log.contexts.get(k)!;
      expect(ctx.needsDrain()).toBe(true);
      // A few MB in socket buffers: far fewer than the 1,000 events (64 MB) there are.
      expect(seen).toBeLessThan(count / 2);
      if (producer === "lean") {
        // Never asked for an event while the response was over its high-water mark: it holds the one event
        // that crossed it and nothing more.
        expect(server.log.pulledWhileFull.get(k)).toBe(0);
        expect(ctx.buffered()).toBeLessThan(16 * 1024 + size + 1024);
      }

      stream.socket.resume();
      await stream.until("event: return\n", 60_000);
      const ids = [...stream.received().matchAll(/\nid: (\d+)\n/g)].map((m) => Number(m[1]));
      expect(ids).toEqual(Array.from({ length: count }, (_, i) => i + 1));
      expect(server.log.produced.get(k)).toBe(count);
    } finally {
      stream.socket.destroy();
    }
  });

  it("a client that leaves: the procedure's signal aborts and the generator's finally runs", async () => {
    const server = pinged[producer];
    const k = `hang-${producer}`;
    const stream = await openRawStream(url(server, "hang", { key: k }));
    try {
      await stream.until("id: 1\n");
      expect(server.log.finished.has(k)).toBe(false);
    } finally {
      stream.socket.destroy();
    }
    await eventually(() => server.log.finished.has(k), "the generator's finally");
    expect(server.log.finished.get(k)).toEqual({ aborted: true });
  });
});
