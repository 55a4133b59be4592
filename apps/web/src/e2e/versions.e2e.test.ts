import { readFileSync } from "node:fs";
import type { Page } from "playwright-core";
import { beforeAll, describe, expect, it } from "vitest";
import { answers, conversationIdOf, lastAnswer, openFromList, runBrowserTests, send, snap, useE2E, waitForAnswerState } from "./harness.js";

const e2e = useE2E({ tokenDelayMs: 5 });
let answered = 0;

beforeAll(() => {
  if (!runBrowserTests) return;
  // Every answer differs ("Answer <n> to <question>"), so versions can be told apart.
  e2e.sim.addScenario({
    name: "numbered answers",
    match: { lastUserIncludes: "#" },
    respond: (req) => {
      const last = [...req.messages].reverse().find((m) => m["role"] === "user");
      return [{ content: `Answer ${++answered} to ${String(last?.["content"])}` }, { done: true }];
    },
  });
});

const userMessages = (page: Page) => page.locator('[data-testid="user-message"]');
const answerTexts = (page: Page) => page.locator('[data-testid="assistant-message"] [data-testid="answer-text"]').allTextContents();
const count = (scope: ReturnType<Page["locator"]>) => scope.getByTestId("version-count");
/** What the versions' status region says (a screen reader hears it once it changes). */
const announced = (scope: ReturnType<Page["locator"]>) => scope.getByTestId("version-announcement").textContent();

/** Waits until the page shows exactly these answers (their text), every one finished. */
async function waitForAnswers(page: Page, expected: RegExp[]): Promise<void> {
  await page.waitForFunction(
    (patterns) => {
      const all = [...document.querySelectorAll('[data-testid="assistant-message"]')];
      return (
        all.length === patterns.length &&
        all.every((el, i) => el.getAttribute("data-state") === "stop" && new RegExp(patterns[i]!).test(el.textContent ?? ""))
      );
    },
    expected.map((r) => r.source),
  );
}

/** Counts conversations.get requests from now on: switching versions must not refetch. */
function countConversationFetches(page: Page): () => number {
  let fetches = 0;
  page.on("request", (request) => {
    if (request.url().includes("conversations.get")) fetches++;
  });
  return () => fetches;
}

/** Waits until no conversations.get was asked for a while (the live feed's refetches after an answer are over). */
async function settled(fetches: () => number): Promise<void> {
  const deadline = Date.now() + 20_000;
  let last = fetches();
  let since = Date.now();
  while (Date.now() - since < 1000) {
    if (Date.now() > deadline) throw new Error("conversations.get kept being fetched");
    await new Promise((resolve) => setTimeout(resolve, 100));
    if (fetches() !== last) {
      last = fetches();
      since = Date.now();
    }
  }
}

