import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import {
  dark,
  desktop,
  lastAnswer,
  mobile,
  runBrowserTests,
  send,
  snap,
  useE2E,
  waitForAnswerState,
  type Look,
} from "./harness.js";

/**
 * The main states of the app in light, dark and on a phone, written to docs/screenshots/ (and the README's
 * docs/screenshot.png) when UPDATE_SCREENSHOTS=1: `UPDATE_SCREENSHOTS=1 pnpm --filter @streamchat/web test:e2e`.
 * They come from the real app on the demo model, so they stay current: at a chat's pace, so that the reasoning in
 * the pictures took the seconds it says.
 */
const e2e = useE2E({ tokenDelayMs: 30 });

const mobileDark: Look = { ...mobile, name: "mobile dark", colorScheme: "dark" };

async function noSidewaysScroll(page: Page, look: Look): Promise<void> {
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(look.viewport.width);
}

describe.skipIf(!runBrowserTests)("screenshots of the main states", () => {
  it("first run: suggestions on an empty app", async () => {
    const page = await e2e.openApp(desktop);
    await page.getByRole("list", { name: "Suggestions" }).waitFor();
    await snap(page, "empty-light", { docs: ["screenshots/empty-light.png"] });
    const phone = await e2e.openApp(mobile);
    await phone.getByRole("list", { name: "Suggestions" }).waitFor();
    await noSidewaysScroll(phone, mobile);
    await snap(phone, "empty-mobile", { docs: ["screenshots/empty-mobile.png"] });
  });

  it("a conversation with reasoning, a tool call and code", async () => {
    // A few conversations for the sidebar.
    for (const message of ["Explain server-sent events in a short list", "Compare WebSockets and server-sent events"]) {
      await fetch(`${e2e.baseUrl}/api/chat`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ message }),
      });
    }
    for (const [look, name, docs] of [
      [desktop, "chat-light", ["screenshots/chat-light.png", "screenshot.png"]],
      [dark, "chat-dark", ["screenshots/chat-dark.png"]],
      [mobile, "chat-mobile", ["screenshots/chat-mobile.png"]],
      [mobileDark, "chat-mobile-dark", ["screenshots/chat-mobile-dark.png"]],
    ] as const) {
      // Each look follows its own answers live, so the reasoning shows how long it took.
      const page = await e2e.openApp(look);
      await page.getByRole("button", { name: "Think", exact: true }).click();
      await send(page, "What time is it in Tokyo?");
      await waitForAnswerState(page, "stop");
      await page.getByRole("button", { name: "Think", exact: true }).click();
      await send(page, "Write a TypeScript function that reverses a string");
      await waitForAnswerState(page, "stop");
      await lastAnswer(page).getByRole("button", { name: "Copy", exact: true }).waitFor();
      await noSidewaysScroll(page, look);
      await snap(page, name, { docs: [...docs] });
      await page.evaluate(() => localStorage.clear());
    }
  });

  it("reasoning streaming in view, and the phone's conversation drawer", async () => {
    for (const look of [desktop, dark]) {
      const page = await e2e.openApp(look);
      const stream = e2e.sim.control({ lastUserIncludes: "Which is better for streaming tokens" });
      await send(page, `Which is better for streaming tokens to a browser, SSE or WebSockets? (${look.name})`);
      await stream.connected;
      for (const thought of [
        "The user asks about pushing LLM tokens to a browser. ",
        "Tokens only flow one way, server to client, so SSE fits: it is plain HTTP, ",
        "and EventSource reconnects by itself with Last-Event-ID. ",
        "WebSockets are two-way, which a chat does not need for the answer itself. ",
        "I'll recommend SSE and say when WebSockets make sense.",
      ]) {
        await stream.push({ thinking: thought });
      }
      await page.waitForFunction(() => document.querySelector('[data-testid="reasoning-text"]')?.textContent?.includes("make sense."));
      await snap(page, `thinking-${look.name}`, { docs: [`screenshots/thinking-${look.colorScheme}.png`] });
      await stream.push({ content: "**SSE.** " });
      await stream.push({ done: true });
      await waitForAnswerState(page, "stop");
    }

    const phone = await e2e.openApp(mobile);
    await phone.getByRole("button", { name: "Show conversations" }).click();
    await phone.waitForFunction(() => document.getElementById("sidebar")!.getBoundingClientRect().left >= 0);
    await phone.waitForTimeout(250); // the backdrop's fade, for the picture only
    await snap(phone, "drawer-mobile", { docs: ["screenshots/drawer-mobile.png"] });
  });

  it("math in an answer, set with KaTeX", async () => {
    for (const look of [desktop, mobileDark]) {
      const page = await e2e.openApp(look);
      await send(page, "Write a long answer about sampling temperature");
      await waitForAnswerState(page, "stop");
      await lastAnswer(page).locator(".katex-display").scrollIntoViewIfNeeded();
      await noSidewaysScroll(page, look);
      await snap(page, `math-${look.name.replace(/ /g, "-")}`, { docs: [`screenshots/math-${look === desktop ? "light" : "mobile-dark"}.png`] });
    }
  });

  it("text files on a question, and a pinned chat in the sidebar", async () => {
    const csv = "region,quarter,revenue\nnorth,Q1,120\nsouth,Q1,95\neast,Q1,143\n";
    const notes = "# Release notes\n\n## Fixes\n- streaming\n\n## New\n- text files\n";
    const page = await e2e.openApp(desktop);
    await send(page, "What time is it in Tokyo?");
    await waitForAnswerState(page, "stop");
    const pinned = page.locator('[data-testid="conversation-item"]').first();
    await pinned.hover();
    await pinned.getByRole("button", { name: /^Pin / }).click();
    await page.getByRole("button", { name: "New chat" }).first().click();
    await page.getByTestId("attach-input").setInputFiles([
      { name: "sales-2026.csv", mimeType: "text/csv", buffer: Buffer.from(csv) },
      { name: "release-notes.md", mimeType: "text/markdown", buffer: Buffer.from(notes) },
    ]);
    await send(page, "Which region sold most?");
    await waitForAnswerState(page, "stop");
    await page.locator('section:has(h2:text-is("Pinned"))').waitFor();
    await noSidewaysScroll(page, desktop);
    await snap(page, "files-light", { docs: ["screenshots/files-light.png"] });
  });

  it("the model menu with capabilities in words", async () => {
    const page = await e2e.openApp(desktop);
    await page.getByRole("button", { name: /^Model:/ }).click();
    await page.getByRole("listbox", { name: "Models" }).waitFor();
    await snap(page, "model-menu-light", { docs: ["screenshots/model-menu-light.png"] });
  });
});
