import { describe, expect, it } from "vitest";
import { FeedClosedError } from "./conversation-feed.js";
import type { FeedDelivery, FeedEvent } from "./feed-events.js";
import { InProcessFeed } from "./in-process-feed.js";

const renamed = (title: string): FeedEvent => ({ type: "title-changed", conversationId: "c1", title, at: 1 });
const titles = (items: FeedDelivery[]) => items.map((d) => (d.event.type === "title-changed" ? d.event.title : d.event.type));

/** Reads `n` items from a subscription (the generator stays open for more). */
async function take(sub: AsyncGenerator<FeedDelivery, void, void>, n: number): Promise<FeedDelivery[]> {
  const out: FeedDelivery[] = [];
  while (out.length < n) {
    const next = await sub.next();
    if (next.done) break;
    out.push(next.value);
  }
  return out;
}

describe("InProcessFeed", () => {
  it("delivers a user's events live, in order, to each of their subscribers and no one else's", async () => {
    const feed = new InProcessFeed();
    const stop = new AbortController();
    const a1 = feed.subscribe("alice", { lastEventId: null, signal: stop.signal });
    const a2 = feed.subscribe("alice", { lastEventId: null, signal: stop.signal });
    const bob = feed.subscribe("bob", { lastEventId: null, signal: stop.signal });
    const reads = [take(a1, 2), take(a2, 2), take(bob, 1)];
    // Let the generators start (subscriptions begin at their first read).
    await new Promise((resolve) => setImmediate(resolve));
    await feed.publish("alice", renamed("one"));
    await feed.publish("alice", renamed("two"));
    await feed.publish("bob", renamed("bob's"));
    const [first, second, bobs] = await Promise.all(reads);
    expect(titles(first!)).toEqual(["one", "two"]);
    expect(second).toEqual(first);
    expect(titles(bobs!)).toEqual(["bob's"]);
    expect(new Set([...first!, ...bobs!].map((d) => d.id)).size).toBe(3);
    expect(feed.stats().subscribers).toBe(3);
    stop.abort();
    await Promise.all([a1.next(), a2.next(), bob.next()]);
    expect(feed.stats().subscribers).toBe(0);
  });

  it("gives a reconnecting client what it missed after its last id, then live events", async () => {
    const feed = new InProcessFeed();
    const stop = new AbortController();
    const first = feed.subscribe("alice", { lastEventId: null, signal: stop.signal });
    const got = take(first, 1);
    await new Promise((resolve) => setImmediate(resolve));
    await feed.publish("alice", renamed("seen"));
    const [seen] = await got;
    await first.return();
    // Missed while away.
    await feed.publish("alice", renamed("missed 1"));
    await feed.publish("bob", renamed("not alice's"));
    await feed.publish("alice", renamed("missed 2"));
    const again = feed.subscribe("alice", { lastEventId: seen!.id, signal: stop.signal });
    expect(titles(await take(again, 2))).toEqual(["missed 1", "missed 2"]);
    const live = take(again, 1);
    await feed.publish("alice", renamed("live"));
    expect(titles(await live)).toEqual(["live"]);
    stop.abort();
  });

  it("sends resync instead of events it no longer holds (too far behind, or an id it did not give out), then goes on live", async () => {
    const feed = new InProcessFeed({ bufferSize: 4 });
    const stop = new AbortController();
    const sub = feed.subscribe("alice", { lastEventId: null, signal: stop.signal });
    const got = take(sub, 1);
    await new Promise((resolve) => setImmediate(resolve));
    await feed.publish("alice", renamed("seen"));
    const [seen] = await got;
    await sub.return();
    for (let i = 0; i < 10; i++) await feed.publish("alice", renamed(`missed ${i}`));

    const behind = feed.subscribe("alice", { lastEventId: seen!.id, signal: stop.signal });
    const [marker] = await take(behind, 1);
    expect(marker!.event.type).toBe("resync");
    const live = take(behind, 1);
    await feed.publish("alice", renamed("after resync"));
    expect(titles(await live)).toEqual(["after resync"]);

    // The resync's id is a resume point: nothing is missed after it.
    const resumed = feed.subscribe("alice", { lastEventId: marker!.id, signal: stop.signal });
    expect(titles(await take(resumed, 1))).toEqual(["after resync"]);

    for (const foreign of ["0badbeef-1", "garbage", `${seen!.id.split("-")[0]}-999999`]) {
      const sub2 = feed.subscribe("alice", { lastEventId: foreign, signal: stop.signal });
      expect((await take(sub2, 1))[0]!.event.type).toBe("resync");
      await sub2.return();
    }
    stop.abort();
  });

  it("holds at most bufferSize events per user however slowly a subscriber reads (bounded memory)", async () => {
    const feed = new InProcessFeed({ bufferSize: 8 });
    const stop = new AbortController();
    const slow = feed.subscribe("alice", { lastEventId: null, signal: stop.signal });
    const firstRead = take(slow, 1);
    await new Promise((resolve) => setImmediate(resolve));
    await feed.publish("alice", renamed("0"));
    expect(titles(await firstRead)).toEqual(["0"]);
    // The subscriber stops reading while 10,000 events go by.
    for (let i = 1; i <= 10_000; i++) await feed.publish("alice", renamed(String(i)));
    const held = (feed as unknown as { channels: Map<string, { events: unknown[] }> }).channels.get("alice")!.events.length;
    expect(held).toBe(8);
    // When it reads again it is told to resync, then gets only what comes next.
    expect((await take(slow, 1))[0]!.event.type).toBe("resync");
    const live = take(slow, 1);
    await feed.publish("alice", renamed("next"));
    expect(titles(await live)).toEqual(["next"]);
    stop.abort();
  });

  it("ends its subscriptions with FeedClosedError when it closes (clients reconnect elsewhere)", async () => {
    const feed = new InProcessFeed();
    const stop = new AbortController();
    const sub = feed.subscribe("alice", { lastEventId: null, signal: stop.signal });
    const pending = sub.next();
    await new Promise((resolve) => setImmediate(resolve));
    await feed.close();
    await expect(pending).rejects.toBeInstanceOf(FeedClosedError);
    await expect(feed.subscribe("alice", { lastEventId: null, signal: stop.signal }).next()).rejects.toBeInstanceOf(FeedClosedError);
    expect(feed.stats().subscribers).toBe(0);
  });

  it("forgets users without subscribers after the retention", async () => {
    let now = 0;
    const feed = new InProcessFeed({ idleRetentionMs: 1000, now: () => now });
    await feed.publish("alice", renamed("a"));
    expect(feed.stats().users).toBe(1);
    now = 61_000;
    await feed.publish("bob", renamed("b"));
    expect(feed.stats().users).toBe(1);
  });
});