describe.skipIf(!runBrowserTests)("versions, export and import", () => {
  it("regenerates an answer into versions and switches between them without a refetch", async () => {
    const page = await e2e.openApp();
    const fetches = countConversationFetches(page);
    await send(page, "#sky colour");
    await waitForAnswers(page, [/Answer \d+ to #sky colour/]);
    const first = (await answerTexts(page))[0]!;
    // One version: no navigation.
    expect(await lastAnswer(page).getByTestId("versions").count()).toBe(0);

    await lastAnswer(page).getByRole("button", { name: "Regenerate" }).click();
    await count(lastAnswer(page)).filter({ hasText: "2 / 2" }).waitFor();
    await waitForAnswerState(page, "stop");
    const second = (await answerTexts(page))[0]!;
    expect(second).not.toBe(first);
    // Read as text (an aria-label on a span is ignored by some screen readers), "2 / 2" hidden from them.
    expect(await count(lastAnswer(page)).locator(".visually-hidden").textContent()).toBe("Version 2 of 2");
    expect(await count(lastAnswer(page)).locator('[aria-hidden="true"]').textContent()).toBe("2 / 2");

    // The regenerated answer is announced as an answer (ChatPane), not as a version: nobody switched.
    expect(await announced(lastAnswer(page))).toBe("");

    await settled(fetches);
    const before = fetches();
    await lastAnswer(page).getByRole("button", { name: "Previous version of this answer" }).click();
    await count(lastAnswer(page)).filter({ hasText: "1 / 2" }).waitFor();
    expect(await answerTexts(page)).toEqual([first]);
    // The switch is said, politely and briefly (not the answer's text: the version's place).
    await page.waitForFunction(() => document.querySelector('[data-testid="version-announcement"]')?.textContent === "Version 1 of 2");
    expect(await lastAnswer(page).getByRole("button", { name: "Previous version of this answer" }).isDisabled()).toBe(true);
    await lastAnswer(page).getByRole("button", { name: "Next version of this answer" }).click();
    await count(lastAnswer(page)).filter({ hasText: "2 / 2" }).waitFor();
    expect(await answerTexts(page)).toEqual([second]);
    await page.waitForFunction(() => document.querySelector('[data-testid="version-announcement"]')?.textContent === "Version 2 of 2");
    expect(fetches()).toBe(before);
    await snap(page, "versions-answer");

    // The server keeps the version shown: a reload shows the same.
    await page.reload();
    await count(lastAnswer(page)).filter({ hasText: "2 / 2" }).waitFor();
    expect(await answerTexts(page)).toEqual([second]);
  });

  it("regenerates an earlier answer: the later turns stay on the old version", async () => {
    const page = await e2e.openApp();
    await send(page, "#first question");
    await waitForAnswers(page, [/to #first question/]);
    await send(page, "#second question");
    await waitForAnswers(page, [/to #first question/, /to #second question/]);
    const before = await answerTexts(page);

    await answers(page).first().getByRole("button", { name: "Regenerate" }).click();
    await waitForAnswers(page, [/to #first question/]);
    expect(await userMessages(page).count()).toBe(1);
    await count(answers(page).first()).filter({ hasText: "2 / 2" }).waitFor();
    expect((await answerTexts(page))[0]).not.toBe(before[0]);

    await answers(page).first().getByRole("button", { name: "Previous version of this answer" }).click();
    await waitForAnswers(page, [/to #first question/, /to #second question/]);
    expect(await answerTexts(page)).toEqual(before);
  });

  it("edits a question into versions; the original and its answer are one click away", async () => {
    const page = await e2e.openApp();
    await send(page, "#what is a comet");
    await waitForAnswers(page, [/to #what is a comet/]);
    const original = (await answerTexts(page))[0]!;

    await userMessages(page).first().hover();
    await userMessages(page).first().getByRole("button", { name: "Edit" }).click();
    await page.fill("#edit-message", "#what is a meteor");
    await page.getByRole("button", { name: "Save & send" }).click();
    await waitForAnswers(page, [/to #what is a meteor/]);
    const question = userMessages(page).first();
    await count(question).filter({ hasText: "2 / 2" }).waitFor();
    expect(await question.locator(".message__bubble").textContent()).toBe("#what is a meteor");
    expect(await announced(question)).toBe("");

    await question.getByRole("button", { name: "Previous version of this message" }).click();
    await count(question).filter({ hasText: "1 / 2" }).waitFor();
    // The other version is another message (a new item, a new nav): it says the switch all the same.
    await page.waitForFunction(
      () => document.querySelector('[data-testid="user-message"] [data-testid="version-announcement"]')?.textContent === "Version 1 of 2",
    );
    expect(await question.locator(".message__bubble").textContent()).toBe("#what is a comet");
    await snap(page, "versions-question");
    expect(await answerTexts(page)).toEqual([original]);
  });

  it("gives a failed edit back in its editor, to save again", async () => {
    const page = await e2e.openApp();
    await send(page, "#what is a planet");
    await waitForAnswers(page, [/to #what is a planet/]);
    await page.route(/\/trpc\/[^?]*chat\.edit/, (route) => route.abort("connectionfailed"));
    await userMessages(page).first().hover();
    await userMessages(page).first().getByRole("button", { name: "Edit" }).click();
    await page.fill("#edit-message", "#what is a dwarf planet");
    await page.getByRole("button", { name: "Save & send" }).click();

    await page.getByText("Could not edit the message").waitFor();
    await page.locator("#edit-message").waitFor();
    expect(await page.locator("#edit-message").inputValue()).toBe("#what is a dwarf planet");

    await page.unroute(/\/trpc\/[^?]*chat\.edit/);
    await page.getByRole("button", { name: "Save & send" }).click();
    await waitForAnswers(page, [/to #what is a dwarf planet/]);
    expect(await userMessages(page).first().locator(".message__bubble").textContent()).toBe("#what is a dwarf planet");
  });

  it("gives an edit that failed after the user left back in its editor when the conversation is opened again", async () => {
    const page = await e2e.openApp();
    await send(page, "#what is a moon");
    await waitForAnswers(page, [/to #what is a moon/]);
    const conversationId = await conversationIdOf(page);
    let fail!: () => void;
    const failing = new Promise<void>((resolve) => (fail = resolve));
    await page.route(/\/trpc\/[^?]*chat\.edit/, async (route) => {
      await failing;
      await route.abort("connectionfailed");
    });
    await userMessages(page).first().hover();
    await userMessages(page).first().getByRole("button", { name: "Edit" }).click();
    await page.fill("#edit-message", "#what is a moonlet");
    await page.getByRole("button", { name: "Save & send" }).click();
    await page.getByRole("button", { name: "New chat" }).first().click();
    await page.waitForFunction(() => location.hash === "#/");
    const failed = page.waitForEvent("requestfailed", (request) => /chat\.edit/.test(request.url()));
    fail();
    await failed;

    await openFromList(page, "#what is a moon", conversationId);
    await page.locator("#edit-message").waitFor();
    expect(await page.locator("#edit-message").inputValue()).toBe("#what is a moonlet");
    await page.unroute(/\/trpc\/[^?]*chat\.edit/);
    await page.getByRole("button", { name: "Save & send" }).click();
    await waitForAnswers(page, [/to #what is a moonlet/]);
  });

  it("opens a search hit on another branch at that branch: the first version of an edited question, without showing the other", async () => {
    const first = await e2e.openApp();
    await send(first, "#tell me about quasars");
    await waitForAnswers(first, [/to #tell me about quasars/]);
    const conversationId = await conversationIdOf(first);
    await userMessages(first).first().hover();
    await userMessages(first).first().getByRole("button", { name: "Edit" }).click();
    await first.fill("#edit-message", "#tell me about pulsars");
    await first.getByRole("button", { name: "Save & send" }).click();
    await waitForAnswers(first, [/to #tell me about pulsars/]);
    await count(userMessages(first).first()).filter({ hasText: "2 / 2" }).waitFor();

    // Another page (nothing cached): "quasars" is only in the first version, which the conversation no longer shows.
    const page = await e2e.openApp();
    const search = page.getByRole("searchbox", { name: /Search/ });
    await search.fill("quasars");
    const hit = page.locator('[data-testid="conversation-item"]');
    // The title may match too: the message hits are what is waited for (the list is busy until they came).
    await page.waitForFunction(
      () => document.querySelectorAll('[data-testid="conversation-item"]').length === 1 && !document.querySelector(".conversation-groups[aria-busy]"),
    );
    // Every question bubble the chat shows from the click on: the other branch must not show first.
    await page.evaluate(() => {
      const seen: string[] = [];
      (window as unknown as { seenQuestions: string[] }).seenQuestions = seen;
      const record = () => document.querySelectorAll('[data-testid="user-message"] .message__bubble').forEach((b) => seen.push(b.textContent ?? ""));
      new MutationObserver(record).observe(document.body, { childList: true, subtree: true, characterData: true });
    });
    await hit.getByRole("button").first().click();
    await page.waitForFunction((id) => location.hash === `#/c/${encodeURIComponent(id)}`, conversationId);
    const question = userMessages(page).first();
    await count(question).filter({ hasText: "1 / 2" }).waitFor();
    expect(await question.locator(".message__bubble").textContent()).toBe("#tell me about quasars");
    await waitForAnswers(page, [/to #tell me about quasars/]);
    expect(await page.evaluate(() => (window as unknown as { seenQuestions: string[] }).seenQuestions)).not.toContain("#tell me about pulsars");
    expect(await page.getByTestId("action-error").count()).toBe(0);
    // The server shows that branch now (a reload keeps it), as a switch with the version buttons does.
    expect((await e2e.getConversation(conversationId)).messages.map((m) => m.content)).toContain("#tell me about quasars");

    // Back to the second version with the buttons; opening the hit again (same conversation, still open) switches again.
    await question.getByRole("button", { name: "Next version of this message" }).click();
    await count(question).filter({ hasText: "2 / 2" }).waitFor();
    await hit.getByRole("button").first().click();
    await count(question).filter({ hasText: "1 / 2" }).waitFor();
    expect(await question.locator(".message__bubble").textContent()).toBe("#tell me about quasars");

    // Without a query the list opens the conversation as the server shows it (no switch): the second version stays.
    await question.getByRole("button", { name: "Next version of this message" }).click();
    await count(question).filter({ hasText: "2 / 2" }).waitFor();
    await search.fill("");
    await page.getByRole("button", { name: "New chat" }).first().click();
    await page.waitForFunction(() => location.hash === "#/");
    const { title } = await e2e.getConversation(conversationId);
    await page.locator('[data-testid="conversation-item"]', { hasText: title || "Untitled" }).getByRole("button").first().click();
    await page.waitForFunction((id) => location.hash === `#/c/${encodeURIComponent(id)}`, conversationId);
    await count(userMessages(page).first()).filter({ hasText: "2 / 2" }).waitFor();
    expect(await userMessages(page).first().locator(".message__bubble").textContent()).toBe("#tell me about pulsars");
  });

  it("keeps the keyboard focus on ‹ and › while switching versions of an answer and of a question", async () => {
    const page = await e2e.openApp();
    await send(page, "#switch by keyboard");
    await waitForAnswers(page, [/to #switch by keyboard/]);
    await lastAnswer(page).getByRole("button", { name: "Regenerate" }).click();
    await count(lastAnswer(page)).filter({ hasText: "2 / 2" }).waitFor();
    await waitForAnswerState(page, "stop");
    const focused = () => page.evaluate(() => document.activeElement?.getAttribute("aria-label") ?? document.activeElement?.tagName);

    // The answer: ‹ to the first version (the way back is then at its end), › to the second again.
    await lastAnswer(page).getByRole("button", { name: "Previous version of this answer" }).focus();
    await page.keyboard.press("Enter");
    await count(lastAnswer(page)).filter({ hasText: "1 / 2" }).waitFor();
    await waitForAnswerState(page, "stop");
    expect(await focused()).toBe("Previous version of this answer");
    await page.keyboard.press("Tab");
    expect(await focused()).toBe("Next version of this answer");
    await page.keyboard.press("Enter");
    await count(lastAnswer(page)).filter({ hasText: "2 / 2" }).waitFor();
    expect(await focused()).toBe("Next version of this answer");

    // The question: an edit makes its second version; ‹ shows the first (another message, shown in its place).
    await userMessages(page).first().getByRole("button", { name: "Edit" }).click();
    await page.fill("#edit-message", "#switch by keyboard, edited");
    await page.getByRole("button", { name: "Save & send" }).click();
    await waitForAnswers(page, [/to #switch by keyboard, edited/]);
    const question = userMessages(page).first();
    await question.getByRole("button", { name: "Previous version of this message" }).focus();
    await page.keyboard.press("Enter");
    await count(userMessages(page).first()).filter({ hasText: "1 / 2" }).waitFor();
    await page.waitForFunction(() => document.activeElement !== document.body);
    expect(await focused()).toBe("Previous version of this message");
    await page.keyboard.press("Tab");
    await page.keyboard.press("Enter");
    await count(userMessages(page).first()).filter({ hasText: "2 / 2" }).waitFor();
    await page.waitForFunction(() => document.activeElement !== document.body);
    expect(await focused()).toBe("Next version of this message");
  });

  it("keeps the keyboard focus in the page after Regenerate from the keyboard: the composer has it, not the body", async () => {
    const page = await e2e.openApp();
    await send(page, "#regenerate by keyboard");
    await waitForAnswers(page, [/to #regenerate by keyboard/]);
    const focused = () => page.evaluate(() => document.activeElement?.id || document.activeElement?.tagName);

    // Tab from Copy to Regenerate, as a keyboard user gets there; Regenerate (and its row) leave while the answer runs.
    await lastAnswer(page).getByRole("button", { name: "Copy" }).focus();
    await page.keyboard.press("Tab");
    expect(await page.evaluate(() => document.activeElement?.getAttribute("aria-label"))).toBe("Regenerate");
    await page.keyboard.press("Enter");
    await count(lastAnswer(page)).filter({ hasText: "2 / 2" }).waitFor();
    await waitForAnswerState(page, "stop");
    expect(await focused()).toBe("composer-input");

    // A click (a tap on a phone) leaves the focus alone: the phone's keyboard does not open for it.
    await page.locator("body").click({ position: { x: 5, y: 5 } });
    await lastAnswer(page).getByRole("button", { name: "Regenerate" }).click();
    await count(lastAnswer(page)).filter({ hasText: "3 / 3" }).waitFor();
    await waitForAnswerState(page, "stop");
    expect(await focused()).not.toBe("composer-input");
  });

  it("works the conversation menu from the keyboard: opening it focuses its first item, arrows move, Escape goes back", async () => {
    const page = await e2e.openApp();
    await send(page, "#menu by keyboard");
    await waitForAnswers(page, [/to #menu by keyboard/]);
    const focused = () => page.evaluate(() => `${document.activeElement?.getAttribute("role") ?? document.activeElement?.tagName}:${document.activeElement?.textContent?.trim() || document.activeElement?.getAttribute("aria-label")}`);
    const button = page.getByRole("button", { name: "Conversation options" });
    for (const key of ["Enter", "Space"]) {
      await button.focus();
      await page.keyboard.press(key);
      await page.getByRole("menu").waitFor();
      await page.waitForFunction(() => document.activeElement?.getAttribute("role") === "menuitem");
      expect(await focused()).toBe("menuitem:Chat instructions…");
      await page.keyboard.press("ArrowDown");
      expect(await focused()).toBe("menuitem:Model settings…");
      await page.keyboard.press("ArrowDown");
      expect(await focused()).toBe("menuitem:Export as JSON");
      await page.keyboard.press("ArrowDown");
      expect(await focused()).toBe("menuitem:Export as Markdown");
      await page.keyboard.press("ArrowDown");
      expect(await focused()).toBe("menuitem:Archive");
      await page.keyboard.press("ArrowDown");
      expect(await focused()).toBe("menuitem:Chat instructions…");
      await page.keyboard.press("Escape");
      await page.getByRole("menu").waitFor({ state: "hidden" });
      expect(await focused()).toBe("BUTTON:Conversation options");
    }
  });

  it("exports a conversation (JSON and Markdown) and imports the JSON as a new conversation with the same messages", async () => {
    const page = await e2e.openApp();
    await send(page, "#export me");
    await waitForAnswers(page, [/to #export me/]);
    await lastAnswer(page).getByRole("button", { name: "Regenerate" }).click();
    await count(lastAnswer(page)).filter({ hasText: "2 / 2" }).waitFor();
    await waitForAnswerState(page, "stop");
    const conversationId = await conversationIdOf(page);
    const shown = await answerTexts(page);

    const exportAs = async (item: string) => {
      await page.getByRole("button", { name: "Conversation options" }).click();
      const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("menuitem", { name: item }).click()]);
      return { name: download.suggestedFilename(), content: readFileSync((await download.path())!, "utf8") };
    };
    const json = await exportAs("Export as JSON");
    expect(json.name).toMatch(/\.json$/);
    const doc = JSON.parse(json.content) as { format: string; version: number; messages: unknown[] };
    expect(doc).toMatchObject({ format: "streamchat.conversation", version: 1 });
    expect(doc.messages).toHaveLength(3); // the question and both versions of the answer
    await page.getByRole("button", { name: "Conversation options" }).click();
    await page.getByRole("menuitem", { name: "Export as JSON" }).waitFor();
    await snap(page, "conversation-menu");
    await page.keyboard.press("Escape");
    const markdown = await exportAs("Export as Markdown");
    expect(markdown.name).toMatch(/\.md$/);
    expect(markdown.content).toContain("#export me");
    expect(markdown.content).toContain(shown[0]!);

    // Import from the sidebar's file picker: a new conversation opens, with the same messages and versions.
    await page.getByTestId("import-file").setInputFiles({ name: json.name, mimeType: "application/json", buffer: Buffer.from(json.content) });
    await page.waitForFunction((old) => /^#\/c\/.+/.test(location.hash) && !location.hash.endsWith(encodeURIComponent(old)), conversationId);
    const copyId = await conversationIdOf(page);
    expect(copyId).not.toBe(conversationId);
    await waitForAnswers(page, [/to #export me/]);
    expect(await answerTexts(page)).toEqual(shown);
    await count(lastAnswer(page)).filter({ hasText: "2 / 2" }).waitFor();
    const [original, copy] = await Promise.all([e2e.getConversation(conversationId), e2e.getConversation(copyId)]);
    expect(copy.messages.map((m) => [m.role, m.content])).toEqual(original.messages.map((m) => [m.role, m.content]));

    // Dropped on the sidebar: another copy. A file that is not an export is refused with the reason.
    const drop = (name: string, content: string) =>
      page.evaluate(
        ([name, content]) => {
          const data = new DataTransfer();
          data.items.add(new File([content!], name!, { type: "application/json" }));
          const sidebar = document.getElementById("sidebar")!;
          for (const type of ["dragenter", "dragover", "drop"]) sidebar.dispatchEvent(new DragEvent(type, { bubbles: true, cancelable: true, dataTransfer: data }));
        },
        [name, content],
      );
    await drop("notes.json", JSON.stringify({ format: "something.else", version: 1 }));
    await page.getByRole("alert").filter({ hasText: /Could not import notes\.json: This file is not a conversation exported from this app \(it is JSON in another format, "something\.else"\)\./ }).waitFor();
    expect(await conversationIdOf(page)).toBe(copyId);
    await page.getByRole("button", { name: "Dismiss import error" }).click();
    await drop(json.name, json.content);
    await page.waitForFunction((old) => !location.hash.endsWith(encodeURIComponent(old)), copyId);
    await waitForAnswers(page, [/to #export me/]);
    expect(await answerTexts(page)).toEqual(shown);
  });
});
