import type { FeedDelivery } from "@streamchat/api";

/** The data of one `conversations.feed` item (a change, or `resync`). */
export type FeedEventData = FeedDelivery["event"];

/** What the page does about one feed event: which cached queries are stale, and what it can patch at once. */
export interface FeedUpdate {
  /** Refetch everything about conversations (the feed could not say what was missed). */
  everything: boolean;
  /** The sidebar's list is stale. */
  list: boolean;
  /** This conversation's detail is stale (its messages, its running run). */
  conversationId: string | null;
  /** Patched into the cached list before the refetch answers. */
  retitle: { conversationId: string; title: string } | null;
  /** Pinned (when) or unpinned (null): patched into the cached list, which reorders it at once. */
  repin: { conversationId: string; pinnedAt: number | null } | null;
  removed: string | null;
  /** This conversation's own settings are stale: its instructions or its sampling (the header's markers, the dialogs). */
  settings: string | null;
  /** The user's own settings are stale (settings.get: the sidebar's Instructions and Model settings, a chat dialog's "Your default"). */
  userSettings: boolean;
  /** The room a message has is stale (a conversation's instructions go with every request; its sampling takes none). */
  room: boolean;
  /** A run that writes on from its conversation's last answer (chat.continue, started elsewhere): continuingRuns. */
  continues: string | null;
}

const none: FeedUpdate = {
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

/**
 * Feed events name what changed; the page refetches what shows it (so a late or repeated event is harmless). A run
 * that started makes the open conversation's detail stale: its refetch carries the new user message and the
 * `activeRunId` the pane then follows over chat.events.
 */
export function feedUpdateFor(event: FeedEventData): FeedUpdate {
  switch (event.type) {
    case "resync":
      return { ...none, everything: true, userSettings: true };
    case "run-started":
      return { ...none, list: true, conversationId: event.conversationId, continues: event.continues ? event.runId : null };
    case "run-finished":
    case "message-added":
      return { ...none, list: true, conversationId: event.conversationId };
    case "title-changed":
      return { ...none, list: true, conversationId: event.conversationId, retitle: { conversationId: event.conversationId, title: event.title } };
    case "pin-changed":
      return { ...none, list: true, repin: { conversationId: event.conversationId, pinnedAt: event.pinnedAt } };
    case "conversation-deleted":
      return { ...none, list: true, removed: event.conversationId };
    case "archive-changed":
      // Out of the list or back in it (both lists refetch), and the open chat's archived note comes or goes.
      return { ...none, list: true, conversationId: event.conversationId };
    case "instructions-changed":
      // Set in another tab or device: neither the list nor the messages show them.
      return { ...none, settings: event.conversationId, room: true };
    case "sampling-changed":
      // Temperature, top P or seed set in another tab or device: only the settings show them.
      return { ...none, settings: event.conversationId };
    case "settings-changed":
      // The user's instructions or sampling, set in another tab or device: every request carries the instructions.
      return { ...none, userSettings: true, room: true };
    case "conversation-added":
      // An import or a branch made elsewhere: the list shows it once refetched; nothing open is stale.
      return { ...none, list: true };
    default:
      // A newer server's event this page does not know: refetching the list is always safe.
      return { ...none, list: true };
  }
}
