// @vitest-environment jsdom
import { emptyUsage, errorCodeMessages } from "@streamchat/core/browser";
import { act, cleanup, fireEvent, render } from "@testing-library/react";
import type { ReactNode } from "react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { emptyMessageState, type MessageState } from "../chat/reducer.js";
import { trpcWrapper } from "../test-support/trpc.js";
import { AssistantMessage } from "./AssistantMessage.js";
import { thoughtLabel } from "./Reasoning.js";

afterEach(cleanup);

const finished = (patch: Partial<MessageState>): MessageState => ({
  ...emptyMessageState("r1"),
  model: "demo",
  done: { reason: "stop", usage: { ...emptyUsage(), ttftMs: 120, durationMs: 900 } },
  ...patch,
});

describe("AssistantMessage", () => {
  it("says how long a wait has lasted once it takes five seconds, from the start of each wait", () => {
    vi.useFakeTimers();
    try {
      const loading: MessageState = { ...emptyMessageState("r1"), status: { phase: "loading-model", message: "Loading gemma3…" } };
      const { getByTestId, queryByTestId, rerender } = render(<AssistantMessage state={loading} streaming />);
      act(() => vi.advanceTimersByTime(4000));
      expect(queryByTestId("elapsed")).toBeNull();
      act(() => vi.advanceTimersByTime(2000));
      expect(getByTestId("status-line").textContent).toBe("Loading gemma3… · 6 s");
      // The model loaded and reads the prompt: a new wait, counted from zero.
      rerender(<AssistantMessage state={{ ...loading, status: { phase: "thinking", message: "Processing your question…" } }} streaming />);
      expect(getByTestId("status-line").textContent).toBe("Processing your question…");
      act(() => vi.advanceTimersByTime(7000));
      expect(getByTestId("status-line").textContent).toBe("Processing your question… · 7 s");
    } finally {
      vi.useRealTimers();
    }
  });

  it("offers Continue on an answer that ended short with text: stopped, at the length limit, failed", () => {
    const onContinue = vi.fn();
    const error = { code: "stream_truncated" as const, message: errorCodeMessages.stream_truncated, retryable: true };
    const ended = (reason: "cancelled" | "length" | "error" | "stop", patch: Partial<MessageState> = {}) =>
      finished({ text: "Half an answer", done: { reason, usage: emptyUsage() }, ...patch });
    for (const state of [ended("cancelled"), ended("length"), ended("error", { error })]) {
      const { getByTestId, unmount } = render(<AssistantMessage state={state} streaming={false} onContinue={onContinue} onRetry={() => {}} />);
      fireEvent.click(getByTestId("continue-answer"));
      unmount();
    }
    expect(onContinue).toHaveBeenCalledTimes(3);
    // Not for an answer the model ended, one without text, one still streaming, nor where the pane offers none.
    const none = [
      { state: ended("stop"), streaming: false, offered: true },
      { state: ended("cancelled", { text: "  " }), streaming: false, offered: true },
      { state: ended("cancelled"), streaming: true, offered: true },
      { state: ended("cancelled"), streaming: false, offered: false },
    ];
    for (const { state, streaming, offered } of none) {
      const { queryByTestId, unmount } = render(<AssistantMessage state={state} streaming={streaming} {...(offered ? { onContinue } : {})} />);
      expect(queryByTestId("continue-answer")).toBeNull();
      unmount();
    }
  });

  it("shows only the live reasoning while the model thinks: no second progress line", () => {
    const state: MessageState = {
      ...emptyMessageState("r1"),
      status: { phase: "thinking", message: "Processing your question…" },
      steps: [{ kind: "reasoning", text: "Let me think.", startedAt: 1, endedAt: null }],
    };
    const { queryByTestId, getByRole } = render(<AssistantMessage state={state} streaming />);
    expect(queryByTestId("status-line")).toBeNull();
    expect(getByRole("button", { name: "Thinking…" }).getAttribute("aria-expanded")).toBe("true");
    expect(queryByTestId("reasoning-text")?.textContent).toBe("Let me think.");
  });

  it("offers Branch in new chat on a finished answer: one press at a time, and says so when it failed", async () => {
    const presses: Array<(ok: boolean) => void> = [];
    const onBranch = () => new Promise<boolean>((resolve) => presses.push(resolve));
    const state = finished({ text: "An answer." });
    const { getByRole, queryByRole, getByTestId, rerender } = render(<AssistantMessage state={state} streaming onBranch={onBranch} />);
    // While the answer streams there is nothing to copy up to.
    expect(queryByRole("button", { name: "Branch in new chat" })).toBeNull();
    rerender(<AssistantMessage state={state} streaming={false} onBranch={onBranch} />);
    const button = getByRole("button", { name: "Branch in new chat" });
    fireEvent.click(button);
    fireEvent.click(button);
    expect(presses).toHaveLength(1);
    expect(button.getAttribute("aria-disabled")).toBe("true");
    expect(getByTestId("answer-actions").textContent).toContain("Making a new chat…");
    await act(async () => presses[0]!(false));
    expect(getByTestId("answer-actions").textContent).toContain("Could not branch — try again.");
    expect(button.getAttribute("aria-disabled")).toBeNull();
    fireEvent.click(button);
    expect(presses).toHaveLength(2);
  });

  it("folds reasoning a server left in the answer without its opening marker, once the closing one has come", async () => {
    // An R1 distill on vLLM without a reasoning parser: the template opened <think> in the prompt.
    const streamed = "Okay, the user says hi.\n";
    const { getByRole, getByTestId, queryByRole, rerender } = render(<AssistantMessage state={{ ...emptyMessageState("r1"), text: streamed }} streaming />);
    expect(getByTestId("answer-text").textContent).toBe("Okay, the user says hi.");
    expect(queryByRole("button", { name: "Thought process" })).toBeNull();

    const text = `${streamed}</think>\n\nHello! How can I help?`;
    rerender(<AssistantMessage state={finished({ text })} streaming={false} />);
    expect(getByTestId("answer-text").textContent).toBe("Hello! How can I help?");
    const fold = getByRole("button", { name: "Thought process" });
    expect(fold.getAttribute("aria-expanded")).toBe("false");
    fireEvent.click(fold);
    expect(getByTestId("reasoning-text").textContent).toBe("Okay, the user says hi.");
    const writes: string[] = [];
    vi.stubGlobal("navigator", { clipboard: { writeText: async (t: string) => void writes.push(t) } });
    try {
      await act(async () => fireEvent.click(getByRole("button", { name: "Copy" })));
    } finally {
      vi.unstubAllGlobals();
    }
    expect(writes).toEqual(["Hello! How can I help?"]);

    // Where the server separated the reasoning, a marker in the text is the answer's own.
    cleanup();
    const separated = finished({ text, steps: [{ kind: "reasoning", text: "Greeting.", startedAt: 1, endedAt: 2 }] });
    expect(render(<AssistantMessage state={separated} streaming={false} />).getByTestId("answer-text").textContent).toContain("</think>");
  });

  it("shows the waiting line before anything arrived", () => {
    const { getByTestId } = render(<AssistantMessage state={emptyMessageState()} streaming />);
    expect(getByTestId("status-line").textContent).toBe("Processing your question…");
  });

  it("offers Retry only for an error that retrying can fix", () => {
    const retryable = finished({ error: { code: "provider_error", message: "boom", retryable: true }, done: { reason: "error", usage: emptyUsage() } });
    const refused = finished({ error: { code: "model_not_found", message: "no such model", retryable: false }, done: { reason: "error", usage: emptyUsage() } });
    const { queryByRole, rerender } = render(<AssistantMessage state={retryable} streaming={false} onRetry={() => {}} />);
    expect(queryByRole("button", { name: "Retry" })).not.toBeNull();
    rerender(<AssistantMessage state={refused} streaming={false} onRetry={() => {}} />);
    expect(queryByRole("button", { name: "Retry" })).toBeNull();
  });

  it("says what went wrong once when the server's message is the code's own words (a restart)", () => {
    const interrupted = finished({
      text: "drip1 drip2",
      error: { code: "interrupted", message: errorCodeMessages.interrupted, retryable: true },
      done: { reason: "interrupted", usage: emptyUsage() },
    });
    const { getByTestId, rerender } = render(<AssistantMessage state={interrupted} streaming={false} />);
    expect(getByTestId("run-error").textContent).toBe(errorCodeMessages.interrupted);
    // A message of its own is shown under the code's words.
    const own = finished({ error: { code: "provider_error", message: "boom", retryable: true }, done: { reason: "error", usage: emptyUsage() } });
    rerender(<AssistantMessage state={own} streaming={false} />);
    expect(getByTestId("run-error").textContent).toBe(`${errorCodeMessages.provider_error}boom`);
  });

  it("says a model server that was down once, calmly, and offers one way on: Retry", () => {
    // As core words it (providers/http-errors.ts), in a run's error event.
    const down = finished({
      error: { code: "provider_unavailable", message: "Cannot reach the model server (ECONNREFUSED). Is it running?", retryable: true },
      done: { reason: "error", usage: emptyUsage() },
    });
    const retried: string[] = [];
    const { getByTestId, getByRole, queryByRole, rerender } = render(
      <AssistantMessage state={down} streaming={false} onRetry={() => retried.push("retry")} onRegenerate={() => retried.push("regenerate")} />,
    );
    expect(getByTestId("run-error").querySelector(".error-box__text")?.textContent).toBe("The model server is not reachable.");
    expect(queryByRole("button", { name: "Regenerate" })).toBeNull();
    fireEvent.click(getByRole("button", { name: "Retry" }));
    expect(retried).toEqual(["retry"]);
    // Where Retry is not offered (an answer that is not the last), Regenerate is the way on.
    rerender(<AssistantMessage state={down} streaming={false} onRegenerate={() => {}} />);
    expect(queryByRole("button", { name: "Retry" })).toBeNull();
    expect(getByRole("button", { name: "Regenerate" })).toBeTruthy();
  });

  it("has Copy and details for a finished answer, Regenerate only where offered", () => {
    const { getByRole, queryByRole, rerender } = render(<AssistantMessage state={finished({ text: "Hi." })} streaming={false} />);
    expect(getByRole("button", { name: "Copy" })).toBeTruthy();
    expect(getByRole("button", { name: "Answer details" })).toBeTruthy();
    expect(queryByRole("button", { name: "Regenerate" })).toBeNull();
    rerender(<AssistantMessage state={finished({ text: "Hi." })} streaming={false} onRegenerate={() => {}} />);
    expect(getByRole("button", { name: "Regenerate" })).toBeTruthy();
  });
});

