import { answerFromStored, answerRunId, buildTurns, type MessageVersions, type RunView, type StoredMessageView, type Turn } from "./history.js";
import { emptyMessageState, type MessageState } from "./reducer.js";

/**
 * `key` names what an item shows (`u<id>`, `a<question id>`: the DOM id search hits and version switches find it by);
 * `renderKey`, when set, is its React key instead. A question sent from this page keeps the one it had while only the
 * page had it: a new key once it is saved would take it and its answer out of the live log and add them again, and a
 * screen reader would read them twice.
 */
interface ItemKeys {
  key: string;
  renderKey?: string;
}
export interface ChatItemUser extends ItemKeys {
  kind: "user";
  text: string;
  /** Stored message id (editable); null while it is only on this page. */
  messageId: number | null;
  pending: boolean;
  /** Set when the question was edited: its versions (‹ 2 / 3 ›). */
  versions?: MessageVersions;
  /** Images and text files on the message. */
  attachments?: StoredMessageView["attachments"];
}
export interface ChatItemAnswer extends ItemKeys {
  kind: "answer";
  state: MessageState;
  streaming: boolean;
  /** The page stopped following an unfinished answer whose stream kept ending early. */
  disconnected?: boolean;
  last: boolean;
  /** The stored question this answers (what chat.regenerate re-answers); null while the question is only on this page. */
  questionId: number | null;
  /** Set when the answer was regenerated: its versions (‹ 2 / 3 ›). */
  versions?: MessageVersions;
  /**
   * The stored message that ends this answer (its last assistant message), which conversations.branch copies the
   * conversation up to; null while the answer runs or is not stored as shown (a live answer before the refetch).
   */
  branchFromId: number | null;
}
export type ChatItem = ChatItemUser | ChatItemAnswer;

/** The key of a stored question's item (another version of it is another message, so another item). */
export const userItemKey = (messageId: number): string => `u${messageId}`;
/** The React key of the answer to a question whose item has the React key `questionKey`. */
const answerRenderKey = (questionKey: string): string => `${questionKey}-answer`;

/** A regenerate this page started: its run answers `questionId` again. */
export interface Regenerating {
  runId: string;
  questionId: number;
  /** Until the stored conversation is fetched again: the question's answer and every later turn are hidden at once. */
  optimistic: boolean;
}

/**
 * Whether a finished run that the path does not show stored nothing (a regenerate that failed at once: the server
 * showed the previous answer again). Such a run leaves its turn on the newest version of the answer, made by an older
 * run; one that stored an answer made a newer version, so a turn showing anything else was switched elsewhere.
 */
function storedNothing(turn: Turn | undefined, runId: string, runs: readonly RunView[]): boolean {
  if (!turn) return false;
  const versions = turn.answers[0]?.versions;
  if (versions && versions.index !== versions.count) return false;
  const age = (id: string | null) => runs.findIndex((r) => r.id === id); // runs are oldest first
  return age(answerRunId(turn)) < age(runId);
}

/**
 * The list the view renders: stored turns (answers from this page's run cache when it has them, else
 * rebuilt from the stored messages and the run's outcome), the followed run attached to its turn — or, when the
 * stored messages do not know it yet, to the question it regenerates, else to the last turn (edit; a finished run
 * that the stored runs know goes there only if it stored nothing) — and a not-yet-stored question.
 */
