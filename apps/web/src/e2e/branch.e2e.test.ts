import type { Page } from "playwright-core";
import { beforeAll, describe, expect, it } from "vitest";
import { answers, conversationIdOf, runBrowserTests, send, useE2E, waitForAnswerState } from "./harness.js";

const e2e = useE2E({ tokenDelayMs: 5 });
let answered = 0;

beforeAll(() => {
  if (!runBrowserTests) return;
  // Every answer differs and says how many questions the model was sent: what a branch's history is shows in it.
  e2e.sim.addScenario({
    name: "numbered answers with the history's length",
    match: { lastUserIncludes: "#" },
    respond: (req) => {
      const questions = req.messages.filter((m) => m["role"] === "user");
      return [{ content: `Answer ${++answered} to ${String(questions.at(-1)?.["content"])} after ${questions.length - 1} earlier` }, { done: true }];
    },
  });
});

const userTexts = (page: Page) => page.locator('[data-testid="user-message"] .message__bubble').allTextContents();
const answerTexts = (page: Page) => page.locator('[data-testid="assistant-message"] [data-testid="answer-text"]').allTextContents();

describe.skipIf(!runBrowserTests)("Branch in new chat", () => {
  it("opens a new chat holding the conversation up to that answer, which goes on by itself; the original stays", async () => {
    const page = await e2e.openConversation("Tree #1");
    const original = await conversationIdOf(page);
    await send(page, "Tree #2");
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="assistant-message"][data-state="stop"]').length === 2);

    const first = answers(page).first();
    await first.hover();
    await first.getByRole("button", { name: "Branch in new chat" }).click();
    await page.waitForFunction((id) => /^#\/c\/.+/.test(location.hash) && location.hash !== `#/c/${encodeURIComponent(id)}`, original);
    const branch = await conversationIdOf(page);

    await page.waitForFunction(() => document.querySelector(".chat__title")?.textContent?.startsWith("Branch · "));
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="assistant-message"]').length === 1);
    expect(await userTexts(page)).toEqual(["Tree #1"]);
    expect(await answerTexts(page)).toEqual([expect.stringMatching(/^Answer \d+ to Tree #1 after 0 earlier$/)]);
    // Listed at the top of the sidebar, the original under it.
    const listed = page.locator('[data-testid="conversation-item"]');
    await page.waitForFunction((id) => document.querySelector('[data-testid="conversation-item"]')?.getAttribute("data-conversation-id") === id, branch);
    expect(await listed.evaluateAll((items) => items.map((item) => item.getAttribute("data-conversation-id")))).toContain(original);

    // The branch goes on from its one answer: the model is sent one earlier question, not the original's two.
    await send(page, "Tree #3");
    await waitForAnswerState(page, "stop");
    expect((await answerTexts(page)).at(-1)).toMatch(/^Answer \d+ to Tree #3 after 1 earlier$/);
    const kept = await e2e.getConversation(original);
    expect(kept.messages.map((m) => m.content)).toEqual(["Tree #1", expect.stringMatching(/^Answer/), "Tree #2", expect.stringMatching(/^Answer/)]);

    // Where the branch leaves its original, a quiet line says so: after the copied answer, before the branch's own.
    const line = page.getByTestId("branch-origin");
    await line.waitFor();
    const order = await page.evaluate(() =>
      [...document.querySelectorAll('[data-testid="messages"] > *')].map((el) =>
        el.matches('[data-testid="branch-origin"]') ? "line" : el.matches('[data-testid="user-message"]') ? "question" : el.matches('[data-testid="assistant-message"]') ? "answer" : "other",
      ),
    );
    expect(order.filter((kind) => kind !== "other")).toEqual(["question", "answer", "line", "question", "answer"]);
    const title = (await e2e.getConversation(original)).title;
    expect(await line.textContent()).toBe(`Branched from ${title}`);
    // Its title opens the original, at the answer the branch was made at.
    await line.getByRole("button", { name: title }).click();
    await page.waitForFunction((id) => location.hash === `#/c/${encodeURIComponent(id)}`, original);
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="assistant-message"]').length === 2);
    expect(await userTexts(page)).toEqual(["Tree #1", "Tree #2"]);
    expect(await page.getByTestId("branch-origin").count()).toBe(0);
  });

  it("offers it from the keyboard on a finished answer, and not while the answer streams", async () => {
    e2e.sim.addScenario({
      name: "slow answer",
      match: { lastUserIncludes: "slowly" },
      respond: () => [...Array.from({ length: 40 }, (_, i) => ({ content: `w${i} `, delayMs: 25 })), { done: true }],
    });
    const page = await e2e.openApp();
    await send(page, "Answer slowly please");
    await page.waitForFunction(() => document.querySelector('[data-testid="assistant-message"]')?.getAttribute("data-state") === "streaming");
    expect(await answers(page).first().getByRole("button", { name: "Branch in new chat" }).count()).toBe(0);
    await waitForAnswerState(page, "stop");
    const original = await conversationIdOf(page);
    const button = answers(page).first().getByRole("button", { name: "Branch in new chat" });
    // Reached from the keyboard (Tab from the answer's Regenerate), as a keyboard user gets there.
    await answers(page).first().getByRole("button", { name: "Regenerate" }).focus();
    await page.keyboard.press("Tab");
    expect(await button.evaluate((el) => el === document.activeElement)).toBe(true);
    await page.keyboard.press("Enter");
    await page.waitForFunction((id) => location.hash !== `#/c/${encodeURIComponent(id)}`, original);
    await page.waitForFunction(() => document.querySelector(".chat__title")?.textContent?.startsWith("Branch · "));
    // The button went with the old pane: the focus is in the new chat's message box, to go on there.
    await page.waitForFunction(() => document.activeElement?.id === "composer-input");
  });
});
