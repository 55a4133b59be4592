import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { StoreError } from "./errors.js";
import { createMemoryStore } from "./memory.js";
import { openSqliteStore } from "./sqlite.js";
import { doneEvent, everyMessageVariant, manualClock, runEvents, sampleUsage, tokenEvent } from "./test-support/fixtures.js";
import type { ChatStore } from "./types.js";

type Open = (dir: string, now: () => number) => ChatStore;

// The one behaviour both implementations promise; SQLite-only behaviour lives in sqlite.test.ts.
describe.each<{ name: string; open: Open }>([
  { name: "memory", open: (_dir, now) => createMemoryStore({ now }) },
  // A long flush interval: every read below must see appends that the timer has not committed.
  { name: "sqlite", open: (dir, now) => openSqliteStore({ path: join(dir, "chat.db"), now, flushIntervalMs: 60_000 }) },
])("$name store", ({ open }) => {
  let dir: string;
  let store: ChatStore;
  let clock: ReturnType<typeof manualClock>;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "store-test-"));
    clock = manualClock();
    store = open(dir, clock.now);
  });
  afterEach(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function conversation(id: string, userId = "alice", title = `Title ${id}`) {
    return store.createConversation({ id, userId, title });
  }
  function run(id: string, conversationId: string, userId = "alice", clientRequestId?: string | null) {
    return store.createRun({ id, conversationId, userId, model: "demo", provider: "sim", clientRequestId });
  }

  describe("conversations", () => {
    it("creates and reads back a conversation", () => {
      clock.set(5_000);
      const created = conversation("c1");
      const expected = { id: "c1", userId: "alice", title: "Title c1", createdAt: 5_000, updatedAt: 5_000 };
      expect(created).toEqual(expected);
      expect(store.getConversation("alice", "c1")).toEqual(expected);
      expect(store.getConversation("alice", "missing")).toBeUndefined();
    });

    it("refuses a duplicate id", () => {
      conversation("c1");
      expect(() => conversation("c1", "bob")).toThrow(StoreError);
      expect(() => conversation("c1", "bob")).toThrow(expect.objectContaining({ code: "conflict" }));
      expect(store.getConversation("bob", "c1")).toBeUndefined();
    });

    it("keeps each user's conversations to that user", () => {
      conversation("a1", "alice", "Alice's");
      expect(store.getConversation("bob", "a1")).toBeUndefined();
      expect(store.listConversations("bob")).toEqual([]);
      expect(store.renameConversation("bob", "a1", "hijacked")).toBeUndefined();
      expect(store.deleteConversation("bob", "a1")).toBe(false);
      expect(store.searchMessages("bob", "Alice")).toEqual([]);
      expect(() => run("r1", "a1", "bob")).toThrow(expect.objectContaining({ code: "not_found" }));
      expect(store.getConversation("alice", "a1")?.title).toBe("Alice's");
    });

    it("renames without reordering", () => {
      clock.set(1_000);
      conversation("old");
      clock.set(2_000);
      conversation("new");
      clock.set(3_000);
      expect(store.renameConversation("alice", "old", "Renamed")).toEqual({
        id: "old",
        userId: "alice",
        title: "Renamed",
        createdAt: 1_000,
        updatedAt: 1_000,
      });
      expect(store.listConversations("alice").map((c) => [c.id, c.title])).toEqual([
        ["new", "Title new"],
        ["old", "Renamed"],
      ]);
    });

    it("lists newest activity first; appending a message bumps updatedAt", () => {
      for (const [i, id] of ["c1", "c2", "c3"].entries()) {
        clock.set(1_000 * (i + 1));
        conversation(id);
      }
      conversation("b1", "bob");
      expect(store.listConversations("alice").map((c) => c.id)).toEqual(["c3", "c2", "c1"]);

      clock.set(10_000);
      store.appendMessage({ conversationId: "c1", runId: null, message: { role: "user", content: "hi" } });
      const listed = store.listConversations("alice");
      expect(listed.map((c) => c.id)).toEqual(["c1", "c3", "c2"]);
      expect(listed[0]).toEqual({ id: "c1", userId: "alice", title: "Title c1", createdAt: 1_000, updatedAt: 10_000 });
      expect(store.listConversations("alice", { limit: 2 }).map((c) => c.id)).toEqual(["c1", "c3"]);
      expect(store.listConversations("bob").map((c) => c.id)).toEqual(["b1"]);
    });

    it("breaks updatedAt ties by creation, newest first", () => {
      conversation("first");
      conversation("second");
      expect(store.listConversations("alice").map((c) => c.id)).toEqual(["second", "first"]);
    });

    it("deletes a conversation with its messages, runs and events", () => {
      conversation("c1");
      conversation("keep");
      store.appendMessage({ conversationId: "c1", runId: "r1", message: { role: "user", content: "doomed" } });
      run("r1", "c1", "alice", "req-1");
      store.appendEvent("r1", tokenEvent("r1", "pending, not yet flushed"));
      run("r2", "keep");
      store.appendEvent("r2", tokenEvent("r2", "kept"));

      expect(store.deleteConversation("alice", "c1")).toBe(true);
      expect(store.getConversation("alice", "c1")).toBeUndefined();
      expect(store.listMessages("c1")).toEqual([]);
      expect(store.getRun("r1")).toBeUndefined();
      expect(store.findRunByClientRequestId("alice", "req-1")).toBeUndefined();
      expect(store.readEvents("r1")).toEqual([]);
      expect(store.lastSeq("r1")).toBe(0);
      expect(store.listRunningRuns().map((r) => r.id)).toEqual(["r2"]);
      expect(store.searchMessages("alice", "doomed")).toEqual([]);
      expect(() => store.appendEvent("r1", tokenEvent("r1", "late"))).toThrow(expect.objectContaining({ code: "not_found" }));
      expect(store.deleteConversation("alice", "c1")).toBe(false);
      // The other conversation is untouched.
      expect(store.readEvents("r2").map((e) => e.seq)).toEqual([1]);
      expect(store.getRun("r2")?.status).toBe("running");
    });
  });

  describe("messages", () => {
    it("round-trips every ChatMessage variant exactly, in order", () => {
      conversation("c1");
      const stored = everyMessageVariant.map((message, i) => {
        clock.set(2_000 + i);
        return store.appendMessage({ conversationId: "c1", runId: i === 0 ? null : "r1", message });
      });
      const ids = stored.map((m) => m.id);
      expect(ids).toEqual([...ids].sort((a, b) => a - b));
      expect(new Set(ids).size).toBe(ids.length);

      const expected = everyMessageVariant.map((message, i) => ({
        id: ids[i],
        conversationId: "c1",
        runId: i === 0 ? null : "r1",
        message,
        createdAt: 2_000 + i,
      }));
      expect(stored).toEqual(expected);
      expect(store.listMessages("c1")).toEqual(expected);
      // Exact shape: no fields gained or lost (toEqual ignores undefined-valued keys, so compare JSON too).
      expect(JSON.stringify(store.listMessages("c1").map((m) => m.message))).toBe(JSON.stringify(everyMessageVariant));
    });

    it("stores a copy: later changes to the caller's object do not leak in", () => {
      conversation("c1");
      const message = { role: "assistant" as const, content: "v1", toolCalls: [{ id: "t", name: "calculator", args: { x: 1 } }] };
      store.appendMessage({ conversationId: "c1", runId: null, message });
      message.content = "v2";
      message.toolCalls[0]!.args.x = 2;
      expect(store.listMessages("c1")[0]?.message).toEqual({
        role: "assistant",
        content: "v1",
        toolCalls: [{ id: "t", name: "calculator", args: { x: 1 } }],
      });
    });

    it("refuses a message for an unknown conversation", () => {
      expect(() => store.appendMessage({ conversationId: "nope", runId: null, message: { role: "user", content: "x" } })).toThrow(
        expect.objectContaining({ code: "not_found" }),
      );
    });

    it("deletes from a message on (edit, regenerate) and never reuses ids", () => {
      conversation("c1");
      conversation("c2");
      const [m1, m2, m3] = ["one", "two", "three"].map((content) =>
        store.appendMessage({ conversationId: "c1", runId: null, message: { role: "user", content } }),
      );
      const other = store.appendMessage({ conversationId: "c2", runId: null, message: { role: "user", content: "other" } });
      expect(store.deleteMessagesFrom("c1", m2!.id)).toBe(2);
      expect(store.listMessages("c1").map((m) => m.message.content)).toEqual(["one"]);
      expect(store.listMessages("c2").map((m) => m.id)).toEqual([other.id]);
      const next = store.appendMessage({ conversationId: "c1", runId: null, message: { role: "user", content: "two again" } });
      expect(next.id).toBeGreaterThan(Math.max(m3!.id, other.id));
      expect(store.listMessages("c1").map((m) => m.id)).toEqual([m1!.id, next.id]);
      expect(store.deleteMessagesFrom("c1", next.id + 100)).toBe(0);
    });
  });

  describe("runs", () => {
    it("creates a running run and finds it by id, client request id and conversation", () => {
      conversation("c1");
      clock.set(7_000);
      const created = run("r1", "c1", "alice", "req-1");
      const expected = {
        id: "r1",
        conversationId: "c1",
        userId: "alice",
        model: "demo",
        provider: "sim",
        clientRequestId: "req-1",
        status: "running",
        reason: null,
        usage: null,
        createdAt: 7_000,
        finishedAt: null,
      };
      expect(created).toEqual(expected);
      expect(store.getRun("r1")).toEqual(expected);
      expect(store.findRunByClientRequestId("alice", "req-1")).toEqual(expected);
      expect(store.findRunByClientRequestId("bob", "req-1")).toBeUndefined();
      expect(store.findRunByClientRequestId("alice", "req-2")).toBeUndefined();
      expect(store.activeRun("c1")).toEqual(expected);
      expect(store.listRunningRuns()).toEqual([expected]);
      expect(store.getRun("missing")).toBeUndefined();
    });

    it("makes (user, clientRequestId) unique, but only per user and only when set", () => {
      conversation("a", "alice");
      conversation("b", "bob");
      run("r1", "a", "alice", "req-1");
      expect(() => run("r2", "a", "alice", "req-1")).toThrow(expect.objectContaining({ code: "conflict" }));
      expect(() => run("r1", "a", "alice", "req-other")).toThrow(expect.objectContaining({ code: "conflict" }));
      expect(run("r3", "b", "bob", "req-1").clientRequestId).toBe("req-1");
      expect(run("r4", "a", "alice", null).clientRequestId).toBeNull();
      expect(run("r5", "a", "alice").clientRequestId).toBeNull();
      expect(store.findRunByClientRequestId("alice", "req-1")?.id).toBe("r1");
      expect(store.findRunByClientRequestId("bob", "req-1")?.id).toBe("r3");
    });

    it("finishes a run once: status, reason, usage and finishedAt; the first finish wins", () => {
      conversation("c1");
      clock.set(1_000);
      run("r1", "c1");
      clock.set(2_000);
      store.finishRun("r1", { reason: "stop", usage: sampleUsage });
      const finished = store.getRun("r1");
      expect(finished).toMatchObject({ status: "done", reason: "stop", usage: sampleUsage, createdAt: 1_000, finishedAt: 2_000 });
      expect(store.activeRun("c1")).toBeUndefined();
      expect(store.listRunningRuns()).toEqual([]);

      clock.set(3_000);
      store.finishRun("r1", { reason: "cancelled", usage: null });
      expect(store.getRun("r1")).toEqual(finished);
      store.finishRun("missing", { reason: "stop", usage: null });
      expect(store.getRun("missing")).toBeUndefined();
    });

    it("stores a finish without usage as null", () => {
      conversation("c1");
      run("r1", "c1");
      store.finishRun("r1", { reason: "interrupted", usage: null });
      expect(store.getRun("r1")).toMatchObject({ status: "done", reason: "interrupted", usage: null });
    });

    it("lists running runs across conversations and users, oldest first", () => {
      conversation("a", "alice");
      conversation("b", "bob");
      clock.set(1_000);
      run("r1", "a");
      clock.set(2_000);
      run("r2", "b", "bob");
      clock.set(3_000);
      run("r3", "a");
      store.finishRun("r3", { reason: "stop", usage: null });
      expect(store.listRunningRuns().map((r) => r.id)).toEqual(["r1", "r2"]);
      expect(store.activeRun("a")?.id).toBe("r1");
      expect(store.activeRun("b")?.id).toBe("r2");
      expect(store.activeRun("nope")).toBeUndefined();
    });

    it("lists every run of a conversation, oldest first, running or done", () => {
      conversation("a", "alice");
      conversation("b", "bob");
      clock.set(2_000);
      run("r2", "a");
      clock.set(1_000);
      run("r1", "a");
      clock.set(2_000);
      run("r3", "a"); // same createdAt as r2: creation order decides
      run("other", "b", "bob");
      store.finishRun("r1", { reason: "error", usage: null });
      expect(store.listRuns("a").map((r) => [r.id, r.status])).toEqual([
        ["r1", "done"],
        ["r2", "running"],
        ["r3", "running"],
      ]);
      expect(store.listRuns("a")[0]).toEqual(store.getRun("r1"));
      expect(store.listRuns("b").map((r) => r.id)).toEqual(["other"]);
      expect(store.listRuns("nope")).toEqual([]);
      store.deleteConversation("alice", "a");
      expect(store.listRuns("a")).toEqual([]);
    });

    it("reports the newest running run as the active one", () => {
      conversation("c1");
      run("r1", "c1");
      run("r2", "c1"); // same timestamp: creation order decides
      expect(store.activeRun("c1")?.id).toBe("r2");
    });
  });

  describe("events", () => {
    it("numbers each run's events from 1 and reads them back exactly", () => {
      conversation("c1");
      run("r1", "c1");
      run("r2", "c1");
      const events = runEvents("r1", "c1");
      const seqs = events.map((event) => store.appendEvent("r1", event));
      expect(seqs).toEqual(events.map((_, i) => i + 1));
      expect(store.appendEvent("r2", tokenEvent("r2", "other run"))).toBe(1);

      expect(store.readEvents("r1")).toEqual(events.map((event, i) => ({ seq: i + 1, event })));
      expect(store.readEvents("r1", 0)).toEqual(store.readEvents("r1"));
      expect(store.readEvents("r1", 7)).toEqual([
        { seq: 8, event: events[7] },
        { seq: 9, event: events[8] },
        { seq: 10, event: events[9] },
      ]);
      expect(store.readEvents("r1", 10)).toEqual([]);
      expect(store.readEvents("r1", 99)).toEqual([]);
      expect(store.lastSeq("r1")).toBe(10);
      expect(store.readEvents("r2")).toEqual([{ seq: 1, event: tokenEvent("r2", "other run") }]);
      expect(store.lastSeq("r2")).toBe(1);
    });

    it("sees every append, before and after a flush, and keeps counting after done", () => {
      conversation("c1");
      run("r1", "c1");
      for (let i = 1; i <= 5; i++) expect(store.appendEvent("r1", tokenEvent("r1", `t${i}`))).toBe(i);
      expect(store.readEvents("r1", 3).map((e) => e.seq)).toEqual([4, 5]);
      store.flush();
      expect(store.appendEvent("r1", doneEvent("r1"))).toBe(6);
      expect(store.lastSeq("r1")).toBe(6);
      // An append after done (e.g. recovery writing to a run) continues the sequence.
      expect(store.appendEvent("r1", tokenEvent("r1", "after"))).toBe(7);
      expect(store.readEvents("r1").map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    });

    it("stores a copy of each event", () => {
      conversation("c1");
      run("r1", "c1");
      const event = { type: "tool-call" as const, runId: "r1", at: 1, callId: "c", name: "calculator", args: { expression: "1+1" } };
      store.appendEvent("r1", event);
      event.args.expression = "changed";
      expect(store.readEvents("r1")[0]?.event).toMatchObject({ args: { expression: "1+1" } });
    });

    it("reads only the events of the asked types, in order, committed and pending alike", () => {
      conversation("c1");
      run("r1", "c1");
      run("r2", "c1");
      const events = runEvents("r1", "c1");
      // Half committed, half still pending (sqlite: the long flush interval keeps them queued).
      events.slice(0, 5).forEach((event) => store.appendEvent("r1", event));
      store.flush();
      events.slice(5, 9).forEach((event) => store.appendEvent("r1", event));
      store.appendEvent("r2", { type: "error", runId: "r2", at: 1, code: "internal", message: "other run", retryable: true });

      const picked = store.readEventsOfTypes("r1", ["tool-result", "error", "tool-call"]);
      expect(picked).toEqual([
        { seq: 4, event: events[3] },
        { seq: 6, event: events[5] },
        { seq: 9, event: events[8] },
      ]);
      // The same as filtering the whole log, which is what it replaces.
      const wanted = new Set(["token", "done"]);
      store.appendEvent("r1", events[9]!);
      expect(store.readEventsOfTypes("r1", ["token", "done"])).toEqual(store.readEvents("r1").filter((e) => wanted.has(e.event.type)));
      expect(store.readEventsOfTypes("r1", [])).toEqual([]);
      expect(store.readEventsOfTypes("r1", ["reasoning", "reasoning"])).toEqual([{ seq: 3, event: events[2] }]);
      expect(store.readEventsOfTypes("nope", ["error"])).toEqual([]);
      expect(store.readEventsOfTypes("r2", ["error"]).map((e) => e.seq)).toEqual([1]);
    });

    it("answers an unknown run with nothing and refuses appends to it", () => {
      expect(store.readEvents("nope")).toEqual([]);
      expect(store.lastSeq("nope")).toBe(0);
      expect(() => store.appendEvent("nope", tokenEvent("nope", "x"))).toThrow(expect.objectContaining({ code: "not_found" }));
    });
  });

  describe("searchMessages", () => {
    beforeEach(() => {
      conversation("c1", "alice", "Trip planning");
      conversation("c2", "alice", "Maths");
      conversation("b1", "bob", "Bob's");
      const add = (conversationId: string, at: number, message: (typeof everyMessageVariant)[number]) => {
        clock.set(at);
        store.appendMessage({ conversationId, runId: null, message });
      };
      add("c1", 1_000, { role: "system", content: "System prompt mentions Tokyo" });
      add("c1", 2_000, { role: "user", content: "What time is it in TOKYO?" });
      add("c1", 3_000, { role: "tool", toolCallId: "x", toolName: "current_time", content: "tokyo tool output" });
      add("c1", 4_000, { role: "assistant", content: "It is 14:05 in Tokyo.", thinking: "secret thoughts" });
      add("c2", 5_000, { role: "user", content: "What is 50% of 80? Use snake_case." });
      add("c2", 6_000, { role: "assistant", content: "40. Backslash \\ here. ÉMILE says hi." });
      add("b1", 7_000, { role: "user", content: "Bob also asks about Tokyo and 100%" });
    });

    it("matches case-insensitively in the user's user and assistant messages, newest first", () => {
      expect(store.searchMessages("alice", "tokyo")).toEqual([
        { conversationId: "c1", title: "Trip planning", role: "assistant", snippet: "It is 14:05 in Tokyo.", createdAt: 4_000 },
        { conversationId: "c1", title: "Trip planning", role: "user", snippet: "What time is it in TOKYO?", createdAt: 2_000 },
      ]);
      expect(store.searchMessages("alice", "tokyo", { limit: 1 }).map((h) => h.createdAt)).toEqual([4_000]);
      expect(store.searchMessages("alice", "secret")).toEqual([]); // thinking is not searched
      expect(store.searchMessages("bob", "tokyo").map((h) => h.conversationId)).toEqual(["b1"]);
    });

    it("folds non-ASCII case too", () => {
      expect(store.searchMessages("alice", "émile").map((h) => h.createdAt)).toEqual([6_000]);
    });

    it("treats LIKE wildcards and the escape character literally", () => {
      expect(store.searchMessages("alice", "%").map((h) => h.createdAt)).toEqual([5_000]);
      expect(store.searchMessages("alice", "_").map((h) => h.createdAt)).toEqual([5_000]);
      expect(store.searchMessages("alice", "0%").map((h) => h.createdAt)).toEqual([5_000]);
      expect(store.searchMessages("alice", "\\").map((h) => h.createdAt)).toEqual([6_000]);
      expect(store.searchMessages("alice", "T_kyo")).toEqual([]);
      expect(store.searchMessages("alice", "%tokyo%")).toEqual([]);
    });

    it("finds nothing for an empty query or a zero limit", () => {
      expect(store.searchMessages("alice", "")).toEqual([]);
      expect(store.searchMessages("alice", "tokyo", { limit: 0 })).toEqual([]);
    });
  });

  it("answers ping until closed, then refuses calls", () => {
    expect(store.ping()).toBe(true);
    store.close();
    expect(store.ping()).toBe(false);
    expect(() => store.listConversations("alice")).toThrow(expect.objectContaining({ code: "closed" }));
    store.close(); // idempotent (afterEach closes again)
  });
});
