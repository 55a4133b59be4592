import { join } from "node:path";
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import {
  answers,
  answerText,
  box,
  chooseModel,
  composerShows,
  conversationIdOf,
  dark,
  desktop,
  lastAnswer,
  looks,
  mobile,
  normalize,
  openFromList,
  runBrowserTests,
  send,
  startApi,
  tabTo,
  useE2E,
  waitForAnswerState,
  waitForAnswerText,
  webRoot,
} from "./harness.js";

const e2e = useE2E();

const composerValue = (page: Page) => page.locator("#composer-input").inputValue();

/** Sends a new chat's first message (held, see holdSends) and queues a follow-up behind it. */
async function sendAndQueue(page: Page, first: string, queued: string): Promise<void> {
  await send(page, first);
  await composerShows(page, "");
  await send(page, queued);
  await page.locator('[data-testid="queued-message"]').waitFor();
}

/**
 * Asks a new chat "Answer me <tag>", the answer held open by the simulator after `progress`, and queues `queued`
 * behind it.
 */
async function queueBehindAnswer(page: Page, tag: string, progress: string, queued: string) {
  const stream = e2e.sim.control({ lastUserIncludes: tag });
  await send(page, `Answer me ${tag}`);
  await stream.connected;
  const conversationId = await conversationIdOf(page);
  await stream.push({ content: progress });
  await waitForAnswerText(page, progress);
  await send(page, queued);
  await page.locator('[data-testid="queued-message"]').waitFor();
  return { stream, conversationId };
}

/** A second tab of the same browser profile (its storage shared with `page`'s), with the app open. */
/** Sends `text` in a new conversation `title`, leaves for a new chat while the send is on its way, then fails it. */
async function failAfterLeaving(title: string, text: string): Promise<{ page: Page; left: string }> {
  const page = await e2e.openConversation(title);
  const left = await conversationIdOf(page);
  const fail = await holdSends(page, { count: 1, fail: true });
  await send(page, text);
  await page.getByRole("button", { name: "New chat" }).first().click();
  await page.waitForFunction(() => location.hash === "#/");
  const failed = page.waitForEvent("requestfailed", (request) => /chat\.send/.test(request.url()));
  fail();
  await failed;
  return { page, left };
}

async function anotherTab(page: Page): Promise<Page> {
  const tab = await page.context().newPage();
  tab.on("pageerror", (error) => e2e.onPageError(error.message));
  await tab.goto(e2e.baseUrl + "/");
  await tab.locator("#composer-input").waitFor();
  return tab;
}

/** Waits until nothing runs in the conversation (its queue sent and answered), then checks its questions. */
const questionsOnceIdle = (conversationId: string, questions: string[]) =>
  expect
    .poll(
      async () => {
        const stored = await e2e.getConversation(conversationId);
        return stored.activeRunId === null ? stored.messages.filter((m) => m.role === "user").map((m) => m.content) : [];
      },
      { timeout: 20_000 },
    )
    .toEqual(questions);

/** chat.send requests the page made (batched tRPC calls carry the procedure names in the path). */
function countSends(page: Page): () => number {
  let sends = 0;
  page.on("request", (request) => {
    if (/\/trpc\/[^?]*chat\.send/.test(request.url())) sends++;
  });
  return () => sends;
}

/**
 * Holds the page's chat.send requests in the browser (the first `count` of them; all by default) until the returned
 * function releases them: they then go on to the server, or fail as a lost connection would (`fail`).
 */
async function holdSends(page: Page, opts: { count?: number; fail?: boolean } = {}): Promise<() => void> {
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  let seen = 0;
  await page.route(/\/trpc\/[^?]*chat\.send/, async (route) => {
    if (++seen > (opts.count ?? Infinity)) return route.continue();
    await held;
    await (opts.fail ? route.abort("connectionfailed") : route.continue());
  });
  return release;
}

/**
 * Tabs through the page and, at each stop, compares how the focused element and its two nearest ancestors
 * look focused and blurred: a visible focus style changes one of outline, box-shadow or border colour.
 */
async function tabStops(page: Page, stops: number): Promise<{ visited: string[]; missing: string[] }> {
  const missing: string[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < stops; i++) {
    await page.keyboard.press("Tab");
    const result = await page.evaluate(() => {
      const el = document.activeElement as HTMLElement | null;
      if (!el || el === document.body) return null;
      const chain = [el, el.parentElement, el.parentElement?.parentElement].filter((e): e is HTMLElement => !!e);
      const look = () =>
        chain.map((e) => {
          const s = getComputedStyle(e);
          return [s.outlineStyle, s.outlineWidth, s.outlineColor, s.boxShadow, s.borderColor].join("|");
        });
      const focused = look();
      el.blur();
      const blurred = look();
      const name = `${el.tagName.toLowerCase()}[${el.getAttribute("aria-label") ?? el.textContent?.trim().slice(0, 30) ?? ""}]`;
      return { name, visible: focused.some((f, k) => f !== blurred[k]) };
    });
    if (!result || seen.has(result.name)) continue;
    seen.add(result.name);
    if (!result.visible) missing.push(result.name);
  }
  return { visited: [...seen], missing };
}