describe("thoughtLabel", () => {
  it("says how long the model thought, in whole seconds, at least 1", () => {
    expect(thoughtLabel({ startedAt: 1000, endedAt: 1300 })).toBe("Thought for 1 s");
    expect(thoughtLabel({ startedAt: 1000, endedAt: 13_600 })).toBe("Thought for 13 s");
    expect(thoughtLabel({ startedAt: null, endedAt: null })).toBe("Thought process");
  });
  it("keeps a quiet note under an answer given without tools, once the status line has moved on", () => {
    const refused = "\"gemma3\" does not support tools: answering without them.";
    const waiting: MessageState = { ...emptyMessageState("r1"), status: { phase: "thinking", message: refused }, notes: [refused] };
    const { queryAllByTestId, getByTestId, rerender } = render(<AssistantMessage state={waiting} streaming />);
    // Said once: by the status line while it shows it.
    expect(getByTestId("status-line").textContent).toBe(refused);
    expect(queryAllByTestId("answer-note")).toHaveLength(0);
    const answering: MessageState = { ...waiting, status: null, text: "Hello" };
    rerender(<AssistantMessage state={answering} streaming />);
    expect(queryAllByTestId("answer-note").map((n) => n.textContent)).toEqual([refused]);
    rerender(<AssistantMessage state={finished({ text: "Hello", notes: [refused] })} streaming={false} />);
    expect(queryAllByTestId("answer-note").map((n) => n.textContent)).toEqual([refused]);
  });
});

