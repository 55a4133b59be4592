import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSimulator, type Simulator } from "@streamchat/ollama-sim";
import { createMemoryStore } from "@streamchat/store";
import type { StoredEvent } from "@streamchat/store";
import { ApartPusher } from "../test-support/push-apart.js";
import { testRunManager } from "../test-support/run-manager.js";
import type { DirectSlot } from "./subscribe.js";

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({ tokenDelayMs: 1 });
});
afterAll(() => sim?.close());

/** Reads a subscription; a slow reader gives the model's next chunks time to arrive mid-replay. */
async function drain(events: AsyncIterable<StoredEvent>, slow = false): Promise<StoredEvent[]> {
  const out: StoredEvent[] = [];
  for await (const e of events) {
    out.push(e);
    if (slow) await new Promise((resolve) => setTimeout(resolve, 1));
  }
  return out;
}

/** A run on a fresh memory store whose model answers as the test pushes; `close` shuts both down. */
async function controlledRun(message: string) {
  const store = createMemoryStore();
  const runs = testRunManager(store, sim);
  const control = sim.control();
  const { runId } = await runs.start({ userId: "u", message });
  await control.connected;
  const close = async () => {
    await runs.shutdown(0);
    await store.close();
  };
  return { store, runs, control, runId, close };
}

describe("RunManager.subscribe", () => {
  it("gives every subscriber exactly the events after its afterSeq, whenever it joins", async () => {
    const store = createMemoryStore();
    const runs = testRunManager(store, sim);

    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.string({ minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 12 }),
        // [step at which a subscriber joins, fraction of the current log it has already seen, slow reader]
        fc.array(fc.tuple(fc.nat(12), fc.double({ min: 0, max: 1, noNaN: true }), fc.boolean()), { maxLength: 4 }),
        async (tokens, joins) => {
          const control = sim.control();
          const { runId } = await runs.start({ userId: "u", message: "property" });
          await control.connected;
          const subscribers: Array<{ afterSeq: number; events: Promise<StoredEvent[]> }> = [];
          for (let step = 0; step <= tokens.length; step++) {
            for (const [at, fraction, slow] of joins) {
              if (at % (tokens.length + 1) !== step) continue;
              const afterSeq = Math.floor((await store.lastSeq(runId)) * fraction);
              subscribers.push({ afterSeq, events: drain(runs.subscribe(runId, afterSeq), slow) });
            }
            const token = tokens[step];
            if (token !== undefined) await control.push({ content: token });
          }
          await control.push({ done: true });
          await runs.whenEnded(runId);
          const late = drain(runs.subscribe(runId, 0));
          for (const { afterSeq, events } of [...subscribers, { afterSeq: 0, events: late }]) {
            expect(await events).toEqual(await store.readEvents(runId, afterSeq));
          }
          const all = await store.readEvents(runId);
          expect(all.map((e) => e.seq)).toEqual(all.map((_, i) => i + 1));
          expect(all.at(-1)?.event.type).toBe("done");
          // However the reads joined them: every token once, in order.
          expect(all.map((e) => (e.event.type === "token" ? e.event.text : "")).join("")).toBe(tokens.join(""));
          expect(runs.stats()).toMatchObject({ activeRuns: 0, listeners: 0, subscriptions: 0 });
        },
      ),
      { numRuns: 15 },
    );
    await runs.shutdown(0);
    await store.close();
  });

  it("stops waiting and removes its listener when the signal aborts", async () => {
    const { store, runs, control, runId } = await controlledRun("abort me");
    const controller = new AbortController();
    const events = drain(runs.subscribe(runId, 0, controller.signal));
    await control.push({ content: "x" });
    expect(runs.stats().listeners).toBe(1);
    controller.abort();
    await events;
    expect(runs.stats()).toMatchObject({ activeRuns: 1, listeners: 0, subscriptions: 0 });
    await runs.cancel("u", runId);
    await runs.whenEnded(runId);
    await control.closedByClient;
    await store.close();
  });

  /**
   * A subscriber with a direct reader (the SSE writer): every event it gets, in the order it gets them, and by which
   * way. `refuse` makes the reader turn an event down (a response waiting for drain).
   */
  async function directSubscriber(
    runs: ReturnType<typeof testRunManager>,
    runId: string,
    seen: (stored: StoredEvent) => void,
    refuse: (stored: StoredEvent) => boolean = () => false,
  ) {
    const arrivals: Array<{ seq: number; via: "direct" | "next"; type: string }> = [];
    const slot: DirectSlot = { reader: null };
    const events = runs.subscribe(runId, 0, undefined, slot);
    slot.reader = {
      take(stored) {
        if (refuse(stored)) return false;
        arrivals.push({ seq: stored.seq, via: "direct", type: stored.event.type });
        seen(stored);
        return true;
      },
    };
    const done = (async () => {
      for await (const stored of events) {
        arrivals.push({ seq: stored.seq, via: "next", type: stored.event.type });
        seen(stored);
      }
    })();
    return { arrivals, done };
  }

  it("hands a caught-up subscriber's live events to its direct reader, in order, and ends through next() with done", async () => {
    const { store, runs, control, runId, close } = await controlledRun("direct");
    const pusher = new ApartPusher(control);
    const { arrivals, done } = await directSubscriber(runs, runId, (stored) => pusher.seen(stored.event));
    for (const token of ["one ", "two ", "three "]) await pusher.push(token);
    await control.push({ done: true });
    await done;

    const logged = await store.readEvents(runId);
    expect(arrivals.map((a) => a.seq)).toEqual(logged.map((e) => e.seq));
    const tokens = arrivals.filter((a) => a.type === "token");
    expect(tokens.length).toBeGreaterThanOrEqual(3);
    // The subscriber was caught up when each token came: none of them went through the generator.
    expect(tokens.every((a) => a.via === "direct")).toBe(true);
    expect(arrivals.at(-1)).toMatchObject({ type: "done", via: "next" });
    expect(runs.stats()).toMatchObject({ listeners: 0, subscriptions: 0 });
    await close();
  });

  it("hands history to the direct reader too (a late subscriber, a resuming client): only done goes through next()", async () => {
    const { store, runs, control, runId, close } = await controlledRun("history");
    for (const token of ["one ", "two ", "three "]) await control.push({ content: token });
    await control.push({ done: true });
    await runs.whenEnded(runId);

    const { arrivals, done } = await directSubscriber(runs, runId, () => {});
    await done;
    const logged = await store.readEvents(runId);
    expect(logged.length).toBeGreaterThan(4);
    expect(arrivals.map((a) => a.seq)).toEqual(logged.map((e) => e.seq));
    expect(arrivals.slice(0, -1).every((a) => a.via === "direct")).toBe(true);
    expect(arrivals.at(-1)).toMatchObject({ type: "done", via: "next" });
    // A reader that turns history down gets it through next(), in order.
    const refused = await directSubscriber(runs, runId, () => {}, (stored) => stored.seq % 2 === 1);
    await refused.done;
    expect(refused.arrivals.map((a) => a.seq)).toEqual(logged.map((e) => e.seq));
    expect(refused.arrivals.map((a) => a.via)).toEqual(logged.map((e) => (e.seq % 2 === 1 || e.event.type === "done" ? "next" : "direct")));
    expect(runs.stats()).toMatchObject({ listeners: 0, subscriptions: 0 });
    await close();
  });

  it("hands what the direct reader turns down through next(), without losing or reordering anything", async () => {
    const { store, runs, control, runId, close } = await controlledRun("refused");
    const pusher = new ApartPusher(control);
    // Every other token is turned down whenever it is offered, as by a response over its high-water mark.
    const refuse = (stored: StoredEvent) => stored.event.type === "token" && stored.seq % 2 === 0;
    const { arrivals, done } = await directSubscriber(runs, runId, (stored) => pusher.seen(stored.event), refuse);
    for (const token of ["a", "b", "c", "d", "e", "f"]) await pusher.push(token);
    await control.push({ done: true });
    await done;

    const logged = await store.readEvents(runId);
    expect(arrivals.map((a) => a.seq)).toEqual(logged.map((e) => e.seq));
    const tokens = arrivals.filter((a) => a.type === "token");
    expect(tokens.some((a) => a.via === "direct")).toBe(true);
    expect(tokens.some((a) => a.via === "next")).toBe(true);
    expect(runs.stats()).toMatchObject({ listeners: 0, subscriptions: 0 });
    await close();
  });
});

