// @vitest-environment jsdom
import { emptyUsage } from "@streamchat/core/browser";
import { act, cleanup, fireEvent, render } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { TestChatPane } from "../test-support/chatPane.js";
import { trpcWrapper } from "../test-support/trpc.js";

afterEach(cleanup);

/** A conversation with one question and its answer, stored; `failed`: the answer ended with a retryable error. */
function conversation(id: string, failed = false) {
  const run = { id: `${id}-r0`, status: "done", reason: failed ? "error" : "stop", usage: emptyUsage(), model: "m", createdAt: 0, toolResults: [] };
  return {
    id,
    title: "A chat",
    createdAt: 0,
    updatedAt: 0,
    activeRunId: null,
    messages: [
      { id: 1, parentId: null, role: "user", content: "The question", runId: run.id, createdAt: 0 },
      ...(failed ? [] : [{ id: 2, parentId: 1, role: "assistant", content: "The answer", runId: run.id, createdAt: 0 }]),
    ],
    runs: [{ ...run, error: failed ? { code: "provider_unavailable", message: "Connection refused" } : null }],
    usage: { context: null },
  };
}

/** The pane of a stored conversation; the server starts a new run for every edit and regenerate, and is out of reach for sends. */
async function openPane(id: string, failed = false) {
  const wrapper = trpcWrapper((path) => {
    if (path === "conversations.get") return conversation(id, failed);
    if (path === "chat.send") throw new TypeError("Failed to fetch");
    if (path === "chat.edit" || path === "chat.regenerate") return { runId: `${id}-r1`, conversationId: id };
    if (path === "models.list") return { models: [], defaultModel: null, demo: false };
    return path === "conversations.list" ? [] : null;
  });
  const view = render(<TestChatPane conversationId={id} />, { wrapper });
  await view.findByText("The question");
  return view;
}

/**
 * The reader scrolls up, away from the end: following stops. jsdom has no layout, so the scroller is given a height
 * (seen first as the box resizing, which keeps following) and then scrolled to its top.
 */
function scrollUp(view: ReturnType<typeof render>): HTMLElement {
  const scroller = view.container.querySelector<HTMLElement>(".chat__scroll")!;
  Object.defineProperty(scroller, "scrollHeight", { configurable: true, value: 1000 });
  Object.defineProperty(scroller, "clientHeight", { configurable: true, value: 200 });
  Object.defineProperty(scroller, "scrollTop", { configurable: true, writable: true, value: 800 });
  fireEvent.scroll(scroller);
  scroller.scrollTop = 0;
  fireEvent.scroll(scroller);
  expect(view.getByRole("button", { name: "Scroll to the latest message" })).toBeTruthy();
  return scroller;
}

/** Following again: at the end of the conversation, and it stays there as the answer grows. */
function expectFollowing(view: ReturnType<typeof render>, scroller: HTMLElement) {
  expect(view.queryByRole("button", { name: "Scroll to the latest message" })).toBeNull();
  expect(scroller.scrollTop).toBe(1000);
}

/** Edits the question and sends it with the editor's button. */
function saveAndSend(view: ReturnType<typeof render>) {
  fireEvent.click(view.getByRole("button", { name: "Edit" }));
  fireEvent.change(view.getByRole("textbox", { name: "Edit message" }), { target: { value: "The question, reworded" } });
  fireEvent.click(view.getByRole("button", { name: "Save & send" }));
}

describe("ChatPane follows the answer the user asked for", () => {
  it("after an edit's Save & send", async () => {
    const view = await openPane("c-edit");
    const scroller = scrollUp(view);
    saveAndSend(view);
    await act(async () => {});
    expectFollowing(view, scroller);
  });

  it("after Regenerate", async () => {
    const view = await openPane("c-regenerate");
    const scroller = scrollUp(view);
    fireEvent.click(view.getByRole("button", { name: "Regenerate" }));
    await act(async () => {});
    expectFollowing(view, scroller);
  });

  it("after Retry of a failed answer", async () => {
    const view = await openPane("c-retry", true);
    const scroller = scrollUp(view);
    fireEvent.click(view.getByRole("button", { name: "Retry" }));
    await act(async () => {});
    expectFollowing(view, scroller);
  });
});

describe("ChatPane follows a message sent again", () => {
  it("after Retry of a message that was not sent", async () => {
    const view = await openPane("c-resend");
    const composer = view.container.querySelector<HTMLTextAreaElement>("#composer-input")!;
    fireEvent.change(composer, { target: { value: "Another question" } });
    fireEvent.keyDown(composer, { key: "Enter" });
    await view.findByRole("button", { name: "Retry" });
    const scroller = scrollUp(view);
    fireEvent.click(view.getByRole("button", { name: "Retry" }));
    await act(async () => {});
    expectFollowing(view, scroller);
  });
});

describe("ChatPane focus after an edit", () => {
  it("is in the composer after Save & send, and stays there while the new answer runs", async () => {
    const view = await openPane("c-edit-focus");
    saveAndSend(view);
    // The editor and its Edit button are gone while the new answer runs: the composer is where to go on.
    const composer = view.container.querySelector("#composer-input");
    expect(document.activeElement).toBe(composer);
    await act(async () => {});
    expect(view.queryByRole("button", { name: "Edit" })).toBeNull();
    expect(document.activeElement).toBe(composer);
  });
});
