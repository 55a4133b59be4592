import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { runBrowserTests, send, snap, useE2E, waitForAnswerState } from "./harness.js";

const e2e = useE2E();

/** The options of the last request the model was sent (Ollama's wire: temperature, top_p, seed…); undefined when none. */
const lastOptions = () => (e2e.sim.chatRequests().at(-1)?.body as { options?: Record<string, unknown> }).options;

const panel = (page: Page) => page.getByTestId("sampling-panel");
const panelField = (page: Page, name: "Temperature" | "Top P" | "Seed") => panel(page).getByLabel(name, { exact: true });
const dialog = (page: Page) => page.getByRole("dialog", { name: "Model settings" });
const dialogField = (page: Page, name: "Temperature" | "Top P" | "Seed") => dialog(page).getByLabel(name, { exact: true });
const stoppedAnswers = (page: Page, count: number) =>
  page.waitForFunction((n) => document.querySelectorAll('[data-testid="assistant-message"][data-state="stop"]').length === n, count);

/** The user's settings as the API keeps them, over plain tRPC HTTP. */
async function storedSettings(): Promise<{ sampling: Record<string, number | null> }> {
  const response = await fetch(`${e2e.baseUrl}/trpc/settings.get`);
  expect(response.status).toBe(200);
  return ((await response.json()) as { result: { data: { sampling: Record<string, number | null> } } }).result.data;
}

/** Sets the user's temperature in the sidebar's Model settings ("" gives it back to the model), and waits until it is saved. */
async function setDefaultTemperature(page: Page, value: string): Promise<void> {
  if (!(await panel(page).evaluate((el: HTMLDetailsElement) => el.open))) await panel(page).locator("summary").click();
  await expect.poll(() => panelField(page, "Temperature").isEnabled()).toBe(true);
  await panelField(page, "Temperature").fill(value);
  await panel(page).getByRole("button", { name: "Save" }).click();
  await panel(page).getByRole("button", { name: "Saved" }).waitFor();
}

async function openChatSettings(page: Page): Promise<void> {
  await page.getByRole("button", { name: "Conversation options" }).click();
  await page.getByRole("menuitem", { name: "Model settings…" }).click();
  await dialog(page).waitFor();
  await expect.poll(() => dialogField(page, "Temperature").isEnabled()).toBe(true);
}

describe.skipIf(!runBrowserTests)("the user's own model settings", () => {
  it("are set in the sidebar, reach another tab, sample every chat that sets none, show in a chat's dialog, and give way to the chat's own", async () => {
    const [page, other] = await e2e.twoTabs();
    // Another tab with its panel open: the feed's settings-changed brings it what this one saves.
    await panel(other).locator("summary").click();
    await expect.poll(() => panelField(other, "Temperature").isEnabled()).toBe(true);
    await panel(page).locator("summary").click();
    await expect.poll(() => panelField(page, "Temperature").isEnabled()).toBe(true);
    // Empty: the model's own (the simulator's demo model says 0.7), as in a chat's dialog.
    await expect.poll(() => panelField(page, "Temperature").getAttribute("placeholder")).toBe("Model default: 0.7");
    expect(await panelField(page, "Seed").getAttribute("placeholder")).toBe("Model default");
    await setDefaultTemperature(page, "0.3");
    // The panel from its top (the sidebar's panels scroll in their own room).
    await panel(page).evaluate((el) => el.scrollIntoView({ block: "start" }));
    await snap(page, "sampling-panel");
    expect((await storedSettings()).sampling).toEqual({ temperature: 0.3, topP: null, seed: null });
    await expect.poll(() => panelField(other, "Temperature").inputValue()).toBe("0.3");

    // A new chat sets none: its answer is sampled with the user's.
    await send(page, "Tell me about the tides");
    await waitForAnswerState(page, "stop");
    expect(lastOptions()).toEqual({ temperature: 0.3 });

    // The chat's dialog says what its empty fields give, and its reset is named for it.
    await openChatSettings(page);
    expect(await dialogField(page, "Temperature").inputValue()).toBe("");
    await expect.poll(() => dialogField(page, "Temperature").getAttribute("placeholder")).toBe("Your default: 0.3");
    expect(await dialogField(page, "Top P").getAttribute("placeholder")).toBe("Model default");
    expect(await dialog(page).getByRole("button", { name: "Use defaults" }).count()).toBe(1);
    await snap(page, "chat-sampling-dialog-your-default");

    // The chat's own temperature wins.
    await dialogField(page, "Temperature").fill("0.9");
    await dialog(page).getByRole("button", { name: "Save" }).click();
    await dialog(page).getByRole("button", { name: "Saved" }).waitFor();
    await page.keyboard.press("Escape");
    await dialog(page).waitFor({ state: "hidden" });
    await send(page, "And the moon?");
    await stoppedAnswers(page, 2);
    expect(lastOptions()).toEqual({ temperature: 0.9 });

    // Given back to the model: nothing of the user's left for the next test.
    await setDefaultTemperature(page, "");
    expect(await panelField(page, "Temperature").getAttribute("placeholder")).toBe("Model default: 0.7");
    expect((await storedSettings()).sampling).toEqual({ temperature: null, topP: null, seed: null });
    await expect.poll(() => panelField(other, "Temperature").inputValue()).toBe("");
  });
});
