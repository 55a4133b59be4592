import { describe, expect, it } from "vitest";
import type { StoredMessage } from "@streamchat/store";
import type { RunLog } from "../runs/run-log.js";
import { FeedClosedError, type ConversationFeed } from "./conversation-feed.js";
import type { FeedEvent } from "./feed-events.js";
import { FeedPublisher } from "./feed-publisher.js";
import { InProcessFeed } from "./in-process-feed.js";

function recordingLog(): RunLog & { warnings: Array<{ obj: object; msg: string | undefined }> } {
  const warnings: Array<{ obj: object; msg: string | undefined }> = [];
  return { warnings, info() {}, error() {}, warn: (obj, msg) => void warnings.push({ obj, msg }) };
}

/** A feed whose publish fails in the way given; what it was asked to publish is kept. */
function failingFeed(fail: "throws" | "rejects"): ConversationFeed & { asked: FeedEvent[] } {
  const asked: FeedEvent[] = [];
  return {
    asked,
    publish(_userId, event) {
      asked.push(event);
      if (fail === "throws") throw new FeedClosedError();
      return Promise.reject(new FeedClosedError());
    },
    subscribe: () => Promise.reject(new Error("not used")),
    stats: () => ({ subscribers: 0, users: 0 }),
    close: () => Promise.resolve(),
  };
}

const message = { id: 7, conversationId: "c1", runId: "r1", message: { role: "assistant", content: "hi" } } as unknown as StoredMessage;

describe("FeedPublisher", () => {
  it("hands events to a feed that publishes synchronously (no promise), and its subscribers get them", async () => {
    const feed = new InProcessFeed();
    const subscription = await feed.subscribe("u1", { lastEventId: null, signal: new AbortController().signal });
    const publisher = new FeedPublisher(feed, recordingLog(), () => 42);
    publisher.messageAdded("u1", message);
    expect(feed.publish("u1", { type: "title-changed", conversationId: "c1", title: "T", at: 43 })).toBeUndefined();
    expect((await subscription.next()).value).toMatchObject({ event: { type: "message-added", conversationId: "c1", runId: "r1", messageId: 7, role: "assistant", at: 42 } });
    expect((await subscription.next()).value).toMatchObject({ event: { type: "title-changed", title: "T" } });
    await subscription.return();
    await feed.close();
  });

  for (const fail of ["throws", "rejects"] as const) {
    it(`a feed that ${fail} neither fails nor delays the change: a warning is logged`, async () => {
      const feed = failingFeed(fail);
      const log = recordingLog();
      const publisher = new FeedPublisher(feed, log);
      expect(() => publisher.titleChanged("u1", "c1", "New title")).not.toThrow();
      expect(feed.asked).toEqual([expect.objectContaining({ type: "title-changed", title: "New title" })]);
      await new Promise((resolve) => setImmediate(resolve));
      expect(log.warnings).toEqual([{ obj: expect.objectContaining({ userId: "u1", type: "title-changed", err: expect.any(FeedClosedError) }), msg: "publishing to the conversation feed failed" }]);
    });
  }
});
