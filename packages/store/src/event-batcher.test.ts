import { describe, expect, it, vi } from "vitest";
import { StoreError } from "./errors.js";
import { defaultFlushIntervalMs, EventBatcher, mergeQueued, type EventSink, type FailureKind, type QueuedEvent } from "./event-batcher.js";
import { approvalRequestEvent, doneEvent, manualClock, tokenEvent } from "./test-support/fixtures.js";

class Unreachable extends Error {
  override name = "Unreachable";
}
class Duplicate extends Error {
  override name = "Duplicate";
}
class Missing extends Error {
  override name = "Missing";
}

/**
 * A log with the database's rules (unique (runId, seq), all-or-nothing inserts) whose next inserts can be made to
 * fail as an unreachable database would, or to commit and then lose the acknowledgement (a connection dropped
 * during COMMIT). The stores' own suites run the same batcher against SQLite and PostgreSQL; these cases are the
 * ones a real database cannot be made to produce on cue.
 */
function fakeLog() {
  const rows = new Map<string, string>();
  const key = (row: QueuedEvent) => `${row.runId}#${row.seq}`;
  let down = false;
  let loseAcks = 0;
  const missingRuns = new Set<string>();
  const inserts: number[] = [];
  const sink: EventSink = {
    insert(batch) {
      if (down) throw new Unreachable("connect ECONNREFUSED");
      if (batch.some((row) => missingRuns.has(row.runId))) throw new Missing("foreign key");
      if (batch.some((row) => rows.has(key(row)))) throw new Duplicate("duplicate key");
      for (const row of batch) rows.set(key(row), row.json);
      inserts.push(batch.length);
      // An answer "stored" by this attempt: its ids tell which attempt it was.
      for (const { runId, answer } of batch) {
        if (answer) answer.stored = answer.messages.map((message, i) => ({ id: inserts.length * 100 + i, conversationId: answer.conversationId, parentId: null, runId, message, createdAt: 0 }));
      }
      if (loseAcks > 0) {
        loseAcks--;
        throw new Unreachable("Connection terminated unexpectedly");
      }
    },
    classify(error): FailureKind {
      return error instanceof Unreachable ? "transient" : error instanceof Duplicate ? "duplicate" : "definitive";
    },
    describe(error) {
      if (error instanceof Missing) return new StoreError("not_found", "unknown run");
      return error instanceof Duplicate ? new StoreError("conflict", "duplicate seq", { reason: "seq" }) : (error as Error);
    },
    notYetCommitted(batch) {
      return batch.filter((row) => rows.get(key(row)) !== row.json);
    },
  };
  return {
    sink,
    rows,
    inserts,
    seqs: (runId: string) => [...rows.keys()].filter((k) => k.startsWith(`${runId}#`)).map((k) => Number(k.split("#")[1])),
    setDown(value: boolean) {
      down = value;
    },
    loseNextAcks(n: number) {
      loseAcks = n;
    },
    missing: missingRuns,
  };
}

async function settled(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => "resolved",
    (error: unknown) => error,
  );
}

