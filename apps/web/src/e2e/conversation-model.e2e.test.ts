import { describe, expect, it } from "vitest";
import { chooseModel, conversationIdOf, openFromList, runBrowserTests, send, useE2E, waitForAnswerState } from "./harness.js";

const e2e = useE2E();

describe.skipIf(!runBrowserTests)("the model of a conversation", () => {
  it("opening a chat picks the model that answered it; a new chat starts with the one picked last", async () => {
    const page = await e2e.openApp();
    const picker = (name: string) => page.getByRole("button", { name: `Model: ${name}`, exact: true });

    await chooseModel(page, "qwen3");
    await send(page, "First chat, on qwen3");
    await waitForAnswerState(page, "stop");
    const first = await conversationIdOf(page);

    await page.getByRole("button", { name: /New chat/ }).first().click();
    await page.waitForFunction(() => !location.hash.startsWith("#/c/"));
    await chooseModel(page, "llama3.2");
    await send(page, "Second chat, on llama3.2");
    await waitForAnswerState(page, "stop");
    const second = await conversationIdOf(page);
    expect(second).not.toBe(first);

    // Back to the first: its model, whatever was picked since.
    await openFromList(page, "First chat, on qwen3", first);
    await picker("qwen3").waitFor();
    // And it is the one that answers there.
    await send(page, "Again in the first chat");
    await waitForAnswerState(page, "stop");
    const detail = await e2e.getConversation(first);
    expect(detail.messages.length).toBe(4);
    const runs = (detail as unknown as { runs: Array<{ model: string }> }).runs.map((run) => run.model);
    expect(runs).toEqual(["qwen3", "qwen3"]);

    // Picked here, it holds for this chat (and is the one a new chat starts with).
    await chooseModel(page, "gemma3");
    await openFromList(page, "Second chat, on llama3.2", second);
    await picker("llama3.2").waitFor();
    await page.getByRole("button", { name: /New chat/ }).first().click();
    await page.waitForFunction(() => !location.hash.startsWith("#/c/"));
    await picker("gemma3").waitFor();
    // A reload keeps it all: the chats' models come from the server, the last pick from this browser.
    await page.reload();
    await picker("gemma3").waitFor();
    await openFromList(page, "Second chat, on llama3.2", second);
    await picker("llama3.2").waitFor();
  });
});
