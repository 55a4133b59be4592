import type { ChatEvent } from "@streamchat/core";
import { skipToken } from "@tanstack/react-query";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { describeError, type DescribedError } from "../lib/errors.js";
import { randomId } from "../lib/ids.js";
import { trpc } from "../trpc.js";
import { answerRunId, buildTurns } from "./history.js";
import { buildItems, type ChatItem } from "./items.js";
import { runCache } from "./runCache.js";
import { useRunEvents, type ConnectionState } from "./useRunEvents.js";

interface QueuedMessage {
  id: string;
  text: string;
}

/** A new conversation's pane hands its run to the pane that opens once the server gave it an id. */
interface Handoff {
  runId: string;
  text: string;
  queue: QueuedMessage[];
}
const handoffs = new Map<string, Handoff>();

export interface ActionError extends DescribedError {
  action: string;
  retry?: () => void;
}

export interface ConversationChat {
  title: string | null;
  notFound: boolean;
  loading: boolean;
  items: ChatItem[];
  queue: QueuedMessage[];
  busy: boolean;
  /** A run is streaming that chat.cancel can stop (false while chat.send is still on its way). */
  canStop: boolean;
  stopping: boolean;
  connection: ConnectionState;
  connectionError: string | null;
  actionError: ActionError | null;
  submit(text: string): void;
  stop(): void;
  regenerate(): void;
  edit(messageId: number, text: string): void;
  unqueue(id: string): void;
  dismissError(): void;
}

const endedWithError = new Set(["error", "interrupted"]);

/**
 * Everything one open conversation does: its stored messages, the run being followed, sending
 * (queued while a reply streams), stop, regenerate, edit, retry.
 */
