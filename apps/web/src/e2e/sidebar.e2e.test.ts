import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { box, conversationIdOf, dark, desktop, looks, mobile, runBrowserTests, send, snap, startApi, tabTo, useE2E, waitForAnswerState, type Look } from "./harness.js";

const e2e = useE2E({ tokenDelayMs: 5 });

const dayMs = 86_400_000;

/** Starts a conversation through the REST API (what any client can do) and returns its id. */
async function createConversation(message: string): Promise<string> {
  const response = await fetch(`${e2e.baseUrl}/api/chat`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ message }),
  });
  expect(response.status).toBe(200);
  return ((await response.json()) as { conversationId: string }).conversationId;
}

const sidebar = (page: Page) => page.getByRole("navigation", { name: "Conversations and settings" });
const item = (page: Page, title: string) => page.locator('[data-testid="conversation-item"]', { hasText: title });

async function openDrawerIfNarrow(page: Page, look: Look): Promise<void> {
  if (!look.mobile) return;
  await page.getByRole("button", { name: "Show conversations" }).click();
  await page.locator("#sidebar").waitFor({ state: "visible" });
  await page.waitForFunction(() => {
    const r = document.getElementById("sidebar")!.getBoundingClientRect();
    return r.left >= 0; // slid in
  });
}

