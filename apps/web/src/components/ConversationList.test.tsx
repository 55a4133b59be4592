// @vitest-environment jsdom
import { act, cleanup, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { serverError, trpcWrapper } from "../test-support/trpc.js";
import { ConversationList } from "./ConversationList.js";

afterEach(cleanup);

async function renaming() {
  const renames: unknown[] = [];
  const list = [{ id: "c1", title: "Old title", createdAt: Date.now(), updatedAt: Date.now(), activeRunId: null }];
  const wrapper = trpcWrapper((path, input) => {
    if (path === "conversations.rename") renames.push(input);
    return path === "conversations.list" ? list : null;
  });
  const view = render(<ConversationList currentId={null} query="" onOpen={() => {}} onDeleted={() => {}} />, { wrapper });
  fireEvent.click(await view.findByRole("button", { name: "Rename Old title" }));
  const input = () => screen.queryByRole<HTMLInputElement>("textbox", { name: "Conversation title" });
  fireEvent.change(input()!, { target: { value: "にほんご" } });
  return { input, renames };
}

describe("ConversationList rename keys", () => {
  it("neither saves nor cancels on the Enter and Escape of an IME composition", async () => {
    const { input, renames } = await renaming();
    const imeKeys = [
      { key: "Enter", isComposing: true }, // picks a candidate
      { key: "Escape", isComposing: true }, // drops the candidates
      { key: "Enter", keyCode: 229 }, // Safari: the Enter that ends the composition
    ];
    for (const key of imeKeys) {
      fireEvent.keyDown(input()!, key);
      await act(async () => {});
      expect(input()?.value, `after ${JSON.stringify(key)}`).toBe("にほんご");
    }
    expect(renames).toEqual([]);
  });

  it("saves on Enter otherwise", async () => {
    const { input, renames } = await renaming();
    fireEvent.keyDown(input()!, { key: "Enter" });
    await act(async () => {});
    expect(input()).toBeNull();
    expect(renames).toEqual([{ conversationId: "c1", title: "にほんご" }]);
  });
});

describe("ConversationList rename focus", () => {
  it("gives focus back to the Rename button when the rename ends with Enter or Escape", async () => {
    const { input } = await renaming();
    fireEvent.keyDown(input()!, { key: "Enter" });
    await act(async () => {});
    expect(document.activeElement).toBe(screen.getByRole("button", { name: /^Rename / }));

    fireEvent.click(screen.getByRole("button", { name: /^Rename / }));
    fireEvent.keyDown(input()!, { key: "Escape" });
    await act(async () => {});
    expect(document.activeElement).toBe(screen.getByRole("button", { name: /^Rename / }));
  });
});

/** A list with one chat; the test says how the server answers its rename and its delete. */
function withServer(answers: { rename?: (input: unknown) => unknown; remove?: () => unknown } = {}) {
  let list = [{ id: "c1", title: "Old title", createdAt: Date.now(), updatedAt: Date.now(), activeRunId: null }];
  const deleted: string[] = [];
  const wrapper = trpcWrapper((path, input) => {
    if (path === "conversations.list") return list;
    if (path === "conversations.rename") return answers.rename?.(input) ?? null;
    if (path === "conversations.delete") return answers.remove?.() ?? { deleted: true };
    return null;
  });
  const view = render(<ConversationList currentId={null} query="" onOpen={() => {}} onDeleted={(id) => deleted.push(id)} />, { wrapper });
  return {
    view,
    deleted,
    /** What the server lists from now on (another tab deleted the chat). */
    setList: (next: typeof list) => (list = next),
    titles: () => view.queryAllByTestId("conversation-title").map((t) => t.textContent),
  };
}

async function renameTo(view: ReturnType<typeof render>, title: string) {
  fireEvent.click(await view.findByRole("button", { name: /^Rename / }));
  fireEvent.change(view.getByRole("textbox", { name: "Conversation title" }), { target: { value: title } });
  fireEvent.keyDown(view.getByRole("textbox", { name: "Conversation title" }), { key: "Enter" });
}

describe("ConversationList rename failures", () => {
  it("shows the new title while it is saved, then the stored one again and why, when saving it failed", async () => {
    let fail: (error: unknown) => void = () => {};
    const server = withServer({ rename: () => new Promise((_, reject) => (fail = reject)) });
    await renameTo(server.view, "New title");
    await act(async () => {});
    expect(server.titles()).toEqual(["New title"]);
    expect(server.view.queryByRole("alert")).toBeNull();

    await act(async () => fail(new TypeError("Failed to fetch")));
    expect((await server.view.findByRole("alert")).textContent).toBe("“Old title” was not renamed. The server is not reachable.");
    expect(server.titles()).toEqual(["Old title"]);

    fireEvent.click(server.view.getByRole("button", { name: "Dismiss conversation error" }));
    expect(server.view.queryByRole("alert")).toBeNull();
  });

  it("says what the server refused about the title", async () => {
    const server = withServer({ rename: () => Promise.reject(serverError("BAD_REQUEST", "The title is too long.", "bad_request")) });
    await renameTo(server.view, "New title");
    expect((await server.view.findByRole("alert")).textContent).toBe("“Old title” was not renamed. The title is too long.");
    expect(server.titles()).toEqual(["Old title"]);
  });

  it("says so when the chat was deleted in another tab, and the chat leaves the list", async () => {
    const server = withServer({
      rename: () => {
        server.setList([]);
        throw serverError("NOT_FOUND", "Conversation not found");
      },
    });
    await renameTo(server.view, "New title");
    expect((await server.view.findByRole("alert")).textContent).toBe(
      "“Old title” was not renamed: this chat no longer exists. It may have been deleted in another tab.",
    );
    await waitFor(() => expect(server.titles()).toEqual([]));
    expect(server.view.getByRole("alert")).toBeTruthy();
  });
});

describe("ConversationList delete failures", () => {
  beforeEach(() => {
    // jsdom has no modal dialogs: open is enough here.
    HTMLDialogElement.prototype.showModal ??= function (this: HTMLDialogElement) {
      this.open = true;
    };
  });

  it("takes a chat already deleted elsewhere as deleted", async () => {
    const server = withServer({
      remove: () => {
        server.setList([]);
        throw serverError("NOT_FOUND", "Conversation not found");
      },
    });
    fireEvent.click(await server.view.findByRole("button", { name: "Delete Old title" }));
    fireEvent.click(server.view.getByRole("button", { name: "Delete" }));
    await waitFor(() => expect(server.titles()).toEqual([]));
    expect(server.deleted).toEqual(["c1"]);
    expect(server.view.queryByRole("alert")).toBeNull();
  });

  it("says why a delete failed in the dialog, and asks afresh the next time", async () => {
    const server = withServer({ remove: () => Promise.reject(new TypeError("Failed to fetch")) });
    fireEvent.click(await server.view.findByRole("button", { name: "Delete Old title" }));
    fireEvent.click(server.view.getByRole("button", { name: "Delete" }));
    expect((await server.view.findByRole("alert")).textContent).toBe("Not deleted. The server is not reachable.");
    expect(server.deleted).toEqual([]);

    fireEvent.click(server.view.getByRole("button", { name: "Cancel" }));
    fireEvent.click(server.view.getByRole("button", { name: "Delete Old title" }));
    expect(server.view.queryByRole("alert")).toBeNull();
  });
});

describe("ConversationList when the list cannot be loaded", () => {
  it("says so in words, not the network's message, and Retry loads it", async () => {
    let reachable = false;
    const wrapper = trpcWrapper((path) => {
      if (path !== "conversations.list") return null;
      if (!reachable) throw new TypeError("Failed to fetch");
      return [{ id: "c1", title: "Back again", createdAt: Date.now(), updatedAt: Date.now(), activeRunId: null }];
    });
    const view = render(<ConversationList currentId={null} query="" onOpen={() => {}} onDeleted={() => {}} />, { wrapper });
    const alert = await view.findByRole("alert");
    expect(alert.textContent).toContain("Could not load your conversations. The server is not reachable.");
    expect(alert.textContent).not.toContain("Failed to fetch");
    reachable = true;
    fireEvent.click(view.getByRole("button", { name: "Retry" }));
    expect(await view.findByRole("button", { name: "Back again" })).toBeTruthy();
    expect(view.queryByRole("alert")).toBeNull();
  });
});

describe("ConversationList search marks", () => {
  const now = Date.now();
  const list = [
    { id: "c1", title: "Weather on Mars", createdAt: now, updatedAt: now, activeRunId: null },
    { id: "c2", title: "Café opening hours", createdAt: now, updatedAt: now - 1, activeRunId: null },
    { id: "c3", title: "Sky notes", createdAt: now, updatedAt: now - 2, activeRunId: null },
  ];
  const show = (query: string, hits: unknown[] = []) => {
    const wrapper = trpcWrapper((path) => (path === "conversations.list" ? list : path === "conversations.search" ? hits : null));
    return render(<ConversationList currentId={null} query={query} onOpen={() => {}} onDeleted={() => {}} />, { wrapper });
  };
  const marks = (view: ReturnType<typeof render>) => [...view.container.querySelectorAll("mark")].map((m) => m.textContent);

  it("marks what the query matched in each title found, by the search's folding", async () => {
    const view = show("MARS");
    await view.findByRole("button", { name: "Weather on Mars" });
    expect(marks(view)).toEqual(["Mars"]);
    // The whole title still reads as one (its button's name, the row's text).
    expect(view.getByTestId("conversation-title").textContent).toBe("Weather on Mars");

    cleanup();
    const accents = show("cafe hours");
    await accents.findByRole("button", { name: "Café opening hours" });
    expect(marks(accents)).toEqual(["Café", "hours"]);
  });

  it("marks nothing in a title found by its messages only, nor without a search", async () => {
    const hit = { conversationId: "c3", title: "Sky notes", messageId: 1, role: "user", snippet: "aurora", createdAt: now };
    const view = show("aurora", [hit]);
    await view.findByRole("button", { name: "Sky notes" }, { timeout: 2000 });
    expect(marks(view)).toEqual([]);

    cleanup();
    const all = show("");
    await all.findByRole("button", { name: "Weather on Mars" });
    expect(marks(all)).toEqual([]);
  });

  it("finds archived chats by their titles too, marked Archived, asking the archived list apart", async () => {
    const archived = [{ id: "c8", title: "Mars rover notes", createdAt: now, updatedAt: now - 9, pinnedAt: null, archivedAt: now - 3, activeRunId: null }];
    const asked: unknown[] = [];
    const wrapper = trpcWrapper((path, input) => {
      if (path === "conversations.list") {
        asked.push(input);
        return (input as { archived?: boolean } | undefined)?.archived === true ? archived : list;
      }
      return path === "conversations.search" ? [] : null;
    });
    const view = render(<ConversationList currentId={null} query="mars" onOpen={() => {}} onDeleted={() => {}} />, { wrapper });
    await view.findByRole("button", { name: "Mars rover notes Archived" }, { timeout: 2000 });
    expect(view.getAllByTestId("conversation-title").map((t) => t.textContent)).toEqual(["Weather on Mars", "Mars rover notes"]);
    expect(asked).toContainEqual({ query: "mars", limit: 50, archived: true });
  });

  it("says Archived after the title of an archived chat its messages were found in, and after no other", async () => {
    const archived = { conversationId: "c9", title: "Old trip", messageId: 4, role: "user", snippet: "mars rover", createdAt: now, archivedAt: now - 5 };
    const view = show("mars", [archived]);
    const row = await view.findByRole("button", { name: "Old trip Archived" }, { timeout: 2000 });
    expect(row.querySelector(".conversation__archived")?.textContent).toBe("Archived");
    expect(view.getByRole("button", { name: "Weather on Mars" }).querySelector(".conversation__archived")).toBeNull();
  });
});

describe("ConversationList pinning", () => {
  const now = Date.now();
  /**
   * Three chats, the server's list kept in step with its pins. `server.before` may hold a pin's answer (a promise the test
   * settles) or fail it (a rejected one).
   */
  function pinning(server: { before?: (input: { conversationId: string; pinned: boolean }) => Promise<void> | undefined } = {}) {
    const list = [
      { id: "c1", title: "Newest", createdAt: now, updatedAt: now, pinnedAt: null as number | null, activeRunId: null },
      { id: "c2", title: "Middle", createdAt: now, updatedAt: now - 1, pinnedAt: null as number | null, activeRunId: null },
      { id: "c3", title: "Oldest", createdAt: now, updatedAt: now - 2, pinnedAt: null as number | null, activeRunId: null },
    ];
    const pins: unknown[] = [];
    const wrapper = trpcWrapper((path, input) => {
      if (path === "conversations.list") return list.map((c) => ({ ...c }));
      if (path !== "conversations.pin") return null;
      const asked = input as { conversationId: string; pinned: boolean };
      pins.push(asked);
      const apply = () => {
        const chat = list.find((c) => c.id === asked.conversationId)!;
        chat.pinnedAt = asked.pinned ? (chat.pinnedAt ?? Date.now()) : null;
        return { ...chat };
      };
      const wait = server.before?.(asked);
      return wait ? wait.then(apply) : apply();
    });
    const view = render(<ConversationList currentId={null} query="" onOpen={() => {}} onDeleted={() => {}} />, { wrapper });
    const sections = () =>
      [...view.container.querySelectorAll("section")].map((s) => [s.querySelector("h2")?.textContent, [...s.querySelectorAll("[data-testid=conversation-title]")].map((t) => t.textContent)]);
    return { view, pins, sections };
  }

  it("moves a pinned chat into Pinned at once, most recently pinned first, keeps the focus on its button, and unpins it back", async () => {
    // The first pin's answer waits until the test lets it go: the chat moves before the server answered.
    let answerFirst: () => void = () => {};
    const held = new Promise<void>((resolve) => (answerFirst = resolve));
    const { view, pins, sections } = pinning({ before: (input) => (input.conversationId === "c3" && input.pinned ? held : undefined) });
    fireEvent.click(await view.findByRole("button", { name: "Pin Oldest" }));
    await waitFor(() => expect(sections()).toEqual([["Pinned", ["Oldest"]], ["Today", ["Newest", "Middle"]]]));
    await waitFor(() => expect(document.activeElement).toBe(view.getByRole("button", { name: "Unpin Oldest" })));
    answerFirst();
    await act(async () => {});
    await new Promise((resolve) => setTimeout(resolve, 2)); // the next pin is later
    fireEvent.click(view.getByRole("button", { name: "Pin Middle" }));
    await waitFor(() => expect(sections()).toEqual([["Pinned", ["Middle", "Oldest"]], ["Today", ["Newest"]]]));
    await waitFor(() => expect(document.activeElement).toBe(view.getByRole("button", { name: "Unpin Middle" })));

    fireEvent.click(view.getByRole("button", { name: "Unpin Oldest" }));
    await waitFor(() => expect(sections()).toEqual([["Pinned", ["Middle"]], ["Today", ["Newest", "Oldest"]]]));
    await waitFor(() => expect(document.activeElement).toBe(view.getByRole("button", { name: "Pin Oldest" })));
    expect(pins).toEqual([
      { conversationId: "c3", pinned: true },
      { conversationId: "c2", pinned: true },
      { conversationId: "c3", pinned: false },
    ]);
  });

  it("puts the chat back and says why when the pin failed", async () => {
    const { view, sections } = pinning({ before: () => Promise.reject(new TypeError("Failed to fetch")) });
    fireEvent.click(await view.findByRole("button", { name: "Pin Middle" }));
    expect((await view.findByRole("alert")).textContent).toBe("“Middle” was not pinned. The server is not reachable.");
    await waitFor(() => expect(sections()).toEqual([["Today", ["Newest", "Middle", "Oldest"]]]));
  });
});
