import { emptyUsage } from "@streamchat/core/browser";
import { describe, expect, it } from "vitest";
import type { RunView, StoredMessageView } from "./history.js";
import { buildItems, type ChatItem } from "./items.js";
import { emptyMessageState, type MessageState } from "./reducer.js";

let nextId = 1;
function msg(role: StoredMessageView["role"], content: string, runId: string | null, extra: Partial<StoredMessageView> = {}): StoredMessageView {
  return { id: nextId++, parentId: null, role, content, runId, createdAt: 0, ...extra };
}
const run = (id: string, reason: RunView["reason"] = "stop"): RunView =>
  ({ id, status: reason ? "done" : "running", reason, usage: emptyUsage(), model: "demo" }) as RunView;

const messages = [
  msg("user", "First question", "r1"),
  msg("assistant", "First answer", "r1"),
  msg("user", "Second question", "r2"),
  msg("assistant", "Second answer", "r2"),
];
const runs = [run("r1"), run("r2")];

function liveState(runId: string, text: string, done = false): MessageState {
  return {
    ...emptyMessageState(runId),
    text,
    lastSeq: 3,
    done: done ? { reason: "stop", usage: emptyUsage() } : null,
  };
}

const base = {
  messages,
  runs,
  optimisticEdit: null,
  pendingUser: null,
  storedHasPending: false,
  runId: null,
  live: null,
  cachedRun: () => undefined,
};

/** A compact picture of the list: "U:text" / "A:text[:streaming][:last]". */
function shape(items: ChatItem[]): string[] {
  return items.map((i) =>
    i.kind === "user"
      ? `U:${i.text}${i.pending ? ":pending" : ""}`
      : `A:${i.state.text}${i.streaming ? ":streaming" : ""}${i.last ? ":last" : ""}`,
  );
}