export function buildItems(input: {
  messages: readonly StoredMessageView[];
  runs: readonly RunView[];
  optimisticEdit: { messageId: number; text: string } | null;
  regenerating?: Regenerating | null;
  /** A question sent from this page, not stored yet; `key` is its React key, kept once it is stored (`sentKeys`). */
  pendingUser: { text: string; runId: string | null; key?: string; attachments?: ChatItemUser["attachments"] } | null;
  storedHasPending: boolean;
  /** The React keys of the questions this page sent, by the run that answers them (the stored question's `runId`). */
  sentKeys?: ReadonlyMap<string, string>;
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
  const regenerating = input.regenerating ?? null;
  if (regenerating?.optimistic) {
    const index = turns.findIndex((t) => t.user.id === regenerating.questionId);
    if (index >= 0) turns = [...turns.slice(0, index), { user: turns[index]!.user, answers: [], runIds: [] }];
  }
  const runsById = new Map(input.runs.map((r) => [r.id, r]));
  const showPending = pendingUser !== null && !input.storedHasPending;
  const matchedIndex = runId === null ? -1 : turns.findIndex((t) => t.runIds.includes(runId));
  const targetIndex = regenerating !== null && regenerating.runId === runId ? turns.findIndex((t) => t.user.id === regenerating.questionId) : -1;
  const placeIndex = matchedIndex >= 0 ? matchedIndex : targetIndex >= 0 ? targetIndex : showPending ? -1 : turns.length - 1;
  // The path moved off a finished run the store knows (another tab switched versions): the turn shows the path's own
  // answer, unless the run stored nothing and its turn is still where it left it.
  const offPath = matchedIndex < 0 && live?.done != null && runId !== null && runsById.has(runId);
  const liveIndex =
    live === null || runId === null || (offPath && !storedNothing(turns[placeIndex], runId, input.runs)) ? -1 : placeIndex;
  const liveMatched = matchedIndex >= 0 || targetIndex >= 0;
  const liveInterrupted = live !== null && live.done === null && input.liveInterrupted === true;
  const liveStreaming = live !== null && live.done === null && !liveInterrupted;
  const liveFlags = liveInterrupted ? { disconnected: true } : {};

  const items: ChatItem[] = [];
  turns.forEach((turn, index) => {
    const last = index === turns.length - 1 && !showPending;
    const sentKey = turn.user.runId !== null ? input.sentKeys?.get(turn.user.runId) : undefined;
    items.push({
      kind: "user",
      key: userItemKey(turn.user.id),
      ...(sentKey !== undefined ? { renderKey: sentKey } : {}),
      text: turn.user.content,
      messageId: turn.user.id,
      pending: false,
      ...(turn.user.versions ? { versions: turn.user.versions } : {}),
      ...(turn.user.attachments ? { attachments: turn.user.attachments } : {}),
    });
    const versions = turn.answers[0]?.versions;
    const answer = {
      kind: "answer" as const,
      key: `a${turn.user.id}`,
      ...(sentKey !== undefined ? { renderKey: answerRenderKey(sentKey) } : {}),
      last,
      questionId: turn.user.id,
      ...(versions ? { versions } : {}),
    };
    // What a branch copies up to: the turn's last stored message, when it is an answer of the run the turn shows, or
    // an answer imported from another app (no run here) in a turn that shows none.
    const lastStored = turn.answers.at(-1);
    const branchFrom = (shownRun: string | null | undefined) =>
      lastStored?.role === "assistant" && lastStored.runId === (shownRun ?? null) ? lastStored.id : null;
    if (index === liveIndex) {
      items.push({ ...answer, state: live!, streaming: liveStreaming, ...liveFlags, branchFromId: live!.done ? branchFrom(runId) : null });
      return;
    }
    const answerRun = answerRunId(turn);
    const cached = answerRun ? input.cachedRun(answerRun) : undefined;
    if (cached?.done) {
      items.push({ ...answer, state: cached, streaming: false, branchFromId: branchFrom(answerRun) });
    } else if (turn.answers.length > 0 || (answerRun && runsById.get(answerRun)?.reason)) {
      const state = answerFromStored(turn.answers, answerRun ? runsById.get(answerRun) : undefined);
      items.push({ ...answer, state, streaming: false, branchFromId: branchFrom(answerRun) });
    }
  });

  if (showPending) {
    const renderKeys = (key: string) => (pendingUser.key !== undefined ? { renderKey: key } : {});
    const userKey = pendingUser.key ?? "pending";
    items.push({
      kind: "user",
      key: "pending",
      ...renderKeys(userKey),
      text: pendingUser.text,
      messageId: null,
      pending: true,
      ...(pendingUser.attachments?.length ? { attachments: pendingUser.attachments } : {}),
    });
    const answerKeys = { key: "pending-answer", ...renderKeys(answerRenderKey(userKey)) };
    if (live !== null && runId !== null && !liveMatched && pendingUser.runId === runId) {
      items.push({ kind: "answer", ...answerKeys, state: live, streaming: liveStreaming, ...liveFlags, last: true, questionId: null, branchFromId: null });
    } else if (pendingUser.runId === null) {
      // chat.send is on its way: show the answer placeholder at once rather than after the round trip.
      items.push({ kind: "answer", ...answerKeys, state: emptyMessageState(), streaming: true, last: true, questionId: null, branchFromId: null });
    }
  }
  return items;
}
