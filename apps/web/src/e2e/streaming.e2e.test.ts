import { errorCodeMessages } from "@streamchat/core/browser";
import type { Locator, Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import {
  answers,
  answerText,
  box,
  conversationIdOf,
  dark,
  desktop,
  lastAnswer,
  looks,
  mobile,
  normalize,
  runBrowserTests,
  send,
  submitComposer,
  type Look,
  tabTo,
  useE2E,
  waitForAnswerState,
  waitForAnswerText,
} from "./harness.js";

const e2e = useE2E();

/** The `lastEventId` a chat.events request asks to resume after (in its input, or as tRPC's own query parameter). */
function lastEventIdOf(url: string): string | null {
  const params = new URL(url).searchParams;
  const input = JSON.parse(params.get("input") ?? "{}") as { lastEventId?: string | null };
  return input.lastEventId ?? params.get("lastEventId");
}

/**
 * A chat.events SSE body cut after event `maxSeq` and ended cleanly (tRPC's `return` event) without the run's
 * `done`: what a server sends when it loses a run or drops a reader.
 */
function endWithoutDone(sse: string, maxSeq: number): string {
  const blocks = sse.split(/\n{2,}/).filter((b) => b.trim() !== "");
  const kept = blocks.filter((block) => {
    const id = /^id: (\d+)$/m.exec(block);
    if (!id) return block.startsWith("event: connected");
    return Number(id[1]) <= maxSeq && !block.includes('"type":"done"');
  });
  return [...kept, "event: return\ndata: "].map((b) => `${b}\n\n`).join("");
}

/** The header's connection status as a reader sees it: its text, and whether it takes any room at all. */
function headerStatus(page: Page): Promise<{ text: string; state: string | null; shown: boolean }> {
  return page.evaluate(() => {
    const el = document.querySelector('main header [role="status"]');
    const rect = el?.getBoundingClientRect();
    return { text: el?.textContent ?? "", state: el?.getAttribute("data-state") ?? null, shown: !!rect && rect.width > 0 };
  });
}

/** Records every connection state and text the header shows from now on (a reconnect can be brief); what it saw. */
async function recordHeaderStatuses(page: Page): Promise<() => Promise<string[]>> {
  await page.evaluate(() => {
    const seen: string[] = [];
    (window as unknown as { __statuses: string[] }).__statuses = seen;
    new MutationObserver(() => {
      const el = document.querySelector('main header [role="status"]');
      const entry = `${el?.getAttribute("data-state")}:${el?.textContent ?? ""}`;
      if (seen.at(-1) !== entry) seen.push(entry);
    }).observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true, attributeFilter: ["data-state"] });
  });
  return () => page.evaluate(() => (window as unknown as { __statuses: string[] }).__statuses);
}

/**
 * Where the caret is relative to the end of the answer's text: the caret's box and the box of the last
 * character before it (a Range over the text node), in viewport coordinates.
 */
function caretGeometry(page: Page) {
  return page.evaluate(() => {
    const all = document.querySelectorAll('[data-testid="assistant-message"]');
    const caret = all[all.length - 1]?.querySelector('[data-testid="caret"]');
    if (!caret) return null;
    let node: Node | null = caret.previousSibling;
    while (node && !(node.textContent ?? "").trim()) node = node.previousSibling;
    // The last text node before the caret (inside a <strong>, say, descend to its end).
    while (node && node.nodeType !== Node.TEXT_NODE) node = node.lastChild;
    if (!node) return null;
    const range = document.createRange();
    const text = node.textContent ?? "";
    range.setStart(node, Math.max(0, text.trimEnd().length - 1));
    range.setEnd(node, text.trimEnd().length);
    const last = range.getBoundingClientRect();
    const c = caret.getBoundingClientRect();
    const block = caret.parentElement!.getBoundingClientRect();
    return { caret: { left: c.left, top: c.top, bottom: c.bottom, height: c.height }, last: { right: last.right, top: last.top, bottom: last.bottom }, blockBottom: block.bottom, parentTag: caret.parentElement!.tagName };
  });
}

/** From now on, notes every moment the page shows no text in a last answer (sawBlankAnswer): gone, or empty. */
async function watchForBlankAnswer(page: Page): Promise<void> {
  await page.evaluate(() => {
    const w = window as unknown as { __blankAnswer: string | null };
    w.__blankAnswer = null;
    new MutationObserver(() => {
      const answer = [...document.querySelectorAll('[data-testid="assistant-message"]')].at(-1);
      const text = answer?.querySelector('[data-testid="answer-text"] .markdown')?.textContent ?? "";
      if (text === "") w.__blankAnswer ??= answer ? `empty while ${answer.getAttribute("data-state")}` : "no answer";
    }).observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
  });
}

/** What sawBlankAnswer first saw blank, or null. */
function sawBlankAnswer(page: Page): Promise<string | null> {
  return page.evaluate(() => (window as unknown as { __blankAnswer: string | null }).__blankAnswer);
}

/** Waits for `count` animation frames of the page: whatever a render leaves for the next frames has happened by then. */
function afterFrames(page: Page, count: number): Promise<void> {
  return page.evaluate(
    (n) =>
      new Promise<void>((resolve) => {
        const next = (left: number) => (left === 0 ? resolve() : requestAnimationFrame(() => next(left - 1)));
        next(n);
      }),
    count,
  );
}