export function useConversationChat(opts: {
  conversationId: string | null;
  model: string | null;
  onCreated: (conversationId: string) => void;
}): ConversationChat {
  const { conversationId, model, onCreated } = opts;
  const utils = trpc.useUtils();

  const [handoff] = useState(() => (conversationId ? handoffs.get(conversationId) : undefined));
  useEffect(() => {
    if (conversationId) handoffs.delete(conversationId);
  }, [conversationId]);

  const conversation = trpc.conversations.get.useQuery(conversationId ? { conversationId } : skipToken);
  const detail = conversation.data;

  const [runId, setRunId] = useState<string | null>(handoff?.runId ?? null);
  const [pendingUser, setPendingUser] = useState<{ text: string; runId: string | null; failed: boolean } | null>(
    handoff ? { text: handoff.text, runId: handoff.runId, failed: false } : null,
  );
  const [queue, setQueue] = useState<QueuedMessage[]>(handoff?.queue ?? []);
  const [actionError, setActionError] = useState<ActionError | null>(null);
  const [optimisticEdit, setOptimisticEdit] = useState<{ messageId: number; text: string; since: number } | null>(null);
  const [sending, setSending] = useState(false);
  const sendingRef = useRef(false);
  const queueRef = useRef(queue);
  queueRef.current = queue;

  const send = trpc.chat.send.useMutation();
  const cancel = trpc.chat.cancel.useMutation();
  const regenerateMutation = trpc.chat.regenerate.useMutation();
  const editMutation = trpc.chat.edit.useMutation();

  const refresh = useCallback(() => {
    if (conversationId) void utils.conversations.get.invalidate({ conversationId });
    void utils.conversations.list.invalidate();
  }, [conversationId, utils]);

  const doSendRef = useRef<(text: string, requestId?: string) => Promise<void>>(async () => {});

  const onEvent = useCallback(
    (event: ChatEvent) => {
      if (event.type !== "done") return;
      refresh();
      const [next, ...rest] = queueRef.current;
      if (next && !sendingRef.current) {
        queueRef.current = rest;
        setQueue(rest);
        void doSendRef.current(next.text);
      }
    },
    [refresh],
  );

  const live = useRunEvents(runId, onEvent);

  // Follow the run the server says is active (page load, reload, another tab started it).
  const activeRunId = detail?.activeRunId ?? null;
  useEffect(() => {
    if (activeRunId && activeRunId !== runId && !runCache.get(activeRunId)?.done) setRunId(activeRunId);
  }, [activeRunId, runId]);

  // After a reload, a last answer that failed is replayed once from the event log: the stored
  // messages do not carry the error's code and message, the log does.
  const lastTurnRun = useMemo(() => {
    if (!detail || detail.activeRunId) return null;
    const last = buildTurns(detail.messages).at(-1);
    const id = last ? answerRunId(last) : null;
    const run = detail.runs.find((r) => r.id === id);
    return run && run.reason && endedWithError.has(run.reason) && !runCache.get(run.id) ? run.id : null;
  }, [detail]);
  useEffect(() => {
    if (lastTurnRun && runId === null) setRunId(lastTurnRun);
  }, [lastTurnRun, runId]);

  useEffect(() => {
    if (optimisticEdit && conversation.dataUpdatedAt > optimisticEdit.since) setOptimisticEdit(null);
  }, [conversation.dataUpdatedAt, optimisticEdit]);

  const liveDone = runId ? (live.state?.done ?? runCache.get(runId)?.done ?? null) !== null : true;
  const busy = sending || !liveDone;

  const doSend = useCallback(
    async (text: string, requestId = randomId()) => {
      sendingRef.current = true;
      setSending(true);
      setActionError(null);
      setPendingUser({ text, runId: null, failed: false });
      try {
        const result = await send.mutateAsync({
          conversationId: conversationId ?? undefined,
          message: text,
          model: model ?? undefined,
          clientRequestId: requestId,
        });
        if (!conversationId) {
          handoffs.set(result.conversationId, { runId: result.runId, text, queue: queueRef.current });
          void utils.conversations.list.invalidate();
          onCreated(result.conversationId);
          return;
        }
        setRunId(result.runId);
        setPendingUser({ text, runId: result.runId, failed: false });
        refresh();
      } catch (error) {
        setPendingUser({ text, runId: null, failed: true });
        setActionError({ ...describeError(error), action: "Message not sent", retry: () => void doSendRef.current(text, requestId) });
      } finally {
        sendingRef.current = false;
        setSending(false);
      }
    },
    [conversationId, model, onCreated, refresh, send, utils],
  );
  doSendRef.current = doSend;

  const submit = useCallback(
    (text: string) => {
      const running = sendingRef.current || (runId !== null && !runCache.get(runId)?.done);
      if (running) {
        const next = [...queueRef.current, { id: randomId(), text }];
        queueRef.current = next;
        setQueue(next);
        return;
      }
      void doSend(text);
    },
    [doSend, runId],
  );

  const stop = useCallback(() => {
    if (!runId) return;
    cancel.mutate(
      { runId },
      { onError: (error) => setActionError({ ...describeError(error), action: "Could not stop the answer" }) },
    );
  }, [cancel, runId]);

  const regenerate = useCallback(() => {
    if (!conversationId) return;
    setActionError(null);
    regenerateMutation.mutate(
      { conversationId, model: model ?? undefined },
      {
        onSuccess: (result) => {
          setRunId(result.runId);
          refresh();
        },
        onError: (error) =>
          setActionError({ ...describeError(error), action: "Could not regenerate", retry: () => regenerateRef.current() }),
      },
    );
  }, [conversationId, model, refresh, regenerateMutation]);
  const regenerateRef = useRef(regenerate);
  regenerateRef.current = regenerate;

  const edit = useCallback(
    (messageId: number, text: string) => {
      if (!conversationId) return;
      setActionError(null);
      editMutation.mutate(
        { conversationId, messageId, message: text, model: model ?? undefined },
        {
          onSuccess: (result) => {
            setOptimisticEdit({ messageId, text, since: Date.now() });
            setRunId(result.runId);
            refresh();
          },
          onError: (error) => setActionError({ ...describeError(error), action: "Could not edit the message" }),
        },
      );
    },
    [conversationId, editMutation, model, refresh],
  );

  // Drop the page-only copy of a sent message once the stored conversation has it.
  const storedHasPending =
    pendingUser?.runId != null && (detail?.messages.some((m) => m.role === "user" && m.runId === pendingUser.runId) ?? false);
  useEffect(() => {
    if (storedHasPending) setPendingUser(null);
  }, [storedHasPending]);

  const items = useMemo(
    () =>
      buildItems({
        messages: detail?.messages ?? [],
        runs: detail?.runs ?? [],
        optimisticEdit,
        pendingUser,
        storedHasPending,
        runId,
        live: live.state,
        cachedRun: runCache.get,
      }),
    [detail, optimisticEdit, pendingUser, storedHasPending, runId, live.state],
  );

  const notFound = conversation.error?.data?.code === "NOT_FOUND";
  return {
    title: detail?.title ?? null,
    notFound,
    loading: conversationId !== null && conversation.isPending,
    items,
    queue,
    busy,
    canStop: runId !== null && !liveDone,
    stopping: cancel.isPending,
    connection: live.connection,
    connectionError: live.connectionError ?? (conversation.error && !notFound ? conversation.error.message : null),
    actionError,
    submit,
    stop,
    regenerate,
    edit,
    unqueue: (id) => {
      const next = queueRef.current.filter((q) => q.id !== id);
      queueRef.current = next;
      setQueue(next);
    },
    dismissError: () => setActionError(null),
  };
}