describe("EventBatcher", () => {
  it("stores the JSON its caller made of an event as given, and makes its own for an event without one", async () => {
    const log = fakeLog();
    const batcher = new EventBatcher(log.sink);
    const given = JSON.stringify(tokenEvent("r1", "a"));
    const events = [batcher.append("r1", 1, tokenEvent("r1", "a"), given), batcher.append("r1", 2, tokenEvent("r1", "b"))];
    await batcher.flush();
    await Promise.all(events);
    expect(log.rows.get("r1#1")).toBe(given);
    expect(log.rows.get("r1#2")).toBe(JSON.stringify(tokenEvent("r1", "b")));
    // Taken as it is, not made again: a caller's JSON of other spacing is what the log holds (the contract asks for JSON.stringify's).
    const spaced = JSON.stringify(tokenEvent("r1", "c"), null, 1);
    await Promise.all([batcher.append("r1", 3, tokenEvent("r1", "c"), spaced), batcher.flush()]);
    expect(log.rows.get("r1#3")).toBe(spaced);
  });

  it("retries while the database is unreachable and commits once it is back, in one batch", async () => {
    const log = fakeLog();
    const errors: unknown[] = [];
    const batcher = new EventBatcher(log.sink, { flushIntervalMs: 60_000, onFlushError: (e) => errors.push(e) });
    log.setDown(true);
    const first = batcher.append("r1", 1, tokenEvent("r1", "a"));
    expect(await settled(batcher.flush())).toMatchObject({ code: "unavailable", message: expect.stringContaining("ECONNREFUSED") });
    const second = batcher.append("r1", 2, tokenEvent("r1", "b"));
    expect(batcher.queued("r1").map((row) => row.seq)).toEqual([1, 2]);
    expect(batcher.stats()).toMatchObject({ commits: 0, pendingEvents: 2, flushErrors: 1 });
    expect(errors[0]).toMatchObject({ code: "unavailable" });
    log.setDown(false);
    // The retry timer (50 ms backoff) commits both without a further call.
    await first;
    await second;
    expect(log.seqs("r1")).toEqual([1, 2]);
    expect(batcher.stats()).toMatchObject({ commits: 1, pendingEvents: 0 });
    await batcher.close();
  });

  it("appendDone: the answer goes to the sink with the done row; resolves with what the committing attempt stored", async () => {
    const log = fakeLog();
    const batcher = new EventBatcher(log.sink, { flushIntervalMs: 60_000 });
    void batcher.append("r1", 1, tokenEvent("r1", "Hi"));
    log.setDown(true);
    const answer = { conversationId: "c1", messages: [{ role: "assistant" as const, content: "Hi" }] };
    const done = batcher.appendDone("r1", 2, doneEvent("r1"), answer);
    expect(batcher.queued("r1").map((row) => [row.seq, row.answer?.messages])).toEqual([
      [1, undefined],
      [2, answer.messages],
    ]);
    await vi.waitFor(() => expect(batcher.stats().flushErrors).toBeGreaterThan(0));
    log.setDown(false);
    // The retry (one insert of both rows, the first that got through) stored it.
    expect(await done).toEqual([{ id: 100, conversationId: "c1", parentId: null, runId: "r1", message: answer.messages[0], createdAt: 0 }]);
    expect(log.inserts).toEqual([2]);
    await batcher.close();
  });

  it("rejects a batch still unreachable after retryForMs, refuses the run's tokens, and still takes its error and done", async () => {
    const log = fakeLog();
    const clock = manualClock(0);
    const batcher = new EventBatcher(log.sink, { flushIntervalMs: 60_000, retryForMs: 1_000, now: clock.now });
    log.setDown(true);
    const lost = batcher.append("r1", 1, tokenEvent("r1", "a"));
    await batcher.flush().catch(() => {});
    clock.set(1_000);
    await batcher.flush().catch(() => {});
    expect(await settled(lost)).toMatchObject({ code: "unavailable", message: expect.stringContaining("1000 ms") });
    expect(batcher.queued("r1")).toEqual([]);
    log.setDown(false);
    expect(await settled(batcher.append("r1", 2, tokenEvent("r1", "b")))).toMatchObject({ code: "unavailable" });
    const end = batcher.append("r1", 3, { type: "error", runId: "r1", at: 1, code: "internal", message: "lost", retryable: true });
    await batcher.append("r1", 4, doneEvent("r1"));
    expect(await settled(end)).toBe("resolved");
    expect(log.seqs("r1")).toEqual([3, 4]);
    // The committed done cleared the run's failure.
    const after = batcher.append("r1", 5, tokenEvent("r1", "after"));
    await batcher.flush();
    expect(await settled(after)).toBe("resolved");
    await batcher.close();
  });

  it("counts rows whose commit was lost with the connection as committed, not as a conflict", async () => {
    const log = fakeLog();
    const batcher = new EventBatcher(log.sink, { flushIntervalMs: 60_000 });
    log.loseNextAcks(1);
    const first = batcher.append("r1", 1, tokenEvent("r1", "a"));
    await batcher.flush().catch(() => {}); // committed, but reported as a dropped connection
    const later = batcher.append("r1", 2, tokenEvent("r1", "b"));
    await batcher.flush(); // seq 1 again (a duplicate of our own row) with seq 2
    expect(await settled(first)).toBe("resolved");
    expect(await settled(later)).toBe("resolved");
    expect(log.seqs("r1")).toEqual([1, 2]);
    expect(log.inserts).toEqual([1, 1]); // seq 1 was not inserted twice
    await batcher.close();
  });

  it("still rejects a real conflict after a transient failure", async () => {
    const log = fakeLog();
    log.rows.set("r1#1", JSON.stringify(tokenEvent("r1", "someone else's")));
    const batcher = new EventBatcher(log.sink, { flushIntervalMs: 60_000 });
    log.setDown(true);
    const mine = batcher.append("r1", 1, tokenEvent("r1", "mine"));
    await batcher.flush().catch(() => {});
    log.setDown(false);
    expect(await settled(batcher.flush())).toMatchObject({ code: "conflict", reason: "seq" });
    expect(await settled(mine)).toMatchObject({ code: "conflict", reason: "seq" });
    await batcher.close();
  });

  it("does not crash the process when nobody awaits a rejected batch", async () => {
    const unhandled = vi.fn();
    process.on("unhandledRejection", unhandled);
    try {
      const log = fakeLog();
      log.rows.set("r1#1", "taken");
      const batcher = new EventBatcher(log.sink, { flushIntervalMs: 0 });
      void batcher.append("r1", 1, tokenEvent("r1", "ignored"));
      await vi.waitFor(() => expect(batcher.stats().rejectedEvents).toBe(1), { timeout: 10_000, interval: 5 });
      await new Promise((resolve) => setImmediate(resolve));
      expect(unhandled).not.toHaveBeenCalled();
      await batcher.close();
    } finally {
      process.off("unhandledRejection", unhandled);
    }
  });

  it("rejects what is still queued on close when the last attempt fails", async () => {
    const log = fakeLog();
    const batcher = new EventBatcher(log.sink, { flushIntervalMs: 60_000 });
    log.setDown(true);
    const pending = batcher.append("r1", 1, tokenEvent("r1", "a"));
    await batcher.close();
    expect(await settled(pending)).toMatchObject({ code: "closed" });
    expect(await settled(batcher.append("r1", 2, tokenEvent("r1", "b")))).toMatchObject({ code: "closed" });
    expect(batcher.stats().pendingEvents).toBe(0);
  });

  it("commits an approval request at once, like a done; other events wait for the flush interval (100 ms by default)", async () => {
    expect(defaultFlushIntervalMs).toBe(100);
    const log = fakeLog();
    const batcher = new EventBatcher(log.sink, { flushIntervalMs: 60_000 });
    void batcher.append("r", 1, tokenEvent("r", "a"));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(log.seqs("r")).toEqual([]);
    await batcher.append("r", 2, approvalRequestEvent("r"));
    expect(log.seqs("r")).toEqual([1, 2]);
    await batcher.append("r", 3, doneEvent("r"));
    expect(log.seqs("r")).toEqual([1, 2, 3]);
    await batcher.close();
  });

  it("commits the dones appended in one turn of the event loop together, at its end; a later turn's in a commit of its own", async () => {
    const log = fakeLog();
    const batcher = new EventBatcher(log.sink, { flushIntervalMs: 60_000 });
    const ends = ["a", "b", "c"].map((run) => {
      void batcher.append(run, 1, tokenEvent(run, "x"));
      return batcher.append(run, 2, doneEvent(run));
    });
    expect(log.inserts).toEqual([]); // nothing before the turn ends
    await Promise.all(ends);
    expect(log.inserts).toEqual([6]);
    expect(batcher.stats().commits).toBe(1);

    await batcher.append("d", 1, doneEvent("d"));
    expect(log.inserts).toEqual([6, 1]);
    await batcher.close();
  });

  it("close commits a done whose end-of-turn commit has not run yet, once", async () => {
    const log = fakeLog();
    const batcher = new EventBatcher(log.sink, { flushIntervalMs: 60_000 });
    const done = batcher.append("r", 1, doneEvent("r"));
    await batcher.close();
    expect(await settled(done)).toBe("resolved");
    await new Promise((resolve) => setImmediate(resolve));
    expect(log.inserts).toEqual([1]);
  });

  it("holds a run's whole log only from its seq 1 until its first batch is committed, rejected or discarded", async () => {
    const log = fakeLog();
    const batcher = new EventBatcher(log.sink, { flushIntervalMs: 60_000 });
    void batcher.append("fresh", 1, tokenEvent("fresh", "a"));
    void batcher.append("fresh", 2, tokenEvent("fresh", "b"));
    // A log that starts above 1 (a run continued after a restart) has its beginning in the database.
    void batcher.append("continued", 10_001, tokenEvent("continued", "c"));
    void batcher.append("deleted", 1, tokenEvent("deleted", "d"));
    log.setDown(true); // a failed attempt keeps every row queued: still whole
    await settled(batcher.flush());
    expect(["fresh", "continued", "deleted", "unknown"].map((runId) => batcher.holdsWholeLog(runId))).toEqual([true, false, true, false]);
    batcher.discard(["deleted"], new StoreError("not_found", "deleted"));
    log.setDown(false);
    await batcher.flush();
    void batcher.append("fresh", 3, tokenEvent("fresh", "e"));
    expect(batcher.holdsWholeLog("fresh")).toBe(false); // seqs 1–2 are in the database now
    log.rows.set("taken#1", "{}"); // another writer's row: this one's batch is refused
    const refused = batcher.append("taken", 1, tokenEvent("taken", "f"));
    expect(batcher.holdsWholeLog("taken")).toBe(true);
    await settled(batcher.flush());
    expect(await settled(refused)).toMatchObject({ code: "conflict" });
    expect(batcher.holdsWholeLog("taken")).toBe(false);
    expect(batcher.holdsWholeLog("deleted")).toBe(false);
    await batcher.close();
  });

  it("does not hold a run's whole log while its last event is a done or an approval request on its way to the database", async () => {
    // The database may have it already (a reader saw the run finished there) before this process hears of the commit:
    // a read then asks the database instead of finding it hidden in the queue (the conformance suite's flake).
    const log = fakeLog();
    const batcher = new EventBatcher(log.sink, { flushIntervalMs: 60_000 });
    log.setDown(true); // every row stays queued
    void batcher.append("ended", 1, tokenEvent("ended", "a"));
    void batcher.append("asking", 1, tokenEvent("asking", "b"));
    expect(["ended", "asking"].map((runId) => batcher.holdsWholeLog(runId))).toEqual([true, true]);
    const done = settled(batcher.append("ended", 2, doneEvent("ended")));
    const asked = settled(batcher.append("asking", 2, approvalRequestEvent("asking")));
    expect(["ended", "asking"].map((runId) => batcher.holdsWholeLog(runId))).toEqual([false, false]);
    await settled(batcher.close());
    await done;
    await asked;
  });

  it("forgets a finished run: memory does not grow with the number of runs", async () => {
    const log = fakeLog();
    const batcher = new EventBatcher(log.sink, { flushIntervalMs: 60_000 });
    for (let i = 0; i < 100; i++) {
      void batcher.append(`r${i}`, 1, tokenEvent(`r${i}`, "t"));
      await batcher.append(`r${i}`, 2, doneEvent(`r${i}`));
    }
    expect((batcher as unknown as { runs: Map<string, unknown> }).runs.size).toBe(0);
    await batcher.close();
  });
});

