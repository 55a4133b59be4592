import { useCallback, useEffect, useRef, useState, useSyncExternalStore } from "react";
import { trpc } from "../trpc.js";
import { isConversationKey, queueHolds, queueStore } from "./queueStore.js";
import { runCache } from "./runCache.js";
import { sendsInFlight, useSendMadeElsewhere } from "./sendsInFlight.js";
import { useRunEvents } from "./useRunEvents.js";

const queuedKeys = () => queueStore.keys().join("\n");

/**
 * Conversations whose background send failed: they wait for their pane (which shows the error and
 * offers Retry) instead of failing again each time the runner mounts. The pane clears the mark.
 */
export const pausedQueues = new Set<string>();

/**
 * Sends messages queued in conversations the user left: for each one with a queue (other than the open
 * one, whose pane does it), follow its reply and send the next message to that conversation when the
 * reply ends. One subscription per such conversation, only while something is queued there.
 */
export function BackgroundQueues({ currentId }: { currentId: string | null }) {
  const keys = useSyncExternalStore(queueStore.subscribe, queuedKeys, queuedKeys);
  // Nothing queued is "", which split would make one key, "": a runner asking the server about no conversation.
  const others = (keys === "" ? [] : keys.split("\n")).filter((key) => isConversationKey(key) && key !== currentId);
  return (
    <>
      {others.map((conversationId) => (
        <QueueRunner key={conversationId} conversationId={conversationId} />
      ))}
    </>
  );
}

function QueueRunner({ conversationId }: { conversationId: string }) {
  const utils = trpc.useUtils();
  // Always asked again on mount: a cached copy from before the reply started would say "idle".
  const conversation = trpc.conversations.get.useQuery({ conversationId }, { refetchOnMount: "always" });
  const send = trpc.chat.send.useMutation();
  const [sentRunId, setSentRunId] = useState<string | null>(null);
  const sendingRef = useRef(false);
  // Held behind a message that was not sent (it is in the conversation's composer): nothing goes before it.
  const held = useSyncExternalStore(queueHolds.subscribe, () => queueHolds.get(conversationId) !== null);
  // The pane the user just left may have a message on its way here: the next one waits for it, and for its answer.
  const paneSending = useSendMadeElsewhere(conversationId, (runId) => {
    if (runId) setSentRunId(runId);
  });

  const activeRunId = conversation.data?.activeRunId ?? null;
  const followed = sentRunId ?? activeRunId;

  const sendNext = useCallback(() => {
    if (sendingRef.current || pausedQueues.has(conversationId) || queueHolds.get(conversationId) || sendsInFlight.get(conversationId)) return;
    const next = queueStore.shift(conversationId);
    if (!next) return;
    sendingRef.current = true;
    const settle = sendsInFlight.begin(conversationId);
    let started: string | null = null;
    send
      .mutateAsync({
        conversationId,
        message: next.text,
        model: next.model ?? undefined,
        clientRequestId: next.id,
        ...(next.think ? { think: next.think } : {}),
        ...(next.attachments?.length ? { attachments: next.attachments } : {}),
      })
      .then((result) => {
        started = result.runId;
        setSentRunId(result.runId);
      })
      .catch(() => {
        // Left queued for the conversation's pane, which shows why it fails when the user is back.
        pausedQueues.add(conversationId);
        queueStore.unshift(conversationId, next);
      })
      .finally(() => {
        sendingRef.current = false;
        settle(started);
        void utils.conversations.get.invalidate({ conversationId });
        void utils.conversations.list.invalidate();
      });
  }, [conversationId, send, utils]);

  useRunEvents(followed, (event) => {
    if (event.type === "done") sendNext();
  });

  // Nothing running there (it ended before this mounted): send at once.
  const followedDone = followed === null || runCache.get(followed)?.done != null;
  const idle = conversation.isFetchedAfterMount && !conversation.isFetching && activeRunId === null;
  useEffect(() => {
    if (idle && followedDone && !paneSending && !held) sendNext();
  }, [idle, followedDone, paneSending, held, sendNext]);

  // A deleted conversation takes its queue with it.
  const gone = conversation.error?.data?.code === "NOT_FOUND";
  useEffect(() => {
    if (!gone) return;
    queueStore.clear(conversationId);
    queueHolds.release(conversationId);
  }, [gone, conversationId]);

  return null;
}
