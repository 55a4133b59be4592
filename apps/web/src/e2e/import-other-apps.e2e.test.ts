import { foreignExportSample } from "@streamchat/core/test-support";
import { strToU8, zipSync } from "fflate";
import { describe, expect, it } from "vitest";
import { conversationIdOf, normalize, runBrowserTests, send, useE2E, waitForAnswerState } from "./harness.js";

const e2e = useE2E();

describe.skipIf(!runBrowserTests)("Import chat: other apps' exports", () => {
  it("imports Open WebUI's and ChatGPT's exports as chats that read as they did there and go on here", async () => {
    const page = await e2e.openApp();
    const panel = page.getByTestId("data-panel");
    await panel.locator("summary").click();
    expect(normalize((await panel.getByTestId("import-elsewhere").textContent()) ?? "")).toContain("Coming from ChatGPT, Claude or Open WebUI?");
    await panel.locator("summary").click(); // folded again: the list has the room

    const items = page.locator('[data-testid="conversation-item"]');
    await page.getByTestId("import-file").setInputFiles({ name: "chat-export.json", mimeType: "application/json", buffer: Buffer.from(foreignExportSample("open-webui-export.json")) });
    await page
      .getByRole("status")
      .filter({ hasText: "chat-export.json: Imported 4 chats from Open WebUI. Not imported: 2 tool calls, 2 images, 1 file." })
      .waitFor();
    // The chat archived there is out of the list here too.
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="conversation-item"]').length === 3);
    // Nothing opened in place of the new chat the page shows.
    expect(new URL(page.url()).hash.startsWith("#/c/")).toBe(false);

    // Versions: the regenerated first answer and the edited question, on the version Open WebUI showed.
    await items.locator("button", { hasText: "Weekend in Lisbon" }).click();
    await page.locator('[data-testid="assistant-message"]', { hasText: "Make it Friday" }).waitFor();
    const counts = await page.locator('[data-testid="version-count"] [aria-hidden="true"]').allTextContents();
    expect(counts.map(normalize)).toEqual(["1 / 2", "1 / 2"]);
    // An imported answer branches like any: a new chat up to it.
    const imported = await conversationIdOf(page);
    await page.locator('[data-testid="assistant-message"]', { hasText: "Make it Friday" }).getByRole("button", { name: "Branch in new chat" }).click();
    await page.locator('[data-testid="conversation-item"] button', { hasText: "Branch · Weekend in Lisbon" }).waitFor();
    await page.waitForFunction((from) => location.hash.startsWith("#/c/") && location.hash !== `#/c/${encodeURIComponent(from)}`, imported);
    await page.locator('[data-testid="assistant-message"]', { hasText: "Make it Friday" }).waitFor();
    // The path only: one version of each message, so no version counts.
    expect(await page.locator('[data-testid="version-count"]').count()).toBe(0);
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="conversation-item"]').length === 4);

    // A question's image and text file, as sent there, in the chat archived there (found by a search), which has its
    // own system prompt there: its instructions here.
    const search = page.getByRole("searchbox", { name: /Search/ });
    await search.fill("Picture and meeting notes");
    await items.filter({ hasText: "Archived" }).locator("button", { hasText: "Picture and meeting notes" }).first().click();
    const question = page.locator('[data-testid="user-message"]').first();
    await question.locator('[data-testid="message-images"] img.message-image__thumb').waitFor();
    expect(await question.locator(".message-file").count()).toBe(1);
    await page.getByTestId("archived-note").waitFor();
    expect(await page.getByTestId("chat-instructions-chip").getAttribute("aria-label")).toBe("Chat instructions: You are a concise assistant.");
    await search.fill("");

    // Reasoning as the answer's thinking; and the chat goes on here.
    await items.locator("button", { hasText: "Borrow checker rejects Vec push" }).click();
    await page.locator('[data-testid="reasoning"]').first().waitFor();
    const before = await page.locator('[data-testid="assistant-message"]').count();
    await send(page, "Thanks, that helps.");
    await waitForAnswerState(page, "stop");
    expect(await page.locator('[data-testid="assistant-message"]').count()).toBe(before + 1);

    // The same file again: nothing is copied twice.
    await page.getByRole("button", { name: "Dismiss import result" }).click();
    await page.getByTestId("import-file").setInputFiles({ name: "chat-export.json", mimeType: "application/json", buffer: Buffer.from(foreignExportSample("open-webui-export.json")) });
    await page.getByRole("status").filter({ hasText: "chat-export.json: All 4 chats from Open WebUI were imported before: nothing new." }).waitFor();
    expect(await items.count()).toBe(4);

    await page.getByRole("button", { name: "Dismiss import result" }).click();
    // ChatGPT's data export as downloaded: a ZIP file with the conversations, a page of them and the pictures, named
    // by the ids the questions point to (an upload's, a newer upload's in a folder) or by nothing (a stray file).
    const pixel = Buffer.from("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=", "base64");
    const archive = zipSync({
      "file-Kx2bT9aQpL3mN8vR4sW1yZ-stork.png": [pixel, { level: 0 }],
      "chat.html": strToU8("<html><body>…</body></html>"),
      "conversations.json": strToU8(foreignExportSample("chatgpt-export.json")),
      "file-AbC123-photo.jpg": [new Uint8Array(64 * 1024), { level: 0 }],
      "user-u1/file_00000000a1b2c3d4e5f6a7b8c9d0e1f2-4d2c.png": pixel,
      "user.json": strToU8("{}"),
    });
    await page.getByTestId("import-file").setInputFiles({ name: "chatgpt-export.zip", mimeType: "application/zip", buffer: Buffer.from(archive) });
    // The picture DALL·E made (a tool's) is still counted: an answer holds no pictures here. The code Python ran comes in its answer.
    await page.getByRole("status").filter({ hasText: "chatgpt-export.zip: Imported 6 chats from ChatGPT. Not imported: 2 tool calls, 1 image." }).waitFor();
    // Six chats, one archived in ChatGPT and so here: out of the list.
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="conversation-item"]').length === 9);
    // The pictures the questions were asked with, on them, as they were sent there.
    await items.locator("button", { hasText: "Which bird is this?" }).click();
    await page.locator('[data-testid="assistant-message"]', { hasText: "Same stork, now on its nest." }).waitFor();
    const birdQuestions = page.locator('[data-testid="user-message"]');
    expect(await birdQuestions.count()).toBe(2);
    for (const birdQuestion of await birdQuestions.all()) {
      const thumb = birdQuestion.locator('[data-testid="message-images"] img.message-image__thumb');
      await thumb.waitFor();
      // Decoded by the browser: the bytes arrived whole.
      await expect.poll(() => thumb.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).toBe(1);
    }
    expect(normalize((await birdQuestions.first().textContent()) ?? "")).toContain("Which bird is this? Seen near the Tagus.");

    // A file cut short part way (a download that did not finish): the chats before the cut are imported, then it says
    // where it stopped and why.
    await page.getByRole("button", { name: "Dismiss import result" }).click();
    const claude = JSON.parse(foreignExportSample("claude-conversations.json")) as unknown[];
    const cut = `[${JSON.stringify(claude[0])},${JSON.stringify(claude[1])},${JSON.stringify(claude[2]).slice(0, 50)}`;
    await page.getByTestId("import-file").setInputFiles({ name: "conversations.json", mimeType: "application/json", buffer: Buffer.from(cut) });
    await page
      .getByRole("alert")
      .filter({ hasText: "conversations.json: Stopped: imported 2 chats from Claude. The file could not be read after Chat 2 (“Landing page for the bakery”): The JSON text is cut short in the middle of conversation 3." })
      .waitFor();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="conversation-item"]').length === 11);
    // The page Claude built as an artifact, in the answer where it showed it, and as the next answer changed it.
    await items.locator("button", { hasText: "Landing page for the bakery" }).click();
    const pages = page.locator('[data-testid="assistant-message"] pre code');
    await pages.nth(1).waitFor();
    expect(await pages.first().textContent()).toContain("<h1>Pão Quente</h1>");
    expect(await pages.nth(1).textContent()).toContain('<h1 style="position:sticky;top:0">Pão Quente</h1>');

    // Many conversations in a data export's ZIP, read and imported one at a time as the file is read.
    await page.getByRole("button", { name: "Dismiss import result" }).click();
    const [owui] = JSON.parse(foreignExportSample("open-webui-export.json")) as Array<Record<string, unknown>>;
    const many = JSON.stringify(Array.from({ length: 150 }, (_, i) => ({ ...owui, id: `owui-many-${i}`, title: `Many ${i + 1}` })));
    const zipped = zipSync({ "conversations.json": strToU8(many), "photo.jpg": [new Uint8Array(256 * 1024), { level: 0 }] });
    await page.getByTestId("import-file").setInputFiles({ name: "many.zip", mimeType: "application/zip", buffer: Buffer.from(zipped) });
    await page.getByRole("status").filter({ hasText: "many.zip: Imported 150 chats from Open WebUI. Not imported: 300 tool calls." }).waitFor({ timeout: 60_000 });
  });
});
