import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ChatStore } from "@streamchat/store";
import { runSql } from "../test-support/backend.js";
import { collectRun, eventually, startTestApi, tokenText, types, type ApiClient, type TestApi } from "../test-support/harness.js";
import { TokenEventPruner } from "./token-event-pruner.js";

/** A log that keeps what the pruner says. */
function recordingLog() {
  const lines: Array<{ level: "info" | "error"; msg: string; obj: object }> = [];
  return {
    lines,
    info: (obj: object, msg: string) => void lines.push({ level: "info", msg, obj }),
    error: (obj: object, msg: string) => void lines.push({ level: "error", msg, obj }),
  };
}

describe("TokenEventPruner", () => {
  let api: TestApi;
  let client: ApiClient;

  beforeAll(async () => {
    api = await startTestApi();
    client = api.client();
  });
  afterAll(() => api?.close());

  // A clock a second ahead: a run that has just ended is due at once (due means finished before now − maxAgeMs).
  const now = () => Date.now() + 1_000;
  const tokensOf = async (runId: string) => (await api.server.store.readEvents(runId)).filter((e) => e.event.type === "token").length;

  it("deletes finished runs' token events: a replay gives the rest of the log, the conversation keeps the answer; a running run stops the pass", async () => {
    const answered: Array<{ runId: string; conversationId: string; text: string }> = [];
    for (const message of ["What time is it in Tokyo?", "Explain server-sent events in a short list"]) {
      const { runId, conversationId } = await client.chat.send.mutate({ message });
      answered.push({ runId, conversationId, text: tokenText(await collectRun(client, runId)) });
    }
    const control = api.sim.control({ lastUserIncludes: "[still answering]" });
    const running = await client.chat.send.mutate({ message: "[still answering] go" });
    await control.connected;
    await control.push({ content: "so far" });
    await eventually(async () => (await tokensOf(running.runId)) === 1, "the running run's token to be stored");
    const after = await client.chat.send.mutate({ message: "Compare WebSockets and server-sent events" });
    await collectRun(client, after.runId);

    const before = await Promise.all(answered.map(({ runId }) => api.server.store.readEvents(runId)));
    const tokens = before.flat().filter((e) => e.event.type === "token").length;
    expect(tokens).toBeGreaterThan(10);
    const log = recordingLog();
    const steps: number[] = [];
    const pruner = new TokenEventPruner({ store: api.server.store, maxAgeMs: 0, now, log, runsPerStep: 1, pauseMs: 0, onPruned: (n) => void steps.push(n) });

    expect(await pruner.pass()).toBe(tokens);
    // One run a step: each answered run's tokens, told step by step.
    expect(steps).toEqual(before.map((events) => events.filter((e) => e.event.type === "token").length));
    for (const [i, { runId, conversationId, text }] of answered.entries()) {
      const replay = await collectRun(client, runId);
      expect(replay.map((r) => ({ seq: Number(r.id), event: r.event }))).toEqual(before[i]!.filter((e) => e.event.type !== "token"));
      expect(types(replay).at(-1)).toBe("done");
      const conversation = await client.conversations.get.query({ conversationId });
      expect(conversation.messages.at(-1)).toMatchObject({ role: "assistant", content: text });
    }
    // The walk stopped at the run still answering: neither it nor the run after it lost anything.
    expect(await tokensOf(running.runId)).toBe(1);
    const afterTokens = await tokensOf(after.runId);
    expect(afterTokens).toBeGreaterThan(0);
    expect(await pruner.pass()).toBe(0);

    // Once it has ended, the next pass goes on from where the last one stopped.
    await control.push({ content: " and done" });
    await control.push({ done: true });
    await collectRun(client, running.runId);
    expect(await pruner.pass()).toBe(2 + afterTokens);
    expect([await tokensOf(running.runId), await tokensOf(after.runId)]).toEqual([0, 0]);
  });

  it("passes on its own once started, says what it deleted, and none after stop()", async () => {
    const { runId } = await client.chat.send.mutate({ message: "What time is it in Tokyo?" });
    await collectRun(client, runId);
    const log = recordingLog();
    const pruner = new TokenEventPruner({ store: api.server.store, maxAgeMs: 0, now, log, firstPassMs: 0, intervalMs: 20, pauseMs: 0 });
    pruner.start();
    await eventually(async () => (await tokensOf(runId)) === 0, "the started pruner to delete the run's tokens");
    await pruner.stop();
    expect(log.lines.find((line) => line.msg === "deleted the token events of old finished runs")?.obj).toMatchObject({ deleted: expect.any(Number), maxAgeMs: 0 });

    const { runId: later } = await client.chat.send.mutate({ message: "Explain server-sent events in a short list" });
    await collectRun(client, later);
    await new Promise((resolve) => setTimeout(resolve, 100)); // five intervals
    expect(await tokensOf(later)).toBeGreaterThan(0);
    // Asked directly, a stopped pruner walks nothing either.
    expect(await pruner.pass()).toBe(0);
    expect(await tokensOf(later)).toBeGreaterThan(0);
  });

  it("a failing store: logged once per outage, said when it works again, the walk resumed where it was", async () => {
    let down = true;
    const calls: Array<string | null> = [];
    const store: Pick<ChatStore, "pruneTokenEvents"> = {
      async pruneTokenEvents({ afterRunId }) {
        calls.push(afterRunId);
        if (down) throw new Error("the database is away");
        return { deleted: 3, lastRunId: "r9", caughtUp: true };
      },
    };
    const log = recordingLog();
    const pruner = new TokenEventPruner({ store, maxAgeMs: 1_000, log, firstPassMs: 0, intervalMs: 10 });
    pruner.start();
    await eventually(() => calls.length >= 3, "three passes");
    expect(log.lines.filter((line) => line.level === "error")).toHaveLength(1);
    down = false;
    await eventually(() => calls.includes("r9"), "a pass after the one that worked");
    await pruner.stop();
    expect(log.lines.filter((line) => line.msg === "pruning old runs' token events works again")).toHaveLength(1);
    // Every pass until the first that worked started where the walk was: at the first run.
    expect(new Set(calls.slice(0, calls.indexOf("r9")))).toEqual(new Set([null]));
    expect(log.lines.filter((line) => line.level === "error")).toHaveLength(1);
  });
});