describe.skipIf(!runBrowserTests)("sidebar: conversations, search, groups, delete", () => {
  it("keeps the sidebar outside the main landmark, which holds the chat", async () => {
    const page = await e2e.openApp();
    expect(await page.getByRole("main").count()).toBe(1);
    expect(await page.getByRole("main").getByRole("searchbox").count()).toBe(0);
    expect(await sidebar(page).getByRole("searchbox", { name: /Search/ }).count()).toBe(1);
    expect(await page.getByRole("main").locator("#composer-input").count()).toBe(1);
  });

  it("lists, renames and deletes conversations; the title updates wherever it shows", async () => {
    const page = await e2e.openApp();
    await send(page, "Hello sidebar");
    await waitForAnswerState(page, "stop");
    const conversationId = await conversationIdOf(page);
    const current = page.locator('[data-testid="conversation-item"]:has([aria-current="page"])');
    await current.waitFor();

    await current.hover();
    await current.getByRole("button", { name: /^Rename/ }).click();
    await page.fill('input[aria-label="Conversation title"]', "Renamed chat");
    await page.press('input[aria-label="Conversation title"]', "Enter");
    await item(page, "Renamed chat").waitFor();
    await page.getByRole("heading", { level: 1, name: "Renamed chat" }).waitFor();

    // Renamed elsewhere (another tab, a generated title): shown as soon as the list is fetched again.
    await e2e.renameConversation(conversationId, "Renamed from elsewhere");
    await page.evaluate(() => document.dispatchEvent(new Event("visibilitychange", { bubbles: true }))); // the tab comes back into view
    await item(page, "Renamed from elsewhere").waitFor();
    await page.getByRole("heading", { level: 1, name: "Renamed from elsewhere" }).waitFor();
    expect(await page.title()).toBe("Renamed from elsewhere · streamchat");

    const renamed = item(page, "Renamed from elsewhere");
    await renamed.hover();
    await renamed.getByRole("button", { name: /^Delete/ }).click();
    const dialog = page.getByRole("dialog", { name: "Delete this chat?" });
    await dialog.getByRole("button", { name: "Delete", exact: true }).click();
    await renamed.waitFor({ state: "detached" });
    await page.waitForFunction(() => location.hash === "#/");
    const input = encodeURIComponent(JSON.stringify({ conversationId }));
    expect((await fetch(`${e2e.baseUrl}/trpc/conversations.get?input=${input}`)).status).toBe(404);
  });

  for (const look of looks) {
    it(`asks before deleting, with room for the whole title (${look.name})`, async () => {
      const title = `Planning the spring trip to Kyoto and Osaka (${look.name})`;
      const id = await createConversation("Hello delete dialog");
      await e2e.renameConversation(id, title);
      const page = await e2e.openApp(look);
      await openDrawerIfNarrow(page, look);
      const row = item(page, title);
      await row.hover();
      await row.getByRole("button", { name: `Delete ${title}` }).click();

      const dialog = page.getByRole("dialog", { name: "Delete this chat?" });
      await dialog.waitFor();
      // The whole title, on at most two lines, not squeezed to a word; nothing else wraps oddly.
      const subject = dialog.getByText(title, { exact: true });
      expect(await subject.textContent()).toBe(title);
      const lineHeight = await subject.evaluate((el) => parseFloat(getComputedStyle(el).lineHeight));
      expect((await box(subject)).height).toBeLessThanOrEqual(lineHeight * 2 + 1);
      const panel = await box(dialog);
      expect(panel.width).toBeGreaterThanOrEqual(Math.min(360, look.viewport.width - 40));
      expect(panel.x).toBeGreaterThanOrEqual(0);
      expect(panel.x + panel.width).toBeLessThanOrEqual(look.viewport.width);
      const cancel = await box(dialog.getByRole("button", { name: "Cancel" }));
      const confirm = await box(dialog.getByRole("button", { name: "Delete", exact: true }));
      expect(Math.abs(cancel.y - confirm.y)).toBeLessThan(2); // one row of buttons
      for (const b of [cancel, confirm]) expect(b.height).toBeLessThan(44); // labels on one line
      await snap(page, `delete-dialog-${look.name}`);

      // Escape cancels: nothing deleted, the row is still there.
      await page.keyboard.press("Escape");
      await dialog.waitFor({ state: "detached" });
      expect(await row.count()).toBe(1);
      expect((await e2e.getConversation(id)).title).toBe(title);
    });
  }

  for (const look of looks) {
    it(`cuts long titles with an ellipsis on a box that can shrink (${look.name})`, async () => {
      const long = `A very long conversation title that goes on and on about streaming tokens and tools and more (${look.name})`;
      const id = await createConversation("Hello long title");
      await e2e.renameConversation(id, long);
      const page = await e2e.openApp(look);
      await openDrawerIfNarrow(page, look);
      const title = item(page, long).getByTestId("conversation-title");
      const style = await title.evaluate((el) => {
        const s = getComputedStyle(el);
        return { overflow: s.overflowX, textOverflow: s.textOverflow, whiteSpace: s.whiteSpace, display: s.display, cut: el.scrollWidth > el.clientWidth };
      });
      expect(style).toEqual({ overflow: "hidden", textOverflow: "ellipsis", whiteSpace: "nowrap", display: "block", cut: true });
      const row = await box(item(page, long));
      const t = await box(title);
      expect(t.x + t.width).toBeLessThanOrEqual(row.x + row.width);
      expect(t.height).toBeLessThan(26); // one line
      // The whole title is one hover away.
      expect(await item(page, long).getByRole("button").first().getAttribute("title")).toContain(long);
    });
  }

  it("gives the focus back to Delete when the delete question is cancelled from the keyboard", async () => {
    const title = "Keyboard delete cancel";
    const id = await createConversation("Hello keyboard delete");
    await e2e.renameConversation(id, title);
    const page = await e2e.openApp();
    await item(page, title).waitFor();
    await page.getByRole("button", { name: "New chat" }).first().focus();
    await tabTo(page, `Delete ${title}`);
    const dialog = page.getByRole("dialog", { name: "Delete this chat?" });
    for (const cancel of ["Escape", "Enter"]) {
      await page.keyboard.press("Enter");
      await dialog.waitFor();
      // Escape, or Enter on Cancel (where the focus starts).
      await page.keyboard.press(cancel);
      await dialog.waitFor({ state: "detached" });
      expect(await page.evaluate(() => document.activeElement?.getAttribute("aria-label"))).toBe(`Delete ${title}`);
    }
    expect((await e2e.getConversation(id)).title).toBe(title);
  });

  it("gives the focus to the next chat in the list when one is deleted from the keyboard", async () => {
    const titles = ["Keyboard delete older", "Keyboard delete middle", "Keyboard delete newer"];
    for (const title of titles) await e2e.renameConversation(await createConversation(`Hello ${title}`), title);
    const page = await e2e.openApp();
    await item(page, titles[1]!).waitFor();
    await page.getByRole("button", { name: "New chat" }).first().focus();
    await tabTo(page, `Delete ${titles[1]}`);
    await page.keyboard.press("Enter");
    const dialog = page.getByRole("dialog", { name: "Delete this chat?" });
    await dialog.waitFor();
    await page.keyboard.press("Tab"); // from Cancel to Delete
    await page.keyboard.press("Enter");
    await item(page, titles[1]!).waitFor({ state: "detached" });
    // Newest first: the chat listed after the deleted one is the older one. Not <body>, the top of the page.
    await page.waitForFunction((title) => document.activeElement?.textContent === title, titles[0]);
    expect(await page.evaluate(() => document.activeElement?.className)).toBe("conversation__open");
    // Again from the chat that now has the focus: the next one takes it, or, for the last one listed, the one before it.
    const listed = await page.locator(".conversation__open").allTextContents();
    const at = listed.indexOf(titles[0]!);
    const next = listed[at + 1] ?? listed[at - 1]!;
    await page.keyboard.press("Tab"); // Pin
    await page.keyboard.press("Tab"); // Rename
    await page.keyboard.press("Tab"); // Delete
    expect(await page.evaluate(() => document.activeElement?.getAttribute("aria-label"))).toBe(`Delete ${titles[0]}`);
    await page.keyboard.press("Enter");
    await dialog.waitFor();
    await page.keyboard.press("Tab");
    await page.keyboard.press("Enter");
    await item(page, titles[0]!).waitFor({ state: "detached" });
    await page.waitForFunction((title) => document.activeElement?.textContent === title, next);
  });

  it("searches conversation titles and messages and says when nothing matches", async () => {
    await createConversation("Weather on Mars (searchable)");
    await createConversation("Sourdough starter tips (searchable)");
    // Found by what was said in it, not by its title (conversations.search on the server).
    await e2e.renameConversation(await createConversation("Notes on the aurora borealis"), "Sky notes");
    for (const look of [desktop, mobile] as Look[]) {
      const page = await e2e.openApp(look);
      await openDrawerIfNarrow(page, look);
      const search = page.getByRole("searchbox", { name: /Search/ });
      expect(await search.getAttribute("type")).toBe("search");
      await search.fill("mars");
      await page.waitForFunction(() => document.querySelectorAll('[data-testid="conversation-item"]').length === 1);
      expect(await page.locator('[data-testid="conversation-item"]').textContent()).toContain("Weather on Mars");
      // What matched is marked in the title, whatever its case.
      expect(await item(page, "Weather on Mars").locator("mark").allTextContents()).toEqual(["Mars"]);
      await search.fill("searchable sourdough");
      await item(page, "Sourdough starter tips").waitFor();
      expect(await page.locator('[data-testid="conversation-item"]').count()).toBe(1);
      expect(await item(page, "Sourdough starter tips").locator("mark").allTextContents()).toEqual(["Sourdough", "searchable"]);
      await search.fill("aurora borealis");
      await item(page, "Sky notes").waitFor();
      expect(await page.locator('[data-testid="conversation-item"]').count()).toBe(1);
      // Found by its messages: nothing in the title to mark.
      expect(await item(page, "Sky notes").locator("mark").count()).toBe(0);
      await search.fill("zebra crossing");
      await page.locator("#sidebar").getByRole("status").filter({ hasText: "No conversation matches “zebra crossing”" }).waitFor();
      // Escape clears the search first (and keeps the drawer open).
      await search.press("Escape");
      expect(await search.inputValue()).toBe("");
      await item(page, "Weather on Mars").waitFor();
      expect(await page.locator("#sidebar").isVisible()).toBe(true);
      expect(await page.locator("#sidebar mark").count()).toBe(0);
    }
  });

  it("marks matches calmly in both themes: the theme's text on a tint of its accent, not the browser's yellow", async () => {
    await createConversation("Marked title in a theme");
    for (const look of [desktop, dark]) {
      const page = await e2e.openApp(look);
      await page.getByRole("searchbox", { name: /Search/ }).fill("marked");
      const mark = item(page, "Marked title in a theme").locator("mark");
      await mark.waitFor();
      const colors = await mark.evaluate((el) => {
        // The theme's text colour, resolved the way the mark's is.
        const probe = document.createElement("span");
        probe.style.color = "var(--text)";
        el.parentElement!.append(probe);
        const themeText = getComputedStyle(probe).color;
        probe.remove();
        return { background: getComputedStyle(el).backgroundColor, color: getComputedStyle(el).color, themeText };
      });
      expect(colors.background).not.toBe("rgb(255, 255, 0)"); // the browser's own yellow
      expect(colors.background).not.toBe("rgba(0, 0, 0, 0)"); // and not invisible
      // The theme's own text colour (the browser's mark is black, unreadable on the dark sidebar).
      expect(colors.color).toBe(colors.themeText);
      await snap(page, `search-marks-${look.name}`);
    }
  });

  for (const look of [desktop, mobile] as Look[]) {
    it(`folds an open panel on Escape and gives the focus back to its summary; the next Escape closes the drawer (${look.name})`, async () => {
      const page = await e2e.openApp(look);
      await openDrawerIfNarrow(page, look);
      // The drawer is a dialog while open, no longer a navigation landmark: found by its id.
      const panels = page.locator("#sidebar");
      const summary = panels.locator("summary", { hasText: "API token" });
      const details = panels.locator("details.token-setting");
      await summary.focus();
      await page.keyboard.press("Enter");
      await page.waitForFunction(() => document.querySelector<HTMLDetailsElement>("details.token-setting")!.open);
      await page.keyboard.press("Tab"); // into the panel: the token field
      expect(await page.evaluate(() => document.activeElement?.id)).toBe("api-token");

      await page.keyboard.press("Escape");
      expect(await details.evaluate((el) => (el as HTMLDetailsElement).open)).toBe(false);
      expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("API token");
      expect(await page.locator("#sidebar").isVisible()).toBe(true);

      // The same for the keyboard shortcuts, from its summary.
      const shortcutsSummary = panels.locator("summary", { hasText: "Keyboard shortcuts" });
      await shortcutsSummary.focus();
      await page.keyboard.press("Enter");
      await panels.locator(".shortcut-list").waitFor();
      await page.keyboard.press("Escape");
      await panels.locator(".shortcut-list").waitFor({ state: "hidden" });
      expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("Keyboard shortcuts");

      if (look.mobile) {
        // Nothing open in it now: Escape is the drawer's, as before.
        await page.keyboard.press("Escape");
        await page.locator("#sidebar").waitFor({ state: "hidden" });
      }
    });
  }

  it("says it is checking a saved token while the server has not answered, then Saved", async () => {
    const authed = await startApi({ AUTH_TOKENS: "alice:alice-secret-token" }, 5);
    try {
      const page = await e2e.newPage(desktop, await authed.listen());
      await page.getByTestId("auth-banner").waitFor();
      // The server's answer to the model list (the page's sign-in check) is held until the test lets it through.
      let release: () => void = () => {};
      const held = new Promise<void>((resolve) => (release = resolve));
      let holding = false;
      await page.route(
        (url) => url.pathname.includes("models.list"),
        async (route) => {
          if (holding) await held;
          await route.continue();
        },
      );
      await page.getByRole("button", { name: "Enter token" }).click();
      await page.waitForFunction(() => document.activeElement?.id === "api-token");
      const tokenSetting = page.locator(".token-setting");
      holding = true;
      await page.keyboard.type("alice-secret-token");
      await page.keyboard.press("Enter");
      // The check is out (held): the setting says so, stays open, and does not claim the token is in use.
      await page.waitForFunction(() => document.querySelector(".token-setting [role=status]")?.textContent === "Checking the token…");
      expect(await tokenSetting.evaluate((el) => (el as HTMLDetailsElement).open)).toBe(true);
      expect(await tokenSetting.locator('button[type="submit"]').textContent()).toBe("Save");
      expect(await tokenSetting.getByRole("alert").count()).toBe(0);

      release();
      await page.waitForFunction(() => document.querySelector(".token-setting button[type=submit]")?.textContent === "Saved");
      expect(await tokenSetting.locator('[role="alert"], [role="status"]').count()).toBe(0);
      expect(await page.getByTestId("auth-banner").count()).toBe(0);
    } finally {
      await authed.close();
    }
  });

  for (const look of [desktop, mobile] as Look[]) {
    it(`on a server that wants a token, says so without repeating it, and keeps the focus in the sidebar once the token is accepted (${look.name})`, async () => {
      const authed = await startApi({ AUTH_TOKENS: "alice:alice-secret-token" }, 5);
      try {
        const page = await e2e.newPage(look, await authed.listen());
        await page.getByTestId("auth-banner").waitFor();
        await page.getByTestId("conversations-error").waitFor({ state: "attached" }); // in the folded drawer on a phone
        // The banner says sign-in is required and the token setting asks for it; the conversation list's failure
        // (the same refusal) stays on screen but is not a third alert.
        const alerts = await page.locator('[role="alert"]').allTextContents();
        expect(alerts.filter((text) => text.includes("Sign-in is required")), "alerts saying sign-in is required").toHaveLength(1);
        expect(await page.getByTestId("conversations-error").getAttribute("role")).toBeNull();

        await page.getByRole("button", { name: "Enter token" }).click();
        await page.waitForFunction(() => document.activeElement?.id === "api-token");
        // Right under "This server requires an API token.", the empty field says what goes in it, whole: its words fit
        // the box (measured in the field's own font against its content width; the sidebar is 267 px on a desktop).
        const { placeholder, needed, room } = await page.locator("#api-token").evaluate((input: HTMLInputElement) => {
          const style = getComputedStyle(input);
          const context = document.createElement("canvas").getContext("2d")!;
          context.font = style.font;
          const room = input.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
          return { placeholder: input.placeholder, needed: context.measureText(input.placeholder).width, room };
        });
        expect(placeholder).not.toBe("");
        expect(needed, `placeholder width within the field's ${room} px`).toBeLessThanOrEqual(room);
        await page.keyboard.type("alice-secret-token");
        await page.keyboard.press("Enter");
        await page.getByTestId("auth-banner").waitFor({ state: "detached" });
        // Accepted: the setting folds away; the focus goes to its summary, not to the page's body (out of the drawer).
        await page.waitForFunction(() => !document.querySelector<HTMLDetailsElement>("details.token-setting")!.open);
        expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("API token");
        if (look.mobile) expect(await page.locator("#sidebar").isVisible()).toBe(true);
      } finally {
        await authed.close();
      }
    });
  }

  it("groups conversations into Today, Yesterday, Previous 7 days, Previous 30 days and months", async () => {
    await createConversation("Grouped conversation");
    const headings = async (shiftDays: number) => {
      const context = await e2e.browser.newContext({ viewport: desktop.viewport });
      e2e.trackContext(context);
      // The page's clock moves on; the conversation stays where it was: it ages.
      await context.clock.setFixedTime(Date.now() + shiftDays * dayMs);
      const page = await context.newPage();
      page.on("pageerror", (error) => e2e.onPageError(error.message));
      await page.goto(e2e.baseUrl + "/");
      await item(page, "Grouped conversation").waitFor();
      const names = await sidebar(page).getByRole("heading", { level: 2 }).allTextContents();
      const section = await item(page, "Grouped conversation").evaluate(
        (el) => el.closest("section")?.querySelector("h2")?.textContent ?? null,
      );
      return { names, section };
    };
    expect(await headings(0)).toEqual({ names: ["Today"], section: "Today" });
    expect(await headings(1)).toEqual({ names: ["Yesterday"], section: "Yesterday" });
    expect(await headings(4)).toEqual({ names: ["Previous 7 days"], section: "Previous 7 days" });
    expect(await headings(20)).toEqual({ names: ["Previous 30 days"], section: "Previous 30 days" });
    // Further back: the month it was in, with its year when that is not the page's year.
    const monthOf = (shiftDays: number) => {
      const then = new Date();
      const month = then.toLocaleString("en-US", { month: "long" });
      return then.getFullYear() === new Date(Date.now() + shiftDays * dayMs).getFullYear() ? month : `${month} ${then.getFullYear()}`;
    };
    expect(await headings(40)).toEqual({ names: [monthOf(40)], section: monthOf(40) });
    expect(await headings(400)).toEqual({ names: [monthOf(400)], section: monthOf(400) });
  });

  it("keeps the chats in view while panels are open: the panels scroll in their own room", async () => {
    await createConversation("Still listed with the panels open");
    const page = await e2e.openApp();
    const listed = item(page, "Still listed with the panels open");
    await listed.waitFor();
    for (const name of ["Keyboard shortcuts", "Instructions", "Tools", "Your chats"]) await sidebar(page).locator("summary", { hasText: name }).click();
    // Before, the open panels took the whole height and squeezed the list to nothing.
    const list = await box(page.locator(".sidebar__list"));
    expect(list.height).toBeGreaterThanOrEqual(150);
    await listed.click();
    await conversationIdOf(page);
    // The last panel's content is reached by scrolling the panels, not cut off below the window.
    const bottom = page.locator(".sidebar__bottom");
    expect(await bottom.evaluate((el) => el.scrollHeight > el.clientHeight && getComputedStyle(el).overflowY === "auto")).toBe(true);
    const exportButton = page.getByRole("button", { name: "Export all chats" });
    await exportButton.scrollIntoViewIfNeeded();
    const button = await box(exportButton);
    expect(button.y + button.height).toBeLessThanOrEqual(desktop.viewport.height);
  });

  it("is usable at 390 px: no horizontal overflow, the sidebar a modal drawer behind a toggle", async () => {
    const page = await e2e.openApp(mobile);
    await send(page, "Explain server-sent events in a short list");
    await waitForAnswerState(page, "stop");
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    expect(await page.locator("#sidebar").isVisible()).toBe(false);

    await openDrawerIfNarrow(page, mobile);
    // The open drawer is modal: focus moves in and Tab cycles inside it, both ways.
    const focusInSidebar = () => page.evaluate(() => document.getElementById("sidebar")!.contains(document.activeElement));
    await page.waitForFunction(() => document.getElementById("sidebar")!.contains(document.activeElement));
    for (let i = 0; i < 25; i++) {
      await page.keyboard.press("Tab");
      expect(await focusInSidebar()).toBe(true);
    }
    for (let i = 0; i < 5; i++) {
      await page.keyboard.press("Shift+Tab");
      expect(await focusInSidebar()).toBe(true);
    }
    // Escape closes it and gives focus back to the toggle that opened it.
    await page.keyboard.press("Escape");
    await page.locator("#sidebar").waitFor({ state: "hidden" });
    expect(await page.evaluate(() => document.activeElement?.getAttribute("aria-label"))).toBe("Show conversations");
  });
});