describe.skipIf(!runBrowserTests)("streaming in Chromium against the real API and the simulator", () => {
  it("streams an answer token by token: one waiting line first, then strictly growing text; numbers one click away", async () => {
    const page = await e2e.openApp();
    const stream = e2e.sim.control({ lastUserIncludes: "controlled-stream" });
    await send(page, "Say hello (controlled-stream)");
    await stream.connected;

    const status = page.locator('[data-testid="status-line"]');
    await status.waitFor();
    expect(await status.textContent()).toContain("Processing your question…");
    expect(await answerText(page)).toBe("");

    const pieces = ["Hello", " there,", " this answer", " arrives in", " pieces."];
    const lengths: number[] = [];
    let expected = "";
    for (const [i, piece] of pieces.entries()) {
      await stream.push({ content: piece });
      expected += piece;
      await waitForAnswerText(page, expected);
      lengths.push((await answerText(page)).length);
      if (i === 0) {
        expect(await lastAnswer(page).getAttribute("data-state")).toBe("streaming");
        expect(await status.count()).toBe(0);
        // Per-answer buttons appear once it is finished (their row is reserved, not shown).
        expect(await lastAnswer(page).getByRole("button", { name: "Copy", exact: true }).count()).toBe(0);
      }
    }
    for (let i = 1; i < lengths.length; i++) expect(lengths[i]!).toBeGreaterThan(lengths[i - 1]!);

    await stream.push({ done: true });
    await waitForAnswerState(page, "stop");
    expect(await answerText(page)).toBe("Hello there, this answer arrives in pieces.");
    // Developer numbers are not under every answer: behind the details button, one click away.
    expect(await page.getByText("Time to first token").isVisible()).toBe(false);
    await lastAnswer(page).getByRole("button", { name: "Answer details" }).click();
    const details = page.getByRole("dialog", { name: "Answer details" });
    await details.waitFor();
    expect(normalize((await details.textContent()) ?? "")).toMatch(/Model\s*demo.*Time to first token\s*\d+(?:\.\d+)? m?s/);
    await page.keyboard.press("Escape");
    await details.waitFor({ state: "hidden" });

    const conversationId = await conversationIdOf(page);
    const stored = await e2e.getConversation(conversationId);
    expect(stored.messages.filter((m) => m.role === "assistant").at(-1)?.content).toBe(expected);
  });

  for (const look of looks) {
    it(`keeps the caret at the end of the last line, in a paragraph and in a list (${look.name})`, async () => {
      const page = await e2e.openApp(look);
      const stream = e2e.sim.control({ lastUserIncludes: "caret-check" });
      await send(page, "Show the caret caret-check");
      await stream.connected;
      await stream.push({ content: "The caret should follow this **text**" });
      await waitForAnswerText(page, "The caret should follow this text");
      let geometry = await caretGeometry(page);
      expect(geometry, "a caret while streaming").not.toBeNull();
      // On the same line as the last character, right after it — not on a line of its own below.
      expect(Math.abs(geometry!.caret.top - geometry!.last.top)).toBeLessThan(8);
      expect(geometry!.caret.left).toBeGreaterThanOrEqual(geometry!.last.right - 1);
      expect(geometry!.caret.left - geometry!.last.right).toBeLessThan(12);
      expect(geometry!.caret.bottom).toBeLessThanOrEqual(geometry!.blockBottom + 1);

      await stream.push({ content: "\n\n- first point\n- second point" });
      await page.waitForFunction(() => [...document.querySelectorAll('[data-testid="answer-text"] li')].at(-1)?.textContent === "second point");
      geometry = await caretGeometry(page);
      expect(geometry!.parentTag).toBe("LI");
      expect(Math.abs(geometry!.caret.top - geometry!.last.top)).toBeLessThan(8);
      expect(geometry!.caret.left - geometry!.last.right).toBeLessThan(12);

      await stream.push({ done: true });
      await waitForAnswerState(page, "stop");
      expect(await page.locator('[data-testid="caret"]').count()).toBe(0);
    });
  }

  it("moves nothing but the growing answer while tokens stream (desktop and mobile)", async () => {
    for (const look of [desktop, mobile]) {
      const page = await e2e.openConversation("Hello first-of-shift", look);
      const stream = e2e.sim.control({ lastUserIncludes: "layout-shift" });
      await send(page, "Tell me more (layout-shift)");
      await stream.connected;
      await stream.push({ content: "Start." });
      await waitForAnswerText(page, "Start.");

      // Page geometry: fixed parts in viewport coordinates, messages in the scrolled content's coordinates.
      const measure = () =>
        page.evaluate(() => {
          const scroller = document.querySelector("main [data-testid=messages]")!.parentElement!;
          const inContent = (el: Element) => {
            const r = el.getBoundingClientRect();
            return { top: Math.round(r.top + scroller.scrollTop), left: Math.round(r.left), width: Math.round(r.width), height: Math.round(r.height) };
          };
          const inViewport = (el: Element) => {
            const r = el.getBoundingClientRect();
            return { top: Math.round(r.top), left: Math.round(r.left), width: Math.round(r.width), height: Math.round(r.height) };
          };
          const users = [...document.querySelectorAll('[data-testid="user-message"]')];
          const all = [...document.querySelectorAll('[data-testid="assistant-message"]')];
          const growing = all[all.length - 1]!;
          const growingBox = inContent(growing);
          return {
            composer: inViewport(document.querySelector("main form")!),
            header: inViewport(document.querySelector("main header")!),
            previous: [...users.map(inContent), ...all.slice(0, -1).map(inContent)],
            answer: { top: growingBox.top, left: growingBox.left, width: growingBox.width },
            height: growingBox.height,
          };
        });
      const before = await measure();
      const heights = [before.height];
      const words = Array.from({ length: 14 }, (_, i) => ` word${i} and some more text to wrap lines`);
      let expected = "Start.";
      for (const word of words) {
        await stream.push({ content: word });
        expected += word;
        await waitForAnswerText(page, expected);
        const now = await measure();
        expect(now.composer, `${look.name}: the composer stays put`).toEqual(before.composer);
        expect(now.header, `${look.name}: the header stays put`).toEqual(before.header);
        expect(now.previous, `${look.name}: earlier messages stay put`).toEqual(before.previous);
        expect(now.answer, `${look.name}: the answer grows downwards only`).toEqual(before.answer);
        heights.push(now.height);
      }
      expect(heights.at(-1)!).toBeGreaterThan(heights[0]!);
      for (let i = 1; i < heights.length; i++) expect(heights[i]!).toBeGreaterThanOrEqual(heights[i - 1]!);

      // Finishing adds the answer's buttons in the room kept for them: nothing jumps at the end either.
      const streamingHeight = (await measure()).height;
      await stream.push({ done: true });
      await waitForAnswerState(page, "stop");
      await lastAnswer(page).getByRole("button", { name: "Copy", exact: true }).waitFor();
      const after = await measure();
      expect(after.height).toBe(streamingHeight);
      expect(after.composer).toEqual(before.composer);
    }
  });

  it("follows a message sent after a long paste and its answer to the end (desktop and mobile)", async () => {
    for (const look of [desktop, mobile]) {
      const page = await e2e.openConversation("Explain streaming in a long answer", look);
      await send(page, "Explain SSE as a table");
      await waitForAnswerState(page, "stop");
      // A paste of a few paragraphs grows the composer, so the chat above gets shorter without anyone scrolling.
      await page.click("#composer-input");
      const paragraph = "Please explain tool calling as a list. The model asks for a tool, the server runs it and sends the result back.";
      await page.keyboard.insertText([paragraph, paragraph, paragraph, paragraph].join("\n\n"));
      await submitComposer(page);
      await waitForAnswerState(page, "stop");
      const view = await page.evaluate(() => {
        const scroller = document.querySelector(".chat__scroll")!.getBoundingClientRect();
        const answer = [...document.querySelectorAll('[data-testid="assistant-message"]')].at(-1)!.getBoundingClientRect();
        return { scrollerBottom: scroller.bottom, answerBottom: answer.bottom };
      });
      expect(view.answerBottom, `${look.name}: the new answer's end is in view`).toBeLessThanOrEqual(view.scrollerBottom + 1);
      await page.close();
    }
  });

  it("commits buffered events at once when a hidden tab (no animation frames) becomes visible", async () => {
    const page = await e2e.openApp();
    // A hidden tab gets no requestAnimationFrame callbacks: hold them back from here on.
    await page.evaluate(() => {
      const w = window as unknown as { __hidden: boolean; __holdFrames: boolean; __heldFrames: FrameRequestCallback[] };
      w.__hidden = false;
      w.__holdFrames = false;
      w.__heldFrames = [];
      const realRaf = window.requestAnimationFrame.bind(window);
      window.requestAnimationFrame = (callback) => {
        if (!w.__holdFrames) return realRaf(callback);
        w.__heldFrames.push(callback);
        return -w.__heldFrames.length;
      };
      Object.defineProperty(document, "visibilityState", { configurable: true, get: () => (w.__hidden ? "hidden" : "visible") });
    });

    const stream = e2e.sim.control({ lastUserIncludes: "hide-me" });
    await send(page, "Keep streaming hide-me");
    await stream.connected;
    await stream.push({ content: "Seen" });
    await waitForAnswerText(page, "Seen");

    await page.evaluate(() => {
      const w = window as unknown as { __hidden: boolean; __holdFrames: boolean };
      w.__hidden = true;
      w.__holdFrames = true;
      document.dispatchEvent(new Event("visibilitychange"));
    });
    await stream.push({ content: " while hidden" });
    // The event arrived and was reduced: the batcher asked for a frame, which never comes.
    // (Interval polling: Playwright's default polling uses requestAnimationFrame, which is held.)
    await page.waitForFunction(() => (window as unknown as { __heldFrames: unknown[] }).__heldFrames.length > 0, undefined, {
      polling: 20,
    });
    expect(await answerText(page)).toBe("Seen"); // buffered, not committed

    // Shown again: the buffer is committed in the visibilitychange handler itself, frames still held.
    const textRightAfterEvent = await page.evaluate(() => {
      (window as unknown as { __hidden: boolean }).__hidden = false;
      document.dispatchEvent(new Event("visibilitychange"));
      return document.querySelector('[data-testid="answer-text"] .markdown')?.textContent ?? "";
    });
    expect(textRightAfterEvent).toBe("Seen while hidden");

    await page.evaluate(() => {
      const w = window as unknown as { __holdFrames: boolean; __heldFrames: FrameRequestCallback[] };
      w.__holdFrames = false;
      for (const callback of w.__heldFrames.splice(0)) callback(performance.now());
    });
    await stream.push({ done: true });
    await waitForAnswerState(page, "stop");
  });

  it("stops mid-answer with the Stop button: keeps the partial text, marks it stopped, and closes the model connection", async () => {
    const page = await e2e.openApp();
    // A controlled stream, not the paced demo answer: whether two samples land between paced tokens depends
    // on how loaded the machine is (CI once saw 0 then 62 characters).
    const stream = e2e.sim.control({ lastUserIncludes: "long answer about oceans" });
    await send(page, "Write a long answer about oceans");
    const record = await stream.connected;
    // Each piece is on screen before the next exists: the answer grows as it is generated.
    await stream.push({ content: "Oceans cover most" });
    await waitForAnswerText(page, "Oceans cover most");
    await stream.push({ content: " of the planet" });
    await waitForAnswerText(page, "Oceans cover most of the planet");

    await page.getByRole("button", { name: "Stop" }).click();
    await waitForAnswerState(page, "cancelled");
    await lastAnswer(page).locator('[data-testid="stopped"]').waitFor();
    const partial = await answerText(page);
    expect(partial).toBe("Oceans cover most of the planet");

    await stream.closedByClient;
    await record.finished;
    expect(record.clientClosedEarly).toBe(true);

    // What the page kept is what the server stored.
    const stored = await e2e.getConversation(await conversationIdOf(page));
    const storedAnswer = stored.messages.filter((m) => m.role === "assistant").at(-1)?.content ?? "";
    expect(normalize(storedAnswer)).toBe(normalize(partial));
  });

  it("writes on from a stopped answer with Continue: the text so far at once, the model's rest after it, a new version", async () => {
    const page = await e2e.openApp();
    const first = e2e.sim.control({ lastUserIncludes: "answer about rivers" });
    await send(page, "Write an answer about rivers");
    await first.connected;
    await first.push({ content: "Rivers carry water" });
    await waitForAnswerText(page, "Rivers carry water");
    await page.getByRole("button", { name: "Stop" }).click();
    await waitForAnswerState(page, "cancelled");

    // A second tab on the conversation follows the continue as it hears of it (the feed's run-started).
    const conversationId = await conversationIdOf(page);
    const other = await e2e.newPage();
    await other.goto(`${e2e.baseUrl}/#/c/${encodeURIComponent(conversationId)}`);
    await waitForAnswerState(other, "cancelled");
    expect(await answerText(other)).toBe("Rivers carry water");

    const next = e2e.sim.control({ lastUserIncludes: "answer about rivers" });
    // Every change of both pages from here on: the answer never blinks empty while the continue starts.
    await watchForBlankAnswer(page);
    await watchForBlankAnswer(other);
    await lastAnswer(page).getByTestId("continue-answer").click();
    const request = await next.connected;
    // The model is sent the answer so far last, to write on from it; the page shows it before the model adds anything.
    const sent = (request.body as { messages: Array<{ role: string; content: string }> }).messages.at(-1);
    expect(sent).toEqual({ role: "assistant", content: "Rivers carry water" });
    // The model can be asked before the page hears that the continue began (CI once saw the request first): the
    // page follows the new run once chat.continue answers, and from then on shows the text so far as streaming.
    await waitForAnswerState(page, "streaming");
    expect(await answerText(page)).toBe("Rivers carry water");
    await next.push({ content: " to the sea." });
    await next.push({ done: true });
    await waitForAnswerState(page, "stop");
    expect(await answerText(page)).toBe("Rivers carry water to the sea.");
    await waitForAnswerState(other, "stop");
    expect(await answerText(other)).toBe("Rivers carry water to the sea.");
    expect(await sawBlankAnswer(page)).toBeNull();
    expect(await sawBlankAnswer(other)).toBeNull();
    await lastAnswer(page).getByTestId("version-count").filter({ hasText: "2 / 2" }).waitFor();
    expect(await lastAnswer(page).getByTestId("continue-answer").count()).toBe(0);

    const stored = await e2e.getConversation(conversationId);
    expect(stored.messages.map((m) => [m.role, m.content])).toEqual([
      ["user", "Write an answer about rivers"],
      ["assistant", "Rivers carry water to the sea."],
    ]);
  });

  it("a Continue that fails before the model adds a word offers Continue again, not Retry, and keeps one version", async () => {
    const page = await e2e.openApp();
    const first = e2e.sim.control({ lastUserIncludes: "answer about lakes" });
    await send(page, "Write an answer about lakes");
    await first.connected;
    await first.push({ content: "Lakes hold water" });
    await waitForAnswerText(page, "Lakes hold water");
    await page.getByRole("button", { name: "Stop" }).click();
    await waitForAnswerState(page, "cancelled");

    const failing = e2e.sim.control({ lastUserIncludes: "answer about lakes" });
    await lastAnswer(page).getByTestId("continue-answer").click();
    await failing.connected;
    await failing.push({ error: "the runner crashed" });
    const box = lastAnswer(page).getByTestId("run-error");
    await box.waitFor();
    expect(await box.getByRole("button", { name: "Retry" }).count()).toBe(0);
    expect(await answerText(page)).toBe("Lakes hold water");

    const next = e2e.sim.control({ lastUserIncludes: "answer about lakes" });
    await box.getByTestId("continue-answer").click();
    await next.connected;
    await next.push({ content: " in a basin." });
    await next.push({ done: true });
    await waitForAnswerState(page, "stop");
    expect(await answerText(page)).toBe("Lakes hold water in a basin.");
    // The failed continue stored nothing: the cut answer and the whole one.
    await lastAnswer(page).getByTestId("version-count").filter({ hasText: "2 / 2" }).waitFor();
  });

  it("a Continue that fails part way keeps what it added and offers Continue, not Retry, after a reload too", async () => {
    const page = await e2e.openApp();
    const first = e2e.sim.control({ lastUserIncludes: "answer about rivers" });
    await send(page, "Write an answer about rivers");
    await first.connected;
    await first.push({ content: "Rivers flow" });
    await waitForAnswerText(page, "Rivers flow");
    await page.getByRole("button", { name: "Stop" }).click();
    await waitForAnswerState(page, "cancelled");

    const failing = e2e.sim.control({ lastUserIncludes: "answer about rivers" });
    await lastAnswer(page).getByTestId("continue-answer").click();
    await failing.connected;
    await failing.push({ content: " downhill" });
    await waitForAnswerText(page, "Rivers flow downhill");
    await failing.push({ error: "the runner crashed" });
    const box = lastAnswer(page).getByTestId("run-error");
    await box.waitFor();
    expect(await box.getByRole("button", { name: "Retry" }).count()).toBe(0);

    // A reload knows it from the run's log: the stored version with its failure, Continue beside it, no Retry.
    await page.reload();
    await box.getByTestId("continue-answer").waitFor();
    expect(await box.getByRole("button", { name: "Retry" }).count()).toBe(0);
    expect(await answerText(page)).toBe("Rivers flow downhill");
    await lastAnswer(page).getByTestId("version-count").filter({ hasText: "2 / 2" }).waitFor();
  });

  /** The id of the conversation's first answer, which has ended: chat.cancel of it is the server's `cancelled: false`. */
  async function endedRunOf(page: Page): Promise<string> {
    const conversationId = await conversationIdOf(page);
    const ended = (await e2e.getConversation(conversationId)).messages.find((m) => m.role === "assistant")?.runId;
    expect(ended).toBeTruthy();
    return ended!;
  }

  /**
   * The page's next Stops ask the server to cancel `ended` instead (the request's runId rewritten), and get its real
   * answer, `{ cancelled: false, reason: "ended" }`; with `reason` set, that answer says so instead (tRPC's own response,
   * only the reason changed): a run out of the server's reach, which the test setup here cannot make.
   */
  async function answerStopsFor(page: Page, ended: string, reason?: "unreachable"): Promise<() => Promise<void>> {
    const cancel = /\/trpc\/[^?]*chat\.cancel/;
    await page.route(cancel, async (route) => {
      const postData = (route.request().postData() ?? "").replace(/"runId":"[^"]+"/, `"runId":"${ended}"`);
      const response = await route.fetch({ postData });
      const body = await response.text();
      expect(body).toContain('"reason":"ended"');
      await route.fulfill({ response, body: reason ? body.replace('"reason":"ended"', `"reason":"${reason}"`) : body });
    });
    return () => page.unroute(cancel);
  }

  /** A page whose conversation has an ended answer (its run id: `ended`), and then an answer held streaming by the test. */
  async function streamingAfterAnEndedAnswer(label: string) {
    const page = await e2e.openApp();
    await send(page, "Hello");
    await waitForAnswerState(page, "stop");
    const ended = await endedRunOf(page);
    const stream = e2e.sim.control({ lastUserIncludes: label });
    await send(page, `Write an ${label}`);
    await stream.connected;
    await stream.push({ content: "Still going" });
    await waitForAnswerText(page, "Still going");
    return { page, ended, stream };
  }

  it("says nothing when Stop came as the answer ended (chat.cancel: not cancelled, `ended`)", async () => {
    const { page, ended, stream } = await streamingAfterAnEndedAnswer("answer said ended");
    await answerStopsFor(page, ended);
    const answered = page.waitForResponse(/\/trpc\/[^?]*chat\.cancel/);
    await page.getByRole("button", { name: "Stop" }).click();
    await answered;
    await stream.push({ content: " and on" });
    await waitForAnswerText(page, "Still going and on");
    // Longer than the page used to wait before it said "could not reach" to an answer still streaming (1.5 s).
    await page.waitForTimeout(2000);
    expect(await page.getByTestId("action-error").count()).toBe(0);
    await stream.push({ done: true });
    await waitForAnswerState(page, "stop");
  });

  it("says so at once when the server could not reach the answer (`unreachable`), and a later Stop that works clears it", async () => {
    const { page, ended, stream } = await streamingAfterAnEndedAnswer("unstoppable answer");
    const unroute = await answerStopsFor(page, ended, "unreachable");
    await page.getByRole("button", { name: "Stop" }).click();
    const alert = page.getByTestId("action-error");
    await alert.waitFor();
    expect(normalize((await alert.textContent()) ?? "")).toContain(
      "Could not stop the answer: The server could not reach the process writing this answer.",
    );
    // The answer goes on, and says so.
    await stream.push({ content: " and on" });
    await waitForAnswerText(page, "Still going and on");
    await unroute();
    await page.getByRole("button", { name: "Stop" }).click();
    await waitForAnswerState(page, "cancelled");
    await alert.waitFor({ state: "detached" });
  });

  it("takes the error of a Stop that could not reach the answer away once the answer ends", async () => {
    const { page, ended, stream } = await streamingAfterAnEndedAnswer("answer that ends anyway");
    await answerStopsFor(page, ended, "unreachable");
    await page.getByRole("button", { name: "Stop" }).click();
    const alert = page.getByTestId("action-error");
    await alert.waitFor();
    await stream.push({ content: " to its end" });
    await stream.push({ done: true });
    await waitForAnswerState(page, "stop");
    await alert.waitFor({ state: "detached" });
  });

  it("stops with the Stop button from the keyboard and leaves the focus in the message box, not on the page's body", async () => {
    const page = await e2e.openApp();
    const stream = e2e.sim.control({ lastUserIncludes: "keyboard-stop" });
    await send(page, "Keep going keyboard-stop");
    await stream.connected;
    await stream.push({ content: "Going" });
    await waitForAnswerText(page, "Going");
    await tabTo(page, "Stop");
    await page.keyboard.press("Enter");
    await waitForAnswerState(page, "cancelled");
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("composer-input");
  });

  it("stops with Escape, wherever focus is in the chat", async () => {
    const page = await e2e.openApp();
    const stream = e2e.sim.control({ lastUserIncludes: "escape-stop" });
    await send(page, "Keep going escape-stop");
    await stream.connected;
    await stream.push({ content: "Going" });
    await waitForAnswerText(page, "Going");
    // Focus is still in the composer after sending; Escape there stops the answer.
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("composer-input");
    await page.keyboard.press("Escape");
    await waitForAnswerState(page, "cancelled");
    expect(await answerText(page)).toBe("Going");
  });

  it("reads an answer out once, whole, when it ends: never token by token from the transcript while it streams", async () => {
    const page = await e2e.openApp();
    const stream = e2e.sim.control({ lastUserIncludes: "read-once" });
    await send(page, "Say it (read-once)");
    await stream.connected;
    await stream.push({ content: "First **bold**" });
    await waitForAnswerText(page, "First bold");
    // The live region a change of the answer's text would be read out by, and how (the transcript is a polite log).
    const politeness = () =>
      page.evaluate(() => {
        const text = [...document.querySelectorAll('[data-testid="answer-text"]')].at(-1)!;
        const root = text.closest('[aria-live], [role="log"], [role="status"], [role="alert"]');
        const implied: Record<string, string> = { log: "polite", status: "polite", alert: "assertive" };
        return root ? (root.getAttribute("aria-live") ?? implied[root.getAttribute("role") ?? ""] ?? "off") : "off";
      });
    expect(await politeness()).toBe("off");
    const announcement = page.getByTestId("answer-announcement");
    expect(await announcement.textContent()).toBe("");
    await stream.push({ content: " words, and more." });
    await waitForAnswerText(page, "First bold words, and more.");
    expect(await politeness()).toBe("off");
    expect(await announcement.textContent()).toBe("");

    await stream.push({ done: true });
    await waitForAnswerState(page, "stop");
    await page.waitForFunction(() => document.querySelector('[data-testid="answer-announcement"]')?.textContent === "First bold words, and more.");
    // A polite status region of its own, outside the log (the log must not read it a second time).
    expect(await announcement.getAttribute("role")).toBe("status");
    expect(await announcement.evaluate((el) => el.closest('[role="log"]') === null)).toBe(true);
  });

  it("reads a regenerated answer out too, also when its words are the same as the last one's", async () => {
    const page = await e2e.openApp();
    const first = e2e.sim.control({ lastUserIncludes: "read-again" });
    await send(page, "Say it (read-again)");
    await first.connected;
    await first.push({ content: "Same words." });
    await first.push({ done: true });
    await waitForAnswerState(page, "stop");
    await page.waitForFunction(() => document.querySelector('[data-testid="answer-announcement"]')?.textContent === "Same words.");
    // What the region says from now on, change by change.
    await page.evaluate(() => {
      const region = document.querySelector('[data-testid="answer-announcement"]')!;
      const said: string[] = [];
      (window as unknown as { __said: string[] }).__said = said;
      new MutationObserver(() => said.push(region.textContent ?? "")).observe(region, { subtree: true, childList: true, characterData: true });
    });
    const second = e2e.sim.control({ lastUserIncludes: "read-again" });
    await lastAnswer(page).getByRole("button", { name: "Regenerate" }).click();
    await second.connected;
    await second.push({ content: "Same words." });
    await second.push({ done: true });
    await page.waitForFunction(() => (window as unknown as { __said: string[] }).__said.includes("Same words."));
    await waitForAnswerState(page, "stop");
  });

  it("does not read a conversation out whole when it is opened: it is in the live log from the start, not added to it", async () => {
    const first = await e2e.openConversation("Hello open-quietly");
    const conversationId = await conversationIdOf(first);
    const page = await e2e.newPage();
    // Every message put into an existing live log: what a screen reader reads out as news.
    await page.addInitScript(() => {
      const added: string[] = [];
      (window as unknown as { __addedToLog: string[] }).__addedToLog = added;
      new MutationObserver((records) => {
        for (const record of records) {
          if (!(record.target instanceof Element) || !record.target.closest('[role="log"]')) continue;
          for (const node of record.addedNodes) {
            if (node instanceof Element && node.matches('[data-testid="user-message"], [data-testid="assistant-message"]')) {
              added.push(node.getAttribute("data-testid")!);
            }
          }
        }
      }).observe(document, { subtree: true, childList: true });
    });
    await page.goto(`${e2e.baseUrl}/#/c/${encodeURIComponent(conversationId)}`);
    await page.reload(); // the same document until now (a change of the hash): loaded afresh, with the observer
    await waitForAnswerState(page, "stop");
    await lastAnswer(page).getByRole("button", { name: "Copy", exact: true }).waitFor();
    const addedToLog = () => page.evaluate(() => (window as unknown as { __addedToLog: string[] }).__addedToLog);
    expect(await addedToLog()).toEqual([]);
    // What comes afterwards is news: a new question goes into the log.
    await send(page, "And another (open-quietly)");
    await page.waitForFunction(() => (window as unknown as { __addedToLog: string[] }).__addedToLog.includes("user-message"));
    await waitForAnswerState(page, "stop");
  });

  it("puts a sent question and its answer into the live log once: they stay when the conversation is saved, also in a new chat", async () => {
    const page = await e2e.openApp();
    // Every message put into or taken out of the live log: one taken out and put back is read out again.
    await page.evaluate(() => {
      const log: { added: string[]; removed: string[] } = { added: [], removed: [] };
      (window as unknown as { __logChanges: typeof log }).__logChanges = log;
      const item = '[data-testid="user-message"], [data-testid="assistant-message"]';
      new MutationObserver((records) => {
        for (const record of records) {
          if (!(record.target instanceof Element) || !record.target.closest('[role="log"]')) continue;
          for (const node of record.addedNodes) if (node instanceof Element && node.matches(item)) log.added.push(node.getAttribute("data-testid")!);
          for (const node of record.removedNodes) if (node instanceof Element && node.matches(item)) log.removed.push(node.getAttribute("data-testid")!);
        }
      }).observe(document, { subtree: true, childList: true });
    });
    const changes = () => page.evaluate(() => (window as unknown as { __logChanges: { added: string[]; removed: string[] } }).__logChanges);
    // Saved: the question's item shows the stored message (its element is named by the message's id).
    const saved = (n: number) =>
      page.waitForFunction((count) => document.querySelectorAll('[data-testid="user-message"][id^="chat-item-u"]').length === count, n);

    await send(page, "Hello keys-first");
    await waitForAnswerState(page, "stop");
    await saved(1);
    await lastAnswer(page).getByRole("button", { name: "Copy", exact: true }).waitFor();
    const first = await changes();
    expect(first.removed, "nothing taken out of the log").toEqual([]);
    expect(first.added.filter((a) => a === "user-message").length).toBeLessThanOrEqual(1);
    expect(first.added.filter((a) => a === "assistant-message").length).toBeLessThanOrEqual(1);

    // The next question, in the conversation now open: added once each, nothing taken out.
    await send(page, "And again keys-next");
    await saved(2);
    await waitForAnswerState(page, "stop");
    await lastAnswer(page).getByRole("button", { name: "Copy", exact: true }).waitFor();
    const next = await changes();
    expect(next.removed, "nothing taken out of the log").toEqual([]);
    expect(next.added.slice(first.added.length)).toEqual(["user-message", "assistant-message"]);
  });

  it("closes an open Answer details popover with Escape without stopping the answer that streams; the next Escape stops it", async () => {
    const page = await e2e.openConversation("Hello first-of-popover");
    const stream = e2e.sim.control({ lastUserIncludes: "popover-escape" });
    await send(page, "And more (popover-escape)");
    await stream.connected;
    await stream.push({ content: "Going" });
    await waitForAnswerText(page, "Going");
    // The earlier answer's details, opened while the new one streams: its button keeps the focus.
    await answers(page).first().getByRole("button", { name: "Answer details" }).click();
    const details = page.getByRole("dialog", { name: "Answer details" });
    await details.waitFor();
    await page.keyboard.press("Escape");
    await details.waitFor({ state: "hidden" });
    await stream.push({ content: " on" });
    await waitForAnswerText(page, "Going on");
    expect(await lastAnswer(page).getAttribute("data-state")).toBe("streaming");
    await page.keyboard.press("Escape");
    await waitForAnswerState(page, "cancelled");
  });

  /** A conversation with an answer taller than the view, scrolled up so that "Scroll to the latest message" shows. */
  async function scrolledUp(look: Look, marker: string) {
    const page = await e2e.openConversation(`Hello first-of-${marker}`, look);
    const stream = e2e.sim.control({ lastUserIncludes: marker });
    await send(page, `A long one (${marker})`);
    await stream.connected;
    for (let i = 0; i < 30; i++) await stream.push({ content: `${i ? "\n\n" : ""}Paragraph ${i} of a long answer.` });
    await page.waitForFunction((n) => (document.querySelectorAll('[data-testid="assistant-message"]')[1]?.querySelectorAll(".markdown p").length ?? 0) >= n, 30);
    await page.locator(".chat__scroll").evaluate((el) => el.scrollTo({ top: 0 }));
    const jump = page.getByRole("button", { name: "Scroll to the latest message" });
    await jump.waitFor();
    return { page, stream, jump };
  }

  it("stops following at the reader's first small scroll up (a trackpad's few pixels), and leaves them there as tokens arrive", async () => {
    const page = await e2e.openConversation("Hello first-of-trackpad");
    const stream = e2e.sim.control({ lastUserIncludes: "trackpad" });
    await send(page, "A long one (trackpad)");
    await stream.connected;
    for (let i = 0; i < 30; i++) await stream.push({ content: `${i ? "\n\n" : ""}Paragraph ${i} of a long answer.` });
    await page.waitForFunction(() => (document.querySelectorAll('[data-testid="assistant-message"]')[1]?.querySelectorAll(".markdown p").length ?? 0) >= 30);
    const scroller = page.locator(".chat__scroll");
    const gap = () => scroller.evaluate((el) => el.scrollHeight - el.scrollTop - el.clientHeight);
    expect(await gap()).toBeLessThan(2);
    const area = await box(scroller);
    await page.mouse.move(area.x + area.width / 2, area.y + area.height / 2);
    // A few small steps up, a token arriving after each: every step is the reader's, none is taken back.
    for (let i = 0; i < 4; i++) {
      const before = await scroller.evaluate((el) => el.scrollTop);
      await page.mouse.wheel(0, -20);
      await page.waitForFunction((top) => document.querySelector(".chat__scroll")!.scrollTop < top, before);
      await stream.push({ content: `\n\nMore ${i} while the reader reads.` });
      await page.waitForFunction((n) => document.querySelectorAll('[data-testid="assistant-message"]')[1]?.textContent?.includes(`More ${n} while`), i);
    }
    const top = await scroller.evaluate((el) => el.scrollTop);
    await stream.push({ content: "\n\nOne more paragraph." });
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="assistant-message"]')[1]?.textContent?.includes("One more paragraph"));
    expect(await scroller.evaluate((el) => el.scrollTop)).toBe(top);
    expect(await gap()).toBeGreaterThan(60);
    const jump = page.getByRole("button", { name: "Scroll to the latest message" });
    await jump.waitFor();

    // The way back works, and following goes on from there.
    await page.emulateMedia({ reducedMotion: "reduce" });
    await jump.click();
    await jump.waitFor({ state: "detached" });
    await stream.push({ content: "\n\nFollowed again." });
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="assistant-message"]')[1]?.textContent?.includes("Followed again"));
    await afterFrames(page, 3);
    expect(await gap()).toBeLessThan(2);
    await stream.push({ done: true });
    await waitForAnswerState(page, "stop");
  });

  it("keeps a following reader at the very end under reduced motion too, where a paragraph grows a frame after its render, and when the answer ends", async () => {
    const page = await e2e.openConversation("Hello first-of-late-growth");
    const stream = e2e.sim.control({ lastUserIncludes: "late-growth" });
    await send(page, "A long one (late-growth)");
    await stream.connected;
    const scroller = page.locator(".chat__scroll");
    const gap = () => scroller.evaluate((el) => el.scrollHeight - el.scrollTop - el.clientHeight);
    // With reduced motion, Chromium restyles the paragraph before a new one (its bottom margin, 13 px) a frame after the
    // render that added it: no render follows that growth.
    await page.emulateMedia({ reducedMotion: "reduce" });
    for (let i = 0; i < 30; i++) {
      await stream.push({ content: `${i ? "\n\n" : ""}Paragraph ${i} of a long answer.` });
      await page.waitForFunction((n) => document.querySelectorAll('[data-testid="assistant-message"]')[1]?.textContent?.includes(`Paragraph ${n} of`), i);
      // What the reader sees once the page has settled, before the next token: the end, not a line short of it.
      await afterFrames(page, 3);
      expect(await gap(), `after paragraph ${i}`).toBeLessThan(2);
    }
    await stream.push({ done: true });
    await waitForAnswerState(page, "stop");
    await afterFrames(page, 3);
    expect(await gap()).toBeLessThan(2);
  });

  it("jumps to the latest message from the keyboard and leaves the focus in the message box, not on the page's body", async () => {
    const { page, stream, jump } = await scrolledUp(desktop, "jump-keyboard");
    // Back from the message box, as a keyboard user reaches it (it sits just above).
    await page.focus("#composer-input");
    for (let i = 0; i < 10 && (await page.evaluate(() => document.activeElement?.getAttribute("aria-label"))) !== "Scroll to the latest message"; i++) {
      await page.keyboard.press("Shift+Tab");
    }
    expect(await page.evaluate(() => document.activeElement?.getAttribute("aria-label"))).toBe("Scroll to the latest message");
    await page.keyboard.press("Enter");
    await jump.waitFor({ state: "detached" });
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("composer-input");
    await stream.push({ done: true });
    await waitForAnswerState(page, "stop");
  });

  it("jumps to the latest message at once, without a smooth scroll, when the user asks for reduced motion", async () => {
    const { page, stream, jump } = await scrolledUp(desktop, "jump-reduced");
    await page.emulateMedia({ reducedMotion: "reduce" });
    await page.evaluate(() => {
      const calls: string[] = [];
      (window as unknown as { __scrolls: string[] }).__scrolls = calls;
      const scrollTo = Element.prototype.scrollTo;
      Element.prototype.scrollTo = function (this: Element, ...args: unknown[]) {
        const options = args[0];
        calls.push(typeof options === "object" && options !== null ? String((options as ScrollToOptions).behavior ?? "auto") : "auto");
        return (scrollTo as (...a: unknown[]) => void).apply(this, args);
      } as typeof Element.prototype.scrollTo;
    });
    await jump.click();
    await jump.waitFor({ state: "detached" });
    const behaviors = await page.evaluate(() => (window as unknown as { __scrolls: string[] }).__scrolls);
    expect(behaviors.length).toBeGreaterThan(0);
    expect(behaviors).not.toContain("smooth");
    const gap = await page.locator(".chat__scroll").evaluate((el) => el.scrollHeight - el.scrollTop - el.clientHeight);
    expect(gap).toBeLessThan(2);
    await stream.push({ done: true });
    await waitForAnswerState(page, "stop");
  });

  /**
   * The scroller's distance from the end at every animation frame (what the reader sees), from the click on `button` on:
   * the first frame comes after the click and its render.
   */
  async function recordGapsFrom(page: Page, button: Locator) {
    await button.evaluate((el) =>
      el.addEventListener(
        "click",
        () => {
          const scroller = document.querySelector(".chat__scroll")!;
          const gaps: number[] = [];
          (window as unknown as { __gaps: number[] }).__gaps = gaps;
          const tick = () => {
            gaps.push(scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight);
            if (gaps.length < 600 && gaps.at(-1)! >= 1) requestAnimationFrame(tick);
          };
          requestAnimationFrame(tick);
        },
        { capture: true, once: true },
      ),
    );
    const gapsAtEnd = async () => {
      await page.waitForFunction(() => ((window as unknown as { __gaps?: number[] }).__gaps?.at(-1) ?? Infinity) < 1);
      return page.evaluate(() => (window as unknown as { __gaps: number[] }).__gaps);
    };
    return { gapsAtEnd };
  }

  it("glides to the latest message without a reduced-motion preference: frames between the start and the end", async () => {
    const { page, stream, jump } = await scrolledUp(desktop, "jump-smooth");
    await page.emulateMedia({ reducedMotion: "no-preference" });
    const start = await page.locator(".chat__scroll").evaluate((el) => el.scrollHeight - el.scrollTop - el.clientHeight);
    expect(start).toBeGreaterThan(200);
    const { gapsAtEnd } = await recordGapsFrom(page, jump);
    await jump.click();
    const gaps = await gapsAtEnd();
    // Not there in the first frame (a jump would be), seen on the way, and there at the end.
    expect(gaps[0], `frames: ${gaps.join(", ")}`).toBeGreaterThanOrEqual(1);
    expect(gaps.some((gap) => gap >= 1 && gap < start)).toBe(true);
    expect(gaps.at(-1)).toBeLessThan(1);
    await jump.waitFor({ state: "detached" });

    // At the end, the answer goes on streaming and is followed at once: no glide per token, the end stays in view.
    await page.evaluate(() => {
      const calls: string[] = [];
      (window as unknown as { __smooth: string[] }).__smooth = calls;
      const scrollTo = Element.prototype.scrollTo;
      Element.prototype.scrollTo = function (this: Element, ...args: unknown[]) {
        const options = args[0];
        if (typeof options === "object" && options !== null && (options as ScrollToOptions).behavior === "smooth") calls.push("smooth");
        return (scrollTo as (...a: unknown[]) => void).apply(this, args);
      } as typeof Element.prototype.scrollTo;
    });
    for (let i = 0; i < 8; i++) {
      await stream.push({ content: `\n\nMore ${i} after the glide.` });
      await page.waitForFunction((n) => document.querySelectorAll('[data-testid="assistant-message"]')[1]?.textContent?.includes(`More ${n} after`), i);
      const gap = await page.locator(".chat__scroll").evaluate((el) => el.scrollHeight - el.scrollTop - el.clientHeight);
      expect(gap, `after token ${i}`).toBeLessThan(2);
    }
    expect(await page.evaluate(() => (window as unknown as { __smooth: string[] }).__smooth)).toEqual([]);
    expect(await jump.count()).toBe(0);
    await stream.push({ done: true });
    await waitForAnswerState(page, "stop");
  });

  it("glides on to the end when the answer grows during the glide, and stays there", async () => {
    const { page, stream, jump } = await scrolledUp(desktop, "jump-growing");
    await page.emulateMedia({ reducedMotion: "no-preference" });
    const { gapsAtEnd } = await recordGapsFrom(page, jump);
    await jump.click();
    for (let i = 0; i < 5; i++) await stream.push({ content: `\n\nGrowing ${i} during the glide.` });
    await gapsAtEnd();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="assistant-message"]')[1]?.textContent?.includes("Growing 4 during"));
    await page.waitForFunction(() => {
      const el = document.querySelector(".chat__scroll")!;
      return el.scrollHeight - el.scrollTop - el.clientHeight < 2;
    });
    expect(await jump.count()).toBe(0);
    await stream.push({ done: true });
    await waitForAnswerState(page, "stop");
    const gap = await page.locator(".chat__scroll").evaluate((el) => el.scrollHeight - el.scrollTop - el.clientHeight);
    expect(gap).toBeLessThan(2);
  });

  it("is at the latest message in the first frame after the click with reduced motion", async () => {
    const { page, stream, jump } = await scrolledUp(desktop, "jump-reduced-frames");
    await page.emulateMedia({ reducedMotion: "reduce" });
    const { gapsAtEnd } = await recordGapsFrom(page, jump);
    await jump.click();
    const gaps = await gapsAtEnd();
    expect(gaps).toEqual([expect.any(Number)]);
    expect(gaps[0]).toBeLessThan(1);
    await stream.push({ done: true });
    await waitForAnswerState(page, "stop");
  });

  it("resumes after a reload mid-answer without duplicated or missing text", async () => {
    const page = await e2e.openApp();
    const stream = e2e.sim.control({ lastUserIncludes: "reload-me" });
    await send(page, "Tell me a story reload-me");
    await stream.connected;
    const conversationId = await conversationIdOf(page);
    const before = ["Once", " upon", " a time", " there was", " a stream."];
    for (const piece of before) await stream.push({ content: piece });
    await waitForAnswerText(page, before.join(""));

    await page.reload();
    // The run's log is replayed from the start and rebuilds exactly the text seen before the reload…
    await waitForAnswerText(page, before.join(""));
    expect(await lastAnswer(page).getAttribute("data-state")).toBe("streaming");

    // …and the same subscription then goes on live.
    const after = [" It flowed", " to the sea."];
    for (const piece of after) await stream.push({ content: piece });
    await stream.push({ done: true });
    await waitForAnswerState(page, "stop");

    const expected = [...before, ...after].join("");
    expect(await answerText(page)).toBe(expected);
    const detail = await e2e.getConversation(conversationId);
    expect(detail.activeRunId).toBeNull();
    expect(detail.messages.filter((m) => m.role === "assistant").at(-1)?.content).toBe(expected);
    expect(await answers(page).count()).toBe(1);
  });

  it("says nothing in the header while all is well, and 'Reconnecting…' while the connection is back on its way", async () => {
    const page = await e2e.openApp();
    const statusesSeen = await recordHeaderStatuses(page);
    const stream = e2e.sim.control({ lastUserIncludes: "drop-me" });
    await send(page, "Tell me a story drop-me");
    await stream.connected;
    await stream.push({ content: "Before" });
    await stream.push({ content: " the drop," });
    await waitForAnswerText(page, "Before the drop,");
    // Streaming normally: the status is silent and takes no room.
    expect(await headerStatus(page)).toEqual({ text: "", state: "live", shown: false });

    // Drop every HTTP connection of the API (the SSE stream included); the run itself goes on,
    // and what it produces meanwhile is replayed after the reconnect.
    e2e.server.app.server.closeAllConnections();
    await stream.push({ content: " during it," });
    await stream.push({ content: " and after." });
    await stream.push({ done: true });
    await waitForAnswerState(page, "stop");

    expect(await answerText(page)).toBe("Before the drop, during it, and after.");
    const statuses = await statusesSeen();
    expect(statuses).toContain("live:");
    expect(statuses.slice(statuses.indexOf("live:"))).toContain("reconnecting:Reconnecting…");
    // No jargon ("live", "caught up") ever shows: only trouble has words.
    expect(statuses.filter((s) => !s.endsWith(":")).every((s) => s === "reconnecting:Reconnecting…")).toBe(true);
    // The conversation feed's stream was dropped too, and comes back on its own schedule: on a loaded machine after the
    // answer has ended, and until then the header rightly says "Reconnecting…" (the feed is how an idle page learns of
    // trouble). Once it is back, the header is silent again.
    await page.waitForFunction(() => {
      const el = document.querySelector('main header [role="status"]');
      const rect = el?.getBoundingClientRect();
      return (el?.textContent ?? "") === "" && !(rect && rect.width > 0);
    });
    expect(await headerStatus(page)).toMatchObject({ text: "", shown: false });
  });

  it("says 'Reconnecting…' while the server cannot be reached and no answer streams, and nothing once it is back", async () => {
    for (const opened of ["a new chat", "a finished answer"] as const) {
      const page = opened === "a new chat" ? await e2e.openApp() : await e2e.openConversation("Hello while all is well");
      await page.waitForFunction(() => document.querySelector('main header [role="status"]')?.getAttribute("data-state") !== "connecting");
      expect(await headerStatus(page)).toMatchObject({ text: "", shown: false });

      // The server out of reach: every request to it refused, its open connections (the feed's stream) dropped.
      await page.route("**/trpc/**", (route) => route.abort("connectionrefused"));
      e2e.server.app.server.closeAllConnections();
      await page.waitForFunction(() => document.querySelector('main header [role="status"]')?.textContent === "Reconnecting…");
      expect(await headerStatus(page)).toEqual({ text: "Reconnecting…", state: "reconnecting", shown: true });

      await page.unroute("**/trpc/**");
      await page.waitForFunction(() => document.querySelector('main header [role="status"]')?.textContent === "", null, { timeout: 20_000 });
      expect(await headerStatus(page)).toMatchObject({ text: "", shown: false });
      await page.context().close();
    }
  });

  it("follows each new answer with one subscription and no 'Reconnecting…', in a new chat and in one already open", async () => {
    const page = await e2e.openApp();
    const statusesSeen = await recordHeaderStatuses(page);
    // Nor does the new chat's pane say it is loading the conversation it shows already.
    await page.evaluate(() => {
      const w = window as unknown as { __loadingShown: boolean };
      w.__loadingShown = false;
      new MutationObserver(() => {
        if (document.querySelector('[data-testid="messages"]')?.textContent?.includes("Loading conversation")) w.__loadingShown = true;
      }).observe(document.body, { subtree: true, childList: true, characterData: true });
    });
    const subscriptions: string[] = [];
    page.on("request", (request) => {
      if (request.url().includes("/trpc/chat.events")) subscriptions.push(decodeURIComponent(request.url()));
    });
    for (const [turn, marker] of ["first-answer-follow", "second-answer-follow"].entries()) {
      const stream = e2e.sim.control({ lastUserIncludes: marker });
      await send(page, `Tell me ${marker}`);
      await stream.connected;
      await stream.push({ content: `Answer ${turn + 1},` });
      await waitForAnswerText(page, `Answer ${turn + 1},`);
      await stream.push({ content: " done." });
      await stream.push({ done: true });
      await waitForAnswerState(page, "stop");
    }
    const statuses = await statusesSeen();
    expect(statuses.filter((s) => s.startsWith("reconnecting"))).toEqual([]);
    expect(await page.evaluate(() => (window as unknown as { __loadingShown: boolean }).__loadingShown)).toBe(false);
    // One subscription per answer: none was dropped and taken up again.
    const runs = subscriptions.map((url) => /"runId":"([^"]+)"/.exec(url)?.[1]);
    expect(runs).toHaveLength(2);
    expect(new Set(runs).size).toBe(2);
  });

  it("says 'Offline — retrying' while the browser is offline, and nothing once it is back", async () => {
    for (const look of [desktop, mobile, dark]) {
      const page = await e2e.openApp(look);
      expect(await headerStatus(page)).toMatchObject({ text: "", shown: false });
      await page.context().setOffline(true);
      await page.waitForFunction(() => document.querySelector('main header [role="status"]')?.textContent === "Offline — retrying");
      const status = await headerStatus(page);
      expect(status.shown).toBe(true);
      // It fits the header on a phone: one line, inside the viewport.
      const rect = await box(page.locator('main header [role="status"]'));
      expect(rect.height).toBeLessThan(30);
      expect(rect.x + rect.width).toBeLessThanOrEqual(look.viewport.width);
      await page.context().setOffline(false);
      await page.waitForFunction(() => document.querySelector('main header [role="status"]')?.textContent === "");
    }
  });

  it("resumes a conversation opened again from the last event it has, not from the start", async () => {
    const page = await e2e.openApp();
    const subscriptions: string[] = [];
    page.on("request", (request) => {
      if (request.url().includes("/trpc/chat.events")) subscriptions.push(decodeURIComponent(request.url()));
    });
    const stream = e2e.sim.control({ lastUserIncludes: "come-back" });
    await send(page, "Tell me something come-back");
    await stream.connected;
    const conversationId = await conversationIdOf(page);
    await stream.push({ content: "Part one." });
    await waitForAnswerText(page, "Part one.");

    await page.getByRole("button", { name: "New chat" }).first().click(); // leaves the conversation mid-answer
    await page.waitForFunction(() => location.hash === "#/");
    await stream.push({ content: " Part two." });

    await page.locator('[data-testid="conversation-item"] button', { hasText: "Tell me something come-back" }).click();
    await waitForAnswerText(page, "Part one. Part two.");
    await stream.push({ done: true });
    await waitForAnswerState(page, "stop");
    expect(await answerText(page)).toBe("Part one. Part two.");
    expect(await conversationIdOf(page)).toBe(conversationId);

    expect(subscriptions.length).toBe(2);
    expect(subscriptions[0]).not.toMatch(/"lastEventId":"\d+"/);
    expect(subscriptions[1]).toMatch(/"lastEventId":"[1-9]\d*"/);
  });

  it("shows a mid-stream model error with its human message, and Retry answers again", async () => {
    const page = await e2e.openApp();
    await send(page, "Please answer [sim:error-mid-stream]");
    const error = lastAnswer(page).locator('[data-testid="run-error"]');
    await error.waitFor();
    const errorText = (await error.textContent()) ?? "";
    expect(errorText).toContain(errorCodeMessages.provider_error);
    expect(errorText).toContain("an error was encountered while running the model");
    expect(await lastAnswer(page).getAttribute("data-state")).toBe("error");

    // After a reload the error's code and message come with the conversation (conversations.get runs[]);
    // the finished run is not replayed.
    const subscriptions: string[] = [];
    page.on("request", (request) => {
      if (request.url().includes("/trpc/chat.events")) subscriptions.push(request.url());
    });
    await page.reload();
    await error.waitFor();
    expect(await error.textContent()).toBe(errorText);
    expect(subscriptions).toEqual([]);

    // The model recovers: the next request for this message streams normally.
    e2e.sim.addScenario({
      name: "recovered",
      match: { lastUserIncludes: "[sim:error-mid-stream]" },
      chunks: [{ content: "Recovered " }, { content: "answer." }, { done: true }],
    });
    await error.getByRole("button", { name: "Retry" }).click();
    await page.waitForFunction(() => {
      const all = document.querySelectorAll('[data-testid="assistant-message"]');
      const last = all[all.length - 1];
      return last?.getAttribute("data-state") === "stop" && last.textContent?.includes("Recovered answer.");
    });
    expect(await page.locator('[data-testid="run-error"]').count()).toBe(0);
    expect(await answers(page).count()).toBe(1);
    e2e.sim.clearScenarios();
  });

  it("treats a stream that ends without done as a dropped connection and resumes from the last event", async () => {
    const page = await e2e.openConversation("Hello first-of-resume");
    const asked: Array<string | null> = [];
    await page.route(/\/trpc\/chat\.events/, async (route) => {
      asked.push(lastEventIdOf(route.request().url()));
      if (asked.length > 1) return route.continue();
      // The first stream ends cleanly after 8 events, as a server does when it loses a run or drops a reader.
      const response = await route.fetch();
      await route.fulfill({ response, body: endWithoutDone(await response.text(), 8) });
    });
    await send(page, "Explain TypeScript in one sentence (resume-after-early-end)");
    await waitForAnswerState(page, "stop");
    expect(asked).toEqual([null, "8"]);
    const stored = await e2e.getConversation(await conversationIdOf(page));
    expect(normalize(await answerText(page))).toBe(normalize(stored.messages.at(-1)?.content ?? ""));
    expect(await page.locator('[data-testid="action-error"]').count()).toBe(0);
  });

  it("stops waiting after a few early ends: the answer is marked disconnected and Retry continues it", async () => {
    const page = await e2e.openConversation("Hello first-of-give-up");
    const asked: Array<string | null> = [];
    let cut = true;
    await page.route(/\/trpc\/chat\.events/, async (route) => {
      asked.push(lastEventIdOf(route.request().url()));
      if (!cut) return route.continue();
      const response = await route.fetch();
      await route.fulfill({ response, body: endWithoutDone(await response.text(), 8) });
    });
    await send(page, "Explain TypeScript in one sentence (give-up-after-early-ends)");
    const error = page.locator('[data-testid="action-error"]');
    await error.waitFor();
    expect(await error.textContent()).toContain("The answer stopped arriving before it finished.");
    await waitForAnswerState(page, "disconnected");
    expect(await lastAnswer(page).locator('[data-testid="disconnected"]').count()).toBe(1);
    expect(await headerStatus(page)).toMatchObject({ state: "lost", text: "Connection lost", shown: true });
    // one stream, then a bounded number of resumes from the last event the page has
    expect(asked).toEqual([null, "8", "8", "8"]);

    cut = false;
    await error.getByRole("button", { name: "Retry" }).click();
    await waitForAnswerState(page, "stop");
    expect(asked.at(-1)).toBe("8");
    expect(await error.count()).toBe(0);
    const stored = await e2e.getConversation(await conversationIdOf(page));
    expect(normalize(await answerText(page))).toBe(normalize(stored.messages.at(-1)?.content ?? ""));
  });
});
