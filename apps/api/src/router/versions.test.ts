import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { collectRun, eventually, startTestApi, trpcFailure, type ApiClient, type TestApi } from "../test-support/harness.js";

/**
 * Conversation versions through the API (DESIGN §11): edit and regenerate add siblings, conversations.get shows the
 * active path with `versions`, switchBranch moves it, and the model sees the active path only. Runs on both store
 * backends (the sqlite and postgres vitest projects).
 */

let api: TestApi;
let client: ApiClient;
let answers = 0;

beforeAll(async () => {
  api = await startTestApi();
  client = api.client();
  // Every answer is different and says which it is (the demo model's own may repeat a phrasing): "A<n>: <question>".
  api.sim.addScenario({
    name: "numbered answers",
    match: { lastUserIncludes: "#" },
    respond: (req) => {
      const last = [...req.messages].reverse().find((m) => m["role"] === "user");
      return [{ content: `A${++answers}: ${String(last?.["content"])}` }, { done: true }];
    },
  });
});
afterAll(() => api?.close());

type Detail = Awaited<ReturnType<ApiClient["conversations"]["get"]["query"]>>;

/** The active path as [role, content, "index/count" | null]. */
function shape(detail: Detail) {
  return detail.messages.map((m) => [m.role, m.content, m.versions ? `${m.versions.index}/${m.versions.count}` : null]);
}

const get = (conversationId: string) => client.conversations.get.query({ conversationId });

async function send(message: string, conversationId?: string) {
  const started = await client.chat.send.mutate({ message, ...(conversationId ? { conversationId } : {}) });
  await collectRun(client, started.runId);
  return started;
}

async function finished<T extends { runId: string }>(promise: Promise<T>): Promise<T> {
  const started = await promise;
  await collectRun(client, started.runId);
  return started;
}

/** The messages of the model request that answered `question` last (system prompt left out). */
function lastRequestFor(question: string) {
  const request = api.sim
    .chatRequests()
    .filter((r) => JSON.stringify(r.body).includes(question))
    .at(-1)?.body as { messages: Array<{ role: string; content: string }> } | undefined;
  return request?.messages.filter((m) => m.role !== "system").map((m) => [m.role, m.content]);
}


/**
 * u1 "#q1" → a1 → u2 "#q2" → b1: a conversation of two turns. Returns the ids by name.
 */
async function twoTurns() {
  const { conversationId } = await send("#q1");
  await send("#q2", conversationId);
  const [u1, a1, u2, b1] = (await get(conversationId)).messages;
  return { conversationId, u1: u1!, a1: a1!, u2: u2!, b1: b1! };
}

