import { chatEventSchema, type ChatEvent } from "@streamchat/core/browser";
import { skipToken } from "@tanstack/react-query";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { flushSync } from "react-dom";
import { trpc } from "../trpc.js";
import { createFrameBatcher } from "./frameBatcher.js";
import { emptyMessageState, type MessageState } from "./reducer.js";
import { runCache } from "./runCache.js";
import { ResumeTracker } from "./streamResume.js";

/**
 * `error`: the subscription failed and tRPC is trying again; `lost`: the stream kept ending before the run's
 * `done` and the page stopped following it (the user can Retry).
 */
export type ConnectionState = "idle" | "connecting" | "live" | "reconnecting" | "caught-up" | "error" | "lost";

export interface RunEvents {
  /** The answer as last committed to React (at most once per animation frame). */
  state: MessageState | null;
  connection: ConnectionState;
  /** A failure of the subscription itself (not of the run: those arrive as `error` events). */
  connectionError: string | null;
  /**
   * Set when the stream kept ending before the run's `done` and the page stopped following it: the answer
   * is interrupted, not finished. Calling it follows the run again from the last event this page has.
   */
  resume: (() => void) | null;
}

/** What the page says when it gave up on a stream that kept ending before `done`. */
export const streamEndedMessage = "The answer stopped arriving before it finished.";

/**
 * Follows one run's events over `chat.events`. Events are reduced outside React (runCache) at stream
 * speed; React sees the result once per animation frame, and immediately when the tab becomes
 * visible again (hidden tabs get no animation frames). `onEvent` runs for every event as it arrives,
 * also in a hidden tab, so follow-up work (sending a queued message) never waits for a frame.
 */
export function useRunEvents(runId: string | null, onEvent?: (event: ChatEvent, state: MessageState) => void): RunEvents {
  const [committed, setCommitted] = useState<{ runId: string; state: MessageState } | null>(null);
  const latest = useRef<{ runId: string; state: MessageState } | null>(null);
  const onEventRef = useRef(onEvent);
  onEventRef.current = onEvent;
  const startedFor = useRef<string | null>(null);

  // A stream that ends without `done` is a dropped connection: follow the run again from the last seq.
  const tracker = useMemo(() => new ResumeTracker(), []);
  const resumeTimer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const [resumeNonce, setResumeNonce] = useState(0);
  const [waitingToResume, setWaitingToResume] = useState(false);
  const [gaveUpOn, setGaveUpOn] = useState<string | null>(null);
  useEffect(() => {
    tracker.reset();
    setGaveUpOn(null);
    setWaitingToResume(false);
    return () => {
      if (resumeTimer.current) clearTimeout(resumeTimer.current);
      resumeTimer.current = null;
    };
  }, [runId, tracker]);

  const batcher = useMemo(() => createFrameBatcher(() => setCommitted(latest.current)), []);

  useEffect(() => {
    const onVisibility = () => {
      // Rendered synchronously: the tab is being shown now and no frame may come for a while.
      if (document.visibilityState === "visible") flushSync(() => batcher.flush());
    };
    document.addEventListener("visibilitychange", onVisibility);
    return () => {
      document.removeEventListener("visibilitychange", onVisibility);
      batcher.cancel();
    };
  }, [batcher]);

  // The input is fixed per run (and per resume): tRPC re-subscribes when it changes, and on reconnects it
  // adds the last tracked id itself. A run this page already followed resumes after the last seq it has; a
  // new one (or a reload) starts from the beginning and rebuilds the answer from the replayed log.
  const input = useMemo(() => {
    if (!runId) return skipToken;
    const known = runCache.get(runId);
    if (known?.done) return skipToken;
    return { runId, lastEventId: known && known.lastSeq > 0 ? String(known.lastSeq) : null };
    // resumeNonce is read only as a trigger: a resume asks again with the seq the page has now
  }, [runId, resumeNonce]);

  const subscriptionRef = useRef<{ reset: () => void } | null>(null);
  const inputRef = useRef(input);
  inputRef.current = input;

  /** Subscribes again after the last seq this page has. */
  const follow = useCallback(() => {
    resumeTimer.current = null;
    setWaitingToResume(false);
    const current = inputRef.current;
    const lastSeq = runId ? (runCache.get(runId)?.lastSeq ?? 0) : 0;
    const asked = current === skipToken ? 0 : Number(current.lastEventId ?? 0);
    // A new lastEventId is a new input (tRPC re-subscribes by itself); the same one needs an explicit reset.
    if (lastSeq !== asked) setResumeNonce((n) => n + 1);
    else subscriptionRef.current?.reset();
  }, [runId]);

  const onEndedEarly = useCallback(() => {
    if (!runId || runCache.get(runId)?.done) return;
    const decision = tracker.ended();
    if (decision.kind === "give-up") {
      setGaveUpOn(runId);
      return;
    }
    setWaitingToResume(true);
    resumeTimer.current = setTimeout(follow, decision.afterMs);
  }, [runId, tracker, follow]);

  const subscription = trpc.chat.events.useSubscription(input, {
    onStarted: () => {
      startedFor.current = runId;
    },
    onData: ({ id, data }) => {
      if (!runId) return;
      // Validated at the edge: JSON drops `undefined` fields, and a newer server may send an event
      // this page does not know, which is skipped rather than guessed at.
      const parsed = chatEventSchema.safeParse(data);
      if (!parsed.success) return;
      const before = runCache.get(runId)?.lastSeq ?? 0;
      const state = runCache.apply(runId, Number(id), parsed.data);
      if (state.lastSeq > before) tracker.progress();
      latest.current = { runId, state };
      batcher.schedule();
      onEventRef.current?.(parsed.data, state);
    },
  });

  subscriptionRef.current = subscription;

  // "idle" while following means the server ended the stream (tRPC's `return`). Not `onComplete`: tRPC also
  // calls that when this page unsubscribes itself (another run, leaving the conversation).
  // Each end is handled once: the flag clears only when a new subscription shows up (status leaves idle).
  // Only once this run's stream started: the render that first follows a run (the page's next answer) still has
  // the status of the time it followed none, "idle", until tRPC's effect subscribes.
  const endedByServer = input !== skipToken && subscription.status === "idle" && startedFor.current === runId;
  const endHandled = useRef(false);
  if (!endedByServer) endHandled.current = false;
  useEffect(() => {
    if (!endedByServer || endHandled.current) return;
    endHandled.current = true;
    onEndedEarly();
  }, [endedByServer, onEndedEarly]);

  const resume = useCallback(() => {
    tracker.reset();
    setGaveUpOn(null);
    follow();
  }, [tracker, follow]);

  const state = runId
    ? committed?.runId === runId
      ? committed.state
      : (runCache.get(runId) ?? emptyMessageState(runId))
    : null;

  const gaveUp = runId !== null && gaveUpOn === runId && !state?.done;
  let connection: ConnectionState;
  if (!runId) connection = "idle";
  // The done may be in the run's cache a frame before React shows it, while tRPC already reports the stream's end.
  else if (state?.done || runCache.get(runId)?.done) connection = "caught-up";
  else if (gaveUp) connection = "lost";
  else if (subscription.status === "error") connection = "error";
  else if (waitingToResume || endedByServer) connection = "reconnecting";
  else if (subscription.status === "connecting") connection = startedFor.current === runId ? "reconnecting" : "connecting";
  else if (subscription.status === "pending") connection = "live";
  else connection = "idle";

  return {
    state,
    connection,
    connectionError: gaveUp ? streamEndedMessage : (subscription.error?.message ?? null),
    resume: gaveUp ? resume : null,
  };
}
