// @vitest-environment jsdom
import { defaultSampling, emptyUsage } from "@streamchat/core/browser";
import { act, cleanup, fireEvent, render, waitFor } from "@testing-library/react";
import { useState } from "react";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { newChatInstructions } from "../chat/instructionsDraft.js";
import { newChatSampling } from "../chat/samplingDraft.js";
import { TestChatPane } from "../test-support/chatPane.js";
import { trpcWrapper } from "../test-support/trpc.js";
import type { RouterOutputs } from "../trpc.js";
import { modalDialogsInJsdom } from "../test-support/dialogs.js";

afterEach(() => {
  cleanup();
  newChatInstructions.set("");
  newChatSampling.set(defaultSampling);
  localStorage.clear();
});

beforeAll(modalDialogsInJsdom);

/** The new conversation as stored once its first message was sent (its answer still running). */
function created(id: string) {
  return {
    id,
    title: "First question",
    createdAt: 0,
    updatedAt: 0,
    activeRunId: `${id}-r0`,
    archivedAt: null,
    messages: [{ id: 1, parentId: null, role: "user", content: "First question", runId: `${id}-r0`, createdAt: 0 }],
    runs: [{ id: `${id}-r0`, status: "running", reason: null, usage: emptyUsage(), model: "m", createdAt: 0, toolResults: [], error: null }],
    usage: { context: null },
  };
}

/**
 * A new chat's pane that becomes its conversation's once created (as App does). The server records each chat.send;
 * `failSend` makes it out of reach; conversations.settings never answers (what shows is what the page set).
 */
function openNewChat(opts: { failSend?: boolean } = {}) {
  const sends: Array<Record<string, unknown>> = [];
  const asked: string[] = [];
  const state = { failSend: opts.failSend ?? false };
  const wrapper = trpcWrapper((path, input) => {
    asked.push(path);
    if (path === "chat.send") {
      sends.push(input as Record<string, unknown>);
      if (state.failSend) throw new TypeError("Failed to fetch");
      return { runId: "c-new-r0", conversationId: "c-new" };
    }
    if (path === "conversations.get") return created("c-new");
    if (path === "conversations.settings") return new Promise(() => {});
    if (path === "models.list") return { models: [], defaultModel: null, demo: false };
    // The user's own settings (what the Model settings dialog's empty fields give): none.
    if (path === "settings.get") return { instructions: "", sampling: defaultSampling, updatedAt: null } satisfies RouterOutputs["settings"]["get"];
    return path === "conversations.list" ? [] : null;
  });
  function Pane() {
    const [conversationId, setConversationId] = useState<string | null>(null);
    return <TestChatPane conversationId={conversationId} onCreated={setConversationId} />;
  }
  const view = render(<Pane />, { wrapper });
  return { view, sends, asked, state };
}

/** The header's button opens the dialog, which keeps `text` for the new chat. */
function setInstructions(view: ReturnType<typeof render>, text: string) {
  fireEvent.click(view.getByRole("button", { name: "Chat instructions" }));
  const dialog = view.getByTestId("chat-instructions-dialog") as HTMLDialogElement;
  fireEvent.change(view.getByLabelText("Instructions for this chat"), { target: { value: text } });
  fireEvent.click(view.getByRole("button", { name: "Save" }));
  view.getByRole("button", { name: "Saved" });
  fireEvent.click(view.getByRole("button", { name: "Close" }));
  expect(dialog.open).toBe(false);
}

/**
 * The header's Model settings button opens the dialog, which keeps what is typed in `fields` for the new chat (once the
 * user's defaults, what its empty fields give, are in).
 */
async function setSampling(view: ReturnType<typeof render>, fields: Partial<Record<"Temperature" | "Top P" | "Seed", string>>) {
  fireEvent.click(view.getByTestId(/^chat-sampling-(button|chip)$/));
  const dialog = view.getByTestId("chat-sampling-dialog") as HTMLDialogElement;
  await waitFor(() => expect((view.getByLabelText("Temperature") as HTMLInputElement).disabled).toBe(false));
  for (const [name, value] of Object.entries(fields)) fireEvent.change(view.getByLabelText(name), { target: { value } });
  fireEvent.click(view.getByRole("button", { name: "Save" }));
  view.getByRole("button", { name: "Saved" });
  fireEvent.click(view.getByRole("button", { name: "Close" }));
  expect(dialog.open).toBe(false);
}

