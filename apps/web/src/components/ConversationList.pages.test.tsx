// @vitest-environment jsdom
import { act, cleanup, fireEvent, render, waitFor, within } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { useConversationFeed } from "../chat/useConversationFeed.js";
import { serverError, trpcWrapper } from "../test-support/trpc.js";
import { trpc } from "../trpc.js";
import { ConversationList } from "./ConversationList.js";

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

beforeEach(() => {
  // jsdom has no modal dialogs: open is enough here.
  HTMLDialogElement.prototype.showModal ??= function (this: HTMLDialogElement) {
    this.open = true;
  };
});

interface Chat {
  id: string;
  title: string;
  createdAt: number;
  updatedAt: number;
  pinnedAt: number | null;
  activeRunId: string | null;
}

/**
 * `count` chats ("Chat 1" the newest), listed and paged as the API does: pinned first (most recently pinned first), then
 * newest activity; `after` an id, NOT_FOUND when it is not listed. `hold` may hold (a promise) or fail (a rejected one)
 * a list call.
 */
function pagedServer(count: number) {
  const now = Date.now();
  const chats: Chat[] = Array.from({ length: count }, (_, i) => ({
    id: `c${i + 1}`,
    title: `Chat ${i + 1}`,
    createdAt: now - i * 1000,
    updatedAt: now - i * 1000,
    pinnedAt: null,
    activeRunId: null,
  }));
  const calls: unknown[] = [];
  const server = {
    chats,
    calls,
    hold: undefined as ((input: { limit?: number; after?: string } | undefined) => Promise<void> | undefined) | undefined,
    ordered: () => [...chats].sort((a, b) => (b.pinnedAt ?? -1) - (a.pinnedAt ?? -1) || b.updatedAt - a.updatedAt),
    list(input: { limit?: number; after?: string } | undefined) {
      const limit = input?.limit ?? 100;
      const order = server.ordered();
      if (input?.after === undefined) return order.slice(0, limit).map((c) => ({ ...c }));
      const at = order.findIndex((c) => c.id === input.after);
      if (at < 0) throw serverError("NOT_FOUND", "Conversation not found");
      return order.slice(at + 1, at + 1 + limit).map((c) => ({ ...c }));
    },
    find: (id: string) => chats.find((c) => c.id === id)!,
  };
  return server;
}

type Utils = ReturnType<typeof trpc.useUtils>;
type Send = (id: string, data: unknown) => void;

/** The list as the sidebar shows it, plus the page's feed (as App mounts it), and a handle on the query cache. */
function show(server: ReturnType<typeof pagedServer>) {
  let utils: Utils | undefined;
  let sendFeed: Send | undefined;
  function Harness() {
    utils = trpc.useUtils();
    useConversationFeed({ onDeleted: () => {} });
    return null;
  }
  const wrapper = trpcWrapper(
    (path, input) => {
      if (path === "conversations.list") {
        const asked = input as { limit?: number; after?: string } | undefined;
        server.calls.push(asked);
        const wait = server.hold?.(asked);
        return wait ? wait.then(() => server.list(asked)) : server.list(asked);
      }
      if (path === "conversations.pin") {
        const { conversationId, pinned } = input as { conversationId: string; pinned: boolean };
        const chat = server.find(conversationId);
        chat.pinnedAt = pinned ? (chat.pinnedAt ?? Date.now()) : null;
        return { ...chat };
      }
      if (path === "conversations.delete") {
        const { conversationId } = input as { conversationId: string };
        server.chats.splice(server.chats.indexOf(server.find(conversationId)), 1);
        return { deleted: true };
      }
      return null;
    },
    (path, _input, send) => {
      if (path === "conversations.feed") sendFeed = send;
    },
  );
  const view = render(
    <>
      <Harness />
      <ConversationList currentId={null} query="" onOpen={() => {}} onDeleted={() => {}} />
    </>,
    { wrapper },
  );
  const titles = () => view.queryAllByTestId("conversation-title").map((t) => t.textContent);
  return {
    view,
    titles,
    utils: () => utils!,
    feed: (id: string, event: unknown) => act(async () => sendFeed!(id, event)),
    more: () => view.queryByTestId("older-conversations"),
  };
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => `Chat ${from + i}`);

/** An IntersectionObserver the test moves: `near()` says the end of the list came near the view. */
function fakeIntersectionObserver() {
  const live = new Set<{ callback: IntersectionObserverCallback; target: Element | null }>();
  class FakeObserver {
    record: { callback: IntersectionObserverCallback; target: Element | null };
    constructor(callback: IntersectionObserverCallback) {
      this.record = { callback, target: null };
    }
    observe(target: Element) {
      this.record.target = target;
      live.add(this.record);
    }
    disconnect() {
      live.delete(this.record);
    }
    unobserve() {}
    takeRecords() {
      return [];
    }
  }
  vi.stubGlobal("IntersectionObserver", FakeObserver);
  return {
    observed: () => [...live].map((r) => r.target),
    near: () =>
      act(async () => {
        for (const r of [...live]) r.callback([{ isIntersecting: true, target: r.target } as IntersectionObserverEntry], {} as IntersectionObserver);
      }),
  };
}