describe("conversation versions", () => {
  it("regenerate on the demo model: asked the same again, it phrases the answer anew, as a model samples", async () => {
    const { conversationId } = await send("Tell me a joke");
    const first = (await get(conversationId)).messages[1]!.content;
    await finished(client.chat.regenerate.mutate({ conversationId }));
    const second = (await get(conversationId)).messages[1]!;
    expect(second.versions).toMatchObject({ index: 2, count: 2 });
    expect(second.content).not.toBe(first);
  });

  it("regenerate adds a version of the last answer; the old one stays and versions navigate them", async () => {
    const { conversationId } = await send("#regen");
    const before = await get(conversationId);
    const [u1, a1] = before.messages;
    expect(shape(before)).toEqual([
      ["user", "#regen", null],
      ["assistant", a1!.content, null],
    ]);

    const again = await finished(client.chat.regenerate.mutate({ conversationId }));
    const after = await get(conversationId);
    const a2 = after.messages[1]!;
    expect(a2.id).not.toBe(a1!.id);
    expect(a2.content).not.toBe(a1!.content);
    expect(a2).toMatchObject({ parentId: u1!.id, runId: again.runId, versions: { index: 2, count: 2, siblingIds: [a1!.id, a2.id] } });
    expect(after.messages[0]).toEqual(u1); // the question is the same message, with no versions of its own
    // The regenerate's model request: the question alone, not the old answer.
    expect(lastRequestFor("#regen")).toEqual([["user", "#regen"]]);

    // Back to the first answer: same shape, index 1, its own run.
    const switched = await client.conversations.switchBranch.mutate({ conversationId, messageId: a1!.id });
    expect(switched.messages.map((m) => m.id)).toEqual([u1!.id, a1!.id]);
    expect(switched.messages[1]).toMatchObject({ content: a1!.content, runId: before.runs[0]!.id, versions: { index: 1, count: 2, siblingIds: [a1!.id, a2.id] } });
    // switchBranch returns what get returns.
    expect(await get(conversationId)).toEqual(switched);
  });

  it("regenerate takes any answer: the question before it gets a new answer, the later turns stay on the old branch", async () => {
    const { conversationId, u1, a1, u2, b1 } = await twoTurns();
    const again = await finished(client.chat.regenerate.mutate({ conversationId, messageId: a1.id }));
    const after = await get(conversationId);
    expect(shape(after)).toEqual([
      ["user", "#q1", null],
      ["assistant", after.messages[1]!.content, "2/2"],
    ]);
    expect(after.messages[1]).toMatchObject({ parentId: u1.id, runId: again.runId });
    // The model saw the path up to the question only.
    expect(lastRequestFor(after.messages[1]!.content.replace(/^A\d+: /, "")) ?? []).toContainEqual(["user", "#q1"]);
    expect(api.sim.chatRequests().at(-1)?.body).toMatchObject({ messages: [{ role: "system" }, { role: "user", content: "#q1" }] });

    // The first answer still leads to the second turn: switching to it continues down its newest children.
    const back = await client.conversations.switchBranch.mutate({ conversationId, messageId: a1.id });
    expect(back.messages.map((m) => m.id)).toEqual([u1.id, a1.id, u2.id, b1.id]);
    // A user message id means "answer it again" too.
    await finished(client.chat.regenerate.mutate({ conversationId, messageId: u2.id }));
    expect(shape(await get(conversationId))).toEqual([
      ["user", "#q1", null],
      ["assistant", a1.content, "1/2"],
      ["user", "#q2", null],
      ["assistant", expect.stringMatching(/^A\d+: #q2$/), "2/2"],
    ]);
  });

  it("edit adds a version of any user message, keeping the original and what followed it", async () => {
    const { conversationId, u1, a1, u2, b1 } = await twoTurns();
    const edited = await finished(client.chat.edit.mutate({ conversationId, messageId: u2.id, message: "#q2 edited" }));
    const after = await get(conversationId);
    const u2e = after.messages[2]!;
    expect(shape(after)).toEqual([
      ["user", "#q1", null],
      ["assistant", a1.content, null],
      ["user", "#q2 edited", "2/2"],
      ["assistant", expect.stringMatching(/^A\d+: #q2 edited$/), null],
    ]);
    expect(u2e).toMatchObject({ parentId: a1.id, runId: edited.runId, versions: { index: 2, count: 2, siblingIds: [u2.id, u2e.id] } });
    expect(lastRequestFor("#q2 edited")).toEqual([
      ["user", "#q1"],
      ["assistant", a1.content],
      ["user", "#q2 edited"],
    ]);

    // The first message too: its versions are the conversation's first messages.
    await finished(client.chat.edit.mutate({ conversationId, messageId: u1.id, message: "#q1 edited" }));
    const first = await get(conversationId);
    expect(shape(first)).toEqual([
      ["user", "#q1 edited", "2/2"],
      ["assistant", expect.stringMatching(/^A\d+: #q1 edited$/), null],
    ]);
    expect(first.messages[0]!.parentId).toBeNull();
    expect(lastRequestFor("#q1 edited")).toEqual([["user", "#q1 edited"]]);

    // The original, with both versions of its second question (the edit is the most recent one).
    const original = await client.conversations.switchBranch.mutate({ conversationId, messageId: u1.id });
    expect(original.messages.map((m) => m.id)).toEqual([u1.id, a1.id, u2e.id, after.messages[3]!.id]);
    const older = await client.conversations.switchBranch.mutate({ conversationId, messageId: u2.id });
    expect(older.messages.map((m) => m.id)).toEqual([u1.id, a1.id, u2.id, b1.id]);
    expect(older.messages[2]!.versions).toEqual({ index: 1, count: 2, siblingIds: [u2.id, u2e.id] });
    // Editing an answer is not a thing.
    expect(await trpcFailure(client.chat.edit.mutate({ conversationId, messageId: a1.id, message: "x" }))).toMatchObject({ code: "NOT_FOUND" });
  });

  it("a send after a switch appends to the active path, and the model sees only that path", async () => {
    const { conversationId, u1, a1, u2, b1 } = await twoTurns();
    await finished(client.chat.regenerate.mutate({ conversationId, messageId: a1.id })); // u1 → a2 (path)
    await send("#q3 on a2", conversationId);
    await client.conversations.switchBranch.mutate({ conversationId, messageId: a1.id }); // u1 → a1 → u2 → b1
    await send("#q4 after the switch", conversationId);

    expect(lastRequestFor("#q4 after the switch")).toEqual([
      ["user", "#q1"],
      ["assistant", a1.content],
      ["user", "#q2"],
      ["assistant", b1.content],
      ["user", "#q4 after the switch"],
    ]);
    const path = (await get(conversationId)).messages;
    expect(path.map((m) => m.id).slice(0, 4)).toEqual([u1.id, a1.id, u2.id, b1.id]);
    expect(path.slice(4).map((m) => [m.role, m.content])).toEqual([
      ["user", "#q4 after the switch"],
      ["assistant", expect.stringMatching(/^A\d+: #q4 after the switch$/)],
    ]);
    expect(path[4]!.parentId).toBe(b1.id);
    // The other branch is untouched: switching to the question shows its newest answer and what followed it.
    const other = await client.conversations.switchBranch.mutate({ conversationId, messageId: u1.id });
    expect(other.messages.map((m) => m.content).slice(0, 3)).toEqual(["#q1", expect.stringMatching(/^A\d+: #q1$/), "#q3 on a2"]);
  });

  it("keeps every run with its usage and events on every branch", async () => {
    const { conversationId } = await send("#runs");
    const second = await finished(client.chat.regenerate.mutate({ conversationId }));
    const detail = await get(conversationId);
    expect(detail.runs).toHaveLength(2);
    const [first] = detail.runs;
    const a1 = detail.messages[1]!.versions!.siblingIds[0]!;
    const old = await client.conversations.switchBranch.mutate({ conversationId, messageId: a1 });
    expect(old.messages[1]!.runId).toBe(first!.id);
    expect(old.runs.map((r) => [r.id, r.reason, r.usage !== null])).toEqual([
      [first!.id, "stop", true],
      [second.runId, "stop", true],
    ]);
    // The log of the off-path run still replays in full.
    const replay = await collectRun(client, second.runId);
    expect(replay.at(-1)?.event).toMatchObject({ type: "done", reason: "stop" });
  });

  it("a regenerate that stores nothing goes back to the previous answer", async () => {
    const { conversationId } = await send("keep me"); // the demo model (the numbered answers would win over sim-not-found)
    const before = await get(conversationId);
    const failed = await finished(client.chat.regenerate.mutate({ conversationId, model: "sim-not-found" }));
    const after = await get(conversationId);
    expect(after.messages).toEqual(before.messages);
    expect(after.runs.map((r) => [r.id, r.reason, r.error?.code ?? null])).toEqual([
      [before.runs[0]!.id, "stop", null],
      [failed.runId, "error", "model_not_found"],
    ]);
  });

  it("a regenerate that stores nothing leaves the version the user was looking at, not the newest", async () => {
    // The demo model (the numbered answers would win over sim-not-found).
    const { conversationId } = await send("pick one");
    await finished(client.chat.regenerate.mutate({ conversationId }));
    await finished(client.chat.regenerate.mutate({ conversationId }));
    const newest = await get(conversationId);
    expect(newest.messages[1]!.versions).toMatchObject({ index: 3, count: 3 });
    // The user looks at the first answer, then asks again with a model that does not exist.
    const viewed = await client.conversations.switchBranch.mutate({ conversationId, messageId: newest.messages[1]!.versions!.siblingIds[0]! });
    expect(viewed.messages[1]!.versions).toMatchObject({ index: 1, count: 3 });
    await finished(client.chat.regenerate.mutate({ conversationId, model: "sim-not-found" }));
    expect((await get(conversationId)).messages).toEqual(viewed.messages);
  });

  it("a failed regenerate of a question on another branch leaves the branch the user was on", async () => {
    // The demo model again: an edit of the first question makes a second branch, which is the one shown; the first
    // branch's question is then regenerated (by its id) with a model that does not exist.
    const { conversationId } = await send("first question");
    await send("second question", conversationId);
    const u1 = (await get(conversationId)).messages[0]!;
    await finished(client.chat.edit.mutate({ conversationId, messageId: u1.id, message: "first question, edited" }));
    const shown = await get(conversationId);
    await finished(client.chat.regenerate.mutate({ conversationId, messageId: u1.id, model: "sim-not-found" }));
    expect((await get(conversationId)).messages).toEqual(shown.messages);
  });

  it("switchBranch is refused while the conversation answers, and for messages that are not the caller's", async () => {
    const { conversationId, a1 } = await twoTurns();
    const control = api.sim.control({ lastUserIncludes: "#hold" });
    const held = await client.chat.send.mutate({ conversationId, message: "#hold" });
    await control.connected;
    expect(await trpcFailure(client.conversations.switchBranch.mutate({ conversationId, messageId: a1.id }))).toMatchObject({
      code: "CONFLICT",
      message: expect.stringContaining("still answering"),
    });
    await control.push({ content: "held answer" });
    await control.push({ done: true });
    await collectRun(client, held.runId);
    await eventually(async () => (await get(conversationId)).activeRunId === null, "the run to end");
    expect((await client.conversations.switchBranch.mutate({ conversationId, messageId: a1.id })).messages.at(-1)?.content).toBe("held answer");

    const other = await twoTurns();
    expect(await trpcFailure(client.conversations.switchBranch.mutate({ conversationId, messageId: other.a1.id }))).toMatchObject({
      code: "NOT_FOUND",
    });
    expect(await trpcFailure(client.conversations.switchBranch.mutate({ conversationId, messageId: 99_999_999 }))).toMatchObject({ code: "NOT_FOUND" });
    expect(await trpcFailure(client.conversations.switchBranch.mutate({ conversationId: "nope", messageId: a1.id }))).toMatchObject({ code: "NOT_FOUND" });
    expect(await trpcFailure(client.chat.regenerate.mutate({ conversationId, messageId: other.a1.id }))).toMatchObject({ code: "NOT_FOUND" });
    expect(await trpcFailure(client.chat.edit.mutate({ conversationId, messageId: other.u1.id, message: "x" }))).toMatchObject({ code: "NOT_FOUND" });
    expect(await trpcFailure(client.conversations.switchBranch.mutate({ conversationId, messageId: -1 }))).toMatchObject({ code: "BAD_REQUEST" });
  });

  it("regenerate is refused on a conversation without a question, changing nothing", async () => {
    const empty = JSON.stringify({
      format: "streamchat.conversation",
      version: 1,
      exportedAt: 1,
      conversation: { id: "x", title: "Empty", createdAt: 1, updatedAt: 1 },
      activeMessageId: null,
      messages: [],
      runs: [],
    });
    const { conversationId } = await client.conversations.import.mutate({ content: empty });
    expect(await trpcFailure(client.chat.regenerate.mutate({ conversationId }))).toMatchObject({ code: "BAD_REQUEST", appCode: "bad_request" });
    expect((await get(conversationId)).runs).toEqual([]);
  });
});

describe("versions and other users", () => {
  let authed: TestApi;
  beforeAll(async () => {
    authed = await startTestApi({ env: { AUTH_TOKENS: "alice:alice-token-123,bob:bob-token-456" } });
  });
  afterAll(() => authed?.close());

  it("another user's conversation cannot be switched, regenerated, edited, exported or searched", async () => {
    const alice = authed.client("alice-token-123");
    const bob = authed.client("bob-token-456");
    const { conversationId, runId } = await alice.chat.send.mutate({ message: "alice's secret plan" });
    await collectRun(alice, runId);
    const [u1, a1] = (await alice.conversations.get.query({ conversationId })).messages;
    const refused = async (promise: Promise<unknown>) => (await trpcFailure(promise)).code;
    expect(await refused(bob.conversations.switchBranch.mutate({ conversationId, messageId: a1!.id }))).toBe("NOT_FOUND");
    expect(await refused(bob.chat.regenerate.mutate({ conversationId, messageId: a1!.id }))).toBe("NOT_FOUND");
    expect(await refused(bob.chat.edit.mutate({ conversationId, messageId: u1!.id, message: "pwned" }))).toBe("NOT_FOUND");
    expect(await refused(bob.conversations.export.query({ conversationId, format: "json" }))).toBe("NOT_FOUND");
    expect(await bob.conversations.search.query({ query: "secret plan" })).toEqual([]);
    const hits = await alice.conversations.search.query({ query: "secret plan" });
    expect(hits).toContainEqual(expect.objectContaining({ conversationId, messageId: u1!.id, role: "user", title: "alice's secret plan" }));
    expect(hits.every((hit) => hit.conversationId === conversationId)).toBe(true);
    expect((await alice.conversations.get.query({ conversationId })).messages.map((m) => m.id)).toEqual([u1!.id, a1!.id]);
  });
});
