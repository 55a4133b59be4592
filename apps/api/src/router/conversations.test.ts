import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { collectRun, startTestApi, type ApiClient, type TestApi } from "../test-support/harness.js";

let api: TestApi;
let client: ApiClient;
beforeAll(async () => {
  api = await startTestApi();
  client = api.client();
});
afterAll(() => api?.close());

describe("conversations", () => {
  it("lists, renames and deletes the user's conversations", async () => {
    const a = await client.chat.send.mutate({ message: "first topic" });
    await collectRun(client, a.runId);
    const b = await client.chat.send.mutate({ message: "second topic" });
    await collectRun(client, b.runId);

    const list = await client.conversations.list.query();
    expect(list.slice(0, 2).map((c) => [c.id, c.title, c.activeRunId])).toEqual([
      [b.conversationId, "second topic", null],
      [a.conversationId, "first topic", null],
    ]);
    expect(await client.conversations.list.query({ limit: 1 })).toHaveLength(1);
    // The next page starts after the last one listed; the whole list, a page at a time.
    expect((await client.conversations.list.query({ limit: 1, after: b.conversationId }))[0]?.id).toBe(a.conversationId);
    const whole = list.map((c) => c.id);
    const paged: string[] = [];
    for (let page = await client.conversations.list.query({ limit: 1 }); page.length > 0; ) {
      paged.push(...page.map((c) => c.id));
      page = await client.conversations.list.query({ limit: 1, after: page.at(-1)!.id });
    }
    expect(paged).toEqual(whole);
    await expect(client.conversations.list.query({ after: "no-such-conversation" })).rejects.toMatchObject({ data: { code: "NOT_FOUND" } });

    const renamed = await client.conversations.rename.mutate({ conversationId: a.conversationId, title: "  Renamed  " });
    expect(renamed).toMatchObject({ id: a.conversationId, title: "Renamed", activeRunId: null });
    expect((await client.conversations.get.query({ conversationId: a.conversationId })).title).toBe("Renamed");

    expect(await client.conversations.delete.mutate({ conversationId: a.conversationId })).toEqual({ deleted: true });
    expect((await client.conversations.list.query()).map((c) => c.id)).not.toContain(a.conversationId);
    await expect(client.conversations.get.query({ conversationId: a.conversationId })).rejects.toMatchObject({
      data: { code: "NOT_FOUND" },
    });
    // The run's log went with it.
    await expect(collectRun(client, a.runId)).rejects.toMatchObject({ data: { code: "NOT_FOUND" } });
  });

  it("pins and unpins: pinned first, most recently pinned first; pinning is not activity and a second pin keeps its time", async () => {
    const ids: string[] = [];
    for (const topic of ["pin one", "pin two", "pin three"]) {
      const started = await client.chat.send.mutate({ message: topic });
      await collectRun(client, started.runId);
      ids.push(started.conversationId);
    }
    const [one, two, three] = ids as [string, string, string];
    const order = async () => (await client.conversations.list.query()).map((c) => c.id).filter((id) => ids.includes(id));
    expect(await order()).toEqual([three, two, one]);
    const before = (await client.conversations.list.query()).find((c) => c.id === one)!;
    expect(before.pinnedAt).toBeNull();

    const pinnedOne = await client.conversations.pin.mutate({ conversationId: one, pinned: true });
    expect(pinnedOne).toMatchObject({ id: one, pinnedAt: expect.any(Number), updatedAt: before.updatedAt, activeRunId: null });
    await new Promise((resolve) => setTimeout(resolve, 5)); // two pins in one millisecond would tie
    await client.conversations.pin.mutate({ conversationId: two, pinned: true });
    expect(await order()).toEqual([two, one, three]);
    // Pinned again (another tab): its time and place stay.
    expect((await client.conversations.pin.mutate({ conversationId: one, pinned: true })).pinnedAt).toBe(pinnedOne.pinnedAt);
    expect(await order()).toEqual([two, one, three]);
    // A limit of 2 still lists the pinned ones, whatever was active since.
    const later = await client.chat.send.mutate({ conversationId: three, message: "more" });
    await collectRun(client, later.runId);
    expect((await client.conversations.list.query({ limit: 2 })).map((c) => c.id)).toEqual([two, one]);

    expect(await client.conversations.pin.mutate({ conversationId: two, pinned: false })).toMatchObject({ pinnedAt: null });
    expect(await order()).toEqual([one, three, two]);
    await expect(client.conversations.pin.mutate({ conversationId: "no-such-conversation", pinned: true })).rejects.toMatchObject({ data: { code: "NOT_FOUND" } });
  });

  it("archives and brings back: out of the list and into the archived one, whole meanwhile; not activity", async () => {
    const ids: string[] = [];
    for (const topic of ["archive one", "archive two"]) {
      const started = await client.chat.send.mutate({ message: topic });
      await collectRun(client, started.runId);
      ids.push(started.conversationId);
    }
    const [one, two] = ids as [string, string];
    const listed = async (input?: { archived?: boolean; query?: string }) => (await client.conversations.list.query(input)).map((c) => c.id).filter((id) => ids.includes(id));
    const before = (await client.conversations.get.query({ conversationId: one }));
    expect(before.archivedAt).toBeNull();

    const archived = await client.conversations.archive.mutate({ conversationId: one, archived: true });
    expect(archived).toMatchObject({ id: one, archivedAt: expect.any(Number), updatedAt: before.updatedAt, pinnedAt: null });
    expect(await listed()).toEqual([two]);
    expect(await listed({ archived: true })).toEqual([one]);
    expect(await listed({ query: "archive" })).toEqual([two]);
    expect(await listed({ query: "archive", archived: true })).toEqual([one]);
    // Archived again (another tab): its time stays.
    expect((await client.conversations.archive.mutate({ conversationId: one, archived: true })).archivedAt).toBe(archived.archivedAt);
    // Whole meanwhile: it opens, is found by its messages, and an answer may still go on in it (it stays archived).
    expect((await client.conversations.get.query({ conversationId: one })).messages.map((m) => m.content)[0]).toBe("archive one");
    // Each hit says its chat is archived, so a search's list can mark it.
    const found = (await client.conversations.search.query({ query: "archive one" })).filter((hit) => hit.conversationId === one);
    expect(found.length).toBeGreaterThan(0);
    expect(found.map((hit) => hit.archivedAt)).toEqual(found.map(() => archived.archivedAt));
    const more = await client.chat.send.mutate({ conversationId: one, message: "still here" });
    await collectRun(client, more.runId);
    expect(await listed()).toEqual([two]);

    expect(await client.conversations.archive.mutate({ conversationId: one, archived: false })).toMatchObject({ archivedAt: null });
    expect(await listed()).toEqual([one, two]);
    expect(await listed({ archived: true })).toEqual([]);
    await expect(client.conversations.archive.mutate({ conversationId: "no-such-conversation", archived: true })).rejects.toMatchObject({ data: { code: "NOT_FOUND" } });
  });

  it("stops a running answer before deleting its conversation", async () => {
    const control = api.sim.control();
    const { conversationId, runId } = await client.chat.send.mutate({ message: "delete me mid-answer" });
    await control.connected;
    expect((await client.conversations.get.query({ conversationId })).activeRunId).toBe(runId);
    expect(await client.conversations.delete.mutate({ conversationId })).toEqual({ deleted: true });
    await control.closedByClient;
    expect(api.server.runs.stats().activeRuns).toBe(0);
  });

  it("returns messages with their runs and tool details", async () => {
    const { conversationId, runId } = await client.chat.send.mutate({ message: "what is 6*7?" });
    await collectRun(client, runId);
    const conversation = await client.conversations.get.query({ conversationId });
    expect(conversation.messages.map((m) => m.role)).toEqual(["user", "assistant", "tool", "assistant"]);
    expect(conversation.messages.every((m) => m.runId === runId)).toBe(true);
    expect(conversation.messages[1]?.toolCalls).toEqual([expect.objectContaining({ name: "calculator" })]);
    expect(conversation.messages[2]).toMatchObject({ toolName: "calculator", toolCallId: expect.any(String) });
    const events = await collectRun(client, runId);
    const result = events.find((r) => r.event.type === "tool-result")?.event;
    expect(result?.type).toBe("tool-result");
    expect(conversation.runs).toEqual([
      {
        id: runId,
        status: "done",
        reason: "stop",
        model: "demo",
        usage: expect.objectContaining({ completionTokens: expect.any(Number) }),
        createdAt: expect.any(Number),
        error: null,
        // Tool durations come from the run's log: the stored tool message has none.
        toolResults: [
          {
            callId: conversation.messages[2]!.toolCallId,
            name: "calculator",
            ok: true,
            durationMs: result?.type === "tool-result" ? result.durationMs : -1,
            error: null,
          },
        ],
        continued: false,
        unsupportedFeatures: [],
      },
    ]);
  });

  it("returns a failed run's error code and message, and every run including a regenerate that produced nothing", async () => {
    const { conversationId, runId } = await client.chat.send.mutate({ message: "hi", model: "sim-error-mid-stream" });
    const events = await collectRun(client, runId);
    const errorEvent = events.find((r) => r.event.type === "error")?.event;
    expect(errorEvent).toMatchObject({ code: "provider_error" });

    const first = await client.conversations.get.query({ conversationId });
    expect(first.runs).toEqual([
      expect.objectContaining({
        id: runId,
        reason: "error",
        error: { code: "provider_error", message: errorEvent?.type === "error" ? errorEvent.message : "" },
        toolResults: [],
      }),
    ]);

    // A regenerate that fails before any token stores no message; it is still listed, newest last, and the
    // conversation shows the answer it had (the partial one the first run stored).
    const again = await client.chat.regenerate.mutate({ conversationId, model: "sim-not-found" });
    await collectRun(client, again.runId);
    const second = await client.conversations.get.query({ conversationId });
    expect(first.messages.map((m) => m.role)).toEqual(["user", "assistant"]);
    expect(second.messages).toEqual(first.messages);
    expect(second.runs.map((r) => [r.id, r.reason, r.error?.code])).toEqual([
      [runId, "error", "provider_error"],
      [again.runId, "error", "model_not_found"],
    ]);
    expect(second.runs[1]!.createdAt).toBeGreaterThanOrEqual(second.runs[0]!.createdAt);
  });

  it("reads only the run-start, error, tool-result and status events of a long answer's log, not its tokens", async () => {
    const { conversationId, runId } = await client.chat.send.mutate({ message: "what is 6*7? tokens:400" });
    await collectRun(client, runId);
    const tokens = (await api.server.store.readEvents(runId)).filter((e) => e.event.type === "token").length;
    expect(tokens).toBeGreaterThan(1);
    const readEvents = vi.spyOn(api.server.store, "readEvents");
    const readEventsOfTypesForRuns = vi.spyOn(api.server.store, "readEventsOfTypesForRuns");
    try {
      const conversation = await client.conversations.get.query({ conversationId });
      expect(conversation.runs[0]?.toolResults).toEqual([expect.objectContaining({ name: "calculator", ok: true })]);
      expect(readEvents).not.toHaveBeenCalled();
      expect(readEventsOfTypesForRuns).toHaveBeenCalledTimes(1);
      const returned = ((await readEventsOfTypesForRuns.mock.results[0]?.value) as Map<string, Array<{ event: { type: string } }>>).get(runId) ?? [];
      const types = new Set(returned.map((e) => e.event.type));
      expect(types).toContain("tool-result");
      expect([...types].every((t) => ["run-start", "error", "tool-result", "status"].includes(t))).toBe(true);
    } finally {
      readEvents.mockRestore();
      readEventsOfTypesForRuns.mockRestore();
    }
  });

  it("lists the tool results of a run on another branch, as when its branch is shown", async () => {
    const { conversationId, runId } = await client.chat.send.mutate({ message: "what is 6*7? (branch)" });
    await collectRun(client, runId);
    const withTools = await client.conversations.get.query({ conversationId });
    expect(withTools.runs[0]?.toolResults).toEqual([expect.objectContaining({ name: "calculator", ok: true })]);
    // An edit puts an answer without tools on the path: the first run is now on the other branch.
    const edited = await client.chat.edit.mutate({ conversationId, messageId: withTools.messages[0]!.id, message: "hello there" });
    await collectRun(client, edited.runId);
    const other = await client.conversations.get.query({ conversationId });
    expect(other.messages.every((m) => m.runId !== runId)).toBe(true);
    expect(other.runs.map((r) => r.id)).toEqual([runId, edited.runId]);
    expect(other.runs[0]).toEqual(withTools.runs[0]);
    expect(other.runs[1]?.toolResults).toEqual([]);
  });

  it("reports a failed tool call with its error and duration", async () => {
    api.sim.addScenario({
      name: "bad-tool-args",
      match: { lastUserIncludes: "broken calculator" },
      respond: (req) =>
        req.messages.some((m) => m["role"] === "tool")
          ? [{ content: "It failed." }, { done: true }]
          : [{ toolCalls: [{ name: "calculator", arguments: { expression: "2 +" } }] }, { done: true }],
    });
    try {
      const { conversationId, runId } = await client.chat.send.mutate({ message: "broken calculator" });
      const events = await collectRun(client, runId);
      const result = events.find((r) => r.event.type === "tool-result")?.event;
      expect(result).toMatchObject({ ok: false });
      const conversation = await client.conversations.get.query({ conversationId });
      expect(conversation.runs[0]?.toolResults).toEqual([
        {
          callId: expect.any(String),
          name: "calculator",
          ok: false,
          durationMs: expect.any(Number),
          error: result?.type === "tool-result" ? result.error : null,
        },
      ]);
      expect(conversation.runs[0]?.toolResults[0]?.error).toMatchObject({ code: expect.any(String), message: expect.any(String) });
    } finally {
      api.sim.clearScenarios();
    }
  });

  it("validates titles", async () => {
    const { conversationId, runId } = await client.chat.send.mutate({ message: "title test" });
    await collectRun(client, runId);
    await expect(client.conversations.rename.mutate({ conversationId, title: "   " })).rejects.toMatchObject({
      data: { code: "BAD_REQUEST", appCode: "bad_request" },
    });
  });
});

