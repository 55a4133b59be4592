import { cutAnswerScenario } from "@streamchat/ollama-sim";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exitCodes } from "./cli/main.js";
import { createChatClient, type ChatClient } from "./client.js";
import { startApi, type TestApi } from "./test-support/api.js";
import { drain, text } from "./test-support/events.js";
import { runCliCaptured } from "./test-support/run-cli.js";

/** Continuing a cut-short answer through the typed client and the CLI's /continue, against the real API. */
describe("continuing an answer", () => {
  let api: TestApi;
  let client: ChatClient;

  beforeAll(async () => {
    api = await startApi();
    client = createChatClient({ url: api.url });
    // "#cut": the first answer stops at the length limit; asked to write on from it, the model says the rest.
    api.sim.addScenario(cutAnswerScenario({ name: "cut answers", lastUserIncludes: "#cut", first: "Part one. ", rest: [{ content: "Part two." }, { done: true }] }));
  });
  afterAll(() => api?.close());

  it("client.continueAnswer streams the answer so far, then the rest; the conversation holds the whole answer", async () => {
    const first = await drain(client.stream("#cut a story"));
    const done = first.at(-1);
    expect(done).toMatchObject({ type: "done", reason: "length" });
    const conversationId = first[0]!.type === "run-start" ? first[0]!.conversationId : "";
    const events = await drain(client.continueAnswer(conversationId));
    expect(events.map((e) => e.type).slice(0, 3)).toEqual(["run-start", "token", "status"]);
    expect(text(events)).toBe("Part one. Part two.");
    const stored = await client.conversations.get(conversationId);
    expect(stored.messages.map((m) => m.content)).toEqual(["#cut a story", "Part one. Part two."]);
    // A conversation that ends with its question (the model was not found): nothing to write on from.
    const empty = await client.complete("hi", { model: "sim-not-found" }).catch((error: unknown) => error);
    expect(empty).toMatchObject({ code: "model_not_found" });
    const list = await client.conversations.list();
    const failed = list.find((c) => c.title === "hi")!;
    await expect(drain(client.continueAnswer(failed.id))).rejects.toMatchObject({ code: "bad_request", message: expect.stringMatching(/cannot be continued/) });
  });

  it("the CLI's /continue prints only what the model adds", async () => {
    const { code, stdout, stderr } = await runCliCaptured([], { CHAT_URL: api.url, NO_COLOR: "1" }, "#cut another story\n/continue\n");
    expect({ code, stderr }).toEqual({ code: exitCodes.ok, stderr: "" });
    expect(stdout).toBe("Part one. \nPart two.\n");
  });

  it("chat --continue -c <id> prints the rest of that conversation's cut answer; an unknown conversation fails", async () => {
    const first = await drain(client.stream("#cut a third story"));
    const conversationId = first[0]!.type === "run-start" ? first[0]!.conversationId : "";
    const continued = await runCliCaptured(["--continue", "-c", conversationId], { CHAT_URL: api.url, NO_COLOR: "1" });
    expect(continued).toEqual({ code: exitCodes.ok, stdout: "Part two.\n", stderr: "" });
    const stored = await client.conversations.get(conversationId);
    expect(stored.messages.at(-1)?.content).toBe("Part one. Part two.");

    const unknown = await runCliCaptured(["--continue", "-c", "not-a-conversation"], { CHAT_URL: api.url, NO_COLOR: "1" });
    expect(unknown.code).toBe(exitCodes.failed);
    expect(unknown.stderr).toMatch(/^error: \S+ — Conversation not found\n$/);
  });

  it("the CLI's /continue before any question says there is nothing to continue", async () => {
    const { code, stdout, stderr } = await runCliCaptured([], { CHAT_URL: api.url, NO_COLOR: "1" }, "/continue\n");
    expect({ code, stdout }).toEqual({ code: exitCodes.ok, stdout: "" });
    expect(stderr).toBe("(no answer to continue in this conversation yet)\n");
  });
});
