import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { conversationIdOf, runBrowserTests, send, useE2E, waitForAnswerState } from "./harness.js";

const e2e = useE2E();

const item = (page: Page, title: string) => page.locator('[data-testid="conversation-item"]', { hasText: title });

describe.skipIf(!runBrowserTests)("archived chats", () => {
  it("archives a chat from its menu: out of the list (in every tab), into Your chats' archived ones, and back", async () => {
    const [page, other] = await e2e.twoTabs();
    await send(page, "An old question about trains");
    await waitForAnswerState(page, "stop");
    const archivedId = await conversationIdOf(page);
    const title = (await page.locator(".chat__title").textContent()) ?? "";
    await page.getByRole("button", { name: "New chat" }).first().click();
    await send(page, "A question to keep");
    await waitForAnswerState(page, "stop");
    await item(other, title).waitFor();

    // Open the old one and archive it from its menu.
    await item(page, title).locator("button").first().click();
    await page.waitForFunction((id) => location.hash === `#/c/${encodeURIComponent(id)}`, archivedId);
    await page.getByRole("button", { name: "Conversation options" }).click();
    await page.getByRole("menuitem", { name: "Archive" }).click();
    // Out of the list here and in the other tab (the feed), and the chat says so where the composer is.
    await item(page, title).waitFor({ state: "detached" });
    await item(other, title).waitFor({ state: "detached" });
    await page.getByTestId("archived-note").getByText("This chat is archived: it is not in the list.").waitFor();
    // Still whole: it goes on as any chat.
    await send(page, "One more thing");
    await waitForAnswerState(page, "stop");
    expect(await item(page, title).count()).toBe(0);

    // A search finds it by what was said in it, marked Archived; the chats of the list are not marked.
    const search = page.getByRole("searchbox", { name: /Search/ });
    await search.fill("question");
    await item(page, title).getByText("Archived", { exact: true }).waitFor();
    await item(page, "A question to keep").waitFor();
    expect(await item(page, "A question to keep").getByText("Archived", { exact: true }).count()).toBe(0);
    // In the open chat's row the tools show: the title, then the mark, then the tools, none over another.
    const row = item(page, title);
    const [titleBox, markBox, toolsBox] = await Promise.all(
      [row.getByTestId("conversation-title"), row.getByText("Archived", { exact: true }), row.locator(".conversation__tools")].map((part) => part.boundingBox()),
    );
    expect(titleBox!.x + titleBox!.width).toBeLessThanOrEqual(markBox!.x);
    expect(markBox!.x + markBox!.width).toBeLessThanOrEqual(toolsBox!.x);
    await search.fill("");
    await item(page, title).waitFor({ state: "detached" });

    // Your chats lists it with the way back; its title opens it.
    await page.getByRole("button", { name: "New chat" }).first().click();
    const panel = page.getByTestId("data-panel");
    await panel.locator("summary").click();
    const archived = page.getByTestId("archived-chats");
    await archived.getByRole("button", { name: title, exact: true }).click();
    await page.waitForFunction((id) => location.hash === `#/c/${encodeURIComponent(id)}`, archivedId);
    await page.getByTestId("archived-note").waitFor();
    await archived.getByRole("button", { name: `Unarchive ${title}` }).click();
    // Back in both lists, and the note is gone.
    await item(page, title).waitFor();
    await item(other, title).waitFor();
    await page.getByTestId("archived-note").waitFor({ state: "detached" });
    await archived.getByText("None. A chat's ⋯ menu archives it: out of the list, kept whole.").waitFor();
    // The menu offers Archive again.
    await page.getByRole("button", { name: "Conversation options" }).click();
    await page.getByRole("menuitem", { name: "Archive" }).waitFor();
  });
});
