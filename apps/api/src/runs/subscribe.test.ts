import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSimulator, type Simulator } from "@streamchat/ollama-sim";
import { createMemoryStore } from "@streamchat/store";
import type { StoredEvent } from "@streamchat/store";
import { testRunManager } from "../test-support/run-manager.js";

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
    const store = createMemoryStore();
    const runs = testRunManager(store, sim);
    const control = sim.control();
    const { runId } = await runs.start({ userId: "u", message: "abort me" });
    await control.connected;
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
});
