import type { AppRouter } from "@streamchat/api";
import { createTRPCClient, httpLink } from "@trpc/client";
import type { Page } from "playwright-core";
import { beforeAll, describe, expect, it } from "vitest";
import { desktop, runBrowserTests, useE2E } from "./harness.js";

const e2e = useE2E();

const hourMs = 3_600_000;
const count = 130;
const monthNames = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];

/** "Paged chat 001" is the newest, "Paged chat 130" the oldest: one every 6 hours, back over a month. */
const titleOf = (n: number) => `Paged chat ${String(n).padStart(3, "0")}`;
/** Conversation ids by title. */
const ids = new Map<string, string>();
/** When the oldest conversation had its last activity. */
let oldestAt = 0;

/** The API as any client calls it (the typed tRPC client over plain HTTP). */
const api = () => createTRPCClient<AppRouter>({ links: [httpLink({ url: `${e2e.baseUrl}/trpc` })] });

async function postChat(body: { message: string; conversationId?: string }): Promise<string> {
  const response = await fetch(`${e2e.baseUrl}/api/chat`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  expect(response.status).toBe(200);
  return ((await response.json()) as { conversationId: string }).conversationId;
}

const items = (page: Page) => page.locator('[data-testid="conversation-item"]');
const item = (page: Page, title: string) => page.locator('[data-testid="conversation-item"]', { hasText: title });
const list = (page: Page) => page.locator(".sidebar__list");
const itemCount = (page: Page) => page.evaluate(() => document.querySelectorAll('[data-testid="conversation-item"]').length);
const shownIds = (page: Page) =>
  page.evaluate(() => [...document.querySelectorAll<HTMLElement>('[data-testid="conversation-item"]')].map((el) => el.dataset.conversationId ?? ""));

async function waitForItems(page: Page, n: number): Promise<void> {
  await page.waitForFunction((expected) => document.querySelectorAll('[data-testid="conversation-item"]').length === expected, n);
}

/**
 * Scrolls the sidebar's list down as a reader does, with the mouse wheel over it, as far as it goes (the scroll may end
 * after a page has been added below: what to wait for is up to the caller).
 */
async function scrollListDown(page: Page): Promise<void> {
  await list(page).hover();
  await page.mouse.wheel(0, 20_000);
}

/** Waits until the element is inside the list's visible part (scrolled into view, not clipped). */
async function waitInView(page: Page, title: string): Promise<void> {
  await page.waitForFunction((wanted) => {
    const outer = document.querySelector(".sidebar__list")!.getBoundingClientRect();
    const row = [...document.querySelectorAll('[data-testid="conversation-item"]')].find((el) => el.textContent?.includes(wanted));
    const inner = row?.getBoundingClientRect();
    return !!inner && inner.height > 0 && inner.top >= outer.top - 1 && inner.bottom <= outer.bottom + 1;
  }, title);
}

describe.skipIf(!runBrowserTests)("sidebar: older conversations, page by page", () => {
  beforeAll(async () => {
    if (!runBrowserTests) return;
    // One real conversation, exported once and imported 130 times under other titles and times (the file's times are
    // kept): no model asked 130 times.
    const seed = await postChat({ message: "Seed for paging" });
    const client = api();
    const doc = JSON.parse((await client.conversations.export.query({ conversationId: seed })).content) as {
      conversation: { title: string; createdAt: number; updatedAt: number };
    };
    const newest = Date.now() - 60_000;
    for (let n = 1; n <= count; n++) {
      const at = newest - (n - 1) * 6 * hourMs;
      const copy = { ...doc, conversation: { ...doc.conversation, title: titleOf(n), createdAt: at, updatedAt: at } };
      const { conversationId } = await client.conversations.import.mutate({ content: JSON.stringify(copy) });
      ids.set(titleOf(n), conversationId);
      oldestAt = at;
    }
    await client.conversations.delete.mutate({ conversationId: seed });
    expect((await client.conversations.list.query()).map((c) => c.title)).toEqual(Array.from({ length: 100 }, (_, i) => titleOf(i + 1)));
  });

  it("shows the first 100, and scrolling to the end loads the rest into the same date sections, each chat once", async () => {
    const page = await e2e.openApp(desktop);
    await item(page, titleOf(100)).waitFor({ state: "attached" });
    expect(await itemCount(page)).toBe(100);
    expect(await item(page, titleOf(101)).count()).toBe(0);
    expect(await page.getByRole("button", { name: "Show older chats" }).count()).toBe(1);

    await scrollListDown(page);
    await waitForItems(page, count);
    // The end: no button, no loading line; nothing is asked for again.
    await page.getByTestId("older-conversations").waitFor({ state: "detached" });
    expect(new Set(await shownIds(page)).size).toBe(count);

    // The oldest conversation can be scrolled to and read.
    await scrollListDown(page);
    await waitInView(page, titleOf(count));
    const oldest = item(page, titleOf(count));
    expect(await oldest.isVisible()).toBe(true);
    // Its section is its month, and no section shows twice (the older page's chats joined the first page's sections).
    const when = new Date(oldestAt);
    const month = monthNames[when.getMonth()]! + (when.getFullYear() === new Date().getFullYear() ? "" : ` ${when.getFullYear()}`);
    expect(await oldest.evaluate((el) => el.closest("section")?.querySelector("h2")?.textContent)).toBe(month);
    const headings = await list(page).getByRole("heading", { level: 2 }).allTextContents();
    expect(new Set(headings).size).toBe(headings.length);
    expect(headings).toContain("Previous 30 days");
    expect(headings.at(-1)).toBe(month);
    // Each section is named by its heading (a month's name has a space: the ids do not).
    expect(await list(page).getByRole("region", { name: "Previous 30 days" }).count()).toBe(1);
  });

  it("loads older chats with the Show older chats button from the keyboard, the focus going to the first of them", async () => {
    // No IntersectionObserver: only the button can load them, as for a reader who does not scroll.
    const context = await e2e.browser.newContext({ viewport: desktop.viewport });
    e2e.trackContext(context);
    await context.addInitScript(() => {
      delete (window as { IntersectionObserver?: unknown }).IntersectionObserver;
    });
    const page = await context.newPage();
    page.on("pageerror", (error) => e2e.onPageError(error.message));
    await page.goto(e2e.baseUrl + "/");
    await item(page, titleOf(100)).waitFor({ state: "attached" });

    // From the last chat's last control, Tab reaches the button; Enter presses it.
    await item(page, titleOf(100)).getByRole("button", { name: `Delete ${titleOf(100)}` }).focus();
    await page.keyboard.press("Tab");
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("Show older chats");
    expect(await itemCount(page)).toBe(100);
    await page.keyboard.press("Enter");
    await waitForItems(page, count);
    await page.waitForFunction((title) => document.activeElement?.textContent === title, titleOf(101));
    expect(await page.evaluate(() => document.activeElement?.closest('[data-testid="conversation-item"]') !== null)).toBe(true);
    expect(await page.getByTestId("older-conversations").count()).toBe(0);
  });

  it("shows a chat of the second page once, in its new place, when it is renamed or gets a new message", async () => {
    const page = await e2e.openApp(desktop);
    await item(page, titleOf(100)).waitFor({ state: "attached" });
    await scrollListDown(page);
    await waitForItems(page, count);

    // Renamed through the API (another device): the feed renames it where it is.
    await e2e.renameConversation(ids.get(titleOf(120))!, "Renamed on page two");
    await item(page, "Renamed on page two").waitFor({ state: "attached" });
    expect(await item(page, titleOf(120)).count()).toBe(0);
    expect(await item(page, "Renamed on page two").count()).toBe(1);

    // A new message in another: it moves to the top of the list, and is not left on the second page as well.
    const moved = ids.get(titleOf(110))!;
    await postChat({ message: "Back to this one", conversationId: moved });
    await page.waitForFunction((id) => document.querySelector<HTMLElement>('[data-testid="conversation-item"]')?.dataset.conversationId === id, moved);
    await page.waitForFunction(() => !document.querySelector('[data-testid="conversation-item"] .live-dot'));
    await waitForItems(page, count);
    expect(await item(page, titleOf(110)).count()).toBe(1);
    expect(await item(page, "Renamed on page two").count()).toBe(1);
    expect(new Set(await shownIds(page)).size).toBe(count);
    expect(await items(page).first().evaluate((el) => el.closest("section")?.querySelector("h2")?.textContent)).toBe("Today");
    // The one it pushed off the first page is still listed, once.
    expect(await item(page, titleOf(100)).count()).toBe(1);
  });

  it("finds by its messages a chat the sidebar has not loaded yet, and opens it", async () => {
    // The oldest of all, so past the first page however the tests before moved the others.
    const client = api();
    const doc = JSON.parse((await client.conversations.export.query({ conversationId: ids.get(titleOf(1))! })).content) as {
      conversation: { title: string; createdAt: number; updatedAt: number };
      messages: Array<{ message: { role: string; content: string } }>;
    };
    const at = oldestAt - 24 * hourMs;
    const hidden = {
      ...doc,
      conversation: { ...doc.conversation, title: "Zebra hunt", createdAt: at, updatedAt: at },
      messages: doc.messages.map((m) => (m.message.role === "user" ? { ...m, message: { ...m.message, content: "Where did the zebra go?" } } : m)),
    };
    const { conversationId } = await client.conversations.import.mutate({ content: JSON.stringify(hidden) });

    const page = await e2e.openApp(desktop);
    await waitForItems(page, 100);
    expect(await item(page, "Zebra hunt").count()).toBe(0);
    await page.getByRole("searchbox", { name: "Search conversations" }).fill("zebra");
    await item(page, "Zebra hunt").waitFor();
    expect(await itemCount(page)).toBe(1);
    await item(page, "Zebra hunt").locator(".conversation__open").click();
    await page.waitForFunction((id) => location.hash === `#/c/${encodeURIComponent(id)}`, conversationId);
    await page.locator('[data-testid="user-message"]', { hasText: "Where did the zebra go?" }).waitFor();
  });

  it("finds by its title a chat the sidebar has not loaded yet (renamed, its messages without the words), and opens it", async () => {
    // Past the first page: renaming is not activity, so it stays where it was. Its messages say "Seed for paging".
    const conversationId = ids.get(titleOf(125))!;
    await api().conversations.rename.mutate({ conversationId, title: "Okapi sightings" });
    const page = await e2e.openApp(desktop);
    await waitForItems(page, 100);
    expect(await item(page, "Okapi sightings").count()).toBe(0);
    // Words in any order, any case, accents ignored: as the marks in the list show.
    await page.getByRole("searchbox", { name: "Search conversations" }).fill("SIGHTINGS ókapi");
    await item(page, "Okapi sightings").waitFor();
    expect(await shownIds(page)).toEqual([conversationId]);
    expect(await item(page, "Okapi sightings").locator("mark").allTextContents()).toEqual(["Okapi", "sightings"]);
    await item(page, "Okapi sightings").locator(".conversation__open").click();
    await page.waitForFunction((id) => location.hash === `#/c/${encodeURIComponent(id)}`, conversationId);
  });
});