// PostgreSQL refuses NUL in text (and stores an unpaired surrogate as U+FFFD): ids, titles and model names with
// them are refused at the edge with bad_request on every backend, instead of a database error (500) on one.
// Message text may hold anything: it is stored as JSON, which escapes both.
describe("an answer given without a feature the model refused", () => {
  let openai: TestApi;
  beforeAll(async () => {
    // An OpenAI-compatible server does not say what a model takes: gemma3 refuses the tools, and the run answers without.
    openai = await startTestApi({ env: (sim) => ({ CHAT_PROVIDER: "openai", OPENAI_BASE_URL: `${sim.url}/v1` }) });
  });
  afterAll(() => openai?.close());

  it("says so in conversations.get, as the run's status said it live, on that answer only", async () => {
    const openaiClient = openai.client();
    const { conversationId, runId } = await openaiClient.chat.send.mutate({ message: "What is 12 * 7?", model: "gemma3" });
    const received = await collectRun(openaiClient, runId);
    const said = received.map((r) => r.event).find((e) => e.type === "status" && e.unsupportedFeature !== undefined);
    expect(said).toMatchObject({ unsupportedFeature: "tools" });
    // The model's next answer sends no tools at all: nothing was refused, nothing to say.
    const next = await openaiClient.chat.send.mutate({ conversationId, message: "hello again", model: "gemma3" });
    await collectRun(openaiClient, next.runId);

    const conversation = await openaiClient.conversations.get.query({ conversationId });
    expect(conversation.runs.map((r) => [r.id, r.unsupportedFeatures])).toEqual([
      [runId, [{ feature: "tools", message: said?.type === "status" ? said.message : "" }]],
      [next.runId, []],
    ]);
    expect(conversation.runs[0]?.unsupportedFeatures[0]?.message).toBe('"gemma3" does not support tools: answering without them.');
  });
});

