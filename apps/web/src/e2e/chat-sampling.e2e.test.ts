import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { box as boxOf, conversationIdOf, dark, desktop, mobile, runBrowserTests, send, snap, useE2E, waitForAnswerState } from "./harness.js";

const e2e = useE2E();

/** The options of the last request the model was sent (Ollama's wire: temperature, top_p, seed…); undefined when none. */
const lastOptions = () => (e2e.sim.chatRequests().at(-1)?.body as { options?: Record<string, unknown> }).options;

const chip = (page: Page) => page.getByTestId("chat-sampling-chip");
/** A new chat's header offer, while its sampling is the model's. */
const offer = (page: Page) => page.getByTestId("chat-sampling-button");
const dialog = (page: Page) => page.getByRole("dialog", { name: "Model settings" });
const field = (page: Page, name: "Temperature" | "Top P" | "Seed") => dialog(page).getByLabel(name, { exact: true });
const focusedName = (page: Page) =>
  page.evaluate(() => document.activeElement?.getAttribute("aria-label") ?? document.activeElement?.id ?? document.activeElement?.tagName);
const stoppedAnswers = (page: Page, count: number) =>
  page.waitForFunction((n) => document.querySelectorAll('[data-testid="assistant-message"][data-state="stop"]').length === n, count);

async function openFromMenu(page: Page): Promise<void> {
  await page.getByRole("button", { name: "Conversation options" }).click();
  await page.getByRole("menuitem", { name: "Model settings…" }).click();
  await dialog(page).waitFor();
  await expect.poll(() => field(page, "Temperature").isEnabled()).toBe(true);
}

async function save(page: Page): Promise<void> {
  await dialog(page).getByRole("button", { name: "Save" }).click();
  await dialog(page).getByRole("button", { name: "Saved" }).waitFor();
}