describe("a follower's iterator", () => {
  it("hands overlapping next() calls the events in order, as a generator queues them", async () => {
    const { store, runs, control, runId, close } = await controlledRun("overlap");
    const follower = runs.subscribe(runId, 0);
    // Asked all at once, before any is answered: the later ones wait for the earlier.
    const asked = Array.from({ length: 4 }, () => follower.next());
    await control.push({ content: "a" });
    await control.push({ content: "b" });
    await control.push({ done: true });
    const got = await Promise.all(asked);
    const seqs = got.map((result) => (result.done ? -1 : result.value.seq));
    expect(seqs).toEqual([1, 2, 3, 4]);
    const rest = await drain(follower);
    await runs.whenEnded(runId);
    // Each once, in order, the rest after them: the run's whole log.
    expect([...seqs, ...rest.map((stored) => stored.seq)]).toEqual((await store.readEvents(runId)).map((stored) => stored.seq));
    await close();
  });

  it("says done to a next() that waits for a live event when it is returned, and lets go of the run", async () => {
    const { store, runs, control, runId, close } = await controlledRun("return me");
    const follower = runs.subscribe(runId, 0);
    const lastSeq = await store.lastSeq(runId);
    for (let seq = 1; seq <= lastSeq; seq++) expect((await follower.next()).done).toBe(false);
    // Caught up: this one waits for the run's next event.
    const waiting = follower.next();
    expect(runs.stats()).toMatchObject({ listeners: 1, subscriptions: 1 });
    expect(await follower.return()).toEqual({ done: true, value: undefined });
    expect(await waiting).toEqual({ done: true, value: undefined });
    expect(runs.stats()).toMatchObject({ listeners: 0, subscriptions: 0 });
    expect(await follower.next()).toEqual({ done: true, value: undefined });
    await control.push({ done: true });
    await runs.whenEnded(runId);
    await close();
  });
});