// A conversation with runs of every kind, on a server of its own: the API learns which models refuse tools, and a
// model that refused them in an earlier test is no longer sent any (its run would have no status to show).
describe("conversations.get with runs of every kind", () => {
  let openai: TestApi;
  beforeAll(async () => {
    openai = await startTestApi({ env: (sim) => ({ CHAT_PROVIDER: "openai", OPENAI_BASE_URL: `${sim.url}/v1` }) });
  });
  afterAll(() => openai?.close());

  it("reads the logs of all the runs in one store call, and shows each run as its own log says", async () => {
    const openaiClient = openai.client();
    const store = openai.server.store;
    // Answered without tools (a status says so), with a tool, failed mid-answer, plain.
    const refused = await openaiClient.chat.send.mutate({ message: "What is 12 * 7?", model: "gemma3" });
    const { conversationId } = refused;
    await collectRun(openaiClient, refused.runId);
    const withTool = await openaiClient.chat.send.mutate({ conversationId, message: "what is 6*7?", model: "demo" });
    const toolEvents = await collectRun(openaiClient, withTool.runId);
    const failed = await openaiClient.chat.send.mutate({ conversationId, message: "hi", model: "sim-error-mid-stream" });
    const failedEvents = await collectRun(openaiClient, failed.runId);
    const plain = await openaiClient.chat.send.mutate({ conversationId, message: "hello again", model: "gemma3" });
    await collectRun(openaiClient, plain.runId);
    const toolResult = toolEvents.map((r) => r.event).find((e) => e.type === "tool-result");
    const errorEvent = failedEvents.map((r) => r.event).find((e) => e.type === "error");

    const readEventsOfTypes = vi.spyOn(store, "readEventsOfTypes");
    const readEventsOfTypesForRuns = vi.spyOn(store, "readEventsOfTypesForRuns");
    try {
      const conversation = await openaiClient.conversations.get.query({ conversationId });
      expect(readEventsOfTypes).not.toHaveBeenCalled();
      expect(readEventsOfTypesForRuns).toHaveBeenCalledTimes(1);
      expect(conversation.runs.map((r) => ({ id: r.id, reason: r.reason, error: r.error, toolResults: r.toolResults, unsupportedFeatures: r.unsupportedFeatures }))).toEqual([
        {
          id: refused.runId,
          reason: "stop",
          error: null,
          toolResults: [],
          unsupportedFeatures: [{ feature: "tools", message: '"gemma3" does not support tools: answering without them.' }],
        },
        {
          id: withTool.runId,
          reason: "stop",
          error: null,
          toolResults: [
            {
              callId: toolResult?.type === "tool-result" ? toolResult.callId : "",
              name: "calculator",
              ok: true,
              durationMs: toolResult?.type === "tool-result" ? toolResult.durationMs : -1,
              error: null,
            },
          ],
          unsupportedFeatures: [],
        },
        {
          id: failed.runId,
          reason: "error",
          error: { code: "provider_error", message: errorEvent?.type === "error" ? errorEvent.message : "" },
          toolResults: [],
          unsupportedFeatures: [],
        },
        { id: plain.runId, reason: "stop", error: null, toolResults: [], unsupportedFeatures: [] },
      ]);
    } finally {
      readEventsOfTypes.mockRestore();
      readEventsOfTypesForRuns.mockRestore();
    }
  });
});

