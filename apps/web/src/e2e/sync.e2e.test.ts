import type { BrowserContext, Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { answers, conversationIdOf, desktop, mobile, runBrowserTests, send, useE2E, waitForAnswerState, type Look } from "./harness.js";

// Titles are generated here, as in production (the harness turns them off for the other areas).
const e2e = useE2E({ env: { GENERATE_TITLES: "1" }, tokenDelayMs: 10 });

const twoTabs = (look?: Look): Promise<[Page, Page, BrowserContext]> => e2e.twoTabs(look);

const item = (page: Page, title: string) => page.locator('[data-testid="conversation-item"]', { hasText: title });
const userMessages = (page: Page) => page.locator('[data-testid="user-message"]');

/** Marks the page; the mark is gone after a reload. */
const mark = (page: Page) => page.evaluate(() => ((window as unknown as { __notReloaded: boolean }).__notReloaded = true));
const notReloaded = (page: Page) => page.evaluate(() => (window as unknown as { __notReloaded?: boolean }).__notReloaded === true);

describe.skipIf(!runBrowserTests)("live sync between tabs and devices", () => {
  it("shows a message sent in another tab on the same conversation URL, and follows its answer as it streams", async () => {
    const [a, b] = await twoTabs();
    await send(a, "Hello from tab A");
    await waitForAnswerState(a, "stop");
    const conversationId = await conversationIdOf(a);
    await b.goto(`${e2e.baseUrl}/#/c/${encodeURIComponent(conversationId)}`);
    await answers(b).first().waitFor();
    await waitForAnswerState(b, "stop");
    await mark(b);

    // One token a second: B must show the answer while it is still being written, not only once it is done.
    await send(a, "[sim:slow] tokens:6 keep going");
    await userMessages(b).filter({ hasText: "keep going" }).waitFor({ timeout: 10_000 });
    await b.waitForFunction(
      () => {
        const all = document.querySelectorAll('[data-testid="assistant-message"]');
        const last = all[all.length - 1];
        const text = last?.querySelector('[data-testid="answer-text"] .markdown')?.textContent ?? "";
        return all.length === 2 && text.includes("drip1") && last?.getAttribute("data-state") !== "stop";
      },
      undefined,
      { timeout: 10_000 },
    );
    // Still streaming in A too: B follows the live run, it did not wait for the end.
    expect(await answers(a).last().getAttribute("data-state")).not.toBe("stop");
    await waitForAnswerState(b, "stop");
    expect(await answers(b).last().textContent()).toContain("drip6");
    expect(await userMessages(b).count()).toBe(2);
    expect(await notReloaded(b)).toBe(true);
  });

  it("shows a new conversation from another device in the sidebar, with its generated title", async () => {
    const other = await e2e.openApp(mobile); // another device: its own browser profile
    const [a] = await twoTabs();
    await mark(a);
    await send(other, "What time is it in Tokyo?");
    await waitForAnswerState(other, "stop");
    // The model names the conversation after its first answer, and both devices show the name.
    await item(a, "Current time in Tokyo").waitFor({ timeout: 15_000 });
    await other.getByRole("button", { name: "Show conversations" }).click();
    await item(other, "Current time in Tokyo").waitFor({ timeout: 15_000 });
    expect(await item(a, "What time is it in Tokyo?").count()).toBe(0);
    expect(await notReloaded(a)).toBe(true);
  });

  it("updates the other tab's sidebar when a conversation is renamed or deleted", async () => {
    const [a, b] = await twoTabs();
    await send(a, "Sync rename and delete");
    await waitForAnswerState(a, "stop");
    const conversationId = await conversationIdOf(a);
    await b.goto(`${e2e.baseUrl}/#/c/${encodeURIComponent(conversationId)}`);
    await waitForAnswerState(b, "stop");
    await mark(b);
    const current = (page: Page) => page.locator('[data-testid="conversation-item"]:has([aria-current="page"])');

    // Renamed in A (by hand: the generated title stays away from a title the user set).
    await current(a).hover();
    await current(a).getByRole("button", { name: /^Rename/ }).click();
    await a.fill('input[aria-label="Conversation title"]', "Renamed in tab A");
    await a.press('input[aria-label="Conversation title"]', "Enter");
    await item(b, "Renamed in tab A").waitFor({ timeout: 10_000 });
    await b.getByRole("heading", { level: 1, name: "Renamed in tab A" }).waitFor();

    // Deleted in A: gone from B's sidebar, and B leaves the conversation that no longer exists.
    const row = item(a, "Renamed in tab A");
    await row.hover();
    await row.getByRole("button", { name: /^Delete/ }).click();
    await a.getByRole("dialog", { name: "Delete this chat?" }).getByRole("button", { name: "Delete", exact: true }).click();
    await item(b, "Renamed in tab A").waitFor({ state: "detached", timeout: 10_000 });
    await b.waitForFunction(() => location.hash === "#/" || location.hash === "");
    expect(await notReloaded(b)).toBe(true);
  });

  it("pins a conversation in one tab: both tabs list it under Pinned, above newer chats, also after a reload", async () => {
    const [a, b] = await twoTabs();
    await send(a, "Keep this one at the top");
    await waitForAnswerState(a, "stop");
    const pinnedId = await conversationIdOf(a);
    await a.getByRole("button", { name: "New chat" }).first().click();
    await send(a, "A newer conversation");
    await waitForAnswerState(a, "stop");
    await mark(b);
    // The row of the first chat, whatever title the model gave it, and the sidebar's section titles in order.
    const rowOf = (page: Page) => page.locator(`[data-testid="conversation-item"][data-conversation-id="${pinnedId}"]`);
    const sections = (page: Page) => page.locator(".conversation-group__label").allTextContents();
    const pinnedTitles = (page: Page) => page.locator('section:has(h2:text-is("Pinned")) [data-testid="conversation-title"]').allTextContents();

    const row = rowOf(a);
    await row.hover();
    await row.getByRole("button", { name: /^Pin / }).click();
    await a.locator('h2:text-is("Pinned")').waitFor();
    expect((await sections(a))[0]).toBe("Pinned");
    expect(await pinnedTitles(a)).toHaveLength(1);
    // The other tab hears it from the feed, without a reload.
    await b.locator('h2:text-is("Pinned")').waitFor({ timeout: 10_000 });
    expect(await pinnedTitles(b)).toEqual(await pinnedTitles(a));
    expect(await rowOf(b).getByRole("button", { name: /^Unpin / }).count()).toBe(1);
    expect(await notReloaded(b)).toBe(true);

    await b.reload();
    await b.locator('h2:text-is("Pinned")').waitFor();
    expect(await pinnedTitles(b)).toEqual(await pinnedTitles(a));

    // Unpinned in B: A's Pinned section goes.
    await rowOf(b).hover();
    await rowOf(b).getByRole("button", { name: /^Unpin / }).click();
    await a.locator('h2:text-is("Pinned")').waitFor({ state: "detached", timeout: 10_000 });
  });
});