describe.skipIf(!runBrowserTests)("a chat's model settings", () => {
  it("are set from the chat's menu, go to the model with its next answer, reach another tab, and go back to the model's defaults", async () => {
    const [page, other] = await e2e.twoTabs();
    await send(page, "Tell me about the tides");
    await waitForAnswerState(page, "stop");
    const conversationId = await conversationIdOf(page);
    // Left to the model: nothing sent, no marker.
    expect(lastOptions()).toBeUndefined();
    expect(await chip(page).count()).toBe(0);
    await other.locator('[data-testid="conversation-item"] button', { hasText: "Tell me about the tides" }).click();
    await other.waitForFunction((id) => location.hash === `#/c/${encodeURIComponent(id)}`, conversationId);

    await openFromMenu(page);
    // Empty fields, the model's defaults, with the value where its server says (the simulator's Modelfile sets a
    // temperature only); the first has the focus, nothing to save yet.
    for (const name of ["Temperature", "Top P", "Seed"] as const) expect(await field(page, name).inputValue()).toBe("");
    await page.waitForFunction(() => document.querySelector<HTMLInputElement>('[data-testid="chat-sampling-dialog"] input[type="number"]')?.placeholder === "Model default: 0.7");
    expect([await field(page, "Top P").getAttribute("placeholder"), await field(page, "Seed").getAttribute("placeholder")]).toEqual(["Model default", "Model default"]);
    expect(await focusedName(page)).toBe(await field(page, "Temperature").getAttribute("id"));
    expect(await dialog(page).getByRole("button", { name: "Save" }).isDisabled()).toBe(true);

    // Out of range: said in words, and not saved.
    await field(page, "Temperature").fill("3");
    await dialog(page).getByText("Temperature is a number from 0 to 2.").waitFor();
    expect(await dialog(page).getByRole("button", { name: "Save" }).isDisabled()).toBe(true);
    await field(page, "Temperature").fill("0.2");
    await field(page, "Seed").fill("42");
    expect(await dialog(page).getByText("Temperature is a number from 0 to 2.").count()).toBe(0);
    await snap(page, "chat-sampling-dialog");
    await save(page);
    // Escape closes it, and the focus goes back to the menu's button.
    await page.keyboard.press("Escape");
    await dialog(page).waitFor({ state: "hidden" });
    expect(await focusedName(page)).toBe("Conversation options");
    // The marker beside the title names them.
    await chip(page).waitFor();
    expect(await chip(page).getAttribute("aria-label")).toBe("Model settings: Temperature 0.2 · Seed 42");
    expect(await chip(page).textContent()).toBe("Temperature 0.2 · Seed 42");
    await snap(page, "chat-sampling-chip");
    // The other tab learns it from the feed, without a reload.
    await chip(other).waitFor();
    expect(await chip(other).getAttribute("aria-label")).toBe("Model settings: Temperature 0.2 · Seed 42");

    // The next answer is sampled so (top P left to the model: not sent).
    await send(page, "And the moon?");
    await stoppedAnswers(page, 2);
    expect(lastOptions()).toEqual({ temperature: 0.2, seed: 42 });

    // After a reload the marker opens them as saved.
    await page.reload();
    await chip(page).waitFor();
    await chip(page).click();
    await dialog(page).waitFor();
    await expect.poll(() => field(page, "Temperature").inputValue()).toBe("0.2");
    expect(await field(page, "Top P").inputValue()).toBe("");
    expect(await field(page, "Seed").inputValue()).toBe("42");

    // Back to the model's defaults: the marker goes, here and in the other tab, and the focus to the menu's button.
    await dialog(page).getByRole("button", { name: "Use model defaults" }).click();
    for (const name of ["Temperature", "Top P", "Seed"] as const) expect(await field(page, name).inputValue()).toBe("");
    await save(page);
    await chip(page).waitFor({ state: "detached" });
    await page.keyboard.press("Escape");
    await dialog(page).waitFor({ state: "hidden" });
    // (The browser gives the focus back to the marker, gone, so to the page; the close event, a moment later, moves it.)
    await expect.poll(() => focusedName(page)).toBe("Conversation options");
    await chip(other).waitFor({ state: "detached" });
    await send(page, "One more about the sea");
    await stoppedAnswers(page, 3);
    expect(lastOptions()).toBeUndefined();
  });

  it("come along to a branch of the chat, as its hint says", async () => {
    const page = await e2e.openConversation("Plan a trip to Lisbon");
    const original = await conversationIdOf(page);
    await openFromMenu(page);
    await field(page, "Top P").fill("0.5");
    await save(page);
    await page.keyboard.press("Escape");
    await dialog(page).waitFor({ state: "hidden" });
    const answer = page.locator('[data-testid="assistant-message"]').first();
    await answer.hover();
    await answer.getByRole("button", { name: "Branch in new chat" }).click();
    await page.waitForFunction((id) => /^#\/c\/.+/.test(location.hash) && location.hash !== `#/c/${encodeURIComponent(id)}`, original);
    await chip(page).waitFor();
    expect(await chip(page).getAttribute("aria-label")).toBe("Model settings: Top P 0.5");
    await send(page, "What about museums?");
    await stoppedAnswers(page, 2);
    expect(lastOptions()).toEqual({ top_p: 0.5 });
  });

  it("keep an edit not saved over a click beside the dialog, even text that is not a number yet; Cancel throws it away", async () => {
    const page = await e2e.openConversation("A chat to tune");
    await openFromMenu(page);
    // Text the browser cannot read as a number (its value is "" then, as if empty): said so, not saved as the default.
    await field(page, "Seed").pressSequentially("1e");
    await dialog(page).getByText("Seed is a whole number from 0 to 2,147,483,647.").waitFor();
    expect(await dialog(page).getByRole("button", { name: "Save" }).isDisabled()).toBe(true);
    await page.mouse.click(5, 5);
    expect(await dialog(page).isVisible()).toBe(true);
    expect(await field(page, "Seed").evaluate((el: HTMLInputElement) => el.validity.badInput)).toBe(true);
    // Use model defaults empties it too.
    await dialog(page).getByRole("button", { name: "Use model defaults" }).click();
    await dialog(page).getByText("Seed is a whole number from 0 to 2,147,483,647.").waitFor({ state: "detached" });
    expect(await field(page, "Seed").evaluate((el: HTMLInputElement) => el.validity.badInput)).toBe(false);
    expect(await dialog(page).getByRole("button", { name: "Close" }).count()).toBe(1);

    await field(page, "Top P").fill("0.9");
    // A click on the backdrop (the page around the dialog).
    await page.mouse.click(5, 5);
    expect(await dialog(page).isVisible()).toBe(true);
    expect(await field(page, "Top P").inputValue()).toBe("0.9");
    await dialog(page).getByRole("button", { name: "Cancel" }).click();
    await dialog(page).waitFor({ state: "hidden" });
    expect(await chip(page).count()).toBe(0);
  });

  it("fit the phone beside the instructions marker: both markers and the menu within the header, the dialog within the screen", async () => {
    const page = await e2e.openConversation("A question on the phone with a long title that has to give way", mobile);
    await page.getByRole("button", { name: "Conversation options" }).click();
    await page.getByRole("menuitem", { name: "Chat instructions…" }).click();
    const instructions = page.getByRole("dialog", { name: "Chat instructions" });
    await expect.poll(() => instructions.getByLabel("Instructions for this chat").isEnabled()).toBe(true);
    await instructions.getByLabel("Instructions for this chat").fill("Short answers, please.");
    await instructions.getByRole("button", { name: "Save" }).click();
    await instructions.getByRole("button", { name: "Saved" }).waitFor();
    await page.keyboard.press("Escape");
    await instructions.waitFor({ state: "hidden" });

    await openFromMenu(page);
    await field(page, "Temperature").fill("0.75");
    await field(page, "Top P").fill("0.95");
    await field(page, "Seed").fill("2147483647");
    await save(page);
    for (const control of [field(page, "Seed"), dialog(page).getByRole("button", { name: "Use model defaults" }), dialog(page).getByRole("button", { name: "Saved" })]) {
      const rect = await boxOf(control);
      expect(rect.x).toBeGreaterThanOrEqual(0);
      expect(rect.x + rect.width).toBeLessThanOrEqual(mobile.viewport.width);
    }
    await snap(page, "chat-sampling-dialog-mobile");
    await page.keyboard.press("Escape");
    await chip(page).waitFor();
    const header = await boxOf(page.locator(".chat__header"));
    const title = await boxOf(page.locator(".chat__title"));
    const first = await boxOf(page.getByTestId("chat-instructions-chip"));
    const second = await boxOf(chip(page));
    const menu = await boxOf(page.getByRole("button", { name: "Conversation options" }));
    expect(title.width).toBeGreaterThan(40);
    expect(first.x).toBeGreaterThanOrEqual(title.x + title.width);
    expect(second.x).toBeGreaterThanOrEqual(first.x + first.width);
    expect(menu.x).toBeGreaterThanOrEqual(second.x + second.width);
    expect(menu.x + menu.width).toBeLessThanOrEqual(mobile.viewport.width);
    for (const marker of [first, second]) {
      expect(marker.y).toBeGreaterThanOrEqual(header.y);
      expect(marker.y + marker.height).toBeLessThanOrEqual(header.y + header.height);
    }
    // An icon alone on a phone: its name says the rest.
    expect(await chip(page).getAttribute("aria-label")).toBe("Model settings: Temperature 0.75 · Top P 0.95 · Seed 2147483647");
    await snap(page, "chat-sampling-chip-mobile");
  });

  it("are set for a new chat from its header before the first message, kept over a reload, and go with that message", async () => {
    const page = await e2e.openApp(desktop);
    // No conversation yet, so no menu: the header offers them itself, quietly, beside the instructions.
    await offer(page).waitFor();
    expect(await offer(page).getAttribute("aria-label")).toBe("Model settings");
    expect(await chip(page).count()).toBe(0);
    await snap(page, "chat-sampling-new-chat");
    await offer(page).click();
    await dialog(page).waitFor();
    await dialog(page).getByText("They are saved with the chat when you send its first message.", { exact: false }).waitFor();
    // Once the user's defaults are in (what its empty fields give), the first field has the focus.
    await expect.poll(async () => (await focusedName(page)) === (await field(page, "Temperature").getAttribute("id"))).toBe(true);
    await field(page, "Temperature").fill("0.3");
    await save(page);
    await page.keyboard.press("Escape");
    await dialog(page).waitFor({ state: "hidden" });
    // The marker in its place (the same button, which has the focus back), named as a conversation's is.
    expect(await chip(page).getAttribute("aria-label")).toBe("Model settings: Temperature 0.3");
    expect(await chip(page).textContent()).toBe("Temperature 0.3");
    expect(await focusedName(page)).toBe("Model settings: Temperature 0.3");
    await snap(page, "chat-sampling-new-chat-set");

    // A reload keeps them for this new chat.
    await page.reload();
    await chip(page).waitFor();
    await chip(page).click();
    await dialog(page).waitFor();
    expect(await field(page, "Temperature").inputValue()).toBe("0.3");
    await dialog(page).getByRole("button", { name: "Close" }).click();
    await dialog(page).waitFor({ state: "hidden" });

    const before = e2e.sim.chatRequests().length;
    await send(page, "Tell me about the sea.");
    await waitForAnswerState(page, "stop");
    const first = await conversationIdOf(page);
    // The new chat's first request to the model is sampled so (top P and seed left to the model: not sent).
    expect((e2e.sim.chatRequests()[before]?.body as { options?: Record<string, unknown> }).options).toEqual({ temperature: 0.3 });
    // The conversation's now: its marker, and after a reload the conversation's dialog (from the server).
    expect(await chip(page).getAttribute("aria-label")).toBe("Model settings: Temperature 0.3");
    await page.reload();
    await chip(page).click();
    await dialog(page).waitFor();
    await expect.poll(() => field(page, "Temperature").inputValue()).toBe("0.3");
    await dialog(page).getByText("Branches of this chat keep them.", { exact: false }).waitFor();
    await page.keyboard.press("Escape");
    await dialog(page).waitFor({ state: "hidden" });

    // The next new chat starts without them, and so does its first answer.
    await page.getByRole("button", { name: "New chat" }).first().click();
    await page.waitForFunction(() => !/^#\/c\//.test(location.hash));
    await offer(page).waitFor();
    expect(await chip(page).count()).toBe(0);
    const next = e2e.sim.chatRequests().length;
    await send(page, "Something else entirely");
    await waitForAnswerState(page, "stop");
    expect(await conversationIdOf(page)).not.toBe(first);
    expect((e2e.sim.chatRequests()[next]?.body as { options?: Record<string, unknown> }).options).toBeUndefined();
    expect(await chip(page).count()).toBe(0);
  });

  it("fit a new chat's header on a phone beside its Instructions button, quiet before they are set and the marker after", async () => {
    const page = await e2e.openApp(mobile);
    await offer(page).waitFor();
    const header = await boxOf(page.locator(".chat__header"));
    const title = await boxOf(page.locator(".chat__title"));
    const instructions = await boxOf(page.getByTestId("chat-instructions-button"));
    const button = await boxOf(offer(page));
    const newChat = await boxOf(page.locator(".header-new-chat"));
    expect(title.width).toBeGreaterThan(40);
    expect(instructions.x).toBeGreaterThanOrEqual(title.x + title.width);
    expect(button.x).toBeGreaterThanOrEqual(instructions.x + instructions.width);
    expect(newChat.x).toBeGreaterThanOrEqual(button.x + button.width);
    for (const b of [instructions, button]) {
      expect(b.y).toBeGreaterThanOrEqual(header.y);
      expect(b.y + b.height).toBeLessThanOrEqual(header.y + header.height);
    }
    await snap(page, "chat-sampling-new-chat-mobile");
    await offer(page).click();
    await dialog(page).waitFor();
    await field(page, "Seed").fill("42");
    await save(page);
    await page.keyboard.press("Escape");
    await chip(page).waitFor();
    // An icon alone on a phone: its name says the rest.
    expect(await chip(page).getAttribute("aria-label")).toBe("Model settings: Seed 42");
    const marker = await boxOf(chip(page));
    expect(marker.x + marker.width).toBeLessThanOrEqual(newChat.x);
    await snap(page, "chat-sampling-new-chat-set-mobile");
  });

  it("shows the dialog and both markers in the dark theme", async () => {
    const page = await e2e.openConversation("A dark chat", dark);
    await page.getByRole("button", { name: "Conversation options" }).click();
    await page.getByRole("menuitem", { name: "Chat instructions…" }).click();
    const instructions = page.getByRole("dialog", { name: "Chat instructions" });
    await expect.poll(() => instructions.getByLabel("Instructions for this chat").isEnabled()).toBe(true);
    await instructions.getByLabel("Instructions for this chat").fill("Keep it short.");
    await instructions.getByRole("button", { name: "Save" }).click();
    await instructions.getByRole("button", { name: "Saved" }).waitFor();
    await page.keyboard.press("Escape");

    await openFromMenu(page);
    await field(page, "Temperature").fill("0.4");
    await field(page, "Seed").fill("-1");
    await dialog(page).getByText("Seed is a whole number from 0 to 2,147,483,647.").waitFor();
    await snap(page, "chat-sampling-dialog-dark");
    await field(page, "Seed").fill("7");
    await save(page);
    await page.keyboard.press("Escape");
    await chip(page).waitFor();
    await snap(page, "chat-sampling-chip-dark");
  });
});