describe("NUL and unpaired surrogates", () => {
  const badRequest = { data: { code: "BAD_REQUEST", appCode: "bad_request" } };

  it("are refused in ids, titles, model names and client request ids", async () => {
    const { conversationId, runId } = await client.chat.send.mutate({ message: "nul test" });
    await collectRun(client, runId);
    for (const bad of ["a\u0000b", "a\uD800b"]) {
      await expect(client.conversations.get.query({ conversationId: bad })).rejects.toMatchObject(badRequest);
      await expect(client.conversations.rename.mutate({ conversationId, title: `t${bad}` })).rejects.toMatchObject(badRequest);
      await expect(client.chat.send.mutate({ conversationId: bad, message: "hi" })).rejects.toMatchObject(badRequest);
      await expect(client.chat.send.mutate({ message: "hi", clientRequestId: bad })).rejects.toMatchObject(badRequest);
      await expect(client.chat.send.mutate({ message: "hi", model: bad })).rejects.toMatchObject(badRequest);
      await expect(client.chat.cancel.mutate({ runId: bad })).rejects.toMatchObject(badRequest);
      const rest = await fetch(`${api.url}/api/chat`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ message: "hi", conversationId: bad }),
      });
      expect(rest.status).toBe(400);
    }
    expect((await client.conversations.get.query({ conversationId })).title).toBe("nul test");
  });

  it("are kept in message text as sent, and replaced in the title made from it", async () => {
    const message = "zero\u0000byte and half \uD83D pair, whole 🙂";
    const { conversationId, runId } = await client.chat.send.mutate({ message });
    await collectRun(client, runId);
    const conversation = await client.conversations.get.query({ conversationId });
    expect(conversation.messages[0]).toMatchObject({ role: "user", content: message });
    expect(conversation.title).toBe("zero\uFFFDbyte and half \uFFFD pair, whole 🙂");
    // Searchable like any other text.
    const hits = await api.server.store.searchMessages("local", "zero\u0000byte");
    expect(hits.map((hit) => hit.conversationId)).toContain(conversationId);
  });
});
