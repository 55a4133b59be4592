import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RecordedRequest } from "@streamchat/ollama-sim";
import { collectRun, eventually, startTestApi, type ApiClient, type TestApi } from "../test-support/harness.js";
import { TitleGenerator } from "./title-generator.js";
import { titleInstruction } from "./title-prompt.js";

let api: TestApi;
let client: ApiClient;
beforeAll(async () => {
  api = await startTestApi({ env: { GENERATE_TITLES: "1" } });
  client = api.client();
});
afterAll(() => api?.close());

interface ChatBody {
  messages: Array<{ role: string; content: string }>;
  tools?: unknown[];
  options?: { num_predict?: number };
}

const isTitleRequest = (r: RecordedRequest) => (r.body as ChatBody).messages.at(-1)?.content === titleInstruction;
const titleRequestsFor = (question: string) =>
  api.sim.chatRequests().filter((r) => isTitleRequest(r) && (r.body as ChatBody).messages[0]?.content === question);
const titleOf = async (conversationId: string) => (await client.conversations.get.query({ conversationId })).title;
const holdTitleRequest = () => api.sim.control({ lastUserIncludes: "Write a short title" });

describe("generated titles", () => {
  it("names a conversation after its first answer with a small request, tells the feed, and asks only once", async () => {
    const titles: string[] = [];
    const feed = client.conversations.feed.subscribe(
      {},
      { onData: ({ data }) => (data.type === "title-changed" ? titles.push(data.title) : undefined) },
    );
    const question = "What time is it in Tokyo?";
    const { conversationId, runId } = await client.chat.send.mutate({ message: question });
    await collectRun(client, runId);
    await eventually(async () => (await titleOf(conversationId)) === "Current time in Tokyo", "the generated title");
    await eventually(() => titles.includes("Current time in Tokyo"), "title-changed on the feed");
    feed.unsubscribe();

    const [request] = titleRequestsFor(question);
    const body = request!.body as ChatBody;
    expect(body.tools ?? []).toEqual([]);
    expect(body.options?.num_predict).toBe(24);
    expect(body.messages.map((m) => m.role)).toEqual(["user", "assistant", "user"]);
    expect(body.messages[1]!.content).toMatch(/Tokyo/);

    // The next answer keeps the title and asks for none.
    const next = await client.chat.send.mutate({ conversationId, message: "and in Paris?" });
    await collectRun(client, next.runId);
    await api.server.titles!.idle();
    expect(titleRequestsFor(question)).toHaveLength(1);
    expect(await titleOf(conversationId)).toBe("Current time in Tokyo");
  });

  it("names a conversation that starts with files after them: the title request shows each file's name and first lines", async () => {
    const question = "What is in this?";
    const attachments = [{ type: "file" as const, name: "sales-2026.csv", text: `region,revenue\n${"north,120\n".repeat(100)}` }];
    const { conversationId, runId } = await client.chat.send.mutate({ message: question, attachments });
    await collectRun(client, runId);
    await eventually(async () => (await titleOf(conversationId)) === "About sales-2026.csv", "the title from the file");
    const request = api.sim.chatRequests().find((r) => isTitleRequest(r) && (r.body as ChatBody).messages[0]?.content.endsWith(question));
    const first = (request!.body as ChatBody).messages[0]!.content;
    expect(first.startsWith('<file name="sales-2026.csv">\nregion,revenue\nnorth,120\n')).toBe(true);
    expect(first.length).toBeLessThan(300);
  });

  it("never delays the answer: done arrives while the title request is still unanswered; a failed one changes nothing", async () => {
    const held = holdTitleRequest();
    const question = "Explain server-sent events";
    const { conversationId, runId } = await client.chat.send.mutate({ message: question });
    const events = await collectRun(client, runId);
    expect(events.at(-1)?.event).toMatchObject({ type: "done", reason: "stop" });
    await held.connected;
    // The answer is complete and the conversation free while the title request hangs.
    expect((await client.conversations.get.query({ conversationId })).activeRunId).toBeNull();
    expect(await titleOf(conversationId)).toBe(question);
    await held.push({ error: "model crashed while naming" });
    await api.server.titles!.idle();
    expect(await titleOf(conversationId)).toBe(question);
  });

  it("never overwrites a title the user set, before the answer ended or while the title was being generated", async () => {
    // Renamed while the answer streams: no title request at all.
    const answer = api.sim.control();
    const early = "Tell me about WebSockets";
    const a = await client.chat.send.mutate({ message: early });
    await answer.connected;
    await client.conversations.rename.mutate({ conversationId: a.conversationId, title: "My sockets notes" });
    await answer.push({ content: "They are two-way." });
    await answer.push({ done: true, doneReason: "stop" });
    await collectRun(client, a.runId);
    await api.server.titles!.idle();
    expect(titleRequestsFor(early)).toHaveLength(0);
    expect(await titleOf(a.conversationId)).toBe("My sockets notes");

    // Renamed while the model writes the title: the user's title stays.
    const held = holdTitleRequest();
    const late = "Compare SSE and WebSockets";
    const b = await client.chat.send.mutate({ message: late });
    await collectRun(client, b.runId);
    await held.connected;
    await client.conversations.rename.mutate({ conversationId: b.conversationId, title: "Mine, not the model's" });
    await held.push({ content: "SSE vs WebSockets" });
    await held.push({ done: true, doneReason: "stop" });
    await api.server.titles!.idle();
    expect(await titleOf(b.conversationId)).toBe("Mine, not the model's");
  });

  it("gives no title after a failed or cancelled answer, and one after the next answer that succeeds", async () => {
    const question = "[sim:error-mid-stream] Plan a picnic for Saturday";
    const { conversationId, runId } = await client.chat.send.mutate({ message: question });
    await collectRun(client, runId);
    await api.server.titles!.idle();
    expect(titleRequestsFor(question)).toHaveLength(0);
    const again = await client.chat.send.mutate({ conversationId, message: "try again" });
    await collectRun(client, again.runId);
    await eventually(async () => (await titleOf(conversationId)) === "Plan a picnic for Saturday", "the title after a good answer");
  });
});

describe("a title request under way at shutdown", () => {
  it("is stopped without a warning: shutting down is no failure", async () => {
    // Titles off in this API: the only title request is the generator's below.
    const own = await startTestApi();
    try {
      const lines: Array<{ level: string; msg?: string }> = [];
      const record = (level: string) => (_obj: object, msg?: string) => void lines.push({ level, msg });
      const titles = new TitleGenerator({
        store: own.server.store,
        model: own.server.provider.model,
        log: { info: record("info"), warn: record("warn"), error: record("error") },
        onTitle: () => {},
      });
      const ownClient = own.client();
      const { runId } = await ownClient.chat.send.mutate({ message: "Name me later" });
      const done = (await collectRun(ownClient, runId)).at(-1)?.event;
      const run = await own.server.store.getRun(runId);
      expect(done?.type).toBe("done");
      const held = own.sim.control({ lastUserIncludes: "Write a short title" });
      if (run && done?.type === "done") titles.afterRun(run, done);
      await held.connected;
      await titles.close();
      expect(lines).toEqual([{ level: "info", msg: "title generation stopped: shutting down" }]);
    } finally {
      await own.close();
    }
  });
});
