import { describe, expect, it } from "vitest";
import { feedUpdateFor } from "./feedUpdates.js";

/** An update that makes nothing stale: each case below says what it changes of it. */
const nothing = {
  everything: false,
  list: false,
  conversationId: null,
  retitle: null,
  repin: null,
  removed: null,
  settings: null,
  userSettings: false,
  room: false,
  continues: null,
};

describe("feedUpdateFor", () => {
  it("makes the conversation a run started in stale, so the open pane refetches it and follows the run", () => {
    expect(feedUpdateFor({ type: "run-started", conversationId: "c1", runId: "r1", at: 1 })).toMatchObject({
      list: true,
      conversationId: "c1",
      everything: false,
    });
    // One that writes on from the last answer (chat.continue) is named, so the pane keeps showing that answer.
    expect(feedUpdateFor({ type: "run-started", conversationId: "c1", runId: "r1", at: 1 }).continues).toBeNull();
    expect(feedUpdateFor({ type: "run-started", conversationId: "c1", runId: "r2", continues: true, at: 1 })).toEqual({
      ...nothing,
      list: true,
      conversationId: "c1",
      continues: "r2",
    });
    expect(feedUpdateFor({ type: "message-added", conversationId: "c1", runId: "r1", messageId: 3, role: "user", at: 1 })).toMatchObject({
      conversationId: "c1",
    });
  });

  it("patches titles and deletions into the list at once", () => {
    expect(feedUpdateFor({ type: "title-changed", conversationId: "c1", title: "New", at: 1 })).toMatchObject({
      retitle: { conversationId: "c1", title: "New" },
      list: true,
    });
    expect(feedUpdateFor({ type: "conversation-deleted", conversationId: "c1", at: 1 })).toMatchObject({ removed: "c1", list: true });
    expect(feedUpdateFor({ type: "pin-changed", conversationId: "c1", pinnedAt: 5, at: 6 })).toMatchObject({ repin: { conversationId: "c1", pinnedAt: 5 }, list: true });
    expect(feedUpdateFor({ type: "pin-changed", conversationId: "c1", pinnedAt: null, at: 6 }).repin).toEqual({ conversationId: "c1", pinnedAt: null });
  });

  it("refetches both lists and the chat itself when it is archived or brought back (elsewhere too)", () => {
    expect(feedUpdateFor({ type: "archive-changed", conversationId: "c1", archivedAt: 7, at: 8 })).toEqual({ ...nothing, list: true, conversationId: "c1" });
    expect(feedUpdateFor({ type: "archive-changed", conversationId: "c1", archivedAt: null, at: 9 })).toMatchObject({ list: true, conversationId: "c1" });
  });

  it("refetches the list, and nothing open, for a conversation imported or branched elsewhere", () => {
    expect(feedUpdateFor({ type: "conversation-added", conversationId: "c9", at: 1 })).toEqual({ ...nothing, list: true });
  });

  it("refetches a conversation's settings when its instructions are set elsewhere, and the room a message has, but neither the list nor its messages", () => {
    expect(feedUpdateFor({ type: "instructions-changed", conversationId: "c1", at: 1 })).toEqual({ ...nothing, settings: "c1", room: true });
  });

  it("refetches a conversation's settings when its sampling is set elsewhere, and nothing else (no room is taken by it)", () => {
    expect(feedUpdateFor({ type: "sampling-changed", conversationId: "c1", at: 1 })).toEqual({ ...nothing, settings: "c1" });
  });

  it("refetches the user's own settings when they are set elsewhere, and the room a message has (their instructions go with every request)", () => {
    expect(feedUpdateFor({ type: "settings-changed", at: 1 })).toEqual({ ...nothing, userSettings: true, room: true });
  });

  it("refetches everything on resync, and the list on an event it does not know", () => {
    expect(feedUpdateFor({ type: "resync", at: 1 })).toMatchObject({ everything: true, userSettings: true });
    const unknown = { type: "something-new", at: 1 } as unknown as Parameters<typeof feedUpdateFor>[0];
    expect(feedUpdateFor(unknown)).toMatchObject({ list: true, everything: false });
  });
});