describe("TOKEN_EVENTS_MAX_AGE_DAYS", () => {
  it("starts the pruner only when set; what it deletes is counted in GET /metrics", async () => {
    const without = await startTestApi();
    const withIt = await startTestApi({ env: { TOKEN_EVENTS_MAX_AGE_DAYS: "30" } });
    try {
      expect(without.server.tokenEventPruner).toBeUndefined();
      const pruner = withIt.server.tokenEventPruner!;
      expect(pruner).toBeInstanceOf(TokenEventPruner);
      const metric = async () => /^streamchat_token_events_pruned_total\{replica="[^"]+"\} (\d+)$/m.exec(await (await fetch(`${withIt.url}/metrics`)).text())?.[1];
      expect(await metric()).toBe("0");

      const client = withIt.client();
      const { runId } = await client.chat.send.mutate({ message: "What time is it in Tokyo?" });
      await collectRun(client, runId);
      const tokens = (await withIt.server.store.readEvents(runId)).filter((e) => e.event.type === "token").length;
      expect(tokens).toBeGreaterThan(0);
      // Finished a moment ago: not due for 30 days.
      expect(await pruner.pass()).toBe(0);
      // As if it had ended 31 days ago (no store call moves a run's end).
      await runSql(withIt.data, "UPDATE runs SET finished_at = $1 WHERE status = 'done'", [Date.now() - 31 * 86_400_000]);
      expect(await pruner.pass()).toBe(tokens);
      expect(await metric()).toBe(String(tokens));
    } finally {
      await Promise.all([without.close(), withIt.close()]);
    }
  });
});
