import { defaultSampling, isDefaultSampling, type ChatEvent, type ContextUsage } from "@streamchat/core/browser";
import { skipToken } from "@tanstack/react-query";
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState, useSyncExternalStore } from "react";
import { attachmentViews, type SentAttachmentView } from "../capabilities/attachments.js";
import { describeError, type DescribedError } from "../lib/errors.js";
import { requestId as newRequestId } from "../lib/ids.js";
import { trpc, type RouterInputs, type RouterOutputs } from "../trpc.js";
import { pausedQueues } from "./BackgroundQueues.js";
import { branchPointItem } from "./branchPoint.js";
import { newChatInstructions } from "./instructionsDraft.js";
import { newChatSampling } from "./samplingDraft.js";
import { continuingRuns } from "./continuingRuns.js";
import { buildItems, type ChatItem, type Regenerating } from "./items.js";
import type { OpenAt } from "./openAt.js";
import {
  newChatKey,
  queueHolds,
  queueStore,
  returnedDrafts,
  returnedEdits,
  unsentKey,
  type HeldQueue,
  type QueuedMessage,
} from "./queueStore.js";
import { behindContinued, continuingState, type MessageState } from "./reducer.js";
import { runCache } from "./runCache.js";
import { sendsInFlight, useSendMadeElsewhere } from "./sendsInFlight.js";
import { useOpenAt } from "./useOpenAt.js";
import { streamEndedMessage, useRunEvents, type ConnectionState } from "./useRunEvents.js";

const noItems: ChatItem[] = [];

export interface ActionError extends DescribedError {
  action: string;
  /** Only for failures that asking again can fix. */
  retry?: () => void;
}

/** What Stop says when the server could not reach the process writing the answer (chat.cancel: `unreachable`). */
export const stopNotReached: DescribedError = {
  code: null,
  title: "The server could not reach the process writing this answer.",
  detail: "Press Stop again in a moment.",
  retryable: true,
};
const couldNotStop = "Could not stop the answer";

/** A branch's way back (conversations.get `branchedFrom`) and the chat item its line follows (null: it leads). */
export type BranchLine = NonNullable<RouterOutputs["conversations"]["get"]["branchedFrom"]> & { afterItem: string | null };

export interface ConversationChat {
  title: string | null;
  /** When the user archived it (out of the list); null when not, or not loaded yet. */
  archivedAt: number | null;
  /** Where this conversation was branched from; null for one that is no branch (or not loaded yet). */
  branchedFrom: BranchLine | null;
  /** How full the model's context was after the last answer (conversations.get usage.context). */
  context: ContextUsage | null;
  notFound: boolean;
  loading: boolean;
  items: ChatItem[];
  queue: readonly QueuedMessage[];
  /**
   * The message the queue waits for: it was not sent and went back to the composer, and what was queued after it
   * goes only once it was sent again (or another message in its place), or `releaseQueue` says to go on without it.
   */
  queueHeld: HeldQueue | null;
  releaseQueue(): void;
  busy: boolean;
  /** A run is streaming that chat.cancel can stop (false while chat.send is still on its way). */
  canStop: boolean;
  stopping: boolean;
  connection: ConnectionState;
  connectionError: string | null;
  actionError: ActionError | null;
  /** Sends (or queues, while a reply streams); `think` overrides the toggle for this message. */
  submit(text: string, options?: { think?: Think; attachments?: Attachments }): void;
  stop(): void;
  /** A new version of the answer to `questionId` (default: the last question). */
  regenerate(questionId?: number): void;
  /** Writes on from the cut-short answer at the end of the conversation, as a new version of it (chat.continue). */
  continueAnswer(): void;
  /** The run continued an answer (started so here, or its log says so): its failure is continued again, not answered anew. */
  continued(runId: string | null): boolean;
  edit(messageId: number, text: string): void;
  /** An edit that failed: its message's editor opens again with the text (`editReopened` once it has). */
  failedEdit: { messageId: number; text: string } | null;
  editReopened(): void;
  /** Shows another version (a sibling from an item's `versions`); the view changes when the server answers. */
  switchVersion(messageId: number): void;
  switching: boolean;
  /** The item showing the message the conversation was opened at (`openAt`), once it shows; ChatPane scrolls to it. */
  revealed: { key: string; request: OpenAt } | null;
  unqueue(id: string): void;
  dismissError(): void;
}

