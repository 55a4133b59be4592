import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ChatEvent } from "@streamchat/core";
import { createChatClient } from "./client.js";
import { eventIdOf, followRun } from "./follow.js";
import { drain, readUntil, runStart, seqs, strictlyIncreasing, text, types } from "./test-support/events.js";
import { startApi, type TestApi } from "./test-support/api.js";
import { startCuttingProxy, type CuttingProxy } from "./test-support/proxy.js";

// Dropped connections, for real: a TCP proxy between client and API cuts the socket that carries the
// subscription. The eventsource package waits 3 s before reconnecting, hence this file of its own.

describe("resuming a stream after the connection drops", () => {
  let api: TestApi;

  beforeAll(async () => {
    api = await startApi();
  });
  afterAll(async () => {
    await api?.close();
  });

  it("resumes after the SSE socket is cut mid-run: no gap, no duplicate, one run", async () => {
    const proxy = await startCuttingProxy(api.url);
    try {
      const viaProxy = createChatClient({ url: proxy.url });
      const control = api.sim.control({ lastUserIncludes: "resume-after-cut" });
      const chatRequestsBefore = api.sim.chatRequests().length;
      const stream = viaProxy.stream("please resume-after-cut");
      const events = await readUntil(stream, (e) => e.type === "status");
      await control.connected;
      await control.push({ content: "one " });
      events.push(...(await readUntil(stream, (e) => e.type === "token")));
      const lastBeforeCut = eventIdOf(events.at(-1)!);

      expect(proxy.cutSubscriptions()).toBe(1);
      // Written while no subscription is connected: the resumed subscription must replay them.
      await control.push({ content: "two " });
      await control.push({ content: "three" });
      await control.push({ done: true });
      for await (const event of stream) events.push(event);

      expect(text(events)).toBe("one two three");
      expect(types(events)[0]).toBe("run-start");
      expect(types(events).at(-1)).toBe("done");
      const ids = seqs(events);
      expect(new Set(ids).size).toBe(ids.length);
      expect(strictlyIncreasing(ids)).toBe(true);
      // The server's log replayed from scratch is exactly what the resumed stream delivered.
      const replay = await drain(viaProxy.events(runStart(events).runId));
      expect(seqs(replay)).toEqual(ids);
      expect(replay).toEqual(events);
      // The link reconnected by itself with Last-Event-ID = the last event before the cut.
      expect(proxy.sseRequests[1]?.lastEventIdHeader).toBe(lastBeforeCut);
      // One send, one run, one model request.
      const conversation = await createChatClient({ url: api.url }).conversations.get(runStart(events).conversationId);
      expect(conversation.runs).toHaveLength(1);
      expect(api.sim.chatRequests().length - chatRequestsBefore).toBe(1);
    } finally {
      await proxy.close();
    }
  });

  it("resubscribes from the last event itself when the link gives up on an HTTP error", async () => {
    const proxy = await startCuttingProxy(api.url);
    try {
      const viaProxy = createChatClient({ url: proxy.url });
      const control = api.sim.control({ lastUserIncludes: "resubscribe-after-502" });
      const stream = viaProxy.stream("please resubscribe-after-502");
      const events = await readUntil(stream, (e) => e.type === "status");
      await control.connected;
      await control.push({ content: "alpha " });
      events.push(...(await readUntil(stream, (e) => e.type === "token")));
      const lastBeforeCut = eventIdOf(events.at(-1)!);

      // The EventSource's own reconnect gets a 502 and fails for good; the client must open a new subscription.
      proxy.refuseSubscriptions(502, 1);
      expect(proxy.cutSubscriptions()).toBe(1);
      await control.push({ content: "beta" });
      await control.push({ done: true });
      for await (const event of stream) events.push(event);

      expect(text(events)).toBe("alpha beta");
      expect(types(events).at(-1)).toBe("done");
      const ids = seqs(events);
      expect(strictlyIncreasing(ids)).toBe(true);
      expect(await drain(viaProxy.events(runStart(events).runId))).toEqual(events);
      expect(proxy.sseRequests.length).toBeGreaterThanOrEqual(3);
      expect(proxy.sseRequests[2]?.input).toMatchObject({ lastEventId: lastBeforeCut });
    } finally {
      await proxy.close();
    }
  });

  // A run can be quiet for long (waiting for an approval, a slow tool) while proxies drop its connection again and
  // again. Reconnects that succeed are no failures: only failures in a row may end the stream.

  const quietRunCuts = [
    {
      what: "dropped connections, each reconnect of the link's succeeding",
      label: "quiet-while-cut",
      cut: (proxy: CuttingProxy) => proxy.cutSubscriptions(),
      // The link reconnected by itself each time: one subscription of ours.
      check: (proxy: CuttingProxy) => expect(proxy.sseRequests.filter((r) => r.lastEventIdHeader === undefined)).toHaveLength(1),
    },
    {
      what: "refused reconnects, each resubscribe succeeding",
      label: "quiet-while-refused",
      // The link's own reconnect gets a 502 and fails for good; followRun subscribes anew, and that succeeds.
      cut: (proxy: CuttingProxy) => {
        proxy.refuseSubscriptions(502, 1);
        return proxy.cutSubscriptions();
      },
      // Ours, refused, ours, refused, ours.
      check: (proxy: CuttingProxy) => expect(proxy.sseRequests).toHaveLength(5),
    },
  ];
  it.each(quietRunCuts.map((c) => [c.what, c] as const))("survives %s, more of them than maxRetries", async (_what, { label, cut, check }) => {
    const proxy = await startCuttingProxy(api.url);
    try {
      const control = api.sim.control({ lastUserIncludes: label });
      const { runId } = await createChatClient({ url: api.url }).send(`please ${label}`);
      const stream = followRun(createChatClient({ url: proxy.url }).trpc, runId, { maxRetries: 1 });
      const events = await readUntil(stream, (e) => e.type === "status");
      const rest = pulling(stream);
      await control.connected;
      for (let round = 1; round <= 2; round++) {
        await rest.until(() => proxy.acceptedSubscriptions() >= round);
        expect(cut(proxy)).toBe(1);
      }
      await rest.until(() => proxy.acceptedSubscriptions() >= 3);
      await control.push({ content: "still here" });
      await control.push({ done: true });
      events.push(...(await rest.events));

      expect(text(events)).toBe("still here");
      expect(types(events).at(-1)).toBe("done");
      check(proxy);
    } finally {
      await proxy.close();
    }
  });
});

/** The rest of a stream, pulled meanwhile (as a consumer would); `until` fails at once if the stream fails. */
function pulling(stream: AsyncIterable<ChatEvent>) {
  let failure: { error: unknown } | undefined;
  const events = drain(stream);
  events.catch((error: unknown) => (failure = { error }));
  return {
    events,
    async until(check: () => boolean) {
      await waitFor(() => failure !== undefined || check());
      if (failure) throw failure.error;
    },
  };
}

async function waitFor(check: () => boolean, timeoutMs = 15_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error("timed out");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
