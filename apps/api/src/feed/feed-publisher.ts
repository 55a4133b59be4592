import type { DoneReason } from "@streamchat/core";
import type { RunRecord, StoredMessage } from "@streamchat/store";
import type { RunLog } from "../runs/run-log.js";
import type { ConversationFeed } from "./conversation-feed.js";
import type { RunStart } from "../runs/run-hooks.js";
import type { FeedEvent } from "./feed-events.js";

/**
 * What the places that change conversations call to tell the user's feed. Fire and forget: a feed that fails is
 * logged and never fails or delays the change itself (a client that missed the event catches up on its next
 * refetch or `resync`).
 */
export class FeedPublisher {
  constructor(
    private readonly feed: ConversationFeed,
    private readonly log: RunLog,
    private readonly now: () => number = Date.now,
  ) {}

  runStarted(record: RunRecord, how?: RunStart): void {
    this.send(record.userId, {
      type: "run-started",
      conversationId: record.conversationId,
      runId: record.id,
      ...(how?.continues ? { continues: true as const } : {}),
      at: this.now(),
    });
  }

  runFinished(record: RunRecord, reason: DoneReason): void {
    this.send(record.userId, { type: "run-finished", conversationId: record.conversationId, runId: record.id, reason, at: this.now() });
  }

  messageAdded(userId: string, stored: StoredMessage): void {
    this.send(userId, {
      type: "message-added",
      conversationId: stored.conversationId,
      runId: stored.runId,
      messageId: stored.id,
      role: stored.message.role,
      at: this.now(),
    });
  }

  titleChanged(userId: string, conversationId: string, title: string): void {
    this.send(userId, { type: "title-changed", conversationId, title, at: this.now() });
  }

  conversationDeleted(userId: string, conversationId: string): void {
    this.send(userId, { type: "conversation-deleted", conversationId, at: this.now() });
  }

  conversationAdded(userId: string, conversationId: string): void {
    this.send(userId, { type: "conversation-added", conversationId, at: this.now() });
  }

  pinChanged(userId: string, conversationId: string, pinnedAt: number | null): void {
    this.send(userId, { type: "pin-changed", conversationId, pinnedAt, at: this.now() });
  }

  archiveChanged(userId: string, conversationId: string, archivedAt: number | null): void {
    this.send(userId, { type: "archive-changed", conversationId, archivedAt, at: this.now() });
  }

  instructionsChanged(userId: string, conversationId: string): void {
    this.send(userId, { type: "instructions-changed", conversationId, at: this.now() });
  }

  samplingChanged(userId: string, conversationId: string): void {
    this.send(userId, { type: "sampling-changed", conversationId, at: this.now() });
  }

  settingsChanged(userId: string): void {
    this.send(userId, { type: "settings-changed", at: this.now() });
  }

  private send(userId: string, event: FeedEvent): void {
    const failed = (err: unknown) => this.log.warn({ err, userId, type: event.type }, "publishing to the conversation feed failed");
    try {
      this.feed.publish(userId, event)?.catch(failed);
    } catch (err) {
      failed(err);
    }
  }
}

/** For run modules built without a feed (their unit tests). */
export const noFeed = {
  runStarted() {},
  runFinished() {},
  messageAdded() {},
  titleChanged() {},
  conversationDeleted() {},
  conversationAdded() {},
  pinChanged() {},
  archiveChanged() {},
} satisfies Pick<
  FeedPublisher,
  "runStarted" | "runFinished" | "messageAdded" | "titleChanged" | "conversationDeleted" | "conversationAdded" | "pinChanged" | "archiveChanged"
>;
