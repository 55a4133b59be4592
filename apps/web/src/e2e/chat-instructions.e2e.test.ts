import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { box as boxOf, conversationIdOf, dark, desktop, mobile, runBrowserTests, send, snap, useE2E, waitForAnswerState } from "./harness.js";

const e2e = useE2E();

/** The system message of the last request the model was sent. */
const lastSystemMessage = () => {
  const body = e2e.sim.chatRequests().at(-1)?.body as { messages: Array<{ role: string; content: string }> };
  return body.messages.find((m) => m.role === "system")?.content ?? "";
};

const chip = (page: Page) => page.getByTestId("chat-instructions-chip");
const dialog = (page: Page) => page.getByRole("dialog", { name: "Chat instructions" });
const box = (page: Page) => dialog(page).getByLabel("Instructions for this chat");
const focusedName = (page: Page) =>
  page.evaluate(() => document.activeElement?.getAttribute("aria-label") ?? document.activeElement?.id ?? document.activeElement?.tagName);

async function openFromMenu(page: Page): Promise<void> {
  await page.getByRole("button", { name: "Conversation options" }).click();
  await page.getByRole("menuitem", { name: "Chat instructions…" }).click();
  await dialog(page).waitFor();
  await expect.poll(() => box(page).isEnabled()).toBe(true);
}

async function saveChatInstructions(page: Page, text: string): Promise<void> {
  await box(page).fill(text);
  await dialog(page).getByRole("button", { name: "Save" }).click();
  await dialog(page).getByRole("button", { name: "Saved" }).waitFor();
}

