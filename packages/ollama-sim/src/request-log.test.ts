import { afterEach, describe, expect, it } from "vitest";
import { defaultMaxRecordedBodyBytes, defaultMaxRecordedRequests } from "./request-log.js";
import { startSimulator } from "./server.js";
import { chatLines, rawRequest, user } from "./test-support/http.js";
import type { RecordedRequest, Simulator } from "./types.js";

const sims: Simulator[] = [];
afterEach(async () => {
  await Promise.all(sims.splice(0).map((s) => s.close()));
});

async function sim(opts: Parameters<typeof startSimulator>[0] = {}): Promise<Simulator> {
  const s = await startSimulator({ tokenDelayMs: 0, ...opts });
  sims.push(s);
  return s;
}

/** Bytes the log really holds: what the retained bodies serialise to. */
function retainedBodyBytes(requests: RecordedRequest[]): number {
  return requests.reduce((sum, r) => sum + (r.body === undefined ? 0 : Buffer.byteLength(JSON.stringify(r.body))), 0);
}

/** A chat request whose user message is ~30 KB (the size that used to stay in memory for good). */
function bigChat(i: number) {
  return { model: "demo", stream: false, messages: user(`request ${i}: ${"x".repeat(30_000)}`) };
}

async function inBatches(count: number, send: (i: number) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < count; i += 20) await Promise.all(Array.from({ length: Math.min(20, count - i) }, (_, j) => send(i + j)));
}

describe("request log bounds", () => {
  it("keeps the newest maxRecordedRequests entries and bodies within maxRecordedBodyBytes", async () => {
    const s = await sim({ maxRecordedRequests: 20, maxRecordedBodyBytes: 100_000 });
    for (let i = 0; i < 30; i++) {
      await rawRequest(s.url, "/");
      await rawRequest(s.url, "/api/chat", bigChat(i));
    }
    expect(s.requests).toHaveLength(20);
    expect(s.requests.map((r) => r.id)).toEqual(Array.from({ length: 20 }, (_, i) => 41 + i));
    expect(retainedBodyBytes(s.requests)).toBeLessThanOrEqual(100_000);

    // the newest bodies stay whole; older chat entries keep their metadata and say their body was dropped
    const chats = s.chatRequests();
    expect(chats).toHaveLength(10);
    expect(chats.at(-1)?.body).toEqual(bigChat(29));
    expect(chats.filter((r) => r.body !== undefined).map((r) => r.id)).toEqual(chats.slice(-3).map((r) => r.id));
    for (const r of chats.slice(0, -3)) {
      expect(r).toMatchObject({ body: undefined, bodyDropped: true, scenario: "demo", clientClosedEarly: false });
      expect(r.bodyBytes).toBeGreaterThan(30_000);
    }
  });

  it("is bounded by default: at most the default number of entries and body bytes", { timeout: 60_000 }, async () => {
    const s = await sim();
    // health-probe-like requests: the API's fallback simulator answers one per /trpc/health call
    await inBatches(defaultMaxRecordedRequests + 50, () => rawRequest(s.url, "/api/version"));
    expect(s.requests).toHaveLength(defaultMaxRecordedRequests);
    expect(s.requests[0]?.id).toBe(51);

    const big = Math.ceil((defaultMaxRecordedBodyBytes * 1.5) / 30_000);
    await inBatches(big, (i) => rawRequest(s.url, "/api/chat", bigChat(i)));
    expect(s.requests).toHaveLength(defaultMaxRecordedRequests);
    expect(retainedBodyBytes(s.requests)).toBeLessThanOrEqual(defaultMaxRecordedBodyBytes);
    // still generous enough for tests that read the last chat request's body
    expect(retainedBodyBytes(s.requests)).toBeGreaterThan(defaultMaxRecordedBodyBytes / 2);
    expect(s.chatRequests().at(-1)?.body).toMatchObject({ model: "demo" });
  });

  it("records nothing with maxRecordedRequests 0; a controlled stream still sees its request", async () => {
    const s = await sim({ maxRecordedRequests: 0 });
    await chatLines(s.url, { model: "demo", messages: user("hello") });
    const stream = s.control();
    const pending = chatLines(s.url, { model: "demo", messages: user("controlled") });
    const record = await stream.connected;
    expect(record.body).toMatchObject({ messages: user("controlled") });
    await stream.push({ done: true });
    await stream.end();
    await pending;
    expect(s.requests).toEqual([]);
    expect(s.chatRequests()).toEqual([]);
  });

  it("keeps only metadata with maxRecordedBodyBytes 0", async () => {
    const s = await sim({ maxRecordedBodyBytes: 0 });
    await chatLines(s.url, { model: "demo", messages: user("hello") });
    const [record] = s.chatRequests();
    await record?.finished;
    expect(record).toMatchObject({ method: "POST", path: "/api/chat", body: undefined, bodyDropped: true, scenario: "demo", clientClosedEarly: false });
    expect(record?.bodyBytes).toBeGreaterThan(0);
  });
});