describe.skipIf(!runBrowserTests)("composer: limits, drafts, queue, model, think, keyboard", () => {
  for (const look of looks) {
    it(`counts near the limit and refuses a message over it, keeping the draft (${look.name})`, async () => {
      const page = await e2e.openApp(look);
      const sends = countSends(page);
      const counter = page.getByTestId("char-count");
      const sendButton = page.getByRole("button", { name: "Send" });

      await page.fill("#composer-input", "a short message");
      expect(await counter.count()).toBe(0);

      await page.fill("#composer-input", "x".repeat(26_000));
      await counter.waitFor();
      expect(await counter.textContent()).toBe("26,000 / 32,000");
      expect(await page.getByRole("alert").count()).toBe(0);
      expect(await sendButton.isEnabled()).toBe(true);

      const tooLong = "y".repeat(33_000);
      await page.fill("#composer-input", tooLong);
      expect(await counter.textContent()).toBe("33,000 / 32,000");
      const alert = page.getByRole("alert");
      await alert.waitFor();
      expect(await alert.textContent()).toMatch(/too long.*33,000.*at most 32,000/);
      expect(await sendButton.isDisabled()).toBe(true);
      // A phone's Enter starts a new line; a keyboard's Ctrl+Enter is its way to send there.
      await page.press("#composer-input", look.mobile ? "Control+Enter" : "Enter");
      // Nothing was sent, nothing was cleared.
      expect(sends()).toBe(0);
      expect(await composerValue(page)).toBe(tooLong);
      expect(await answers(page).count()).toBe(0);
      // The message is readable where it stands: inside the viewport.
      const alertBox = await box(alert);
      expect(alertBox.y + alertBox.height).toBeLessThanOrEqual(look.viewport.height);
      expect(alertBox.x + alertBox.width).toBeLessThanOrEqual(look.viewport.width);

      // Shortened to the limit, it goes.
      await page.fill("#composer-input", "z".repeat(32_000));
      await page.getByRole("alert").waitFor({ state: "detached" });
      expect(await sendButton.isEnabled()).toBe(true);
    });
  }

  it("keeps the draft when the server refuses a message, and offers no Retry that cannot succeed", async () => {
    // A server with a lower limit than the page assumes: the refusal comes from the server.
    const strict = await startApi({ MAX_MESSAGE_CHARS: "1000" }, 5);
    try {
      const url = await strict.listen();
      const page = await e2e.newPage(desktop, url);
      await page.locator("#composer-input").waitFor();
      const draft = "w".repeat(2_000);
      await send(page, draft);
      const error = page.getByTestId("action-error");
      await error.waitFor();
      expect(await error.textContent()).toMatch(/Message not sent.*at most 1000 characters/);
      expect(await error.getByRole("button", { name: "Retry" }).count()).toBe(0);
      await page.waitForFunction((n) => (document.getElementById("composer-input") as HTMLTextAreaElement).value.length === n, draft.length);
      expect(await composerValue(page)).toBe(draft);
      // The refused message is not left behind as if it had been sent.
      expect(await page.locator('[data-testid="user-message"]').count()).toBe(0);
    } finally {
      await strict.close();
    }
  });

  it("keeps the draft when sending fails on the way, and Retry sends it (once) and takes it out of the box", async () => {
    const page = await e2e.openApp();
    let failNext = true;
    await page.route(/\/trpc\/[^?]*chat\.send/, (route) => {
      if (!failNext) return route.continue();
      failNext = false;
      return route.abort("connectionreset");
    });
    await send(page, "Hello through a flaky network");
    const error = page.getByTestId("action-error");
    await error.waitFor();
    expect(await error.textContent()).toContain("The server is not reachable.");
    await composerShows(page, "Hello through a flaky network");

    await error.getByRole("button", { name: "Retry" }).click();
    await waitForAnswerState(page, "stop");
    expect(await composerValue(page)).toBe("");
    expect(await error.count()).toBe(0);
    const stored = await e2e.getConversation(await conversationIdOf(page));
    expect(stored.messages.filter((m) => m.role === "user").map((m) => m.content)).toEqual(["Hello through a flaky network"]);
  });

  it("says in plain words that a proxy in front of the server is unavailable or busy, and Retry sends the message", async () => {
    const page = await e2e.openApp();
    // A reverse proxy's own pages, not the API's JSON: nginx's HTML 503, a plain-text 429, an HTML 413.
    const pages = [
      { status: 503, contentType: "text/html", body: "<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>" },
      { status: 429, contentType: "text/plain", body: "Too Many Requests" },
      { status: 413, contentType: "text/html", body: "<html><body>413 Request Entity Too Large</body></html>" },
    ];
    let next = 0;
    await page.route(/\/trpc\/[^?]*chat\.send/, (route) => {
      const reply = pages[next++];
      return reply ? route.fulfill(reply) : route.continue();
    });
    const error = page.getByTestId("action-error");
    await send(page, "Hello through a proxy");
    await error.filter({ hasText: "The server is unavailable right now. Try again in a moment." }).waitFor();
    expect(await error.textContent()).not.toMatch(/JSON|Unexpected token/);
    await error.getByRole("button", { name: "Retry" }).click();
    await error.filter({ hasText: "The server is busy: too many requests." }).waitFor();
    expect(await error.textContent()).not.toMatch(/JSON|Unexpected token/);
    await error.getByRole("button", { name: "Retry" }).click();
    // Too large is refused again whatever the user does: no Retry.
    await error.filter({ hasText: "This is too large for the server to accept." }).waitFor();
    expect(await error.getByRole("button", { name: "Retry" }).count()).toBe(0);
    await composerShows(page, "Hello through a proxy");
    await page.press("#composer-input", "Enter");
    await waitForAnswerState(page, "stop");
    const stored = await e2e.getConversation(await conversationIdOf(page));
    expect(stored.messages.filter((m) => m.role === "user").map((m) => m.content)).toEqual(["Hello through a proxy"]);
  });

  for (const look of looks) {
    it(`folds a very long message behind "Show more" (${look.name})`, async () => {
      const page = await e2e.openApp(look);
      const long = Array.from({ length: 120 }, (_, i) => `Line ${i + 1} of a very long pasted message.`).join("\n");
      e2e.sim.addScenario({ name: "short reply", match: { lastUserIncludes: "pasted message" }, chunks: [{ content: "Got it." }, { done: true }] });
      await send(page, long);
      await waitForAnswerState(page, "stop");
      const message = page.locator('[data-testid="user-message"]').last();
      const more = message.getByRole("button", { name: "Show more" });
      await more.waitFor();
      expect(await more.getAttribute("aria-expanded")).toBe("false");
      const bubble = page.locator(`#${(await more.getAttribute("aria-controls"))!.replace(/:/g, "\\:")}`);
      const folded = await box(bubble);
      expect(folded.height).toBeLessThan(look.viewport.height * 0.6);
      expect(await bubble.textContent()).toBe(long); // all of it is there, only folded

      await more.click();
      const less = message.getByRole("button", { name: "Show less" });
      expect(await less.getAttribute("aria-expanded")).toBe("true");
      expect((await box(bubble)).height).toBeGreaterThan(folded.height * 2);
      await less.click();
      expect((await box(bubble)).height).toBe(folded.height);

      // A short message has nothing to fold.
      await send(page, "Short one");
      await waitForAnswerState(page, "stop");
      expect(await page.locator('[data-testid="user-message"]').last().getByRole("button", { name: /Show/ }).count()).toBe(0);
      e2e.sim.clearScenarios();
    });
  }

  it("queues a message typed while a reply streams and sends it when the reply ends", async () => {
    const page = await e2e.openApp();
    const stream = e2e.sim.control({ lastUserIncludes: "first-of-two" });
    await send(page, "Answer this first-of-two");
    await stream.connected;
    await stream.push({ content: "First answer." });

    await send(page, "Hello again");
    const queued = page.locator('[data-testid="queued-message"]');
    await queued.waitFor();
    expect(await queued.textContent()).toContain("Hello again");
    expect(await page.getByRole("button", { name: "Stop" }).count()).toBe(1);

    await stream.push({ done: true });
    await queued.waitFor({ state: "detached" });
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="assistant-message"]').length === 2);
    await waitForAnswerState(page, "stop");
    expect(await answerText(page)).toContain("demo");
    const users = await page.locator('[data-testid="user-message"]').allTextContents();
    expect(users.map((u) => u.replace(/Edit$/, ""))).toEqual(["Answer this first-of-two", "Hello again"]);
  });

  it("keeps the keyboard focus in the message box when a queued message is removed from the keyboard", async () => {
    const page = await e2e.openApp();
    const stream = e2e.sim.control({ lastUserIncludes: "remove-queued" });
    await send(page, "Answer this remove-queued");
    await stream.connected;
    await send(page, "Never mind this one");
    const queued = page.locator('[data-testid="queued-message"]');
    await queued.waitFor();
    await tabTo(page, "Remove queued message");
    await page.keyboard.press("Enter");
    await queued.waitFor({ state: "detached" });
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("composer-input");
    await stream.push({ done: true });
    await waitForAnswerState(page, "stop");
  });

  it("keeps what the user types while a new chat's first message is on its way: the box, and a follow-up queued", async () => {
    const page = await e2e.openApp();
    const sends = countSends(page);
    // The first message's chat.send waits in the browser until released: the user types on meanwhile.
    const release = await holdSends(page);
    const stream = e2e.sim.control({ lastUserIncludes: "typed-meanwhile" });
    await send(page, "Answer this typed-meanwhile");
    await composerShows(page, "");
    await send(page, "Follow-up sent meanwhile");
    await page.locator('[data-testid="queued-message"]').waitFor();
    await page.locator("#composer-input").pressSequentially("Still typ");

    release();
    await stream.connected;
    await page.waitForFunction(() => location.hash.startsWith("#/c/"));
    // The conversation's pane is the one typed in: the box keeps its text and its focus, the follow-up stays queued.
    await page.keyboard.type("ing");
    expect(await composerValue(page)).toBe("Still typing");
    const queued = page.locator('[data-testid="queued-message"]');
    expect(await queued.textContent()).toContain("Follow-up sent meanwhile");

    await stream.push({ content: "First answer." });
    await stream.push({ done: true });
    await queued.waitFor({ state: "detached" });
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="assistant-message"]').length === 2);
    await waitForAnswerState(page, "stop");
    const stored = await e2e.getConversation(await conversationIdOf(page));
    expect(stored.messages.filter((m) => m.role === "user").map((m) => m.content)).toEqual([
      "Answer this typed-meanwhile",
      "Follow-up sent meanwhile",
    ]);
    expect(sends()).toBe(2);
    expect(await composerValue(page)).toBe("Still typing");
  });

  it("leaves a user who opened another conversation while a new chat's first message was on its way where they went", async () => {
    const page = await e2e.openConversation("Earlier chat stay-there");
    const earlier = await conversationIdOf(page);
    await page.getByRole("button", { name: "New chat" }).first().click();
    await page.waitForFunction(() => location.hash === "#/");
    const release = await holdSends(page);
    const stream = e2e.sim.control({ lastUserIncludes: "left-meanwhile" });
    await send(page, "Answer this left-meanwhile");
    await page.locator('[data-testid="conversation-item"] button', { hasText: "Earlier chat stay-there" }).click();
    await page.waitForFunction((hash) => location.hash === hash, `#/c/${encodeURIComponent(earlier)}`);

    release();
    await stream.connected;
    // The page decides where to be when chat.send answers, before it asks for the list again: once the list shows
    // the new conversation, the decision is made. It stays on the conversation the user opened.
    await page.locator('[data-testid="conversation-item"]', { hasText: "Answer this left-meanwhile" }).waitFor();
    await stream.push({ content: "Answered elsewhere." });
    await stream.push({ done: true });
    expect(new URL(page.url()).hash).toBe(`#/c/${encodeURIComponent(earlier)}`);
    expect(await page.locator('[data-testid="user-message"]').allTextContents()).toEqual([expect.stringContaining("Earlier chat stay-there")]);
  });

  it("gives each new chat its own queue: one opened while another's first message is on its way neither shows nor takes it", async () => {
    const page = await e2e.openConversation("Earlier chat own-queue");
    const earlier = await conversationIdOf(page);
    await page.getByRole("button", { name: "New chat" }).first().click();
    await page.waitForFunction(() => location.hash === "#/");
    const release = await holdSends(page, { count: 1 });
    const first = e2e.sim.control({ lastUserIncludes: "first-own-queue" });
    const second = e2e.sim.control({ lastUserIncludes: "second-own-queue" });
    await sendAndQueue(page, "Answer this first-own-queue", "Queued in the first new chat");

    // Away and into another new chat, while the first one's chat.send is still held.
    await openFromList(page, "Earlier chat own-queue", earlier);
    await page.getByRole("button", { name: "New chat" }).first().click();
    await page.waitForFunction(() => location.hash === "#/");
    expect(await page.locator('[data-testid="queued-message"]').count()).toBe(0);

    // The second new chat is created and answered first: the first one's queued message must not go with it.
    await send(page, "Answer this second-own-queue");
    await second.connected;
    await page.waitForFunction(() => location.hash.startsWith("#/c/"));
    const secondId = await conversationIdOf(page);
    await second.push({ content: "Second answer." });
    await second.push({ done: true });
    await waitForAnswerState(page, "stop");

    release();
    await first.connected;
    await first.push({ content: "First answer." });
    await first.push({ done: true });
    // The first chat's queued message is sent there once its answer ends (the user is elsewhere: in the background).
    await page.locator('[data-testid="conversation-item"] button', { hasText: "Answer this first-own-queue" }).click();
    const firstId = await conversationIdOf(page);
    await questionsOnceIdle(firstId, ["Answer this first-own-queue", "Queued in the first new chat"]);
    const stored = await e2e.getConversation(secondId);
    expect(stored.messages.filter((m) => m.role === "user").map((m) => m.content)).toEqual(["Answer this second-own-queue"]);
  });

  it("gives a new chat's unsent message back in the next new chat when its send failed after the user left", async () => {
    const page = await e2e.openConversation("Earlier chat unsent");
    const earlier = await conversationIdOf(page);
    await page.getByRole("button", { name: "New chat" }).first().click();
    await page.waitForFunction(() => location.hash === "#/");
    const fail = await holdSends(page, { count: 1, fail: true });
    await sendAndQueue(page, "Answer this unsent-first", "Queued unsent-second");
    await openFromList(page, "Earlier chat unsent", earlier);
    const failed = page.waitForEvent("requestfailed", (request) => /chat\.send/.test(request.url()));
    fail();
    await failed;

    // The next new chat has the message back in its box, and the follow-up still queued behind it.
    await page.getByRole("button", { name: "New chat" }).first().click();
    await page.waitForFunction(() => (document.getElementById("composer-input") as HTMLTextAreaElement).value !== "");
    expect(await composerValue(page)).toBe("Answer this unsent-first");
    const queued = page.locator('[data-testid="queued-message"]');
    expect(await queued.allTextContents()).toEqual([expect.stringContaining("Queued unsent-second")]);

    const stream = e2e.sim.control({ lastUserIncludes: "unsent-first" });
    await page.locator("#composer-input").press("Enter");
    await stream.connected;
    await page.waitForFunction(() => location.hash.startsWith("#/c/"));
    await stream.push({ content: "Sent at last." });
    await stream.push({ done: true });
    await queued.waitFor({ state: "detached" });
    const conversationId = await conversationIdOf(page);
    await questionsOnceIdle(conversationId, ["Answer this unsent-first", "Queued unsent-second"]);
  });

  it("gives a message back in its conversation's box when its send failed after the user left for another", async () => {
    const { page, left } = await failAfterLeaving("Chat left-before-failure", "Lost on the way left-before-failure");
    // Not in the new chat's box: it was written in the other conversation.
    expect(await composerValue(page)).toBe("");

    await openFromList(page, "Chat left-before-failure", left);
    await page.waitForFunction(() => (document.getElementById("composer-input") as HTMLTextAreaElement).value !== "");
    expect(await composerValue(page)).toBe("Lost on the way left-before-failure");
    const stored = await e2e.getConversation(left);
    expect(stored.messages.filter((m) => m.role === "user").map((m) => m.content)).toEqual(["Chat left-before-failure"]);
  });

  it("gives a message back in its conversation's box after a reload, when its send failed after the user left", async () => {
    const { page, left } = await failAfterLeaving("Chat reload-before-reopen", "Lost on the way reload-before-reopen");
    // The page has given up on the send (and kept the message) before it is reloaded.
    await page.waitForFunction(() => localStorage.getItem("streamchat.returnedDrafts")?.includes("reload-before-reopen") === true);

    await page.reload();
    await page.locator("#composer-input").waitFor();
    expect(await composerValue(page)).toBe("");
    await openFromList(page, "Chat reload-before-reopen", left);
    await page.waitForFunction(() => (document.getElementById("composer-input") as HTMLTextAreaElement).value !== "");
    expect(await composerValue(page)).toBe("Lost on the way reload-before-reopen");
    // Given back once: it is the conversation's draft now, and another reload shows it once.
    await page.reload();
    await page.locator("#composer-input").waitFor();
    await page.waitForFunction(() => (document.getElementById("composer-input") as HTMLTextAreaElement).value !== "");
    expect(await composerValue(page)).toBe("Lost on the way reload-before-reopen");
  });

  it("keeps what the user typed and did not send, per conversation, across switching and a reload", async () => {
    const page = await e2e.openConversation("Chat with a draft");
    const withDraft = await conversationIdOf(page);
    await page.locator("#composer-input").fill("Half a thought about this chat");
    await page.getByRole("button", { name: "New chat" }).first().click();
    await page.waitForFunction(() => location.hash === "#/");
    expect(await composerValue(page)).toBe("");
    await page.locator("#composer-input").fill("An idea for a new chat");

    await openFromList(page, "Chat with a draft", withDraft);
    expect(await composerValue(page)).toBe("Half a thought about this chat");
    await page.reload();
    await page.locator("#composer-input").waitFor();
    expect(await composerValue(page)).toBe("Half a thought about this chat");
    await page.getByRole("button", { name: "New chat" }).first().click();
    await page.waitForFunction(() => location.hash === "#/");
    expect(await composerValue(page)).toBe("An idea for a new chat");

    // Sent, it is no draft any more.
    await openFromList(page, "Chat with a draft", withDraft);
    await page.locator("#composer-input").press("Enter");
    await waitForAnswerState(page, "stop");
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="user-message"]').length === 2);
    await page.reload();
    await page.locator('[data-testid="user-message"]').nth(1).waitFor();
    expect(await composerValue(page)).toBe("");
  });

  it("shows a draft typed in another tab of the conversation, keeps it when that tab closes, and empties it when sent there", async () => {
    const tabA = await e2e.openConversation("Chat shared-draft");
    const conversationId = await conversationIdOf(tabA);
    const tabB = await anotherTab(tabA);
    await openFromList(tabB, "Chat shared-draft", conversationId);

    await tabA.locator("#composer-input").fill("Typed in tab A");
    await composerShows(tabB, "Typed in tab A");
    // Closing the tab it was typed in keeps it: the other tab writes on from it, not over it.
    await tabA.close();
    await tabB.locator("#composer-input").press("End");
    await tabB.locator("#composer-input").pressSequentially(", finished in B");
    await tabB.reload();
    await tabB.locator("#composer-input").waitFor();
    expect(await composerValue(tabB)).toBe("Typed in tab A, finished in B");

    // Sent from a third tab: the message left every box it was in.
    const tabC = await anotherTab(tabB);
    await openFromList(tabC, "Chat shared-draft", conversationId);
    expect(await composerValue(tabC)).toBe("Typed in tab A, finished in B");
    await tabC.locator("#composer-input").press("Enter");
    await composerShows(tabB, "");
    await questionsOnceIdle(conversationId, ["Chat shared-draft", "Typed in tab A, finished in B"]);
  });

  it("keeps a queued message through a reload, and sends it when the answer ends", async () => {
    const page = await e2e.openApp();
    const { stream, conversationId } = await queueBehindAnswer(page, "reload-queued", "Still answering.", "Queued before the reload");

    await page.reload();
    const queued = page.locator('[data-testid="queued-message"]');
    await queued.waitFor();
    expect(await queued.allTextContents()).toEqual([expect.stringContaining("Queued before the reload")]);
    await stream.push({ done: true });
    await queued.waitFor({ state: "detached" });
    await questionsOnceIdle(conversationId, ["Answer me reload-queued", "Queued before the reload"]);
  });

  it("keeps messages queued in two tabs when both are closed, and sends each when its answer ends", async () => {
    const tabA = await e2e.openApp();
    const tabB = await anotherTab(tabA);
    // Both tabs were open before either queued: each wrote the queues it knew of over the other's.
    const a = await queueBehindAnswer(tabA, "tab-a-queued", "Answering A.", "Queued in tab A");
    const b = await queueBehindAnswer(tabB, "tab-b-queued", "Answering B.", "Queued in tab B");
    await tabA.close();
    await tabB.close();

    // The same browser profile opened again, with neither tab.
    await anotherTab(tabA);
    await a.stream.push({ done: true });
    await b.stream.push({ done: true });
    await questionsOnceIdle(a.conversationId, ["Answer me tab-a-queued", "Queued in tab A"]);
    await questionsOnceIdle(b.conversationId, ["Answer me tab-b-queued", "Queued in tab B"]);
  });

  it("does not send a queued message the user removed in another tab", async () => {
    const tabA = await e2e.openApp();
    const { stream, conversationId } = await queueBehindAnswer(tabA, "removed-elsewhere", "Answering.", "Removed in tab A");
    const tabB = await anotherTab(tabA);
    await openFromList(tabB, "Answer me removed-elsewhere", conversationId);
    const queuedInB = tabB.locator('[data-testid="queued-message"]');
    await queuedInB.waitFor();

    await tabA.getByRole("button", { name: "Remove queued message" }).click();
    await queuedInB.waitFor({ state: "detached" });
    await stream.push({ done: true });
    await waitForAnswerState(tabB, "stop");
    // The next message is the one sent after the answer: the removed one never went.
    await send(tabB, "Sent after the removal");
    await questionsOnceIdle(conversationId, ["Answer me removed-elsewhere", "Sent after the removal"]);
  });

  it("keeps a queued message when the user switches conversations, and sends it when the reply ends", async () => {
    const page = await e2e.openApp();
    const { stream, conversationId } = await queueBehindAnswer(page, "leave-while-queued", "Working on it.", "Queued follow-up");

    // Leave for a new chat, then the reply ends while the user is elsewhere.
    await page.getByRole("button", { name: "New chat" }).first().click();
    await page.waitForFunction(() => location.hash === "#/");
    expect(await page.locator('[data-testid="queued-message"]').count()).toBe(0);
    await stream.push({ done: true });

    // The queued message went to its own conversation, and was answered there.
    await expect
      .poll(
        async () => {
          const stored = await e2e.getConversation(conversationId);
          return stored.activeRunId === null ? stored.messages.map((m) => `${m.role}:${m.role === "user" ? m.content : ""}`) : [];
        },
        { timeout: 20_000 },
      )
      .toEqual(["user:Answer me leave-while-queued", "assistant:", "user:Queued follow-up", "assistant:"]);

    await page.locator('[data-testid="conversation-item"] button', { hasText: "Answer me leave-while-queued" }).click();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="assistant-message"]').length === 2);
    await waitForAnswerState(page, "stop");
    expect(await page.locator('[data-testid="queued-message"]').count()).toBe(0);
    const users = await page.locator('[data-testid="user-message"] .message__bubble').allTextContents();
    expect(users).toEqual(["Answer me leave-while-queued", "Queued follow-up"]);
  });

  it("keeps a queued message with its conversation while the reply is still running elsewhere", async () => {
    const page = await e2e.openApp();
    const stream = e2e.sim.control({ lastUserIncludes: "come-back-queued" });
    await send(page, "Answer me come-back-queued");
    await stream.connected;
    await stream.push({ content: "Still going." });
    await waitForAnswerText(page, "Still going.");
    await send(page, "Kept for later");
    await page.locator('[data-testid="queued-message"]').waitFor();

    await page.getByRole("button", { name: "New chat" }).first().click();
    await page.waitForFunction(() => location.hash === "#/");
    await page.locator('[data-testid="conversation-item"] button', { hasText: "Answer me come-back-queued" }).click();
    const queued = page.locator('[data-testid="queued-message"]');
    await queued.waitFor();
    expect(await queued.textContent()).toContain("Kept for later");

    await stream.push({ done: true });
    await queued.waitFor({ state: "detached" });
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="assistant-message"]').length === 2);
    await waitForAnswerState(page, "stop");
  });

  it("holds the queue behind a message that was not sent until the user sends it again: the conversation keeps their order", async () => {
    const page = await e2e.openConversation("Chat held-order");
    const conversationId = await conversationIdOf(page);
    const fail = await holdSends(page, { count: 1, fail: true });
    await send(page, "Written first held-order");
    await composerShows(page, "");
    await send(page, "Written second held-order");
    const queued = page.locator('[data-testid="queued-message"]');
    await queued.waitFor();
    const failed = page.waitForEvent("requestfailed", (request) => /chat\.send/.test(request.url()));
    fail();
    await failed;

    // The message is back in the box, and the one queued after it says what it waits for.
    await composerShows(page, "Written first held-order");
    const held = page.getByTestId("queue-held");
    await held.waitFor();
    expect(normalize((await held.textContent()) ?? "")).toContain("The queued message waits for “Written first held-order”, which was not sent.");
    expect(await held.getByRole("button", { name: "Send queue without it" }).isVisible()).toBe(true);

    // Looking at another conversation and coming back (the background sender, then the pane) sends nothing before it.
    await page.getByRole("button", { name: "New chat" }).first().click();
    await page.waitForFunction(() => location.hash === "#/");
    await openFromList(page, "Chat held-order", conversationId);
    await held.waitFor();
    await composerShows(page, "Written first held-order");

    // Sent again: it goes, then what was queued after it.
    const stream = e2e.sim.control({ lastUserIncludes: "Written first held-order" });
    await page.locator("#composer-input").press("Enter");
    await stream.connected;
    expect(await held.count()).toBe(0);
    await stream.push({ content: "Answered first." });
    await stream.push({ done: true });
    await queued.waitFor({ state: "detached" });
    await questionsOnceIdle(conversationId, ["Chat held-order", "Written first held-order", "Written second held-order"]);
  });

  for (const look of looks) {
    it(`picks the model next to the composer, with its capabilities in words (${look.name})`, async () => {
      const page = await e2e.openApp(look);
      await page.getByTestId("demo-badge").waitFor();
      const picker = page.getByRole("button", { name: "Model: demo" });
      // Where people look: in the main pane, next to the message box, not in the sidebar.
      expect(await page.locator("main").getByRole("button", { name: /^Model:/ }).count()).toBe(1);
      const pickerBox = await box(picker);
      const composerBox = await box(page.locator("main form"));
      expect(pickerBox.y).toBeGreaterThanOrEqual(composerBox.y);
      expect(pickerBox.y + pickerBox.height).toBeLessThanOrEqual(composerBox.y + composerBox.height);

      await picker.click();
      const list = page.getByRole("listbox", { name: "Models" });
      await list.waitFor();
      const names = await list.getByRole("option").evaluateAll((options) => options.map((o) => o.getAttribute("aria-label")));
      expect(names).toEqual(["demo", "llama3.2", "qwen3", "gemma3", "demo-vision", "llava", "gpt-oss", "gemma2"]);
      expect(await list.getByRole("option", { name: "demo", exact: true }).getAttribute("aria-selected")).toBe("true");
      // Capabilities in words, not badges.
      const description = async (name: string) => {
        const id = await list.getByRole("option", { name, exact: true }).getAttribute("aria-describedby");
        return page.locator(`#${id!.replace(/:/g, "\\:")}`).textContent();
      };
      expect(await description("demo")).toBe("Uses tools, thinks, 128K context · loaded");
      expect(await description("llama3.2")).toBe("Uses tools, 128K context · loaded");
      expect(await description("gemma3")).toBe("No tools, 128K context · loaded");
      expect(await description("llava")).toBe("No tools, sees images, 4K context · loaded");
      expect(await description("gpt-oss")).toBe("Uses tools, thinks (low, medium, high), 128K context · loaded");
      // The menu fits the screen.
      const listBox = await box(list);
      expect(listBox.x).toBeGreaterThanOrEqual(0);
      expect(listBox.y).toBeGreaterThanOrEqual(0);
      expect(listBox.x + listBox.width).toBeLessThanOrEqual(look.viewport.width);

      // Keyboard: Escape closes and gives focus back; arrows and Enter choose.
      await page.keyboard.press("Escape");
      await list.waitFor({ state: "detached" });
      expect(await page.evaluate(() => document.activeElement?.getAttribute("aria-label"))).toBe("Model: demo");
      await page.keyboard.press("ArrowDown");
      await list.waitFor();
      await page.keyboard.press("End");
      await page.keyboard.press("Enter");
      // End: the last model listed (gemma2: no tools, no thinking).
      await page.getByRole("button", { name: "Model: gemma2" }).waitFor();

      // Type-ahead: a model's first letters go to it; the same letter again goes to the next one starting with it.
      await page.keyboard.press("ArrowDown");
      await list.waitFor();
      await page.keyboard.type("qw");
      await page.keyboard.press("Enter");
      await page.getByRole("button", { name: "Model: qwen3" }).waitFor();
      await page.keyboard.press("ArrowDown");
      await list.waitFor();
      await page.keyboard.type("l"); // after qwen3: llava, then round to llama3.2
      expect(await list.getByRole("option", { name: "llava", exact: true }).getAttribute("data-active")).toBe("true");
      await page.keyboard.type("l");
      await page.keyboard.press("Enter");
      await page.getByRole("button", { name: "Model: llama3.2" }).waitFor();
      await page.keyboard.press("ArrowDown");
      await list.waitFor();
      await page.keyboard.press("End");
      await page.keyboard.press("Enter");
      await page.getByRole("button", { name: "Model: gemma2" }).waitFor();

      // A model without tools says so in words under the composer; it cannot think either, so no Think.
      const note = page.getByTestId("tools-off-note");
      await note.waitFor();
      expect(await note.textContent()).toContain("Tools are off for gemma2");
      expect(await note.isVisible()).toBe(true);
      await page.getByRole("button", { name: "Think", exact: true }).waitFor({ state: "detached" });

      // The picked model is the one that answers.
      await chooseModel(page, "qwen3");
      await send(page, "Hello from the picker");
      await waitForAnswerState(page, "stop");
      await lastAnswer(page).getByRole("button", { name: "Answer details" }).click();
      expect(await page.getByRole("dialog", { name: "Answer details" }).textContent()).toContain("qwen3");
      await page.evaluate(() => localStorage.clear());
    });
  }

  it("thinks on request: the Think toggle (thinking models only, remembered) streams reasoning", async () => {
    const page = await e2e.openApp();
    const toggle = page.getByRole("button", { name: "Think", exact: true });
    // The default model (demo) can think.
    await toggle.waitFor();
    expect(await toggle.getAttribute("aria-pressed")).toBe("false");
    await toggle.click();
    expect(await toggle.getAttribute("aria-pressed")).toBe("true");

    await send(page, "Explain server-sent events in a short list");
    await waitForAnswerState(page, "stop");
    const thought = lastAnswer(page).getByRole("button", { name: /^Thought for \d+ s$/ });
    await thought.waitFor();
    await thought.click();
    expect(((await lastAnswer(page).getByTestId("reasoning-text").textContent()) ?? "").length).toBeGreaterThan(10);
    // The suggestion gets what it asks for: a short list about server-sent events.
    expect(await lastAnswer(page).locator(".markdown li").count()).toBeGreaterThanOrEqual(3);
    expect(await answerText(page)).toContain("Last-Event-ID");
    const request = e2e.sim.chatRequests().at(-1)?.body as { think?: unknown };
    expect(request.think).toBe(true);

    // Remembered across reloads; a model without the thinking capability hides it.
    await page.reload();
    await page.waitForFunction(() => document.querySelector('[data-testid="think-toggle"]')?.getAttribute("aria-pressed") === "true");
    await chooseModel(page, "llama3.2");
    await toggle.waitFor({ state: "detached" });
    await page.getByRole("button", { name: "New chat" }).first().click();
    await send(page, "Hello without thinking");
    await waitForAnswerState(page, "stop");
    expect(e2e.sim.chatRequests().at(-1)?.body).not.toHaveProperty("think");
    expect(await lastAnswer(page).getByTestId("reasoning").count()).toBe(0);
    // Back on a thinking model the toggle returns, still on.
    await chooseModel(page, "qwen3");
    await page.waitForFunction(() => document.querySelector('[data-testid="think-toggle"]')?.getAttribute("aria-pressed") === "true");
    await page.evaluate(() => localStorage.clear());
  });

  for (const look of looks) {
    it(`starts with suggestions that show off tools, streaming and reasoning (${look.name})`, async () => {
      const page = await e2e.openApp(look);
      const suggestions = page.getByRole("list", { name: "Suggestions" }).getByRole("button");
      // The Think suggestion joins once the models (and their capabilities) are known.
      await suggestions.filter({ hasText: "Thinks first" }).waitFor();
      const labels = await suggestions.allTextContents();
      expect(labels.some((l) => l.includes("Tokyo") && l.includes("clock tool"))).toBe(true);
      expect(labels.some((l) => l.includes("Thinks first"))).toBe(true); // the demo model can think
      // All of them visible without scrolling.
      for (const s of await suggestions.all()) {
        const b = await box(s);
        expect(b.y + b.height).toBeLessThanOrEqual(look.viewport.height);
      }
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(look.viewport.width);

      // The Think suggestion reasons even with the toggle off, and answers with a table.
      expect(await page.getByRole("button", { name: "Think", exact: true }).getAttribute("aria-pressed")).toBe("false");
      await suggestions.filter({ hasText: "Thinks first" }).click();
      await waitForAnswerState(page, "stop");
      expect((e2e.sim.chatRequests().at(-1)?.body as { think?: unknown }).think).toBe(true);
      await lastAnswer(page).getByRole("button", { name: /^Thought for/ }).waitFor();
      expect(await lastAnswer(page).locator("table").count()).toBe(1);
      // Table cells break between words, never inside one ("Wha / t"), also in a phone's narrow columns.
      const splitWords = await lastAnswer(page)
        .locator("table")
        .evaluate((table) => {
          const split: string[] = [];
          const walker = document.createTreeWalker(table, NodeFilter.SHOW_TEXT);
          for (let node = walker.nextNode(); node; node = walker.nextNode()) {
            for (const match of (node.textContent ?? "").matchAll(/\S+/g)) {
              const range = document.createRange();
              range.setStart(node, match.index);
              range.setEnd(node, match.index + match[0].length);
              const lines = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
              if (lines.size > 1) split.push(match[0]);
            }
          }
          return split;
        });
      expect(splitWords).toEqual([]);
    });
  }

  it("offers no Think suggestion for a model that cannot think, and the tool suggestion calls the tool", async () => {
    const page = await e2e.openApp();
    await chooseModel(page, "llama3.2");
    const suggestions = page.getByRole("list", { name: "Suggestions" }).getByRole("button");
    expect((await suggestions.allTextContents()).some((l) => l.includes("Thinks first"))).toBe(false);
    await suggestions.filter({ hasText: "Tokyo" }).click();
    await waitForAnswerState(page, "stop");
    expect(await lastAnswer(page).getByRole("button").filter({ hasText: "current_time" }).count()).toBe(1);
    await page.evaluate(() => localStorage.clear());
  });

  it("asks for the API token when the server requires one, then streams with it", async () => {
    const authed = await startApi({ AUTH_TOKENS: "alice:alice-secret-token" }, 5);
    try {
      const page = await e2e.newPage(desktop, await authed.listen());
      await page.getByTestId("auth-banner").waitFor();
      // A message sent before the token was entered is refused, and comes back into the box.
      await send(page, "Hello before the token");
      await page.getByTestId("action-error").filter({ hasText: "Sign-in is required" }).waitFor();
      await composerShows(page, "Hello before the token");
      await page.getByRole("button", { name: "Enter token" }).click();
      await page.waitForFunction(() => document.activeElement?.id === "api-token");
      const tokenSetting = page.locator(".token-setting");
      expect(await tokenSetting.getByRole("alert").innerText()).toBe("This server requires an API token.");

      // A mistyped token is refused, and the setting says so: not "Saved", as if it were in use.
      await page.keyboard.type("alice-secret-tokne");
      await page.keyboard.press("Enter");
      await tokenSetting.getByRole("alert").filter({ hasText: "The server did not accept this token." }).waitFor();
      expect(await tokenSetting.getByRole("button").innerText()).toBe("Save");
      await page.getByTestId("auth-banner").waitFor();

      await page.fill("#api-token", "alice-secret-token");
      await page.keyboard.press("Enter");
      await page.getByTestId("auth-banner").waitFor({ state: "detached" });
      // The setting folds away again (no longer required) and says the token is in use.
      expect(await tokenSetting.locator('[role="alert"], [role="status"]').count()).toBe(0);
      expect(await tokenSetting.locator('button[type="submit"]').textContent()).toBe("Saved");
      // Signed in now: the refusal under the message is gone (it said "Sign-in is required"); the message waits in the box.
      await page.getByTestId("action-error").waitFor({ state: "detached" });
      await composerShows(page, "Hello before the token");

      // chat.send carries the token as a Bearer header, the SSE subscription as connectionParams.
      await send(page, "Hello with a token");
      await waitForAnswerState(page, "stop");
      expect(await answerText(page)).toContain("demo");
    } finally {
      await authed.close();
    }
  });

  it("starts a new line with a phone's Enter (it has no Shift+Enter) and sends with the Send button, in the composer and in an edit", async () => {
    const page = await e2e.openConversation("Hello phone keyboard", mobile);
    const sends = countSends(page);
    const input = page.locator("#composer-input");
    const oneLine = (await box(input)).height;
    await input.click();
    await page.keyboard.type("First line");
    await page.keyboard.press("Enter");
    expect(sends()).toBe(0);
    await page.keyboard.type("second line");
    expect(await input.inputValue()).toBe("First line\nsecond line");
    expect(await input.getAttribute("enterkeyhint")).toBe("enter");
    expect(await page.locator("#composer-hint").textContent()).toBe("Enter starts a new line; the Send button sends.");
    expect((await box(input)).height).toBeGreaterThan(oneLine);
    await page.getByRole("button", { name: "Send" }).click();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="user-message"]').length === 2);
    expect(await page.locator('[data-testid="user-message"] .message__bubble').last().textContent()).toBe("First line\nsecond line");
    await waitForAnswerState(page, "stop");
    expect((await box(input)).height).toBe(oneLine);

    // Editing a question: Enter makes a new line there too, and Save & send sends it.
    await page.locator('[data-testid="user-message"]').last().getByRole("button", { name: "Edit" }).click();
    const editor = page.locator("#edit-message");
    await editor.press("Control+End");
    await page.keyboard.press("Enter");
    await page.keyboard.type("third line");
    expect(await editor.inputValue()).toBe("First line\nsecond line\nthird line");
    await page.getByRole("button", { name: "Save & send" }).click();
    await page.waitForFunction(() => [...document.querySelectorAll('[data-testid="user-message"] .message__bubble')].at(-1)?.textContent === "First line\nsecond line\nthird line");
    await waitForAnswerState(page, "stop");
  });

  it("sends with Enter on a computer: Shift+Enter starts a new line", async () => {
    const page = await e2e.openConversation("Hello computer keyboard");
    const input = page.locator("#composer-input");
    expect(await input.getAttribute("enterkeyhint")).toBe("send");
    await input.click();
    await page.keyboard.type("One");
    await page.keyboard.press("Shift+Enter");
    await page.keyboard.type("two");
    await page.keyboard.press("Enter");
    await page.waitForFunction(() => [...document.querySelectorAll('[data-testid="user-message"] .message__bubble')].at(-1)?.textContent === "One\ntwo");
    await composerShows(page, "");
    await waitForAnswerState(page, "stop");
  });

  it("has the shortcuts people expect: new chat, search, focus the composer", async () => {
    for (const look of [desktop, mobile]) {
      const page = await e2e.openConversation("Hello shortcuts", look);
      const conversationId = await conversationIdOf(page);

      // Ctrl+Shift+O: a new chat, ready to type in.
      await page.locator("main header").click();
      await page.keyboard.press("Control+Shift+O");
      await page.waitForFunction(() => location.hash === "#/");
      await page.waitForFunction(() => document.activeElement?.id === "composer-input");

      // Ctrl+K: the conversation search (on a phone the drawer opens for it).
      await page.keyboard.press("Control+K");
      await page.waitForFunction(() => document.activeElement?.getAttribute("type") === "search");
      expect(await page.getByRole("searchbox").isVisible()).toBe(true);
      await page.keyboard.type("shortcuts");
      await page.locator('[data-testid="conversation-item"] button', { hasText: "Hello shortcuts" }).first().click();
      await page.waitForFunction((id) => location.hash === `#/c/${id}`, conversationId);

      // Shift+Escape: back to the message box from anywhere.
      await page.locator("main header").click();
      await page.keyboard.press("Shift+Escape");
      await page.waitForFunction(() => document.activeElement?.id === "composer-input");
    }
  });

  for (const look of [desktop, dark, mobile]) {
    it(`shows where the keyboard focus is, on every control (${look.name})`, async () => {
      const page = await e2e.openConversation("Hello focus", look);
      await page.locator("main header").click({ position: { x: 200, y: 10 } });
      if (look.mobile) {
        await page.getByRole("button", { name: "Show conversations" }).focus();
      } else {
        await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
      }
      const { visited, missing } = await tabStops(page, look.mobile ? 14 : 30);
      expect(missing, "controls without a visible focus style").toEqual([]);
      // The walk did reach the controls that matter.
      const expected = ["button[Copy]", "button[Regenerate]", "button[Answer details]", "button[Model: demo]", "button[Think]", "textarea[]"];
      if (!look.mobile) expected.push("input[Search conversations]", "button[New chat]");
      for (const name of expected) expect(visited, `Tab reaches ${name}`).toContain(name);
      await page.screenshot({ path: join(webRoot, "test-artifacts", `focus-${look.name}.png`) });
    });
  }
});
