import { chatEventSchema, type ChatEvent } from "@streamchat/core";
import { skipToken } from "@tanstack/react-query";
import { useEffect, useMemo, useRef, useState } from "react";
import { flushSync } from "react-dom";
import { trpc } from "../trpc.js";
import { createFrameBatcher } from "./frameBatcher.js";
import { emptyMessageState, type MessageState } from "./reducer.js";
import { runCache } from "./runCache.js";

export type ConnectionState = "idle" | "connecting" | "live" | "reconnecting" | "caught-up" | "error";

export interface RunEvents {
  /** The answer as last committed to React (at most once per animation frame). */
  state: MessageState | null;
  connection: ConnectionState;
  /** A failure of the subscription itself (not of the run: those arrive as `error` events). */
  connectionError: string | null;
}

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

  // The input is fixed per run: tRPC re-subscribes when it changes, and on reconnects it adds the last
  // tracked id itself. A run this page already followed resumes after the last seq it has; a new one
  // (or a reload) starts from the beginning and rebuilds the answer from the replayed log.
  const input = useMemo(() => {
    if (!runId) return skipToken;
    const known = runCache.get(runId);
    if (known?.done) return skipToken;
    return { runId, lastEventId: known && known.lastSeq > 0 ? String(known.lastSeq) : null };
  }, [runId]);

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
      const state = runCache.apply(runId, Number(id), parsed.data);
      latest.current = { runId, state };
      batcher.schedule();
      onEventRef.current?.(parsed.data, state);
    },
  });

  const state = runId
    ? committed?.runId === runId
      ? committed.state
      : (runCache.get(runId) ?? emptyMessageState(runId))
    : null;

  let connection: ConnectionState;
  if (!runId) connection = "idle";
  else if (state?.done) connection = "caught-up";
  else if (subscription.status === "error") connection = "error";
  else if (subscription.status === "connecting") connection = startedFor.current === runId ? "reconnecting" : "connecting";
  else if (subscription.status === "pending") connection = "live";
  else connection = "idle";

  return { state, connection, connectionError: subscription.error?.message ?? null };
}
