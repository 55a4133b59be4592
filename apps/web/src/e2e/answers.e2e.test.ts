import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { Locator, Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import {
  answers,
  answerText,
  box,
  conversationIdOf,
  desktop,
  lastAnswer,
  looks,
  mobile,
  normalize,
  runBrowserTests,
  send,
  useE2E,
  waitForAnswerState,
  waitForAnswerText,
} from "./harness.js";

const e2e = useE2E();

const onePixelPng =
  "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";

/** The toggle of a tool item: the button that holds the tool's name. */
const toolToggle = (answer: Locator, name: string) => answer.getByRole("button").filter({ hasText: name });

/** Whether any element in `scope` that is visible shows this text. */
function visibleText(scope: Locator, text: string): Promise<boolean> {
  return scope.evaluate((root, t) => {
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      if (!node.textContent?.includes(t)) continue;
      const el = node.parentElement!;
      if (el.checkVisibility() && el.getBoundingClientRect().height > 0) return true;
    }
    return false;
  }, text);
}

const reasoningToggles = (answer: Locator) => answer.getByRole("button", { name: /^(Thinking|Thought)/ });

async function thinkOn(page: Page): Promise<void> {
  const toggle = page.getByRole("button", { name: "Think", exact: true });
  if ((await toggle.getAttribute("aria-pressed")) !== "true") await toggle.click();
  expect(await toggle.getAttribute("aria-pressed")).toBe("true");
}