describe("ConversationList pages", () => {
  it("shows the first 100; Show older chats loads the rest, after the last one, and gives the focus to the first new chat", async () => {
    const server = pagedServer(130);
    const list = show(server);
    await list.view.findByRole("button", { name: "Chat 100" });
    expect(list.titles()).toEqual(range(1, 100));
    expect(server.calls).toEqual([undefined]);

    const button = list.view.getByRole("button", { name: "Show older chats" });
    button.focus();
    fireEvent.click(button);
    await waitFor(() => expect(list.titles()).toEqual(range(1, 130)));
    expect(server.calls).toEqual([undefined, { limit: 100, after: "c100" }]);
    // The end: nothing more to show or ask for.
    expect(list.more()).toBeNull();
    await waitFor(() => expect(document.activeElement).toBe(list.view.getByRole("button", { name: "Chat 101" })));
  });

  it("shows no button for a list that fits in one page", async () => {
    const list = show(pagedServer(99));
    await list.view.findByRole("button", { name: "Chat 99" });
    expect(list.more()).toBeNull();
  });

  it("loads the next page when the end comes near, saying so quietly, and asks no more once the end is reached", async () => {
    const io = fakeIntersectionObserver();
    const server = pagedServer(250);
    let release: () => void = () => {};
    server.hold = (input) => (input?.after === "c100" ? new Promise<void>((resolve) => (release = resolve)) : undefined);
    const list = show(server);
    await list.view.findByRole("button", { name: "Chat 100" });
    expect(io.observed()).toEqual([list.more()]);

    await io.near();
    expect(within(list.more()!).getByRole("button").textContent).toBe("Loading older chats…");
    expect(within(list.more()!).getByRole("status").textContent).toBe("Loading older chats…");
    expect(list.titles()).toHaveLength(100);
    await act(async () => release());
    await waitFor(() => expect(list.titles()).toEqual(range(1, 200)));
    expect(within(list.more()!).getByRole("button").textContent).toBe("Show older chats");

    await io.near();
    await waitFor(() => expect(list.titles()).toEqual(range(1, 250)));
    expect(list.more()).toBeNull();
    expect(io.observed()).toEqual([]);
    expect(server.calls).toEqual([undefined, { limit: 100, after: "c100" }, { limit: 100, after: "c200" }]);
  });

  it("says why a page could not be loaded, does not ask again by itself, and Retry loads it", async () => {
    const io = fakeIntersectionObserver();
    const server = pagedServer(130);
    let reachable = false;
    server.hold = (input) => (input?.after && !reachable ? Promise.reject(new TypeError("Failed to fetch")) : undefined);
    const list = show(server);
    await list.view.findByRole("button", { name: "Chat 100" });
    await io.near();
    const alert = await list.view.findByRole("alert");
    expect(alert.textContent).toBe("Could not load older chats. The server is not reachable.");
    expect(list.view.queryByText("Loading older chats…")).toBeNull();
    const calls = server.calls.length;
    await io.near(); // still near the end: the failure waits for Retry
    expect(server.calls).toHaveLength(calls);

    reachable = true;
    fireEvent.click(within(list.more()!).getByRole("button", { name: "Retry" }));
    await waitFor(() => expect(list.titles()).toEqual(range(1, 130)));
    expect(list.view.queryByRole("alert")).toBeNull();
  });

  it("starts again from a fresh first page when the chat it asked after was deleted meanwhile", async () => {
    const server = pagedServer(230);
    const list = show(server);
    await list.view.findByRole("button", { name: "Chat 100" });
    fireEvent.click(list.view.getByRole("button", { name: "Show older chats" }));
    await waitFor(() => expect(list.titles()).toHaveLength(200));

    // Deleted on another device, unheard of here: the next page is asked after it.
    server.chats.splice(server.chats.indexOf(server.find("c200")), 1);
    fireEvent.click(list.view.getByRole("button", { name: "Show older chats" }));
    await waitFor(() => expect(list.titles()).toEqual([...range(1, 199), ...range(201, 230)]));
    expect(server.calls.slice(2)).toEqual([{ limit: 100, after: "c200" }, { limit: 100 }, { limit: 100, after: "c100" }, { limit: 100, after: "c201" }]);
    expect(list.view.queryByRole("alert")).toBeNull();
    expect(list.more()).toBeNull();
  });

  it("keeps the older pages when fetching them again fails, says so, and Retry fetches them again", async () => {
    const server = pagedServer(130);
    const list = show(server);
    await list.view.findByRole("button", { name: "Chat 100" });
    fireEvent.click(list.view.getByRole("button", { name: "Show older chats" }));
    await waitFor(() => expect(list.titles()).toHaveLength(130));

    let failing = true;
    server.hold = (input) => (input?.after && failing ? Promise.reject(new TypeError("Failed to fetch")) : undefined);
    await act(async () => list.utils().conversations.list.invalidate());
    expect((await list.view.findByRole("alert")).textContent).toBe("Could not load older chats. The server is not reachable.");
    expect(list.titles()).toEqual(range(1, 130));

    failing = false;
    server.find("c130").title = "Renamed meanwhile";
    fireEvent.click(within(list.more()!).getByRole("button", { name: "Retry" }));
    await waitFor(() => expect(list.titles()[129]).toBe("Renamed meanwhile"));
    expect(list.view.queryByRole("alert")).toBeNull();
  });

  it("fetches the pages again from a fresh first page when a refetch asked after a chat deleted between two of its requests", async () => {
    const server = pagedServer(130);
    const list = show(server);
    await list.view.findByRole("button", { name: "Chat 100" });
    fireEvent.click(list.view.getByRole("button", { name: "Show older chats" }));
    await waitFor(() => expect(list.titles()).toHaveLength(130));

    // The first refetch's second page is refused once, as if its chat had just been deleted; the next one is not.
    let refusals = 1;
    server.hold = (input) => (input?.after && refusals-- > 0 ? Promise.reject(serverError("NOT_FOUND", "Conversation not found")) : undefined);
    server.find("c125").title = "Seen after the restart";
    await act(async () => list.utils().conversations.list.invalidate());
    await waitFor(() => expect(list.titles()[124]).toBe("Seen after the restart"));
    expect(list.titles()).toHaveLength(130);
    expect(list.view.queryByRole("alert")).toBeNull();
  });

  it("follows the feed in the older pages: a retitle and a deletion at once, new activity moving a chat to the top once", async () => {
    const server = pagedServer(130);
    const list = show(server);
    await list.view.findByRole("button", { name: "Chat 100" });
    fireEvent.click(list.view.getByRole("button", { name: "Show older chats" }));
    await waitFor(() => expect(list.titles()).toHaveLength(130));

    // The refetches the feed asks for are held: what shows before they answer is the feed's own patch.
    const held: Array<() => void> = [];
    server.hold = () => new Promise<void>((resolve) => held.push(resolve));
    server.find("c120").title = "Renamed elsewhere";
    await list.feed("1", { type: "title-changed", conversationId: "c120", title: "Renamed elsewhere", at: Date.now() });
    await waitFor(() => expect(list.titles()[119]).toBe("Renamed elsewhere"));
    server.chats.splice(server.chats.indexOf(server.find("c125")), 1);
    await list.feed("2", { type: "conversation-deleted", conversationId: "c125", at: Date.now() });
    await waitFor(() => expect(list.titles()).not.toContain("Chat 125"));
    // Neither came from a refetch: every list call since the feed spoke is still held.
    expect(held.length).toBeGreaterThan(0);
    server.hold = undefined;
    await act(async () => held.forEach((release) => release()));

    // A message in a chat of the second page: the refetched first page has it at the top, the older pages lose it.
    server.find("c110").updatedAt = Date.now() + 1000;
    await list.feed("3", { type: "message-added", conversationId: "c110", runId: null, messageId: 1, role: "user", at: Date.now() });
    await waitFor(() => expect(list.titles()[0]).toBe("Chat 110"));
    await waitFor(() => expect(list.titles()).toEqual(["Chat 110", ...range(1, 109), ...range(111, 119), "Renamed elsewhere", ...range(121, 124), ...range(126, 130)]));
    expect(list.titles().filter((t) => t === "Chat 110")).toHaveLength(1);
  });

  it("pins a chat of an older page into Pinned at once, with the focus on its Unpin, and lists it once", async () => {
    const server = pagedServer(130);
    const list = show(server);
    await list.view.findByRole("button", { name: "Chat 100" });
    fireEvent.click(list.view.getByRole("button", { name: "Show older chats" }));
    await list.view.findByRole("button", { name: "Chat 130" });

    fireEvent.click(list.view.getByRole("button", { name: "Pin Chat 115" }));
    await waitFor(() => expect(list.titles()[0]).toBe("Chat 115"));
    const pinned = list.view.container.querySelector("section")!;
    expect(pinned.querySelector("h2")!.textContent).toBe("Pinned");
    await waitFor(() => expect(document.activeElement).toBe(list.view.getByRole("button", { name: "Unpin Chat 115" })));
    // The server's lists, asked again after the pin: Chat 115 first, once; Chat 100 now on the second page, still shown.
    await waitFor(() => expect(server.calls.length).toBeGreaterThanOrEqual(5));
    await waitFor(() => expect(list.titles()).toEqual(["Chat 115", ...range(1, 114), ...range(116, 130)]));
  });

  it("gives the focus to the next chat when one of an older page is deleted", async () => {
    const server = pagedServer(130);
    const list = show(server);
    await list.view.findByRole("button", { name: "Chat 100" });
    fireEvent.click(list.view.getByRole("button", { name: "Show older chats" }));
    await list.view.findByRole("button", { name: "Chat 130" });

    fireEvent.click(list.view.getByRole("button", { name: "Delete Chat 120" }));
    fireEvent.click(list.view.getByRole("button", { name: "Delete" }));
    await waitFor(() => expect(list.titles()).not.toContain("Chat 120"));
    await waitFor(() => expect(document.activeElement).toBe(list.view.getByRole("button", { name: "Chat 121" })));
    expect(list.titles()).toEqual([...range(1, 119), ...range(121, 130)]);
  });
});
