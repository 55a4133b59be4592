import { answerFromStored, answerRunId, buildTurns, lastTurnRunId, type RunView, type StoredMessageView } from "./history.js";
import { emptyMessageState, type MessageState } from "./reducer.js";

export interface ChatItemUser {
  kind: "user";
  key: string;
  text: string;
  /** Stored message id (editable); null while it is only on this page. */
  messageId: number | null;
  pending: boolean;
  /** Images on the stored message. */
  attachments?: StoredMessageView["attachments"];
}
export interface ChatItemAnswer {
  kind: "answer";
  key: string;
  state: MessageState;
  streaming: boolean;
  /** The page stopped following an unfinished answer whose stream kept ending early. */
  disconnected?: boolean;
  last: boolean;
}
export type ChatItem = ChatItemUser | ChatItemAnswer;

/**
 * The list the view renders: stored turns (answers from this page's run cache when it has them, else
 * rebuilt from the stored messages and the run's outcome), the followed run attached to its turn — or to the last
 * turn when the stored messages do not know it yet (regenerate, edit) — and a not-yet-stored question.
 */
export function buildItems(input: {
  messages: readonly StoredMessageView[];
  runs: readonly RunView[];
  optimisticEdit: { messageId: number; text: string } | null;
  pendingUser: { text: string; runId: string | null } | null;
  storedHasPending: boolean;
  runId: string | null;
  live: MessageState | null;
  /** The followed run's stream kept ending before `done` and the page gave up (until the user retries). */
  liveInterrupted?: boolean;
  /** Answers this page followed to the end (they carry tool durations and error details). */
  cachedRun: (runId: string) => MessageState | undefined;
}): ChatItem[] {
  const { optimisticEdit, pendingUser, runId, live } = input;
  let turns = buildTurns(input.messages);
  if (optimisticEdit) {
    const index = turns.findIndex((t) => t.user.id === optimisticEdit.messageId);
    if (index >= 0) {
      const edited = turns[index]!;
      turns = [...turns.slice(0, index), { user: { ...edited.user, content: optimisticEdit.text }, answers: [], runIds: [] }];
    }
  }
  const runsById = new Map(input.runs.map((r) => [r.id, r]));
  const showPending = pendingUser !== null && !input.storedHasPending;
  const liveMatched = runId !== null && turns.some((t) => t.runIds.includes(runId));
  const liveInterrupted = live !== null && live.done === null && input.liveInterrupted === true;
  const liveStreaming = live !== null && live.done === null && !liveInterrupted;
  const liveFlags = liveInterrupted ? { disconnected: true } : {};

  const items: ChatItem[] = [];
  turns.forEach((turn, index) => {
    const last = index === turns.length - 1 && !showPending;
    items.push({
      kind: "user",
      key: `u${turn.user.id}`,
      text: turn.user.content,
      messageId: turn.user.id,
      pending: false,
      ...(turn.user.attachments ? { attachments: turn.user.attachments } : {}),
    });
    const takesLive = live !== null && runId !== null && (turn.runIds.includes(runId) || (!liveMatched && !showPending && last));
    if (takesLive) {
      items.push({ kind: "answer", key: `a${turn.user.id}`, state: live, streaming: liveStreaming, ...liveFlags, last });
      return;
    }
    const answerRun = index === turns.length - 1 ? lastTurnRunId(turn, input.runs) : answerRunId(turn);
    const cached = answerRun ? input.cachedRun(answerRun) : undefined;
    if (cached?.done) {
      items.push({ kind: "answer", key: `a${turn.user.id}`, state: cached, streaming: false, last });
    } else if (turn.answers.length > 0 || (answerRun && runsById.get(answerRun)?.reason)) {
      const state = answerFromStored(turn.answers, answerRun ? runsById.get(answerRun) : undefined);
      items.push({ kind: "answer", key: `a${turn.user.id}`, state, streaming: false, last });
    }
  });

  if (showPending) {
    items.push({ kind: "user", key: "pending", text: pendingUser.text, messageId: null, pending: true });
    if (live !== null && runId !== null && !liveMatched && pendingUser.runId === runId) {
      items.push({ kind: "answer", key: "pending-answer", state: live, streaming: liveStreaming, ...liveFlags, last: true });
    } else if (pendingUser.runId === null) {
      // chat.send is on its way: show the answer placeholder at once rather than after the round trip.
      items.push({ kind: "answer", key: "pending-answer", state: emptyMessageState(), streaming: true, last: true });
    }
  }
  return items;
}