describe("buildItems", () => {
  it("keeps a sent question's React keys, and its answer's, once it is stored: the live log does not get them twice", () => {
    const renderKeys = (items: ChatItem[]) => items.map((i) => i.renderKey ?? i.key);
    const pendingUser = { text: "Third", runId: "r3", key: "sent-x" };
    const sending = buildItems({ ...base, pendingUser: { ...pendingUser, runId: null } });
    const following = buildItems({ ...base, pendingUser, runId: "r3", live: liveState("r3", "Part") });
    const stored = [...messages, msg("user", "Third", "r3"), msg("assistant", "Whole", "r3")];
    const saved = buildItems({ ...base, messages: stored, runs: [...runs, run("r3")], pendingUser, storedHasPending: true, sentKeys: new Map([["r3", "sent-x"]]), runId: "r3", live: liveState("r3", "Whole", true) });
    const later = buildItems({ ...base, messages: stored, runs: [...runs, run("r3")], sentKeys: new Map([["r3", "sent-x"]]) });
    for (const items of [sending, following, saved, later]) expect(renderKeys(items).slice(-2)).toEqual(["sent-x", "sent-x-answer"]);
    // Search hits and version switches still find the stored question and its answer by the message's id.
    const thirdId = stored.at(-2)!.id;
    expect(later.slice(-2).map((i) => i.key)).toEqual([`u${thirdId}`, `a${thirdId}`]);
    // Questions this page did not send keep the keys they always had.
    expect(renderKeys(later).slice(0, 4)).toEqual(later.slice(0, 4).map((i) => i.key));
  });

  it("marks the followed answer disconnected, not streaming, when the page gave up on its stream", () => {
    const following = { ...base, messages: [...messages, msg("user", "Third", "r3")], runs: [...runs, run("r3", null)], runId: "r3", live: liveState("r3", "Partial") };
    const streaming = buildItems(following).at(-1);
    expect(streaming).toMatchObject({ kind: "answer", streaming: true });
    expect(streaming).not.toHaveProperty("disconnected");
    expect(buildItems({ ...following, liveInterrupted: true }).at(-1)).toMatchObject({ kind: "answer", streaming: false, disconnected: true });
    // a finished answer is never shown as disconnected
    expect(buildItems({ ...following, live: liveState("r3", "Whole", true), liveInterrupted: true }).at(-1)).not.toHaveProperty("disconnected");
  });

  it("shows stored turns, the last answer marked last", () => {
    expect(shape(buildItems(base))).toEqual(["U:First question", "A:First answer", "U:Second question", "A:Second answer:last"]);
  });

  it("attaches the followed run to the turn that started it (reload mid-answer)", () => {
    const items = buildItems({
      ...base,
      messages: [...messages, msg("user", "Third", "r3")],
      runs: [...runs, run("r3", null)],
      runId: "r3",
      live: liveState("r3", "Par"),
    });
    expect(shape(items).slice(-2)).toEqual(["U:Third", "A:Par:streaming:last"]);
  });

  it("puts a regenerated answer in place of the last one before the store knows its run", () => {
    const items = buildItems({ ...base, runId: "r9", live: liveState("r9", "New take") });
    expect(shape(items)).toEqual(["U:First question", "A:First answer", "U:Second question", "A:New take:streaming:last"]);
  });

  it("shows a question that is not stored yet, with its answer", () => {
    const items = buildItems({
      ...base,
      pendingUser: { text: "Third", runId: "r3" },
      runId: "r3",
      live: liveState("r3", "Thi"),
    });
    expect(shape(items)).toEqual([
      "U:First question",
      "A:First answer",
      "U:Second question",
      "A:Second answer",
      "U:Third:pending",
      "A:Thi:streaming:last",
    ]);
  });

  it("shows the answer placeholder while chat.send is on its way", () => {
    const items = buildItems({ ...base, pendingUser: { text: "Third", runId: null } });
    expect(shape(items).slice(-2)).toEqual(["U:Third:pending", "A::streaming:last"]);
  });

  it("shows the files and images of a question on its way with it, as the stored question will", () => {
    const attachments = [{ type: "file" as const, name: "notes.md", chars: 5, text: "hello" }];
    const items = buildItems({ ...base, pendingUser: { text: "Third", runId: null, attachments } });
    const pending = items.find((i) => i.kind === "user" && i.pending);
    expect(pending?.kind === "user" && pending.attachments).toEqual(attachments);
  });

  it("hides the page-only question once the store has it", () => {
    const stored = [...messages, msg("user", "Third", "r3")];
    const items = buildItems({
      ...base,
      messages: stored,
      pendingUser: { text: "Third", runId: "r3" },
      storedHasPending: true,
      runId: "r3",
      live: liveState("r3", "Thi"),
    });
    expect(shape(items).filter((s) => s.startsWith("U:Third"))).toEqual(["U:Third"]);
  });

  it("shows an edit at once: new text, everything after it gone, the new run attached", () => {
    const items = buildItems({
      ...base,
      optimisticEdit: { messageId: messages[0]!.id, text: "Edited question" },
      runId: "r5",
      live: liveState("r5", "Fresh"),
    });
    expect(shape(items)).toEqual(["U:Edited question", "A:Fresh:streaming:last"]);
  });

  it("shows the previous answer after a regenerate that stored nothing, and the followed run's error while the page has it", () => {
    const failed: RunView = {
      ...run("r3", "error"),
      error: { code: "model_not_found", message: 'model "x" not found' },
      toolResults: [],
    };
    // The server went back to the previous answer; only the run list knows r3 (it is not another version's answer).
    const stored = buildItems({ ...base, runs: [...runs, failed] });
    expect(shape(stored)).toEqual(["U:First question", "A:First answer", "U:Second question", "A:Second answer:last"]);
    const errored = { ...liveState("r3", "", true), error: { code: "model_not_found" as const, message: "gone", retryable: false } };
    const followed = buildItems({ ...base, runs: [...runs, failed], runId: "r3", live: errored, regenerating: { runId: "r3", questionId: messages[0]!.id, optimistic: false } });
    // On the question it regenerated, not on the last turn.
    expect(shape(followed)).toEqual(["U:First question", "A:", "U:Second question", "A:Second answer:last"]);
    expect(followed[1]?.kind === "answer" && followed[1].state.error).toMatchObject({ code: "model_not_found" });
    // Regenerating the last answer: on the last turn, the previous answer (r2) being the newest version.
    const last = buildItems({ ...base, runs: [...runs, failed], runId: "r3", live: errored });
    expect(shape(last)).toEqual(["U:First question", "A:First answer", "U:Second question", "A::last"]);
  });

  it("shows the path's version, not the regenerate this page followed, once the path moved off it (another tab switched)", () => {
    // Question, answer v1 (r1), answer v2 by the regenerate r2 that this page followed to its end; the path is on v1 now.
    const question = msg("user", "Question", "r1");
    const v1 = msg("assistant", "Answer v1", "r1", { versions: { index: 1, count: 2, siblingIds: [900, 901] } });
    const followed = liveState("r2", "Answer v2", true);
    const state = { ...base, messages: [question, v1], runs: [run("r1"), run("r2")], runId: "r2", live: followed };
    expect(shape(buildItems(state))).toEqual(["U:Question", "A:Answer v1:last"]);
    // Also while this page still remembers which question it regenerated.
    const regenerating = { runId: "r2", questionId: question.id, optimistic: false };
    expect(shape(buildItems({ ...state, regenerating }))).toEqual(["U:Question", "A:Answer v1:last"]);
    // Another tab regenerated again (v3 by r3, the newest version): not this page's answer either.
    const v3 = msg("assistant", "Answer v3", "r3", { versions: { index: 3, count: 3, siblingIds: [900, 901, 902] } });
    const newer = { ...state, messages: [question, v3], runs: [run("r1"), run("r2"), run("r3")], regenerating };
    expect(shape(buildItems(newer))).toEqual(["U:Question", "A:Answer v3:last"]);
  });

  it("regenerating an earlier answer hides it and the later turns at once, and streams under its question", () => {
    const items = buildItems({ ...base, runId: "r7", live: liveState("r7", "Again"), regenerating: { runId: "r7", questionId: messages[0]!.id, optimistic: true } });
    expect(shape(items)).toEqual(["U:First question", "A:Again:streaming:last"]);
    expect(items[1]).toMatchObject({ questionId: messages[0]!.id });
  });

  it("carries the versions of edited questions and regenerated answers, and each answer's question", () => {
    const versions = { index: 2, count: 2, siblingIds: [90, 91] };
    const branched = [
      msg("user", "Edited", "r1", { versions }),
      msg("assistant", "Answer v2", "r2", { versions: { index: 2, count: 3, siblingIds: [92, 93, 94] } }),
    ];
    const items = buildItems({ ...base, messages: branched, runs: [run("r1"), run("r2")] });
    expect(items[0]).toMatchObject({ kind: "user", versions });
    expect(items[1]).toMatchObject({ kind: "answer", questionId: branched[0]!.id, versions: { index: 2, count: 3 }, state: { runId: "r2", text: "Answer v2" } });
    // Another version's newer run (r9) is not this answer's.
    const other = buildItems({ ...base, messages: branched, runs: [run("r1"), run("r2"), run("r9")], cachedRun: (id) => (id === "r9" ? liveState("r9", "v3", true) : undefined) });
    expect(shape(other)).toEqual(["U:Edited", "A:Answer v2:last"]);
  });

  it("prefers the answer this page followed to the end over the stored copy", () => {
    const followed = { ...liveState("r1", "First answer (live copy)", true) };
    const items = buildItems({ ...base, cachedRun: (id) => (id === "r1" ? followed : undefined) });
    expect(shape(items)[1]).toBe("A:First answer (live copy)");
  });
});

