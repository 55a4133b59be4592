import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { conversationIdOf, runBrowserTests, send, useE2E, waitForAnswerState } from "./harness.js";

const e2e = useE2E();

describe.skipIf(!runBrowserTests)("Your chats: export all, import them back", () => {
  it("downloads every chat as one file, which Import chat reads back as as many new chats; a bad line is named", async () => {
    const page = await e2e.openApp();
    await send(page, "First of the exported chats");
    await waitForAnswerState(page, "stop");
    const first = await conversationIdOf(page);
    await page.getByRole("button", { name: /New chat/ }).first().click();
    await page.waitForFunction(() => !location.hash.startsWith("#/c/"));
    await send(page, "Second of the exported chats");
    await waitForAnswerState(page, "stop");
    const second = await conversationIdOf(page);

    const panel = page.getByTestId("data-panel");
    await panel.locator("summary").click();
    const [download] = await Promise.all([page.waitForEvent("download"), panel.getByRole("button", { name: "Export all chats" }).click()]);
    expect(download.suggestedFilename()).toMatch(/^streamchat-conversations-\d{4}-\d{2}-\d{2}\.jsonl$/);
    const content = await readFile((await download.path())!, "utf8");
    const lines = content.split("\n").filter((line) => line !== "");
    expect(lines.map((line) => (JSON.parse(line) as { conversation: { id: string } }).conversation.id)).toEqual([second, first]);
    await panel.getByTestId("export-all-status").filter({ hasText: "Exported 2 chats." }).waitFor();

    // Back in: two new chats (the list now has four), nothing opened in place of the one shown.
    const items = page.locator('[data-testid="conversation-item"]');
    expect(await items.count()).toBe(2);
    await page.getByTestId("import-file").setInputFiles({ name: download.suggestedFilename(), mimeType: "application/x-ndjson", buffer: Buffer.from(content) });
    await page.getByRole("status").filter({ hasText: "Imported 2 chats." }).waitFor();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="conversation-item"]').length === 4);
    expect(await conversationIdOf(page)).toBe(second);
    await page.getByRole("button", { name: "Dismiss import result" }).click();

    // A line the server refuses does not stop the others; the summary names it.
    const bad = JSON.stringify({ format: "streamchat.conversation", version: 1, conversation: {} });
    await page.getByTestId("import-file").setInputFiles({ name: "some.jsonl", mimeType: "application/x-ndjson", buffer: Buffer.from(`${lines[0]}\n${bad}\n`) });
    await page.getByRole("alert").filter({ hasText: /^some\.jsonl: Imported 1 of 2 chats\. Line 2: The conversation export is invalid/ }).waitFor();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="conversation-item"]').length === 5);
  });
});
