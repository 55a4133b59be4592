// @vitest-environment jsdom
import { defaultSampling } from "@streamchat/core/browser";
import { cleanup, fireEvent, render, waitFor } from "@testing-library/react";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { serverError, trpcWrapper } from "../test-support/trpc.js";
import { trpc } from "../trpc.js";
import { ChatInstructionsChip, ChatInstructionsDialog, instructionsExcerpt, NewChatInstructionsButton } from "./ChatInstructions.js";
import { maxInstructionsChars } from "./InstructionsPanel.js";
import { modalDialogsInJsdom } from "../test-support/dialogs.js";

afterEach(cleanup);

beforeAll(modalDialogsInJsdom);

/** A server that keeps chats' instructions, trimming them as the API does, and records what it was asked. */
function fakeServer(initial: Record<string, string> = {}) {
  const state = {
    instructions: new Map(Object.entries(initial)),
    saved: [] as Array<{ conversationId: string; instructions: string }>,
    asked: [] as string[],
    failSave: false,
    /** Held until the test lets the save end ("Saving…" meanwhile). */
    hold: null as Promise<void> | null,
  };
  const answer = (path: string, input: unknown) => {
    state.asked.push(path);
    if (path === "conversations.settings") {
      const { conversationId } = input as { conversationId: string };
      const text = state.instructions.get(conversationId) ?? "";
      return { instructions: text, sampling: defaultSampling, updatedAt: text === "" ? null : 1 };
    }
    if (path === "conversations.setInstructions") {
      if (state.failSave) throw serverError("BAD_REQUEST", "instructions: must be at most 4000 characters", "bad_request");
      const saved = input as { conversationId: string; instructions: string };
      state.saved.push(saved);
      state.instructions.set(saved.conversationId, saved.instructions.trim());
      const stored = { instructions: saved.instructions.trim(), sampling: defaultSampling, updatedAt: 2 };
      return state.hold ? state.hold.then(() => stored) : stored;
    }
    if (path === "models.room") return { limit: 8192, room: 6000 };
    throw new Error(`unexpected call ${path}`);
  };
  return { state, answer };
}

/** The dialog of a stored conversation's instructions (the server's). */
const c1 = { kind: "conversation", conversationId: "c1" } as const;

/** Something else on the page that reads models.room (the composer does): a save must make it stale. */
function RoomReader() {
  trpc.models.room.useQuery({ conversationId: "c1" });
  return null;
}