function sendMessage(view: ReturnType<typeof render>, text: string) {
  const composer = view.container.querySelector<HTMLTextAreaElement>("#composer-input")!;
  fireEvent.change(composer, { target: { value: text } });
  fireEvent.keyDown(composer, { key: "Enter" });
}

describe("a new chat's instructions, from its header", () => {
  it("are set before the first message, go with it, and are the conversation's afterwards (the marker stays)", async () => {
    const { view, sends, asked } = openNewChat();
    expect(view.getByRole("heading", { name: "New chat" })).toBeTruthy();
    setInstructions(view, "  Answer in haiku.\n");
    // The marker, named by them; the focus is back on it (the same button).
    const marker = view.getByRole("button", { name: "Chat instructions: Answer in haiku." });
    expect(document.activeElement).toBe(marker);
    expect(JSON.parse(localStorage.getItem("streamchat.draftInstructions.new")!)).toEqual({ text: "Answer in haiku." });
    // Kept on this device only: no server call for them.
    expect(asked.filter((p) => p === "conversations.settings" || (p.startsWith("conversations.") && p.includes("nstructions")))).toEqual([]);

    sendMessage(view, "First question");
    await waitFor(() => expect(sends).toHaveLength(1));
    expect(sends[0]).toMatchObject({ message: "First question", instructions: "Answer in haiku." });
    expect(sends[0]!.conversationId).toBeUndefined();
    // The conversation's now: the marker shows them at once (conversations.settings has not answered), the draft is gone.
    await waitFor(() => expect(asked).toContain("conversations.get"));
    await act(async () => {});
    expect(view.getByTestId("chat-instructions-chip").getAttribute("aria-label")).toBe("Chat instructions: Answer in haiku.");
    expect(view.queryByTestId("chat-instructions-button")).toBeNull();
    expect(newChatInstructions.get()).toBe("");
    expect(localStorage.getItem("streamchat.draftInstructions.new")).toBeNull();

  });

  it("go with no message when none are set", async () => {
    const { view, sends } = openNewChat();
    expect(view.getByTestId("chat-instructions-button").getAttribute("aria-label")).toBe("Chat instructions");
    sendMessage(view, "First question");
    await waitFor(() => expect(sends).toHaveLength(1));
    expect(sends[0]).not.toHaveProperty("instructions");
    expect(sends[0]).not.toHaveProperty("sampling");
  });

  it("stay when the first message is not sent, and go with it when it is sent again", async () => {
    const { view, sends, state } = openNewChat({ failSend: true });
    setInstructions(view, "Answer in haiku.");
    sendMessage(view, "First question");
    const retry = await view.findByRole("button", { name: "Retry" });
    expect(sends[0]).toMatchObject({ instructions: "Answer in haiku." });
    expect(newChatInstructions.get()).toBe("Answer in haiku.");
    expect(view.getByRole("button", { name: "Chat instructions: Answer in haiku." })).toBeTruthy();

    state.failSend = false;
    fireEvent.click(retry);
    await waitFor(() => expect(sends).toHaveLength(2));
    expect(sends[1]).toMatchObject({ message: "First question", instructions: "Answer in haiku.", clientRequestId: sends[0]!.clientRequestId });
    await waitFor(() => expect(newChatInstructions.get()).toBe(""));
  });
});

