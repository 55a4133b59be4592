import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { testBackend } from "../test-support/backend.js";
import { collectRun, eventually, makeClient, tokenText } from "../test-support/harness.js";
import { eventsPath, rawSubscribe, readAll, type ChildApi } from "../test-support/reliability.js";
import { replicaBed, trpcFailure as failure } from "../test-support/replica-bed.js";

/**
 * Several API processes on one PostgreSQL (DATABASE_URL): real child processes (src/server.ts), a simulator in the
 * test process answering under the test's control. The rules that used to live in one process's memory now hold
 * across processes: one running run per conversation (CONFLICT), one run per clientRequestId, MAX_RUNS_PER_USER;
 * and a process that dies has its runs closed as interrupted by one that lives, within seconds.
 */

const bed = replicaBed();

const replicaIdOf = (child: ChildApi) => /"replicaId":"([^"]+)"/.exec(child.output())?.[1];

describe.runIf(testBackend === "postgres")("two API processes on one DATABASE_URL", () => {
  it("CONFLICT for a send into a conversation answering on the other; one run per clientRequestId; MAX_RUNS_PER_USER across both; no SQLite file", { timeout: 60_000 }, async () => {
    const data = await bed.freshData();
    const a = await bed.replica(data, { MAX_RUNS_PER_USER: "2" });
    const onA = makeClient(a.url);
    const control = bed.sim.control({ lastUserIncludes: "[replicas:busy]" });
    const first = await onA.chat.send.mutate({ message: "[replicas:busy] go", clientRequestId: "req-1" });
    await control.connected;
    await control.push({ content: "answering on A" });

    // B starts while A answers: its start-up recovery (and its sweeps since) leave A's running run alone.
    const b = await bed.replica(data, { MAX_RUNS_PER_USER: "2" });
    const onB = makeClient(b.url);
    // Each process logs its replica id at start-up: two processes, two ids.
    expect(replicaIdOf(a)).toBeDefined();
    expect(replicaIdOf(b)).toBeDefined();
    expect(replicaIdOf(a)).not.toBe(replicaIdOf(b));
    await new Promise((resolve) => setTimeout(resolve, 3000)); // a few of B's sweeps (every second)
    expect((await onB.conversations.get.query({ conversationId: first.conversationId })).activeRunId).toBe(first.runId);

    // The conversation is answering on A: B refuses a second run in it (409), over tRPC and REST.
    expect(await failure(onB.chat.send.mutate({ conversationId: first.conversationId, message: "me too" }))).toMatchObject({
      code: "CONFLICT",
      httpStatus: 409,
    });
    const rest = await fetch(`${b.url}/api/chat/stream`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ conversationId: first.conversationId, message: "me too" }),
    });
    expect(rest.status).toBe(409);
    expect(await failure(onB.chat.regenerate.mutate({ conversationId: first.conversationId }))).toMatchObject({ code: "CONFLICT" });

    // The same clientRequestId on B is the same send: the run A started.
    expect(await onB.chat.send.mutate({ message: "[replicas:busy] go", clientRequestId: "req-1" })).toEqual(first);
    // Sent to both at once, a new one starts one run, and leaves no second conversation behind.
    const conversationsBefore = (await onA.conversations.list.query()).length;
    const control2 = bed.sim.control({ lastUserIncludes: "[replicas:twice]" });
    const [viaA, viaB] = await Promise.all([
      onA.chat.send.mutate({ message: "[replicas:twice] go", clientRequestId: "req-2" }),
      onB.chat.send.mutate({ message: "[replicas:twice] go", clientRequestId: "req-2" }),
    ]);
    expect(viaB).toEqual(viaA);
    await control2.connected;
    expect((await onA.conversations.list.query()).length).toBe(conversationsBefore + 1);

    // Two runs of the user are running (one per process, MAX_RUNS_PER_USER=2): a third is refused on either.
    expect(await failure(onB.chat.send.mutate({ message: "a third" }))).toMatchObject({ code: "TOO_MANY_REQUESTS", appCode: "rate_limited" });
    expect(await failure(onA.chat.send.mutate({ message: "a third" }))).toMatchObject({ code: "TOO_MANY_REQUESTS" });

    // Both processes list both answering conversations as answering.
    const answering = (await onB.conversations.list.query()).filter((c) => c.activeRunId !== null).map((c) => c.activeRunId);
    expect(answering.sort()).toEqual([first.runId, viaA.runId].sort());

    // B follows A's run through the log, to its end.
    const followedOnB = collectRun(onB, first.runId);
    await control.push({ content: ", still" });
    await control.push({ done: true });
    await control2.push({ content: "twice, once" });
    await control2.push({ done: true });
    const received = await followedOnB;
    expect(tokenText(received)).toBe("answering on A, still");
    expect(received.at(-1)?.event).toMatchObject({ type: "done", reason: "stop" });
    expect(received.map((r) => r.id)).toEqual((await collectRun(onA, first.runId)).map((r) => r.id));
    // Done means the conversation is free again, from either process.
    const next = await onB.chat.send.mutate({ conversationId: first.conversationId, message: "now me" });
    expect((await collectRun(onB, next.runId)).at(-1)?.event).toMatchObject({ type: "done", reason: "stop" });

    // DATABASE_URL set: nothing was created at DATABASE_PATH by either process.
    expect(existsSync(data.dbPath)).toBe(false);
  });

  // Two child processes started one after the other (seconds each on a loaded box): the suite's 20 s default is too little.
  it("a process SIGKILLed mid-answer: the other closes its run as interrupted within seconds, without a restart", { timeout: 120_000 }, async () => {
    const data = await bed.freshData();
    const a = await bed.replica(data);
    const b = await bed.replica(data);
    const control = bed.sim.control({ lastUserIncludes: "[replicas:kill]" });
    const onA = makeClient(a.url);
    const { runId, conversationId } = await onA.chat.send.mutate({ message: "[replicas:kill] go" });
    await control.connected;
    await control.push({ content: "half" });
    await control.push({ content: " an answer" });
    const sub = rawSubscribe(a.url, eventsPath(runId));
    await eventually(() => tokenText(sub.received) === "half an answer", "the tokens on A");
    // What the subscriber saw is committed (≤ 25 ms), so the transcript is whole after the crash.
    const observer = await data.openStore();
    try {
      await eventually(async () => (await observer.readEvents(runId)).length === sub.received.length, "the events to be committed");
    } finally {
      await observer.close();
    }
    const killedAt = Date.now();
    await a.kill("SIGKILL");
    await control.closedByClient;

    // B was up all along: its periodic sweep finds A's lock free and closes the run.
    const onB = makeClient(b.url);
    const lastSeen = sub.received.at(-1)!.id;
    const resumed = await readAll(b.url, eventsPath(runId), { lastEventId: lastSeen });
    expect(Date.now() - killedAt).toBeLessThan(15_000);
    expect(resumed.how).toBe("return");
    expect(resumed.received.map((r) => r.event.type)).toEqual(["error", "done"]);
    expect(resumed.received[0]?.event).toMatchObject({ code: "interrupted" });
    expect(resumed.received[1]?.event).toMatchObject({ reason: "interrupted" });
    // No id reused: the end comes after everything the subscriber saw.
    expect(Number(resumed.received[0]!.id)).toBeGreaterThan(Number(lastSeen));
    expect(Number(resumed.received[1]!.id)).toBe(Number(resumed.received[0]!.id) + 1);
    const conversation = await onB.conversations.get.query({ conversationId });
    expect(conversation.messages.map((m) => [m.role, m.content])).toEqual([
      ["user", "[replicas:kill] go"],
      ["assistant", "half an answer"],
    ]);
    expect(conversation.runs).toEqual([expect.objectContaining({ id: runId, status: "done", reason: "interrupted" })]);
    expect(conversation.activeRunId).toBeNull();
    // B logs the sweep's count once the sweep is over: after the closing events went out (and more store round trips
    // after them), so the line may reach this process after the done did.
    await eventually(() => b.output().includes("closed runs of a process that is gone as interrupted"), "B to log the runs it closed");
  });
});