describe.skipIf(!runBrowserTests)("chat instructions", () => {
  it("are set from the chat's menu, go to the model after the custom instructions, stay after a reload, and are this chat's alone", async () => {
    const page = await e2e.openApp(desktop);
    // The user's custom instructions too: the chat's come after them.
    await page.locator("#sidebar").getByText("Instructions", { exact: true }).click();
    await expect.poll(() => page.getByLabel("Custom instructions").isEnabled()).toBe(true);
    await page.getByLabel("Custom instructions").fill("Answer like a pirate.");
    await page.getByTestId("instructions-panel").getByRole("button", { name: "Save" }).click();
    await page.getByTestId("instructions-panel").getByRole("button", { name: "Saved" }).waitFor();

    await send(page, "Where should we stay?");
    await waitForAnswerState(page, "stop");
    const first = await conversationIdOf(page);
    // None yet: no marker.
    expect(await chip(page).count()).toBe(0);

    await openFromMenu(page);
    // The text has the focus; nothing to save yet.
    expect(await focusedName(page)).toBe(await box(page).getAttribute("id"));
    expect(await dialog(page).getByRole("button", { name: "Save" }).isDisabled()).toBe(true);
    await box(page).fill("We are planning a week in Kyoto in April.");
    await dialog(page).getByText("41 / 4000").waitFor();
    await snap(page, "chat-instructions-dialog");
    await dialog(page).getByRole("button", { name: "Save" }).click();
    await dialog(page).getByRole("button", { name: "Saved" }).waitFor();
    // Escape closes it, and the focus goes back to the menu's button.
    await page.keyboard.press("Escape");
    await dialog(page).waitFor({ state: "hidden" });
    expect(await focusedName(page)).toBe("Conversation options");
    // The marker beside the title, named by the text.
    await chip(page).waitFor();
    expect(await chip(page).getAttribute("aria-label")).toBe("Chat instructions: We are planning a week in Kyoto in April.");

    await send(page, "And the food?");
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="assistant-message"][data-state="stop"]').length === 2);
    const system = lastSystemMessage();
    const custom = system.indexOf("Answer like a pirate.");
    const own = system.indexOf("We are planning a week in Kyoto in April.");
    expect(custom).toBeGreaterThan(0);
    expect(own).toBeGreaterThan(custom);
    expect(system).toMatch(/\n\nWe are planning a week in Kyoto in April\.$/);

    // After a reload: the marker is there, and opens the text.
    await page.reload();
    await chip(page).waitFor();
    await chip(page).click();
    await dialog(page).waitFor();
    await expect.poll(() => box(page).inputValue()).toBe("We are planning a week in Kyoto in April.");
    await dialog(page).getByRole("button", { name: "Close" }).click();
    await dialog(page).waitFor({ state: "hidden" });
    expect(await focusedName(page)).toBe("Chat instructions: We are planning a week in Kyoto in April.");

    // A second chat does not get them (the custom ones it does).
    await page.getByRole("button", { name: "New chat" }).first().click();
    await send(page, "Something else entirely");
    await waitForAnswerState(page, "stop");
    expect(await conversationIdOf(page)).not.toBe(first);
    expect(lastSystemMessage()).toContain("Answer like a pirate.");
    expect(lastSystemMessage()).not.toContain("Kyoto");
    expect(await chip(page).count()).toBe(0);

    // Back in the first, cleared: the marker goes, and the next answer is without them.
    await page.locator('[data-testid="conversation-item"] button', { hasText: "Where should we stay?" }).click();
    await page.waitForFunction((id) => location.hash === `#/c/${encodeURIComponent(id)}`, first);
    await chip(page).waitFor();
    await openFromMenu(page);
    await saveChatInstructions(page, "");
    await chip(page).waitFor({ state: "detached" });
    await page.keyboard.press("Escape");
    await dialog(page).waitFor({ state: "hidden" });
    await send(page, "One more question");
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="assistant-message"][data-state="stop"]').length === 3);
    expect(lastSystemMessage()).toContain("Answer like a pirate.");
    expect(lastSystemMessage()).not.toContain("Kyoto");
  });

  it("are set for a new chat from its header before the first message, kept over a reload, and go with that message", async () => {
    const page = await e2e.openApp(desktop);
    // No conversation yet, so no menu: the header offers them itself, quietly.
    const offer = page.getByRole("button", { name: "Chat instructions", exact: true });
    await offer.waitFor();
    expect(await chip(page).count()).toBe(0);
    await snap(page, "chat-instructions-new-chat");
    await offer.click();
    await dialog(page).waitFor();
    expect(await focusedName(page)).toBe(await box(page).getAttribute("id"));
    await dialog(page).getByText("They are saved with the chat when you send its first message.").waitFor();
    await saveChatInstructions(page, "  Answer in haiku.\n");
    expect(await box(page).inputValue()).toBe("Answer in haiku.");
    await page.keyboard.press("Escape");
    await dialog(page).waitFor({ state: "hidden" });
    // The marker in its place (the same button, which has the focus back), named by them.
    expect(await chip(page).getAttribute("aria-label")).toBe("Chat instructions: Answer in haiku.");
    expect(await focusedName(page)).toBe("Chat instructions: Answer in haiku.");
    expect(await offer.count()).toBe(0);
    await snap(page, "chat-instructions-new-chat-set");

    // A reload keeps them for this new chat.
    await page.reload();
    await chip(page).waitFor();
    await chip(page).click();
    await dialog(page).waitFor();
    expect(await box(page).inputValue()).toBe("Answer in haiku.");
    await dialog(page).getByRole("button", { name: "Close" }).click();
    await dialog(page).waitFor({ state: "hidden" });

    // The room a message has (asked once a file is attached) counts them, as its answer will.
    const roomAsked = page.waitForRequest((request) => request.url().includes("models.room") && decodeURIComponent(request.url()).includes("Answer in haiku."));
    await page.getByTestId("attach-input").setInputFiles({ name: "notes.txt", mimeType: "text/plain", buffer: Buffer.from("Tides.") });
    await roomAsked;
    await page.getByRole("button", { name: "Remove notes.txt" }).click();
    await page.getByTestId("attachment-tray").waitFor({ state: "detached" });

    // The marker never leaves while the new chat becomes its conversation.
    await page.evaluate(() => {
      const flags = window as unknown as { markerGone: boolean };
      flags.markerGone = false;
      new MutationObserver(() => {
        if (!document.querySelector('[data-testid="chat-instructions-chip"]')) flags.markerGone = true;
      }).observe(document.body, { childList: true, subtree: true });
    });
    await send(page, "Tell me about the sea.");
    await waitForAnswerState(page, "stop");
    const first = await conversationIdOf(page);
    expect(lastSystemMessage()).toMatch(/\n\nAnswer in haiku\.$/);
    expect(await chip(page).getAttribute("aria-label")).toBe("Chat instructions: Answer in haiku.");
    expect(await page.evaluate(() => (window as unknown as { markerGone: boolean }).markerGone)).toBe(false);
    // The conversation's own now, on the server.
    const input = encodeURIComponent(JSON.stringify({ conversationId: first }));
    const stored = (await (await fetch(`${e2e.baseUrl}/trpc/conversations.instructions?input=${input}`)).json()) as {
      result: { data: { instructions: string } };
    };
    expect(stored.result.data.instructions).toBe("Answer in haiku.");
    // Reopened after a reload: the conversation's dialog shows them, from the server.
    await page.reload();
    await chip(page).click();
    await dialog(page).waitFor();
    await expect.poll(() => box(page).inputValue()).toBe("Answer in haiku.");
    await dialog(page).getByText("Branches of this chat keep them.", { exact: false }).waitFor();
    await page.keyboard.press("Escape");
    await dialog(page).waitFor({ state: "hidden" });

    // The next new chat starts without them, and so does its first answer.
    await page.getByRole("button", { name: "New chat" }).first().click();
    await page.waitForFunction(() => !/^#\/c\//.test(location.hash));
    await offer.waitFor();
    expect(await chip(page).count()).toBe(0);
    await send(page, "Something else entirely");
    await waitForAnswerState(page, "stop");
    expect(await conversationIdOf(page)).not.toBe(first);
    expect(lastSystemMessage()).not.toContain("haiku");
    expect(await chip(page).count()).toBe(0);
  });

  it("fit a new chat's header on a phone, quiet before they are set and the marker after", async () => {
    const page = await e2e.openApp(mobile);
    const offer = page.getByRole("button", { name: "Chat instructions", exact: true });
    await offer.waitFor();
    const header = await boxOf(page.locator(".chat__header"));
    const title = await boxOf(page.locator(".chat__title"));
    const button = await boxOf(offer);
    const newChat = await boxOf(page.locator(".header-new-chat"));
    expect(title.width).toBeGreaterThan(40);
    expect(button.x).toBeGreaterThanOrEqual(title.x + title.width);
    expect(newChat.x).toBeGreaterThanOrEqual(button.x + button.width);
    expect(button.y).toBeGreaterThanOrEqual(header.y);
    expect(button.y + button.height).toBeLessThanOrEqual(header.y + header.height);
    await snap(page, "chat-instructions-new-chat-mobile");
    await offer.click();
    await dialog(page).waitFor();
    await saveChatInstructions(page, "Short answers, please.");
    await page.keyboard.press("Escape");
    await chip(page).waitFor();
    const marker = await boxOf(chip(page));
    expect(marker.x + marker.width).toBeLessThanOrEqual(mobile.viewport.width);
    await snap(page, "chat-instructions-new-chat-set-mobile");
  });

  it("shows the dialog and the marker in the dark theme", async () => {
    const page = await e2e.openApp(dark);
    await send(page, "A dark chat");
    await waitForAnswerState(page, "stop");
    await openFromMenu(page);
    await saveChatInstructions(page, "Keep every answer under a hundred words, and end with one question back to me.");
    await snap(page, "chat-instructions-dialog-dark");
    await page.keyboard.press("Escape");
    await chip(page).waitFor();
    await snap(page, "chat-instructions-chip-dark");
  });

  it("fit the phone: the marker and the menu within the header, the dialog within the screen", async () => {
    const page = await e2e.openApp(mobile);
    await send(page, "A question on the phone with a long title that has to give way");
    await waitForAnswerState(page, "stop");
    await openFromMenu(page);
    await saveChatInstructions(page, "Short answers, please.");
    for (const control of [box(page), dialog(page).getByRole("button", { name: "Saved" })]) {
      const rect = await boxOf(control);
      expect(rect.x).toBeGreaterThanOrEqual(0);
      expect(rect.x + rect.width).toBeLessThanOrEqual(mobile.viewport.width);
    }
    await snap(page, "chat-instructions-dialog-mobile");
    await page.keyboard.press("Escape");
    await chip(page).waitFor();
    const title = await boxOf(page.locator(".chat__title"));
    const marker = await boxOf(chip(page));
    const menu = await boxOf(page.getByRole("button", { name: "Conversation options" }));
    expect(title.width).toBeGreaterThan(40);
    expect(marker.x).toBeGreaterThanOrEqual(title.x + title.width);
    expect(menu.x).toBeGreaterThanOrEqual(marker.x + marker.width);
    expect(menu.x + menu.width).toBeLessThanOrEqual(mobile.viewport.width);
    await snap(page, "chat-instructions-chip-mobile");
  });

  it("reach another tab showing the chat (the feed), and come along to a branch of it", async () => {
    const [page, other] = await e2e.twoTabs();
    await send(page, "Plan a trip to Lisbon");
    await waitForAnswerState(page, "stop");
    const original = await conversationIdOf(page);
    await other.locator('[data-testid="conversation-item"] button', { hasText: "Plan a trip to Lisbon" }).click();
    await other.waitForFunction((id) => location.hash === `#/c/${encodeURIComponent(id)}`, original);
    expect(await chip(other).count()).toBe(0);

    await openFromMenu(page);
    await saveChatInstructions(page, "We travel with two small children.");
    await page.keyboard.press("Escape");
    // The other tab learns it from the feed, without a reload.
    await chip(other).waitFor();
    expect(await chip(other).getAttribute("aria-label")).toBe("Chat instructions: We travel with two small children.");

    // A branch of the chat keeps them: its marker shows, and its next answer gets them.
    const answer = page.locator('[data-testid="assistant-message"]').first();
    await answer.hover();
    await answer.getByRole("button", { name: "Branch in new chat" }).click();
    await page.waitForFunction((id) => /^#\/c\/.+/.test(location.hash) && location.hash !== `#/c/${encodeURIComponent(id)}`, original);
    await chip(page).waitFor();
    await send(page, "What about museums?");
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="assistant-message"][data-state="stop"]').length === 2);
    expect(lastSystemMessage()).toMatch(/\n\nWe travel with two small children\.$/);

    // Cleared in the other tab: the marker goes here too.
    await other.reload();
    await chip(other).waitFor();
    await chip(other).click();
    await dialog(other).waitFor();
    await expect.poll(() => box(other).isEnabled()).toBe(true);
    await saveChatInstructions(other, "");
    // (The branch's title holds the original's: the original by its id.)
    await page.locator(`[data-testid="conversation-item"][data-conversation-id="${original}"] button`).first().click();
    await page.waitForFunction((id) => location.hash === `#/c/${encodeURIComponent(id)}`, original);
    await chip(page).waitFor({ state: "detached" });
  });
});