describe("buildItems: where an answer branches from", () => {
  const branchIds = (items: ChatItem[]) => items.flatMap((i) => (i.kind === "answer" ? [i.branchFromId] : []));

  it("is the turn's last stored assistant message: the final answer after a tool round, not the tool call", () => {
    const withTool = [
      msg("user", "What time is it?", "t1"),
      msg("assistant", "", "t1", { toolCalls: [{ id: "c1", name: "current_time", args: {} }] } as Partial<StoredMessageView>),
      msg("tool", '{"iso":"…"}', "t1"),
      msg("assistant", "It is noon.", "t1"),
    ];
    expect(branchIds(buildItems({ ...base, messages: withTool, runs: [run("t1")] }))).toEqual([withTool[3]!.id]);
    expect(branchIds(buildItems(base))).toEqual([messages[1]!.id, messages[3]!.id]);
  });

  it("is none while an answer runs, nor for a finished live answer the page has not fetched the store's copy of", () => {
    const pendingUser = { text: "Third", runId: "r3" };
    expect(branchIds(buildItems({ ...base, pendingUser, runId: "r3", live: liveState("r3", "Part") }))).toEqual([messages[1]!.id, messages[3]!.id, null]);
    const stored = [...messages, msg("user", "Third", "r3")];
    // Done, but the answer is not in the stored messages yet: nothing to branch from until the refetch brings it.
    expect(branchIds(buildItems({ ...base, messages: stored, runs: [...runs, run("r3")], storedHasPending: true, runId: "r3", live: liveState("r3", "Whole", true) })).at(-1)).toBeNull();
    const answered = [...stored, msg("assistant", "Whole", "r3")];
    expect(branchIds(buildItems({ ...base, messages: answered, runs: [...runs, run("r3")], storedHasPending: true, runId: "r3", live: liveState("r3", "Whole", true) })).at(-1)).toBe(answered[5]!.id);
  });

  it("is an answer imported from another app, which has no run here; not when a run of this app answers that question", () => {
    const imported = [msg("user", "From ChatGPT", null), msg("assistant", "Its answer", null)];
    expect(branchIds(buildItems({ ...base, messages: imported, runs: [] }))).toEqual([imported[1]!.id]);
    // Regenerated here and stored nothing yet: the turn shows the new run, not the imported answer.
    expect(branchIds(buildItems({ ...base, messages: imported, runs: [run("g1", null)], runId: "g1", live: liveState("g1", "New", true) })).at(-1)).toBeNull();
  });

  it("is none for a turn whose shown run stored no answer (a regenerate that failed at once shows the run's error)", () => {
    const failed = [msg("user", "Why?", "f1")];
    expect(branchIds(buildItems({ ...base, messages: failed, runs: [run("f1", "error")] }))).toEqual([null]);
  });
});
