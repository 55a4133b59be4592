// @vitest-environment jsdom
import { emptyUsage } from "@streamchat/core/browser";
import { act, cleanup, render } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { trpcWrapper } from "../test-support/trpc.js";
import { BackgroundQueues, pausedQueues } from "./BackgroundQueues.js";
import { queueHolds, queueStore, returnedDrafts, type QueuedMessage } from "./queueStore.js";
import { useConversationChat, type ConversationChat } from "./useConversationChat.js";

// Sends never answered stay on their way, runs stay cached (module state): each test has conversations and runs of its own.
afterEach(() => {
  cleanup();
  returnedToComposer = [];
  for (const lists of [queueStore, returnedDrafts]) for (const key of lists.keys()) lists.clear(key);
  for (const key of queueHolds.keys()) queueHolds.release(key);
  pausedQueues.clear();
});

const queued = (text: string): QueuedMessage => ({ id: `id-${text}`, text, model: null, think: false });

/**
 * A server whose sends and answers the test ends, one by one: a send is answered when the test says so (and its run
 * is then the conversation's active one), and a run ends when the test sends its `done`.
 */
function server() {
  const sends: Array<{ conversationId: string; message: string; answer: (runId: string) => void; fail: () => void }> = [];
  const active = new Map<string, string>();
  const streams = new Map<string, (id: string, data: unknown) => void>();
  const wrapper = trpcWrapper(
    (path, input) => {
      const { conversationId, message } = input as { conversationId: string; message: string };
      if (path === "conversations.get") {
        const activeRunId = active.get(conversationId) ?? null;
        return { id: conversationId, title: "", createdAt: 0, updatedAt: 0, activeRunId, messages: [], runs: [], usage: { context: null } };
      }
      if (path === "chat.send") {
        return new Promise((resolve, reject) =>
          sends.push({
            fail: () => reject(new TypeError("Failed to fetch")),
            conversationId,
            message,
            answer: (runId) => {
              active.set(conversationId, runId);
              resolve({ runId, conversationId });
            },
          }),
        );
      }
      if (path === "chat.regenerate") {
        const runId = `regenerated-${conversationId}`;
        active.set(conversationId, runId);
        return { runId, conversationId };
      }
      return path === "conversations.list" ? [] : null;
    },
    (path, input, send) => {
      if (path === "chat.events") streams.set((input as { runId: string }).runId, send);
    },
  );
  return {
    wrapper,
    sends,
    sent: () => sends.map((s) => s.message),
    /** The run ends: its conversation is idle again, and whoever follows the run hears its `done`. */
    finish(conversationId: string, runId: string) {
      active.delete(conversationId);
      streams.get(runId)?.("1", { type: "done", runId, at: 1, reason: "stop", usage: emptyUsage() });
    },
  };
}

/** The open pane's chat, for what the user does there. */
let pane: ConversationChat | null = null;
/** What went back into the composer (a message that was not sent), in order. */
let returnedToComposer: string[] = [];

/** A conversation's pane, as far as sending goes. */
function Pane({ conversationId }: { conversationId: string }) {
  pane = useConversationChat({
    conversationId,
    model: null,
    think: false,
    onCreated: () => {},
    onDraftReturned: (text) => returnedToComposer.push(text),
  });
  return null;
}

/** The app's senders: the open conversation's pane (a new one per conversation, as App keys it) and the background. */
function Page({ open }: { open: string }) {
  return (
    <>
      <BackgroundQueues currentId={open} />
      <Pane key={open} conversationId={open} />
    </>
  );
}

/** Lets every answer given so far arrive and every render and effect it causes run (no clock involved). */
async function settle() {
  for (let i = 0; i < 10; i++) await act(() => new Promise<void>((resolve) => setTimeout(resolve, 0)));
}

describe("a conversation's queue when the user leaves or comes back while one of its messages is on its way", () => {
  it("goes out in order after the pane sent one and the user left", async () => {
    const api = server();
    queueStore.push("c1", queued("first"));
    queueStore.push("c1", queued("second"));
    const view = render(<Page open="c1" />, { wrapper: api.wrapper });
    await settle();
    expect(api.sent()).toEqual(["first"]);

    // Left while "first" is on its way: the background sender takes over the conversation's queue.
    view.rerender(<Page open="c2" />);
    await settle();
    expect(api.sent()).toEqual(["first"]);

    // "first" reached the server: "second" waits for its answer…
    await act(async () => api.sends[0]!.answer("r1"));
    await settle();
    expect(api.sent()).toEqual(["first"]);
    expect(queueStore.get("c1").map((m) => m.text)).toEqual(["second"]);

    // …and goes when it ends.
    await act(async () => api.finish("c1", "r1"));
    await settle();
    expect(api.sent()).toEqual(["first", "second"]);
  });

  it("goes out in order after the background sent one and the user came back", async () => {
    const api = server();
    queueStore.push("c3", queued("first"));
    queueStore.push("c3", queued("second"));
    const view = render(<Page open="c2" />, { wrapper: api.wrapper });
    await settle();
    expect(api.sent()).toEqual(["first"]);

    // Back in the conversation while "first" is on its way: its pane takes over the queue.
    view.rerender(<Page open="c3" />);
    await settle();
    expect(api.sent()).toEqual(["first"]);

    await act(async () => api.sends[0]!.answer("r3"));
    await settle();
    expect(api.sent()).toEqual(["first"]);

    await act(async () => api.finish("c3", "r3"));
    await settle();
    expect(api.sent()).toEqual(["first", "second"]);
  });

  it("queues a message the user sends meanwhile behind the one on its way", async () => {
    const api = server();
    queueStore.push("c4", queued("first"));
    const view = render(<Page open="c2" />, { wrapper: api.wrapper });
    await settle();
    expect(api.sent()).toEqual(["first"]);

    view.rerender(<Page open="c4" />);
    await settle();
    expect(pane?.busy).toBe(true);
    act(() => pane!.submit("typed meanwhile"));
    await settle();
    expect(api.sent()).toEqual(["first"]);
    expect(queueStore.get("c4").map((m) => m.text)).toEqual(["typed meanwhile"]);

    await act(async () => api.sends[0]!.answer("r4"));
    await settle();
    await act(async () => api.finish("c4", "r4"));
    await settle();
    expect(api.sent()).toEqual(["first", "typed meanwhile"]);
  });

  it("sends again first the message whose background send failed as the user came back", async () => {
    const api = server();
    queueStore.push("c5", queued("first"));
    queueStore.push("c5", queued("second"));
    const view = render(<Page open="c2" />, { wrapper: api.wrapper });
    await settle();
    view.rerender(<Page open="c5" />);
    await settle();
    expect(api.sent()).toEqual(["first"]);

    await act(async () => api.sends[0]!.fail());
    await settle();
    expect(api.sent()).toEqual(["first", "first"]);
    expect(queueStore.get("c5").map((m) => m.text)).toEqual(["second"]);
    // The pane sends the conversation's queue now: leaving again, the background sender carries on with it.
    expect(pausedQueues.has("c5")).toBe(false);
  });
});