describe("a new chat's model settings, from its header", () => {
  it("are set before the first message, go with it, and are the conversation's afterwards (the marker stays)", async () => {
    const { view, sends, asked } = openNewChat();
    // Quiet while the model's defaults are used, beside the Instructions button.
    const button = view.getByRole("button", { name: "Model settings" });
    expect(button.textContent).toBe("Model settings");
    expect(button.classList.contains("chat-marker--none")).toBe(true);
    expect(view.getByTestId("chat-instructions-button").nextElementSibling).toBe(button);
    await setSampling(view, { Temperature: "0.2", Seed: "42" });
    // The marker, named as a conversation's is; the focus is back on it (the same button).
    const marker = view.getByRole("button", { name: "Model settings: Temperature 0.2 · Seed 42" });
    expect(marker).toBe(button);
    expect(marker.textContent).toBe("Temperature 0.2 · Seed 42");
    expect(marker.classList.contains("chat-marker--none")).toBe(false);
    expect(document.activeElement).toBe(marker);
    expect(JSON.parse(localStorage.getItem("streamchat.draftSampling.new")!)).toEqual({ temperature: 0.2, topP: null, seed: 42 });
    // Kept on this device only: no server call for them.
    expect(asked.filter((p) => p.startsWith("conversations."))).toEqual([]);

    sendMessage(view, "First question");
    await waitFor(() => expect(sends).toHaveLength(1));
    expect(sends[0]).toMatchObject({ message: "First question", sampling: { temperature: 0.2, topP: null, seed: 42 } });
    expect(sends[0]).not.toHaveProperty("instructions");
    // The conversation's now: the marker shows them at once (conversations.settings has not answered), the draft is gone.
    await waitFor(() => expect(asked).toContain("conversations.get"));
    await act(async () => {});
    expect(view.getByTestId("chat-sampling-chip").getAttribute("aria-label")).toBe("Model settings: Temperature 0.2 · Seed 42");
    expect(view.queryByTestId("chat-sampling-button")).toBeNull();
    // No instructions were set: none to show.
    expect(view.queryByTestId("chat-instructions-chip")).toBeNull();
    expect(newChatSampling.get()).toEqual(defaultSampling);
    expect(localStorage.getItem("streamchat.draftSampling.new")).toBeNull();
  });

  it("open ready: the user's defaults, what their empty fields give, are asked with the pane", async () => {
    const { view, asked } = openNewChat();
    await waitFor(() => expect(asked).toContain("settings.get"));
    await act(async () => {});
    fireEvent.click(view.getByTestId("chat-sampling-button"));
    // No round trip first: the fields take input at once.
    expect((view.getByLabelText("Temperature") as HTMLInputElement).disabled).toBe(false);
  });

  it("go with no message while they are the model's, even once set and put back", async () => {
    const { view, sends } = openNewChat();
    await setSampling(view, { "Top P": "0.5" });
    expect(view.getByRole("button", { name: "Model settings: Top P 0.5" })).toBeTruthy();
    await setSampling(view, { "Top P": "" });
    expect(view.getByRole("button", { name: "Model settings" })).toBeTruthy();
    sendMessage(view, "First question");
    await waitFor(() => expect(sends).toHaveLength(1));
    expect(sends[0]).not.toHaveProperty("sampling");
  });

  it("go with the instructions when both are set", async () => {
    const { view, sends } = openNewChat();
    setInstructions(view, "Answer in haiku.");
    await setSampling(view, { Temperature: "0.3" });
    sendMessage(view, "First question");
    await waitFor(() => expect(sends).toHaveLength(1));
    expect(sends[0]).toMatchObject({ instructions: "Answer in haiku.", sampling: { temperature: 0.3, topP: null, seed: null } });
    await act(async () => {});
    expect(view.getByTestId("chat-instructions-chip").getAttribute("aria-label")).toBe("Chat instructions: Answer in haiku.");
    expect(view.getByTestId("chat-sampling-chip").getAttribute("aria-label")).toBe("Model settings: Temperature 0.3");
  });

  it("stay when the first message is not sent, and go with it when it is sent again", async () => {
    const { view, sends, state } = openNewChat({ failSend: true });
    await setSampling(view, { Temperature: "0.3" });
    sendMessage(view, "First question");
    const retry = await view.findByRole("button", { name: "Retry" });
    expect(sends[0]).toMatchObject({ sampling: { temperature: 0.3, topP: null, seed: null } });
    expect(newChatSampling.get()).toEqual({ temperature: 0.3, topP: null, seed: null });
    expect(localStorage.getItem("streamchat.draftSampling.new")).not.toBeNull();
    expect(view.getByRole("button", { name: "Model settings: Temperature 0.3" })).toBeTruthy();

    state.failSend = false;
    fireEvent.click(retry);
    await waitFor(() => expect(sends).toHaveLength(2));
    expect(sends[1]).toMatchObject({ message: "First question", sampling: { temperature: 0.3 }, clientRequestId: sends[0]!.clientRequestId });
    await waitFor(() => expect(newChatSampling.get()).toEqual(defaultSampling));
  });
});