type Think = NonNullable<RouterInputs["chat"]["send"]["think"]>;
type Attachments = NonNullable<RouterInputs["chat"]["send"]["attachments"]>;

interface SendOptions {
  requestId?: string;
  model: string | null;
  think: Think;
  attachments?: Attachments | undefined;
}

/**
 * Everything one open conversation does: its stored messages, the run being followed, sending
 * (queued while a reply streams; the queue lives in queueStore and survives leaving the conversation),
 * stop, regenerate, edit, retry.
 */
export function useConversationChat(opts: {
  conversationId: string | null;
  model: string | null;
  /** Ask the model to think, or how hard (only set when the chosen model can). */
  think: Think;
  onCreated: (conversationId: string) => void;
  /** The draft, kept on any failure: a message that was not sent goes back to the composer, its images too… */
  onDraftReturned?: (text: string, attachments: Attachments) => void;
  /** …and leaves it again when Retry sends it. */
  onDraftSent?: (text: string, attachments: Attachments) => void;
  /** Open at this message (a search hit): its branch is switched to when the path does not show it. */
  openAt?: OpenAt | null;
}): ConversationChat {
  const { conversationId, model, think, onCreated } = opts;
  const draftCallbacks = useRef(opts);
  draftCallbacks.current = opts;
  // A new chat queues under its own pane's key: another new chat opened meanwhile has a queue of its own.
  const [newChatQueue] = useState(newChatKey);
  const queueKey = conversationId ?? newChatQueue;
  const utils = trpc.useUtils();

  // Asked again on every open: the queue below must not trust a copy cached before a reply started.
  const conversation = trpc.conversations.get.useQuery(conversationId ? { conversationId } : skipToken, {
    refetchOnMount: "always",
  });
  useEffect(() => {
    // This pane sends the conversation's queue now (and shows why, if that fails).
    if (conversationId) pausedQueues.delete(conversationId);
  }, [conversationId]);
  const detail = conversation.data;

  const [runId, setRunId] = useState<string | null>(null);
  // The background sender (or this conversation's last pane) may have a message on its way here: this pane follows
  // its answer, and sends nothing before it arrived. If it failed, the queue is this pane's to send (as on opening).
  const sentElsewhere = useSendMadeElsewhere(conversationId, (sentRunId) => {
    if (sentRunId) setRunId(sentRunId);
    else if (conversationId) pausedQueues.delete(conversationId);
  });
  const [pendingUser, setPendingUser] = useState<{ text: string; runId: string | null; key: string; attachments?: SentAttachmentView[] } | null>(null);
  // The React keys of the questions this pane sent, by their run: each keeps its item once stored (items.ts).
  const [sentKeys, setSentKeys] = useState<ReadonlyMap<string, string>>(() => new Map());
  /**
   * The conversation and run as of now, for sends: a new chat's first message makes this pane its conversation's
   * (App keeps it mounted), and a message sent before the pane renders with the new id must queue there, not start
   * another conversation.
   */
  const latest = useRef({ conversationId, runId, queueKey });
  latest.current = { conversationId, runId, queueKey };
  const queue = useSyncExternalStore(
    queueStore.subscribe,
    () => queueStore.get(queueKey),
    () => queueStore.get(queueKey),
  );
  const held = useSyncExternalStore(queueHolds.subscribe, () => queueHolds.get(queueKey));
  const [actionError, setActionError] = useState<ActionError | null>(null);
  const [optimisticEdit, setOptimisticEdit] = useState<{ messageId: number; text: string; since: number } | null>(null);
  const [regenerating, setRegenerating] = useState<(Omit<Regenerating, "optimistic"> & { since: number }) | null>(null);
  const [failedEdit, setFailedEdit] = useState<{ messageId: number; text: string } | null>(null);
  const [sending, setSending] = useState(false);
  const sendingRef = useRef(false);
  const mounted = useRef(false);
  useEffect(() => {
    mounted.current = true;
    return () => {
      mounted.current = false;
    };
  }, []);

  // A message whose send failed after the user left its pane goes back to the composer when its conversation opens
  // again (a new chat's: the next new chat), as it would have in its own pane; what was queued behind a new chat's
  // first message comes with it.
  const returnedKey = conversationId ?? unsentKey;
  const returned = useSyncExternalStore(returnedDrafts.subscribe, () => returnedDrafts.get(returnedKey));
  const unsentQueue = useSyncExternalStore(queueStore.subscribe, () => queueStore.get(unsentKey));
  useEffect(() => {
    // Last first: each one goes before what the box holds, so they read in the order they were written.
    for (const draft of [...returnedDrafts.take(returnedKey)].reverse()) draftCallbacks.current.onDraftReturned?.(draft.text, draft.attachments);
  }, [returned, returnedKey]);
  useEffect(() => {
    if (conversationId) return;
    queueStore.move(unsentKey, newChatQueue);
    queueHolds.move(unsentKey, newChatQueue);
  }, [unsentQueue, conversationId, newChatQueue]);
  // An edit that failed after the user left: the message's editor opens again with it here (the last one, if several).
  const returnedEdit = useSyncExternalStore(returnedEdits.subscribe, () => returnedEdits.get(conversationId ?? ""));
  useEffect(() => {
    const last = conversationId ? returnedEdits.take(conversationId).at(-1) : undefined;
    if (last) setFailedEdit(last);
  }, [returnedEdit, conversationId]);

  const send = trpc.chat.send.useMutation();
  const cancel = trpc.chat.cancel.useMutation();
  const regenerateMutation = trpc.chat.regenerate.useMutation();
  const continueMutation = trpc.chat.continue.useMutation();
  const editMutation = trpc.chat.edit.useMutation();
  const switchMutation = trpc.conversations.switchBranch.useMutation();

  /** The conversation on another path (switchBranch's answer) replaces the cached one: nothing refetches or flashes. */
  const showPath = useCallback(
    (next: NonNullable<typeof detail>) => {
      if (!conversationId) return;
      utils.conversations.get.setData({ conversationId }, next);
      // The answer this page followed last may be another version's now: the path's own answers show.
      setRunId((current) => (current && runCache.get(current)?.done ? null : current));
      setRegenerating(null);
    },
    [conversationId, utils],
  );

  // Opened at a search hit: the branch holding the message is shown, then the message is revealed.
  const switchToFound = useCallback(
    (messageId: number, handlers: { onSuccess: () => void; onSettled: () => void }) => {
      if (!conversationId) return;
      switchMutation.mutate(
        { conversationId, messageId },
        {
          onSuccess: (next) => {
            showPath(next);
            handlers.onSuccess();
          },
          onError: (error) => setActionError({ ...describeError(error), action: "Could not show the message found" }),
          onSettled: handlers.onSettled,
        },
      );
    },
    [conversationId, switchMutation, showPath],
  );
  const { opening, revealed } = useOpenAt({
    openAt: opts.openAt ?? null,
    conversationId,
    detail,
    fresh: conversation.isFetchedAfterMount && !conversation.isFetching,
    failed: conversation.error !== null,
    switchTo: switchToFound,
  });

  const refresh = useCallback(() => {
    if (conversationId) void utils.conversations.get.invalidate({ conversationId });
    void utils.conversations.list.invalidate();
  }, [conversationId, utils]);

  const doSendRef = useRef<(text: string, options: SendOptions) => Promise<void>>(async () => {});

  const sendQueued = useCallback(() => {
    if (sendingRef.current || sendsInFlight.get(queueKey) || queueHolds.get(queueKey)) return;
    const next = queueStore.shift(queueKey);
    if (next) void doSendRef.current(next.text, { requestId: next.id, model: next.model, think: next.think, attachments: next.attachments });
  }, [queueKey]);

  const onEvent = useCallback(
    (event: ChatEvent) => {
      if (event.type !== "done") return;
      refresh();
      sendQueued();
    },
    [refresh, sendQueued],
  );

  const live = useRunEvents(runId, onEvent);
  /** The last answer with something in it the pane showed: of which conversation, to which question. */
  const answerShown = useRef<{ conversationId: string | null; questionId: number | null; state: MessageState } | null>(null);
  // A continue (started here, or elsewhere as the feed said) shows the answer it writes on from, streaming, until its
  // log has rebuilt it (continuingState): from the moment the page knows of it, since the stored path leaves that
  // answer out while the continue runs (another tab's refetch shows that before the pane follows the run).
  const activeRunId = detail?.activeRunId ?? null;
  const continuing =
    runId !== null && continuingRuns.has(runId)
      ? runId
      : activeRunId !== null && continuingRuns.has(activeRunId) && !runCache.get(activeRunId)?.done
        ? activeRunId
        : null;
  let shownRunId = runId;
  let liveState = live.state;
  if (continuing !== null) {
    const own = continuing === runId ? live.state : null;
    const lastQuestion = detail?.messages.findLast((m) => m.role === "user")?.id ?? null;
    const from = answerShown.current;
    if (from && from.conversationId === conversationId && from.questionId === lastQuestion && (own === null || behindContinued(own, from.state))) {
      shownRunId = continuing;
      liveState = continuingState(from.state, continuing);
    }
  }
  // The followed run's stream kept ending before `done`: an error with Retry instead of a spinner forever.
  const [dismissedResume, setDismissedResume] = useState<(() => void) | null>(null);
  const streamError: ActionError | null =
    live.resume && live.resume !== dismissedResume
      ? {
          code: null,
          retryable: true,
          title: streamEndedMessage,
          detail: "Its stream ended early several times in a row. Retry continues from where it stopped.",
          action: "Connection lost",
          retry: live.resume,
        }
      : null;

  // Follow the run the server says is active (page load, reload, another tab started it).
  useEffect(() => {
    if (activeRunId && activeRunId !== runId && !runCache.get(activeRunId)?.done) setRunId(activeRunId);
  }, [activeRunId, runId]);

  useEffect(() => {
    if (optimisticEdit && conversation.dataUpdatedAt > optimisticEdit.since) setOptimisticEdit(null);
  }, [conversation.dataUpdatedAt, optimisticEdit]);

  const liveDone = runId ? (live.state?.done ?? runCache.get(runId)?.done ?? null) !== null : true;
  // A Stop that could not reach the answer has nothing left to say once the answer ended.
  useEffect(() => {
    if (liveDone) setActionError((shown) => (shown?.action === couldNotStop ? null : shown));
  }, [liveDone]);
  const busy = sending || sentElsewhere || !liveDone;

  // Back in a conversation whose reply ended while the page was elsewhere (or before the background
  // sender got to it): its queue goes out now. Only on data fetched since this pane opened, so a cached
  // copy from before the reply started cannot make it send into a conversation still answering.
  const idleOnServer = conversation.isFetchedAfterMount && !conversation.isFetching && detail?.activeRunId === null;
  useEffect(() => {
    if (queue.length > 0 && !held && idleOnServer && liveDone && !sentElsewhere && !sendingRef.current) sendQueued();
  }, [queue.length, held, idleOnServer, liveDone, sentElsewhere, sendQueued]);

  const doSend = useCallback(
    async (text: string, { requestId = newRequestId(), model, think, attachments }: SendOptions) => {
      const { conversationId, queueKey: sentFrom } = latest.current;
      // A new chat's first message needs no mark: no other sender knows its conversation before it is answered.
      const settle = conversationId ? sendsInFlight.begin(conversationId) : null;
      let started: string | null = null;
      sendingRef.current = true;
      setSending(true);
      setActionError(null);
      // A retry keeps the requestId, and with it the key: the same question, shown as one item.
      const key = `sent-${requestId}`;
      // Its images and files show with it at once, as they will once it is stored.
      const shown = attachments?.length ? { attachments: attachmentViews(attachments) } : {};
      setPendingUser({ text, runId: null, key, ...shown });
      // A new chat's first message takes the instructions and sampling set for it (the header's): the conversation starts
      // with them.
      const instructions = conversationId ? "" : newChatInstructions.get();
      const sampling = conversationId ? defaultSampling : newChatSampling.get();
      const sampled = !isDefaultSampling(sampling);
      try {
        const result = await send.mutateAsync({
          conversationId: conversationId ?? undefined,
          message: text,
          model: model ?? undefined,
          clientRequestId: requestId,
          ...(think ? { think } : {}),
          ...(attachments?.length ? { attachments } : {}),
          ...(instructions ? { instructions } : {}),
          ...(sampled ? { sampling } : {}),
        });
        started = result.runId;
        setRunId(result.runId);
        setSentKeys((keys) => new Map(keys).set(result.runId, key));
        setPendingUser({ text, runId: result.runId, key, ...shown });
        if (!conversationId) {
          // They are the conversation's now: its markers show them at once, not only once they are fetched.
          if (instructions || sampled) {
            const settings = { instructions, sampling, updatedAt: Date.now() };
            utils.conversations.settings.setData({ conversationId: result.conversationId }, settings);
          }
          // This pane becomes the new conversation's: what was queued here meanwhile goes with it.
          latest.current = { conversationId: result.conversationId, runId: result.runId, queueKey: result.conversationId };
          queueStore.move(sentFrom, result.conversationId);
          queueHolds.move(sentFrom, result.conversationId);
          void utils.conversations.list.invalidate();
          onCreated(result.conversationId);
          // Sent: the next new chat starts without them (in the same render as the pane becoming the conversation's).
          if (instructions) newChatInstructions.set("");
          if (sampled) newChatSampling.set(defaultSampling);
          return;
        }
        refresh();
      } catch (error) {
        // Nothing is lost: the text goes back to the composer, and Retry is offered only when it can help.
        // A retry keeps the clientRequestId: a send that did reach the server is not run twice.
        setPendingUser(null);
        // What was queued after it waits for it (the user sends it again, or goes on without it): it must not overtake
        // the message written before it, here, in the background or after a reload.
        if (queueStore.get(sentFrom).length > 0) queueHolds.hold(sentFrom, text);
        if (!mounted.current) {
          // The user left meanwhile, and the composer with them: the message waits for the conversation's next pane,
          // and so does its queue; a new chat's goes to the next new chat.
          returnedDrafts.push(conversationId ?? unsentKey, { text, attachments: attachments ?? [] });
          if (!conversationId) {
            queueStore.move(sentFrom, unsentKey);
            queueHolds.move(sentFrom, unsentKey);
          }
          return;
        }
        draftCallbacks.current.onDraftReturned?.(text, attachments ?? []);
        const described = describeError(error);
        setActionError({
          ...described,
          action: "Message not sent",
          ...(described.retryable
            ? {
                retry: () => {
                  queueHolds.release(sentFrom);
                  draftCallbacks.current.onDraftSent?.(text, attachments ?? []);
                  void doSendRef.current(text, { requestId, model, think, attachments });
                },
              }
            : {}),
        });
      } finally {
        sendingRef.current = false;
        setSending(false);
        settle?.(started);
      }
    },
    [onCreated, refresh, send, utils],
  );
  doSendRef.current = doSend;

  const submit = useCallback(
    (text: string, options?: { think?: Think; attachments?: Attachments }) => {
      const thinkNow = options?.think ?? think;
      const attachments = options?.attachments;
      const { runId: following, queueKey: key } = latest.current;
      const running =
        sendingRef.current || sendsInFlight.get(key) !== undefined || (following !== null && !runCache.get(following)?.done);
      // The queue waited for a message that was not sent: this one is it sent again (or what the user wrote in its
      // place), so it goes first, and the queue after it.
      const resent = queueHolds.get(key) !== null;
      if (resent) queueHolds.release(key);
      if (running) {
        // Its id is its clientRequestId when it is sent.
        const queued: QueuedMessage = { id: newRequestId(), text, model, think: thinkNow, ...(attachments ? { attachments } : {}) };
        if (resent) queueStore.unshift(key, queued);
        else queueStore.push(key, queued);
        return;
      }
      void doSend(text, { model, think: thinkNow, attachments });
    },
    [doSend, model, think],
  );

  const stop = useCallback(() => {
    if (!runId) return;
    const stopping = runId;
    cancel.mutate(
      { runId: stopping },
      {
        onSuccess: (answer) => {
          if (answer.cancelled) {
            // An earlier Stop that could not reach the answer is history now.
            setActionError((shown) => (shown?.action === couldNotStop ? null : shown));
            return;
          }
          // `ended`: the answer had already ended (a Stop pressed as it ended; its end is on its way here): nothing to say.
          // `unreachable`: it goes on where the server could not reach it (another replica, out of reach for now); said
          // unless its end came meanwhile, or the page follows another answer by now.
          if (answer.reason !== "unreachable") return;
          if (runCache.get(stopping)?.done || latest.current.runId !== stopping) return;
          setActionError({ ...stopNotReached, action: couldNotStop });
        },
        onError: (error) => setActionError({ ...describeError(error), action: couldNotStop }),
      },
    );
  }, [cancel, runId]);

  const regenerate = useCallback((questionId?: number) => {
    if (!conversationId) return;
    setActionError(null);
    regenerateMutation.mutate(
      { conversationId, ...(questionId === undefined ? {} : { messageId: questionId }), model: model ?? undefined, ...(think ? { think } : {}) },
      {
        onSuccess: (result) => {
          setRunId(result.runId);
          setRegenerating(questionId === undefined ? null : { runId: result.runId, questionId, since: Date.now() });
          refresh();
        },
        onError: (error) => {
          const described = describeError(error);
          setActionError({
            ...described,
            action: "Could not regenerate",
            ...(described.retryable ? { retry: () => regenerateRef.current(questionId) } : {}),
          });
        },
      },
    );
  }, [conversationId, model, think, refresh, regenerateMutation]);
  const regenerateRef = useRef(regenerate);
  regenerateRef.current = regenerate;

  const runs = detail?.runs;
  // A run continued an answer when this page started it so or heard that it did (continuingRuns), or when its log says
  // so (a reload).
  const continued = useCallback(
    (id: string | null) => id !== null && (continuingRuns.has(id) || runs?.some((run) => run.id === id && run.continued) === true),
    [runs],
  );
  // The answer's own model (the server's default for a continue), not the picker's: the same model writes on.
  const continueAnswer = useCallback(() => {
    if (!conversationId) return;
    setActionError(null);
    continueMutation.mutate(
      { conversationId, ...(think ? { think } : {}) },
      {
        onSuccess: (result) => {
          continuingRuns.add(result.runId);
          setRunId(result.runId);
          setRegenerating(null);
          refresh();
        },
        onError: (error) => {
          const described = describeError(error);
          setActionError({
            ...described,
            action: "Could not continue",
            ...(described.retryable ? { retry: () => continueRef.current() } : {}),
          });
        },
      },
    );
  }, [conversationId, think, refresh, continueMutation]);
  const continueRef = useRef(continueAnswer);
  continueRef.current = continueAnswer;

  const edit = useCallback(
    (messageId: number, text: string) => {
      if (!conversationId) return;
      setActionError(null);
      setFailedEdit(null);
      // mutateAsync: mutate's own callbacks do not run once the pane is gone, and a failure must still be handed on.
      editMutation.mutateAsync({ conversationId, messageId, message: text, model: model ?? undefined, ...(think ? { think } : {}) }).then(
        (result) => {
          setOptimisticEdit({ messageId, text, since: Date.now() });
          setRunId(result.runId);
          refresh();
        },
        (error: unknown) => {
          // Nothing is lost: the edited text goes back into the message's editor, to save again (this
          // conversation's next pane's, if the user has left).
          if (!mounted.current) return returnedEdits.push(conversationId, { messageId, text });
          setFailedEdit({ messageId, text });
          setActionError({ ...describeError(error), action: "Could not edit the message" });
        },
      );
    },
    [conversationId, editMutation, model, think, refresh],
  );

  const editReopened = useCallback(() => setFailedEdit(null), []);

  const releaseQueue = useCallback(() => {
    const { conversationId: current, runId: following, queueKey: key } = latest.current;
    queueHolds.release(key);
    // A conversation's queue goes once it is idle on the server (the effect above); a new chat's has no conversation
    // to ask, so its first message goes now unless something is on its way.
    if (!current && (following === null || runCache.get(following)?.done)) sendQueued();
  }, [sendQueued]);

  const switchVersion = useCallback(
    (messageId: number) => {
      if (!conversationId) return;
      setActionError(null);
      switchMutation.mutate(
        { conversationId, messageId },
        {
          onSuccess: showPath,
          onError: (error) => setActionError({ ...describeError(error), action: "Could not show that version" }),
        },
      );
    },
    [conversationId, switchMutation, showPath],
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
        regenerating: regenerating && { ...regenerating, optimistic: conversation.dataUpdatedAt <= regenerating.since },
        pendingUser,
        storedHasPending,
        sentKeys,
        runId: shownRunId,
        live: liveState,
        liveInterrupted: live.resume !== null,
        cachedRun: runCache.get,
      }),
    [detail, conversation.dataUpdatedAt, optimisticEdit, regenerating, pendingUser, storedHasPending, sentKeys, shownRunId, liveState, live.resume],
  );
  const lastAnswer = items.findLast((item) => item.kind === "answer");
  // Kept once the render is committed: a render React discards (or redoes) was never on screen.
  useLayoutEffect(() => {
    if (lastAnswer && (lastAnswer.state.text !== "" || lastAnswer.state.steps.length > 0)) {
      answerShown.current = { conversationId, questionId: lastAnswer.questionId, state: lastAnswer.state };
    }
  });

  const notFound = conversation.error?.data?.code === "NOT_FOUND";
  const branchedFrom = useMemo(
    () => (detail?.branchedFrom ? { ...detail.branchedFrom, afterItem: branchPointItem(detail.messages, detail.branchedFrom.atMessageId) } : null),
    [detail],
  );
  return {
    title: detail?.title ?? null,
    archivedAt: detail?.archivedAt ?? null,
    branchedFrom,
    // The answer that just finished says it first: its done carries the usage the store saved with it, so the pane
    // shows it without waiting for the refetch that follows.
    context: live.state?.done?.usage.context ?? detail?.usage.context ?? null,
    notFound,
    // Not while the pane shows the message it sent: a new chat's pane became the conversation's, and has it all.
    loading: conversationId !== null && pendingUser === null && (conversation.isPending || opening),
    items: opening ? noItems : items,
    queue,
    queueHeld: held,
    releaseQueue,
    busy,
    canStop: runId !== null && !liveDone,
    stopping: cancel.isPending,
    connection: live.connection,
    connectionError: live.connectionError ?? (conversation.error && !notFound ? conversation.error.message : null),
    actionError: actionError ?? streamError,
    submit,
    stop,
    regenerate,
    continueAnswer,
    continued,
    edit,
    failedEdit,
    editReopened,
    switchVersion,
    switching: switchMutation.isPending,
    revealed,
    unqueue: (id) => {
      queueStore.remove(queueKey, id);
      // Nothing left to hold.
      if (queueStore.get(queueKey).length === 0) queueHolds.release(queueKey);
    },
    dismissError: () => {
      if (actionError) setActionError(null);
      else setDismissedResume(() => live.resume);
    },
  };
}