describe("ChatInstructionsDialog", () => {
  it("shows the stored text with its count, saves an edit, and shows what the server stored", async () => {
    const server = fakeServer({ c1: "We are in Kyoto." });
    const view = render(
      <>
        <RoomReader />
        <ChatInstructionsDialog source={c1} onClose={() => {}} />
      </>,
      { wrapper: trpcWrapper(server.answer) },
    );
    const box = (await view.findByDisplayValue("We are in Kyoto.")) as HTMLTextAreaElement;
    expect(view.getByLabelText("Instructions for this chat")).toBe(box);
    expect(box.maxLength).toBe(maxInstructionsChars);
    expect(view.getByText(`16 / ${maxInstructionsChars}`)).toBeTruthy();
    expect(view.getByText(/^Every new answer in this chat gets these, after your custom instructions\./)).toBeTruthy();
    // The text has the focus once loaded.
    await waitFor(() => expect(document.activeElement).toBe(box));
    const save = view.getByRole("button", { name: "Save" }) as HTMLButtonElement;
    // Nothing to save until the text changes (whitespace alone is no change: the server trims).
    expect(save.disabled).toBe(true);
    fireEvent.change(box, { target: { value: "We are in Kyoto.  " } });
    expect(save.disabled).toBe(true);

    fireEvent.change(box, { target: { value: "  Answer in Spanish.\n" } });
    expect(view.getByText(`21 / ${maxInstructionsChars}`)).toBeTruthy();
    expect(view.getByRole("button", { name: "Cancel" })).toBeTruthy();
    expect(save.disabled).toBe(false);
    const roomAsked = server.state.asked.filter((p) => p === "models.room").length;
    let release = () => {};
    server.state.hold = new Promise((resolve) => (release = resolve));
    fireEvent.click(save);
    expect(((await view.findByRole("button", { name: "Saving…" })) as HTMLButtonElement).disabled).toBe(true);
    release();
    await view.findByRole("button", { name: "Saved" });
    // Sent trimmed, as a new chat's draft is kept (the server trims too).
    expect(server.state.saved).toEqual([{ conversationId: "c1", instructions: "Answer in Spanish." }]);
    expect(box.value).toBe("Answer in Spanish.");
    expect(view.getByText(`18 / ${maxInstructionsChars}`)).toBeTruthy();
    // Nothing left unsaved: the other button closes.
    expect(view.getByRole("button", { name: "Close" })).toBeTruthy();
    // The room left for a message counts them: asked again.
    await waitFor(() => expect(server.state.asked.filter((p) => p === "models.room").length).toBe(roomAsked + 1));

    // The next edit takes "Saved" away.
    fireEvent.change(box, { target: { value: "Answer in German." } });
    expect(view.getByRole("button", { name: "Save" })).toBeTruthy();
  });

  it("says in words when saving fails, and keeps the draft", async () => {
    const server = fakeServer();
    server.state.failSave = true;
    const view = render(<ChatInstructionsDialog source={c1} onClose={() => {}} />, { wrapper: trpcWrapper(server.answer) });
    const box = (await view.findByPlaceholderText(/^e\.g\./)) as HTMLTextAreaElement;
    fireEvent.change(box, { target: { value: "Call me Ishmael." } });
    fireEvent.click(view.getByRole("button", { name: "Save" }));
    const alert = await view.findByRole("alert");
    expect(alert.textContent).toMatch(/^Could not save this chat's instructions\. \S/);
    expect(alert.textContent).not.toContain("4000 characters");
    expect(box.value).toBe("Call me Ishmael.");
    expect(view.getByRole("button", { name: "Save" })).toBeTruthy();
  });

  it("says so when they cannot be loaded", async () => {
    const view = render(<ChatInstructionsDialog source={c1} onClose={() => {}} />, {
      wrapper: trpcWrapper(() => {
        throw new TypeError("Failed to fetch");
      }),
    });
    expect((await view.findByRole("alert")).textContent).toBe("Could not load this chat's instructions. The server is not reachable.");
  });

  it("closes from its button (as Escape closes a dialog), once", async () => {
    const onClose = vi.fn();
    const view = render(<ChatInstructionsDialog source={c1} onClose={onClose} />, { wrapper: trpcWrapper(fakeServer().answer) });
    const dialog = view.getByTestId("chat-instructions-dialog") as HTMLDialogElement;
    expect(dialog.open).toBe(true);
    fireEvent.click(await view.findByRole("button", { name: "Close" }));
    expect(dialog.open).toBe(false);
    expect(onClose).toHaveBeenCalledTimes(1);
  });

  it("closes on a click on its backdrop, but not over an edit that is not saved", async () => {
    const onClose = vi.fn();
    const view = render(<ChatInstructionsDialog source={c1} onClose={onClose} />, { wrapper: trpcWrapper(fakeServer({ c1: "Be brief." }).answer) });
    const dialog = view.getByTestId("chat-instructions-dialog") as HTMLDialogElement;
    const box = view.getByLabelText("Instructions for this chat") as HTMLTextAreaElement;
    await waitFor(() => expect(box.value).toBe("Be brief."));
    fireEvent.change(box, { target: { value: "Be brief, and cite sources." } });
    fireEvent.click(dialog); // the backdrop: the dialog element itself
    expect(dialog.open).toBe(true);
    expect(box.value).toBe("Be brief, and cite sources.");
    fireEvent.click(view.getByRole("button", { name: "Cancel" }));
    expect(dialog.open).toBe(false);
    expect(onClose).toHaveBeenCalledTimes(1);

    onClose.mockClear();
    cleanup();
    const unchanged = render(<ChatInstructionsDialog source={c1} onClose={onClose} />, { wrapper: trpcWrapper(fakeServer().answer) });
    fireEvent.click(unchanged.getByTestId("chat-instructions-dialog"));
    expect(onClose).toHaveBeenCalledTimes(1);
  });
});

describe("ChatInstructionsDialog for a new chat (a draft kept here)", () => {
  /** A new chat's draft: what the pane keeps, and every save handed to it. */
  function draftSource(initial = "") {
    const saved: string[] = [];
    const source = { kind: "draft" as const, value: initial, onSave: (text: string) => saved.push(text) };
    return { source, saved };
  }
  /** No server to ask: any call is a failure of the test. */
  const noServer = () => {
    const asked: string[] = [];
    return {
      asked,
      answer: (path: string) => {
        asked.push(path);
        throw new Error(`unexpected call ${path}`);
      },
    };
  };

  it("edits the draft without a server call: trimmed on Save, then Saved until the next edit", async () => {
    const server = noServer();
    const draft = draftSource();
    const view = render(<ChatInstructionsDialog source={draft.source} onClose={() => {}} />, { wrapper: trpcWrapper(server.answer) });
    const box = view.getByLabelText("Instructions for this chat") as HTMLTextAreaElement;
    // Nothing to load: the box is ready, and has the focus.
    expect(box.disabled).toBe(false);
    await waitFor(() => expect(document.activeElement).toBe(box));
    expect(box.maxLength).toBe(maxInstructionsChars);
    expect(view.getByText(`0 / ${maxInstructionsChars}`)).toBeTruthy();
    expect(view.getByText(/^Every answer in this new chat gets these, after your custom instructions\. They are saved with the chat when you send its first message\.$/)).toBeTruthy();
    const save = view.getByRole("button", { name: "Save" }) as HTMLButtonElement;
    expect(save.disabled).toBe(true);
    fireEvent.change(box, { target: { value: "   " } });
    expect(save.disabled).toBe(true);

    fireEvent.change(box, { target: { value: "  Answer in haiku.\n" } });
    expect(view.getByText(`19 / ${maxInstructionsChars}`)).toBeTruthy();
    expect(view.getByRole("button", { name: "Cancel" })).toBeTruthy();
    fireEvent.click(save);
    expect(draft.saved).toEqual(["Answer in haiku."]);
    // The pane keeps the draft and gives it back as the value: the box shows what was kept.
    view.rerender(<ChatInstructionsDialog source={{ ...draft.source, value: "Answer in haiku." }} onClose={() => {}} />);
    expect(box.value).toBe("Answer in haiku.");
    expect(view.getByText(`16 / ${maxInstructionsChars}`)).toBeTruthy();
    expect(view.getByRole("button", { name: "Saved" })).toBeTruthy();
    expect(view.getByRole("button", { name: "Close" })).toBeTruthy();

    // The next edit takes "Saved" away; whitespace around the kept text is no change.
    fireEvent.change(box, { target: { value: "Answer in haiku. " } });
    expect((view.getByRole("button", { name: "Save" }) as HTMLButtonElement).disabled).toBe(true);
    fireEvent.change(box, { target: { value: "" } });
    fireEvent.click(view.getByRole("button", { name: "Save" }));
    expect(draft.saved).toEqual(["Answer in haiku.", ""]);

    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(server.asked).toEqual([]);
  });

  it("opens with the kept draft, and Cancel, Escape and the backdrop behave as for a conversation", async () => {
    const onClose = vi.fn();
    const draft = draftSource("Be brief.");
    const view = render(<ChatInstructionsDialog source={draft.source} onClose={onClose} />, { wrapper: trpcWrapper(noServer().answer) });
    const dialog = view.getByTestId("chat-instructions-dialog") as HTMLDialogElement;
    const box = view.getByLabelText("Instructions for this chat") as HTMLTextAreaElement;
    expect(box.value).toBe("Be brief.");
    expect(dialog.open).toBe(true);
    fireEvent.change(box, { target: { value: "Be brief, and cite sources." } });
    // Escape is the dialog's own: it goes no further (not the answer's Stop).
    const escape = new KeyboardEvent("keydown", { key: "Escape", bubbles: true });
    const heard = vi.fn();
    document.addEventListener("keydown", heard);
    box.dispatchEvent(escape);
    document.removeEventListener("keydown", heard);
    expect(heard).not.toHaveBeenCalled();
    fireEvent.click(dialog); // the backdrop: not over an edit that is not saved
    expect(dialog.open).toBe(true);
    fireEvent.click(view.getByRole("button", { name: "Cancel" }));
    expect(dialog.open).toBe(false);
    expect(onClose).toHaveBeenCalledTimes(1);
    // Cancelled: nothing kept.
    expect(draft.saved).toEqual([]);

    cleanup();
    onClose.mockClear();
    const unchanged = render(<ChatInstructionsDialog source={draftSource("Be brief.").source} onClose={onClose} />, { wrapper: trpcWrapper(noServer().answer) });
    fireEvent.click(unchanged.getByTestId("chat-instructions-dialog"));
    expect(onClose).toHaveBeenCalledTimes(1);
  });
});

describe("NewChatInstructionsButton", () => {
  it("is a quiet button named Chat instructions while none are set, and the marker once they are", () => {
    const onOpen = vi.fn();
    const view = render(<NewChatInstructionsButton text="" onOpen={onOpen} />);
    const button = view.getByRole("button", { name: "Chat instructions" });
    expect(button.textContent).toBe("Instructions");
    expect(button.getAttribute("aria-haspopup")).toBe("dialog");
    expect(button.classList.contains("chat-marker--none")).toBe(true);
    fireEvent.click(button);
    expect(onOpen).toHaveBeenCalledWith(button);

    view.rerender(<NewChatInstructionsButton text={"Answer   in haiku.\n"} onOpen={onOpen} />);
    // The same button (what opened the dialog keeps the focus after a save), now the marker.
    const marker = view.getByRole("button", { name: "Chat instructions: Answer in haiku." });
    expect(marker).toBe(button);
    expect(marker.getAttribute("title")).toBe("Chat instructions: Answer in haiku.");
    expect(marker.classList.contains("chat-marker--none")).toBe(false);
    expect(marker.dataset.testid).toBe("chat-instructions-chip");
  });
});

describe("ChatInstructionsChip", () => {
  it("shows when the chat has instructions, named by their start, and opens them", async () => {
    const long = `Plan with me:   a week in Kyoto.\n${"x".repeat(100)}`;
    const onOpen = vi.fn();
    const view = render(<ChatInstructionsChip conversationId="c1" onOpen={onOpen} />, { wrapper: trpcWrapper(fakeServer({ c1: long }).answer) });
    const chip = await view.findByRole("button", { name: /^Chat instructions: / });
    const name = `Chat instructions: ${`Plan with me: a week in Kyoto. ${"x".repeat(100)}`.slice(0, 80)}…`;
    expect(chip.getAttribute("aria-label")).toBe(name);
    expect(chip.getAttribute("title")).toBe(name);
    expect(chip.textContent).toBe("Instructions");
    fireEvent.click(chip);
    expect(onOpen).toHaveBeenCalledWith(chip);
  });

  it("shows nothing for a chat without instructions", async () => {
    const server = fakeServer({ c2: "Elsewhere." });
    const view = render(<ChatInstructionsChip conversationId="c1" onOpen={() => {}} />, { wrapper: trpcWrapper(server.answer) });
    await waitFor(() => expect(server.state.asked).toContain("conversations.settings"));
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(view.container.innerHTML).toBe("");
  });

  it("names short instructions whole", () => {
    expect(instructionsExcerpt("  Be brief.\n\nVery.  ")).toBe("Be brief. Very.");
  });
});