describe.skipIf(!runBrowserTests)("answers: tools, reasoning, actions, markdown", () => {
  for (const look of looks) {
    it(`shows a tool call as one compact line that expands to formatted arguments and result (${look.name})`, async () => {
      const page = await e2e.openApp(look);
      await send(page, "What time is it in Tokyo?");
      await waitForAnswerState(page, "stop");
      const answer = lastAnswer(page);
      const toggle = toolToggle(answer, "current_time");
      expect(await toggle.getAttribute("aria-expanded")).toBe("false");
      const line = normalize((await toggle.textContent()) ?? "");
      expect(line).toMatch(/^Used current_time Asia\/Tokyo · (<1|\d+(\.\d+)?) (ms|s)$/);
      // One line, not a wall of JSON: no braces, no result fields on screen.
      expect((await box(toggle)).height).toBeLessThan(36);
      expect(await visibleText(answer, '"iso"')).toBe(false);
      expect(await visibleText(answer, "{")).toBe(false);
      expect(await answerText(page)).toContain("Tokyo");

      await toggle.click();
      expect(await toggle.getAttribute("aria-expanded")).toBe("true");
      const body = page.locator(`#${(await toggle.getAttribute("aria-controls"))!.replace(/:/g, "\\:")}`);
      const text = (await body.textContent()) ?? "";
      expect(text).toContain("Arguments");
      expect(text).toContain("Result");
      // Pretty-printed JSON: one field per line, indented.
      const result = await body.getByText('"iso"').textContent();
      expect(result).toMatch(/\{\n {2}"timeZone": "Asia\/Tokyo",\n {2}"iso": /);
      // Nothing sticks out sideways at this size.
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(look.viewport.width);

      // After a reload the item still shows how long the tool took: conversations.get carries it.
      await page.reload();
      await toggle.waitFor();
      expect(normalize((await toggle.textContent()) ?? "")).toMatch(/^Used current_time Asia\/Tokyo · (<1|\d+(\.\d+)?) (ms|s)$/);
    });
  }

  it("shows a failed tool call as failed, in words, with the error on expanding", async () => {
    const page = await e2e.openApp();
    const round1 = e2e.sim.control({ lastUserIncludes: "broken-math" });
    const round2 = e2e.sim.control({ lastUserIncludes: "broken-math" });
    await send(page, "Work this out (broken-math)");
    await round1.connected;
    await round1.push({ toolCalls: [{ name: "calculator", arguments: { expression: "1/" } }] });
    await round1.push({ done: true });
    await round2.connected;
    await round2.push({ content: "The calculator could not parse that." });
    await round2.push({ done: true });
    await waitForAnswerState(page, "stop");

    const toggle = toolToggle(lastAnswer(page), "calculator");
    const line = normalize((await toggle.textContent()) ?? "");
    // The first calculator call starts its worker thread: on a loaded machine that alone can take over a second.
    expect(line).toMatch(/^Failed: calculator 1\/ — Cannot evaluate "1\/".* · \d+(?:\.\d+)? m?s$/);
    const colour = await toggle.evaluate((el) => {
      const label = [...el.querySelectorAll("span")].find((s) => s.textContent?.startsWith("Failed"))!;
      return getComputedStyle(label).color;
    });
    expect(colour).not.toBe(await toggle.evaluate((el) => getComputedStyle(el).color)); // marked, not like a success
    await toggle.click();
    const body = page.locator(`#${(await toggle.getAttribute("aria-controls"))!.replace(/:/g, "\\:")}`);
    expect(await body.textContent()).toContain("Error");
  });

  it("streams reasoning visibly while it arrives, with no second spinner, then folds it to 'Thought for N s'", async () => {
    for (const look of looks) {
      const page = await e2e.openApp(look);
      const stream = e2e.sim.control({ lastUserIncludes: "watch-me-think" });
      await send(page, `Think about this (watch-me-think ${look.name})`);
      await stream.connected;
      await stream.push({ thinking: "The user wants a greeting. " });
      await stream.push({ thinking: "A short and friendly one." });
      const answer = lastAnswer(page);
      const toggle = reasoningToggles(answer);
      await page.waitForFunction(() => document.querySelector('[data-testid="reasoning-text"]')?.textContent?.endsWith("friendly one."));
      expect(normalize((await toggle.textContent()) ?? "")).toBe("Thinking…");
      expect(await toggle.getAttribute("aria-expanded")).toBe("true");
      expect(await visibleText(answer, "A short and friendly one.")).toBe(true);
      // One progress indicator at a time: the streaming thoughts, not also "Processing your question…".
      expect(await answer.locator('[data-testid="status-line"]').count()).toBe(0);
      expect(await answerText(page)).toBe("");

      await stream.push({ content: "Hello!" });
      await waitForAnswerText(page, "Hello!");
      await page.waitForFunction(() => document.querySelector('[data-testid="reasoning-text"]') === null);
      expect(normalize((await toggle.textContent()) ?? "")).toMatch(/^Thought for \d+ s$/);
      expect(await toggle.getAttribute("aria-expanded")).toBe("false");
      expect(await visibleText(answer, "A short and friendly one.")).toBe(false);
      await stream.push({ done: true });
      await waitForAnswerState(page, "stop");

      await toggle.click();
      expect(await toggle.getAttribute("aria-expanded")).toBe("true");
      expect(await visibleText(answer, "The user wants a greeting. A short and friendly one.")).toBe(true);
    }
  });

  it("keeps the reasoning of each round apart, around the tool call between them, also after a reload", async () => {
    const page = await e2e.openApp();
    await thinkOn(page);
    await send(page, "What time is it in Sydney?");
    await waitForAnswerState(page, "stop");
    const answer = lastAnswer(page);
    const toggles = reasoningToggles(answer);
    expect(await toggles.count()).toBe(2);
    for (const label of await toggles.allTextContents()) expect(normalize(label)).toMatch(/^Thought for \d+ s$/);
    // In order: thought, tool, thought, answer.
    const order = await answer.evaluate((root) =>
      [...root.querySelectorAll("button[aria-expanded]")].map((b) => (b.textContent?.includes("current_time") ? "tool" : "thought")),
    );
    expect(order).toEqual(["thought", "tool", "thought"]);
    await toggles.nth(0).click();
    await toggles.nth(1).click();
    const texts = await answer.locator('[data-testid="reasoning-text"]').allTextContents();
    expect(texts).toHaveLength(2);
    expect(texts[0]).toContain("Sydney");
    expect(texts[0]).not.toContain("The tool answered");
    expect(texts[1]).toContain("The tool answered");

    // Stored answers keep their rounds apart too (they do not know how long each took).
    await page.reload();
    await toggles.first().waitFor();
    expect((await toggles.allTextContents()).map(normalize)).toEqual(["Thought process", "Thought process"]);
    await page.evaluate(() => localStorage.clear());
  });

  it("folds reasoning a server left in the answer without its opening tag, live and after a reload", async () => {
    // An R1 distill on vLLM without a reasoning parser: "…</think>" and then the answer, all as answer text.
    e2e.sim.addScenario({
      name: "left-open",
      match: { lastUserIncludes: "[left-open]" },
      chunks: [{ content: "The user asks about tides.\nThe Moon pulls the oceans.\n" }, { content: "</think>\n\n" }, { content: "Tides come from the **Moon**." }, { done: true }],
    });
    const page = await e2e.openApp();
    await send(page, "Why are there tides? [left-open]");
    await waitForAnswerState(page, "stop");
    const answer = lastAnswer(page);
    for (const when of ["live", "after a reload"]) {
      expect(normalize(await answerText(page)), when).toBe("Tides come from the Moon.");
      const toggle = reasoningToggles(answer);
      expect((await toggle.allTextContents()).map(normalize), when).toEqual(["Thought process"]);
      await toggle.click();
      expect(normalize((await answer.getByTestId("reasoning-text").textContent()) ?? ""), when).toBe("The user asks about tides. The Moon pulls the oceans.");
      if (when === "live") {
        await page.reload();
        await reasoningToggles(lastAnswer(page)).waitFor();
      }
    }
  });

  for (const look of looks) {
    it(`copies the whole answer with its Copy button and shows the numbers in a popover (${look.name})`, async () => {
      const page = await e2e.openApp(look);
      await page.context().grantPermissions(["clipboard-read", "clipboard-write"], { origin: e2e.baseUrl });
      await send(page, "Explain server-sent events in a short list");
      await waitForAnswerState(page, "stop");
      const answer = lastAnswer(page);
      const copy = answer.getByRole("button", { name: "Copy", exact: true });
      await copy.click();
      await answer.getByRole("status").filter({ hasText: "Copied" }).waitFor();
      const stored = await e2e.getConversation(await conversationIdOf(page));
      expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(stored.messages.at(-1)?.content);

      // The answer's buttons sit on one line.
      const actions = answer.getByTestId("answer-actions");
      expect((await box(actions)).height).toBeLessThan(40);

      await answer.getByRole("button", { name: "Answer details" }).click();
      const details = page.getByRole("dialog", { name: "Answer details" });
      await details.waitFor();
      const text = normalize((await details.textContent()) ?? "");
      for (const label of ["Model", "Time to first token", "Speed", "Tokens", "Total"]) expect(text).toContain(label);
      // Inside the viewport, each number on one line (no three-line wrapping on a phone).
      const panel = await box(details);
      expect(panel.x).toBeGreaterThanOrEqual(0);
      expect(panel.y).toBeGreaterThanOrEqual(0);
      expect(panel.x + panel.width).toBeLessThanOrEqual(look.viewport.width);
      expect(panel.y + panel.height).toBeLessThanOrEqual(look.viewport.height);
      const rows = await details.locator("dt, dd").evaluateAll((els) => els.map((el) => el.getBoundingClientRect().height));
      for (const h of rows) expect(h).toBeLessThan(30);
      await page.mouse.click(5, look.viewport.height / 2); // light dismiss
      await details.waitFor({ state: "hidden" });
    });
  }

  it("regenerates any answer and edits any question as a new version, keeping the old one", async () => {
    const page = await e2e.openApp();
    await send(page, "Hello there");
    await waitForAnswerState(page, "stop");
    const firstRun = await lastAnswer(page).getAttribute("data-run-id");

    await send(page, "What is 12*7?");
    await waitForAnswerState(page, "stop");
    // Every answer offers Regenerate, not only the last.
    expect(await answers(page).nth(0).getByRole("button", { name: "Regenerate" }).count()).toBe(1);
    expect(await answers(page).nth(0).getByRole("button", { name: "Copy", exact: true }).count()).toBe(1);
    const secondRun = await lastAnswer(page).getAttribute("data-run-id");
    await lastAnswer(page).getByRole("button", { name: "Regenerate" }).click();
    await page.waitForFunction((old) => {
      const all = document.querySelectorAll('[data-testid="assistant-message"]');
      const last = all[all.length - 1];
      return all.length === 2 && last?.getAttribute("data-run-id") !== old && last?.getAttribute("data-state") === "stop";
    }, secondRun);
    expect(await answers(page).nth(0).getAttribute("data-run-id")).toBe(firstRun);
    await lastAnswer(page).getByTestId("version-count").filter({ hasText: "2 / 2" }).waitFor();

    await page.locator('[data-testid="user-message"]').first().hover();
    await page.getByRole("button", { name: "Edit" }).first().click();
    await page.fill("#edit-message", "What is 6*7?");
    await page.getByRole("button", { name: "Save & send" }).click();
    await page.waitForFunction(() => {
      const all = document.querySelectorAll('[data-testid="assistant-message"]');
      return all.length === 1 && all[0]?.getAttribute("data-state") === "stop" && all[0].textContent?.includes("42");
    });
    const users = await page.locator('[data-testid="user-message"] .message__bubble').allTextContents();
    expect(users).toEqual(["What is 6*7?"]);
    await page.locator('[data-testid="user-message"]').first().getByTestId("version-count").filter({ hasText: "2 / 2" }).waitFor();
    // The conversation shows the edited version; the original turns are still stored, on the other branch.
    const stored = await e2e.getConversation(await conversationIdOf(page));
    expect(stored.messages.filter((m) => m.role === "user").map((m) => m.content)).toEqual(["What is 6*7?"]);
  });

  it("renders model HTML and javascript: links inertly", async () => {
    const page = await e2e.openApp();
    await send(page, "Show me some markup [sim:html]");
    await waitForAnswerState(page, "stop");
    expect(await answerText(page)).toContain("A safe renderer");
    expect(await page.evaluate(() => (window as unknown as { __xss?: unknown }).__xss)).toBeUndefined();
    expect(await page.locator('a[href^="javascript" i]').count()).toBe(0);
    expect(await page.locator('[data-testid="messages"] img').count()).toBe(0);
    // The link text is still shown; only its target is gone.
    expect(await lastAnswer(page).getByText("click").count()).toBeGreaterThan(0);
  });

  it("shows a remote image as a link with its URL and never requests it; data: images render", async () => {
    // A second origin on this machine stands in for an attacker's server and counts what reaches it.
    let hits = 0;
    const evil = createServer((_req, res) => {
      hits++;
      res.writeHead(204).end();
    });
    await new Promise<void>((resolve) => evil.listen(0, "127.0.0.1", resolve));
    try {
      const remote = `http://127.0.0.1:${(evil.address() as AddressInfo).port}/pixel.png?q=secret`;
      const page = await e2e.openApp();
      const stream = e2e.sim.control({ lastUserIncludes: "remote-image" });
      await send(page, "Show me a picture remote-image");
      await stream.connected;
      await stream.push({ content: `Here: ![the secret](${remote}) and ![dot](${onePixelPng})` });
      await stream.push({ done: true });
      await waitForAnswerState(page, "stop");

      const answer = lastAnswer(page);
      const blocked = answer.locator('[data-testid="blocked-image"]');
      await blocked.waitFor();
      expect(await blocked.locator("a").getAttribute("href")).toBe(remote);
      expect(await blocked.textContent()).toBe(`Image: the secret (${remote})`);
      expect(await answer.locator("img").evaluateAll((imgs) => imgs.map((img) => img.getAttribute("src")))).toEqual([onePixelPng]);
      await page.waitForFunction(() => document.querySelector<HTMLImageElement>('[data-testid="messages"] img')?.complete === true);
      expect(hits).toBe(0);
    } finally {
      await new Promise((resolve) => evil.close(resolve));
    }
  });

  it("highlights code blocks and copies their text with the copy button", async () => {
    const page = await e2e.openApp();
    await page.context().grantPermissions(["clipboard-read", "clipboard-write"], { origin: e2e.baseUrl });
    await send(page, "Write code in typescript that greets");
    await waitForAnswerState(page, "stop");

    const block = lastAnswer(page).locator("pre").first();
    await block.waitFor();
    expect(await block.locator("code.hljs .hljs-keyword").count()).toBeGreaterThan(0);
    const code = (await block.textContent()) ?? "";
    expect(code).toContain("export function greet");

    await lastAnswer(page).getByRole("button", { name: "Copy code" }).click();
    await lastAnswer(page).getByRole("button", { name: "Copy code" }).filter({ hasText: "Copied" }).waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(code.replace(/\n$/, ""));

    // Every button has an accessible name (keyboard and screen-reader users need one).
    const unnamed = await page.evaluate(() =>
      [...document.querySelectorAll("button")].filter((b) => !(b.getAttribute("aria-label") ?? b.textContent ?? "").trim()).length,
    );
    expect(unnamed).toBe(0);
  });

  it("copies code and answers where the page has no Clipboard API (plain HTTP on the local network)", async () => {
    const page = await e2e.openApp();
    // 127.0.0.1 is a secure context; http://192.168.1.20:3000 is not, and has no navigator.clipboard. Taken away here
    // as such a page lacks it, and what the browser copies is recorded from the copy event.
    await page.addInitScript(() => {
      Object.defineProperty(Navigator.prototype, "clipboard", { configurable: true, get: () => undefined });
      const copied: string[] = [];
      (window as unknown as { __copied: string[] }).__copied = copied;
      document.addEventListener("copy", (e) => {
        const field = e.target instanceof HTMLTextAreaElement ? e.target : null;
        copied.push(field ? field.value.slice(field.selectionStart, field.selectionEnd) : String(document.getSelection()));
      });
    });
    await page.reload();
    expect(await page.evaluate(() => "clipboard" in navigator && navigator.clipboard !== undefined)).toBe(false);
    await send(page, "Write code in typescript that greets");
    await waitForAnswerState(page, "stop");
    const answer = lastAnswer(page);
    const code = ((await answer.locator("pre").first().textContent()) ?? "").replace(/\n$/, "");

    const copyCode = answer.getByRole("button", { name: "Copy code" }).first();
    await copyCode.focus();
    await page.keyboard.press("Enter");
    await copyCode.filter({ hasText: "Copied" }).waitFor();
    // The keyboard's focus stays on the button it pressed.
    expect(await page.evaluate(() => document.activeElement?.getAttribute("aria-label"))).toBe("Copy code");
    await answer.getByRole("button", { name: "Copy", exact: true }).click();
    // The answer's own status (the code block's says "Code copied" for a while too).
    await answer.getByTestId("answer-actions").getByRole("status").filter({ hasText: "Copied" }).waitFor();
    const stored = await e2e.getConversation(await conversationIdOf(page));
    expect(await page.evaluate(() => (window as unknown as { __copied: string[] }).__copied)).toEqual([code, stored.messages.at(-1)?.content]);
  });

  it("shows on a phone that a long code line scrolls sideways (a fade at the edge) and can wrap instead", async () => {
    for (const look of [mobile, { ...mobile, colorScheme: "dark" as const, name: "mobile dark" }]) {
      const page = await e2e.openApp(look);
      await send(page, "Write a TypeScript function that reverses a string");
      await waitForAnswerState(page, "stop");
      const pre = lastAnswer(page).locator("pre").first();
      const overflow = () => pre.evaluate((el) => ({ scroll: el.scrollWidth, client: el.clientWidth }));
      const fade = () => pre.evaluate((el) => Number(getComputedStyle(el.parentElement!, "::after").opacity));
      const before = await overflow();
      expect(before.scroll).toBeGreaterThan(before.client);
      await page.waitForFunction((el) => getComputedStyle(el!.parentElement!, "::after").opacity === "1", await pre.elementHandle());
      expect(await fade()).toBe(1);
      // Nothing else widens the page.
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(look.viewport.width);

      // Scrolled to the end, the fade goes: there is nothing more to the right.
      await pre.evaluate((el) => el.scrollTo({ left: el.scrollWidth }));
      await page.waitForFunction((el) => getComputedStyle(el!.parentElement!, "::after").opacity === "0", await pre.elementHandle());
      await pre.evaluate((el) => el.scrollTo({ left: 0 }));

      const wrap = lastAnswer(page).getByRole("button", { name: "Wrap lines" });
      expect(await wrap.getAttribute("aria-pressed")).toBe("false");
      await wrap.click();
      expect(await wrap.getAttribute("aria-pressed")).toBe("true");
      expect(await pre.evaluate((el) => getComputedStyle(el).whiteSpace)).toBe("pre-wrap");
      const wrapped = await overflow();
      expect(wrapped.scroll).toBeLessThanOrEqual(wrapped.client);
      await page.waitForFunction((el) => getComputedStyle(el!.parentElement!, "::after").opacity === "0", await pre.elementHandle());
    }
  });

  it("shows a desktop code block without a wrap button when nothing overflows", async () => {
    const page = await e2e.openApp(desktop);
    await send(page, "Write code in typescript that greets");
    await waitForAnswerState(page, "stop");
    const pre = lastAnswer(page).locator("pre").first();
    const { scroll, client } = await pre.evaluate((el) => ({ scroll: el.scrollWidth, client: el.clientWidth }));
    expect(scroll).toBeLessThanOrEqual(client);
    expect(await lastAnswer(page).getByRole("button", { name: "Wrap lines" }).count()).toBe(0);
  });
});