/**
 * How a screen reader would hear a change of `el`'s text: the politeness of the live region around it (the nearest
 * aria-live, or a live role). The transcript is a live log; what changes with every token must not be read out there.
 */
function livePoliteness(el: Element): string {
  const root = el.closest('[aria-live], [role="log"], [role="status"], [role="alert"]');
  if (!root) return "off";
  const implied: Record<string, string> = { log: "polite", status: "polite", alert: "assertive" };
  return root.getAttribute("aria-live") ?? implied[root.getAttribute("role") ?? ""] ?? "off";
}

describe("AssistantMessage in the transcript's live log", () => {
  const inLog = (ui: ReactNode, wrapper?: (props: { children: ReactNode }) => ReactNode) =>
    render(
      <div role="log" aria-live="polite" aria-relevant="additions text">
        {ui}
      </div>,
      wrapper ? { wrapper } : undefined,
    );

  it("keeps the streaming answer's text and live reasoning out of it: not read out token by token", () => {
    const state: MessageState = {
      ...emptyMessageState("r1"),
      text: "Partial answer",
      steps: [{ kind: "reasoning", text: "Still thinking", startedAt: 1, endedAt: null }],
    };
    const { getByTestId, rerender } = inLog(<AssistantMessage state={state} streaming />);
    expect(livePoliteness(getByTestId("answer-text"))).toBe("off");
    expect(livePoliteness(getByTestId("reasoning-text"))).toBe("off");
    // Finished, it is a plain part of the log again (read when it is added, say from another tab's history).
    rerender(
      <div role="log" aria-live="polite" aria-relevant="additions text">
        <AssistantMessage state={finished({ text: "Whole answer" })} streaming={false} />
      </div>,
    );
    expect(livePoliteness(getByTestId("answer-text"))).toBe("polite");
  });

  it("does not read the approval card's countdown out at every tick", () => {
    const state: MessageState = {
      ...emptyMessageState("r1"),
      tools: [
        {
          callId: "c1",
          name: "every__echo",
          args: { message: "hi" },
          state: "running",
          approval: { source: "every", description: "Echoes", expiresAt: Date.now() + 60_000, decision: "waiting" },
        },
      ],
      steps: [{ kind: "tool", callId: "c1" }],
    };
    const { getByText } = inLog(<AssistantMessage state={state} streaming />, trpcWrapper(() => null));
    expect(livePoliteness(getByText(/Denied automatically in/))).toBe("off");
  });
});
