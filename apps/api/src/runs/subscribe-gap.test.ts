import { describe, expect, it } from "vitest";
import type { ChatEvent } from "@streamchat/core";
import type { StoredEvent } from "@streamchat/store";
import type { Listener } from "./live-runs.js";
import { followRun, type FollowSource, type LiveHandle } from "./subscribe.js";

/**
 * followRun and a live event that comes after a gap history does not fill yet: in a cluster the run's Redis stream
 * has events before the durable log commits them, and can lose them (Redis restarted) before it does. A follower
 * must not jump over them while the run still runs. A fake source: the test decides what history holds, when a live
 * event arrives and whether the run still runs; it waits on the follower's reads, never on a clock.
 */

const token = (text: string): ChatEvent => ({ type: "token", runId: "r", at: 0, text });
const done: ChatEvent = { type: "done", runId: "r", at: 0, reason: "stop", usage: { promptTokens: 0, completionTokens: 0, ttftMs: 0, durationMs: 0, loadMs: 0, tokensPerSecond: 0 } };

function fakeSource() {
  const history: StoredEvent[] = [];
  let listener: Listener | undefined;
  let running = true;
  let reads = 0;
  /** Runs when the follower asks whether the run still runs, before the answer (what happens just before it looks). */
  let beforeIsRunning: (() => void) | undefined;
  let readWaiters: Array<{ count: number; resolve: () => void }> = [];
  const handle: LiveHandle = { closed: false, takeStalled: () => false, stop: () => {} };
  const source: FollowSource = {
    pollMs: 1,
    async read(_runId, afterSeq, limit) {
      reads++;
      readWaiters = readWaiters.filter((waiter) => (reads >= waiter.count ? (waiter.resolve(), false) : true));
      return history.filter((stored) => stored.seq > afterSeq).slice(0, limit);
    },
    async listen(_runId, _fromSeq, onEvent) {
      listener = onEvent;
      return handle;
    },
    async isRunning() {
      beforeIsRunning?.();
      return running;
    },
  };
  return {
    source,
    history,
    deliver: (stored: StoredEvent) => listener?.(stored),
    end: () => {
      running = false;
    },
    /** `change` happens the next time the follower asks whether the run still runs, just before the answer. */
    whenAskedIfRunning: (change: () => void) => {
      beforeIsRunning = () => {
        beforeIsRunning = undefined;
        change();
      };
    },
    /** Resolves once the follower read history `more` more times. */
    readsMore: (more: number) => new Promise<void>((resolve) => readWaiters.push({ count: reads + more, resolve })),
  };
}

/** A follower that handed out 1 and 2, the whole of history so far. */
async function followedToTwo() {
  const fake = fakeSource();
  fake.history.push({ seq: 1, event: token("a") }, { seq: 2, event: token("b") });
  const follower = followRun(fake.source, "r", 0, undefined);
  expect((await follower.next()).value).toMatchObject({ seq: 1 });
  expect((await follower.next()).value).toMatchObject({ seq: 2 });
  return { fake, follower };
}

describe("followRun: a live event after a gap that history does not fill yet", () => {
  it("while the run runs, waits for history to have the missing events: each seq once, in order", async () => {
    const { fake, follower } = await followedToTwo();

    // 3 and 4 are nowhere yet (the stream lost them, the log has not committed them); 5 arrives live.
    const next = follower.next();
    const readAgain = fake.readsMore(3);
    fake.deliver({ seq: 5, event: token("e") });
    // It reads history again, several times, and still waits: what it lacks may still be committed.
    expect(await Promise.race([next.then((step) => step.value), readAgain.then(() => "still waiting")])).toBe("still waiting");
    fake.history.push({ seq: 3, event: token("c") }, { seq: 4, event: token("d") }, { seq: 5, event: token("e") });
    expect((await next).value).toMatchObject({ seq: 3 });
    expect((await follower.next()).value).toMatchObject({ seq: 4 });
    expect((await follower.next()).value).toMatchObject({ seq: 5 });
    fake.deliver({ seq: 6, event: done });
    expect((await follower.next()).value).toMatchObject({ seq: 6, event: { type: "done" } });
    expect((await follower.next()).done).toBe(true);
  });

  it("once the run has ended, a gap history still lacks is real: the follower goes on past it", async () => {
    const fake = fakeSource();
    fake.history.push({ seq: 1, event: token("a") });
    const follower = followRun(fake.source, "r", 0, undefined);
    expect((await follower.next()).value).toMatchObject({ seq: 1 });
    fake.end();
    // A replica that died lost 2..10000 (its uncommitted tail); its run was closed above them.
    fake.deliver({ seq: 10_002, event: done });
    expect((await follower.next()).value).toMatchObject({ seq: 10_002, event: { type: "done" } });
    expect((await follower.next()).done).toBe(true);
  });

  it("a run that ends between a history read and the question whether it runs: what it committed with its end is read, not skipped", async () => {
    const { fake, follower } = await followedToTwo();
    // 3 and 4 are not in history yet; 5 arrives live, and the follower reads history once for the gap (still missing).
    const next = follower.next();
    const readOnce = fake.readsMore(1);
    fake.deliver({ seq: 5, event: token("e") });
    await readOnce;
    // Then the run commits 3..5 with its end, right before the follower asks whether it still runs: the log is final
    // now and has them, though the follower's last read did not.
    fake.whenAskedIfRunning(() => {
      fake.history.push({ seq: 3, event: token("c") }, { seq: 4, event: token("d") }, { seq: 5, event: token("e") }, { seq: 6, event: done });
      fake.end();
    });
    expect((await next).value).toMatchObject({ seq: 3 });
    expect((await follower.next()).value).toMatchObject({ seq: 4 });
    expect((await follower.next()).value).toMatchObject({ seq: 5 });
    expect((await follower.next()).value).toMatchObject({ seq: 6, event: { type: "done" } });
    expect((await follower.next()).done).toBe(true);
  });
});