describe("BackgroundQueues with nothing queued", () => {
  it("follows no conversation and asks the server nothing", async () => {
    const asked: string[] = [];
    const wrapper = trpcWrapper((path, input) => {
      asked.push(`${path} ${JSON.stringify(input)}`);
      return null;
    });
    render(<BackgroundQueues currentId={null} />, { wrapper });
    await settle();
    expect(asked).toEqual([]);
  });
});

describe("a conversation's queue behind a message that was not sent", () => {
  it("waits while the failed message is back in the composer, and goes on after the user sent it again", async () => {
    const api = server();
    queueStore.push("c6", queued("first"));
    queueStore.push("c6", queued("second"));
    const view = render(<Page open="c6" />, { wrapper: api.wrapper });
    await settle();
    expect(api.sent()).toEqual(["first"]);

    await act(async () => api.sends[0]!.fail());
    await settle();
    expect(returnedToComposer).toEqual(["first"]);
    // "second" was typed after "first": it does not overtake it, here…
    expect(api.sent()).toEqual(["first"]);
    expect(queueStore.get("c6").map((m) => m.text)).toEqual(["second"]);
    // …nor in the background once the user looked at another conversation, nor when they come back.
    view.rerender(<Page open="c2" />);
    await settle();
    expect(api.sent()).toEqual(["first"]);
    view.rerender(<Page open="c6" />);
    await settle();
    expect(api.sent()).toEqual(["first"]);
    expect(pane?.queueHeld).toEqual({ text: "first" });

    // The user sends it again from the composer: it goes now, and the queue after its answer.
    act(() => pane!.submit("first"));
    await settle();
    expect(api.sent()).toEqual(["first", "first"]);
    expect(pane?.queueHeld).toBeNull();
    await act(async () => api.sends[1]!.answer("r6"));
    await settle();
    expect(api.sent()).toEqual(["first", "first"]);
    await act(async () => api.finish("c6", "r6"));
    await settle();
    expect(api.sent()).toEqual(["first", "first", "second"]);
  });

  it("goes on without the failed message when the user says so", async () => {
    const api = server();
    queueStore.push("c7", queued("first"));
    queueStore.push("c7", queued("second"));
    render(<Page open="c7" />, { wrapper: api.wrapper });
    await settle();
    await act(async () => api.sends[0]!.fail());
    await settle();
    expect(api.sent()).toEqual(["first"]);

    act(() => pane!.releaseQueue());
    await settle();
    expect(api.sent()).toEqual(["first", "second"]);
    expect(pane?.queueHeld).toBeNull();
  });

  it("a message sent again while an answer runs goes before the held queue", async () => {
    const api = server();
    queueStore.push("c8", queued("first"));
    queueStore.push("c8", queued("second"));
    render(<Page open="c8" />, { wrapper: api.wrapper });
    await settle();
    await act(async () => api.sends[0]!.fail());
    await settle();
    // An answer starts meanwhile (Regenerate, another tab): the message sent again is queued, at the front.
    act(() => pane!.regenerate());
    await settle();
    act(() => pane!.submit("first again"));
    await settle();
    expect(queueStore.get("c8").map((m) => m.text)).toEqual(["first again", "second"]);
    expect(pane?.queueHeld).toBeNull();
  });

  it("waits when the send failed after the user left, also in the background and after a reload", async () => {
    const api = server();
    queueStore.push("c9", queued("first"));
    queueStore.push("c9", queued("second"));
    const view = render(<Page open="c9" />, { wrapper: api.wrapper });
    await settle();
    expect(api.sent()).toEqual(["first"]);

    // Left while "first" is on its way, and it fails: it waits for the conversation's composer.
    view.rerender(<Page open="c2" />);
    await settle();
    await act(async () => api.sends[0]!.fail());
    await settle();
    expect(api.sent()).toEqual(["first"]);

    // A reload: the page's memory is gone, what localStorage keeps is not.
    view.unmount();
    pausedQueues.clear();
    const reloaded = render(<Page open="c2" />, { wrapper: api.wrapper });
    await settle();
    expect(api.sent()).toEqual(["first"]);

    // Back in the conversation: "first" is in the composer, and "second" still waits for it.
    reloaded.rerender(<Page open="c9" />);
    await settle();
    expect(returnedToComposer).toEqual(["first"]);
    expect(api.sent()).toEqual(["first"]);
    expect(pane?.queueHeld).toEqual({ text: "first" });
  });
});
