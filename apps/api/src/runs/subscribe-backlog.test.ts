import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSimulator, type Simulator } from "@streamchat/ollama-sim";
import { createMemoryStore, type ChatStore, type StoredEvent } from "@streamchat/store";
import { openTestStore, testBackend } from "../test-support/backend.js";
import { ApartPusher, follow } from "../test-support/push-apart.js";
import { testRunManager } from "../test-support/run-manager.js";

/**
 * A subscriber that falls behind by more than `subscriberQueueLimit` live events drops its queue and
 * catches up from the log in pages (memory stays bounded; see the slow-client row of the fault matrix).
 * With tiny limits, every interleaving of pauses must still deliver each event once, in order.
 */

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({ tokenDelayMs: 1 });
});
afterAll(async () => {
  await sim?.close();
});

function manager(store: ChatStore) {
  return testRunManager(store, sim, { subscriberQueueLimit: 3, logPageSize: 2 });
}

// The memory store, and this project's database (committing often, so the log is read both committed and queued).
const stores: Array<[string, () => Promise<ChatStore>]> = [
  ["memory", async () => createMemoryStore()],
  [testBackend, () => openTestStore({ flushIntervalMs: 5 })],
];

describe.each(stores)("RunManager.subscribe with a backlog (%s store)", (_name, open) => {
  it("a reader that stalls while the run writes gets every event once, in order", async () => {
    const store = await open();
    const runs = manager(store);
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 1, max: 30 }),
          // Reader pauses: after how many received events, for how many pushed tokens.
          fc.array(fc.tuple(fc.nat(30), fc.integer({ min: 1, max: 20 })), { maxLength: 4 }),
          async (tokenCount, pauses) => {
            const control = sim.control();
            const { runId } = await runs.start({ userId: "u", message: "backlog" });
            await control.connected;
            // Another follower reads all along, so that each push is an event of its own (see ApartPusher).
            const pusher = new ApartPusher(control);
            const watching = follow(runs.subscribe(runId, 0), pusher.seen);
            const iterator = runs.subscribe(runId, 0)[Symbol.asyncIterator]();
            const got: StoredEvent[] = [];
            let pushed = 0;
            const push = async (n: number) => {
              for (let i = 0; i < n && pushed < tokenCount; i++) await pusher.push(`t${++pushed} `);
            };
            for (;;) {
              const pause = pauses.find(([after]) => after === got.length);
              // While the reader is stalled the run keeps going, overflowing the tiny queue.
              if (pause) await push(pause[1]);
              else if (got.length >= 2) await push(1);
              if (pushed === tokenCount && got.length >= 2) await control.push({ done: true }).catch(() => {});
              const step = await iterator.next();
              if (step.done) break;
              got.push(step.value);
            }
            await runs.whenEnded(runId);
            await watching;
            expect(got).toEqual(await store.readEvents(runId));
            expect(got.at(-1)?.event.type).toBe("done");
            expect(got.filter((e) => e.event.type === "token")).toHaveLength(tokenCount);
          },
        ),
        { numRuns: 25, seed: 7 },
      );
      expect(runs.stats()).toMatchObject({ activeRuns: 0, listeners: 0, subscriptions: 0 });
    } finally {
      await store.close();
    }
  });
});