describe("EventBatcher memory", () => {
  it("keeps nothing for a run the database does not know (e.g. deleted while it was answering)", async () => {
    const log = fakeLog();
    log.missing.add("gone");
    const batcher = new EventBatcher(log.sink, { flushIntervalMs: 60_000 });
    const runs = () => (batcher as unknown as { runs: Map<string, unknown> }).runs;
    void batcher.append("ok", 1, tokenEvent("ok", "a"));
    const lost = batcher.append("gone", 1, tokenEvent("gone", "a"));
    expect(await settled(batcher.flush())).toMatchObject({ code: "not_found" });
    expect(await settled(lost)).toMatchObject({ code: "not_found" });
    expect(log.seqs("ok")).toEqual([1]);
    expect(await settled(batcher.append("gone", 2, doneEvent("gone")))).toMatchObject({ code: "not_found" });
    expect([...runs().keys()]).toEqual(["ok"]);
    await batcher.close();
  });
});

describe("mergeQueued", () => {
  const stored = (seq: number) => ({ seq, event: tokenEvent("r", `db${seq}`) });
  const queued = (seq: number): QueuedEvent => ({ runId: "r", seq, type: "token", json: JSON.stringify(tokenEvent("r", `q${seq}`)) });

  it("keeps the database's copy of an event committed while the page was read, and honours the limit", () => {
    const merged = mergeQueued([stored(1), stored(2), stored(3)], [queued(3), queued(4), queued(5)], 0, 4);
    expect(merged.map((e) => [e.seq, e.event.type === "token" ? e.event.text : ""])).toEqual([
      [1, "db1"],
      [2, "db2"],
      [3, "db3"],
      [4, "q4"],
    ]);
    expect(mergeQueued([], [queued(3), queued(4)], 3).map((e) => e.seq)).toEqual([4]);
    expect(mergeQueued([stored(5)], [], 0, 0)).toEqual([]);
  });
});
