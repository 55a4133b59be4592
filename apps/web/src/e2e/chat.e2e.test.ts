import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildServer, loadConfig, type ApiServer } from "@streamchat/api";
import { errorCodeMessages } from "@streamchat/core";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { chromiumAvailable, launchChromium } from "./browser.js";

const webRoot = fileURLToPath(new URL("../..", import.meta.url));
const artifacts = join(webRoot, "test-artifacts");
const runBrowserTests = chromiumAvailable();

let server: ApiServer;
let baseUrl: string;
let browser: Browser;
let tmp: string;
const contexts: BrowserContext[] = [];
const pageErrors: string[] = [];

beforeAll(async () => {
  if (!runBrowserTests) return;
  tmp = mkdtempSync(join(tmpdir(), "streamchat-web-e2e-"));
  mkdirSync(artifacts, { recursive: true });
  const config = loadConfig({
    CHAT_PROVIDER: "sim",
    HOST: "127.0.0.1",
    PORT: "0",
    DATABASE_PATH: join(tmp, "chat.db"),
    LOG_LEVEL: "silent",
  });
  server = await buildServer({
    config,
    logger: false,
    simulator: { tokenDelayMs: 30 },
    webDistDir: join(webRoot, "dist"),
  });
  baseUrl = await server.listen();
  browser = await launchChromium();
});

afterEach(async () => {
  await Promise.all(contexts.splice(0).map((c) => c.close()));
  const errors = pageErrors.splice(0);
  expect(errors, "uncaught errors in the page").toEqual([]);
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

// ---- helpers ---------------------------------------------------------------------------------

async function openApp(viewport = { width: 1280, height: 860 }, mobile = false): Promise<Page> {
  const context = await browser.newContext({ viewport, colorScheme: "light", isMobile: mobile, hasTouch: mobile });
  contexts.push(context);
  const page = await context.newPage();
  page.on("pageerror", (error) => pageErrors.push(error.message));
  await page.goto(baseUrl + "/");
  await page.locator("#composer-input").waitFor();
  return page;
}

async function send(page: Page, text: string): Promise<void> {
  await page.fill("#composer-input", text);
  await page.press("#composer-input", "Enter");
}

const lastAnswer = (page: Page) => page.locator('[data-testid="assistant-message"]').last();

/** The rendered text of the last answer ("" before the first token). */
function answerText(page: Page): Promise<string> {
  return page.evaluate(() => {
    const answers = document.querySelectorAll('[data-testid="assistant-message"]');
    return answers[answers.length - 1]?.querySelector('[data-testid="answer-text"] .markdown')?.textContent ?? "";
  });
}

async function waitForAnswerText(page: Page, text: string): Promise<void> {
  await page.waitForFunction((expected) => {
    const answers = document.querySelectorAll('[data-testid="assistant-message"]');
    return answers[answers.length - 1]?.querySelector('[data-testid="answer-text"] .markdown')?.textContent === expected;
  }, text);
}

async function waitForAnswerState(page: Page, state: string): Promise<void> {
  await page.waitForFunction((s) => {
    const answers = document.querySelectorAll('[data-testid="assistant-message"]');
    return answers[answers.length - 1]?.getAttribute("data-state") === s;
  }, state);
}

async function conversationIdOf(page: Page): Promise<string> {
  await page.waitForFunction(() => /^#\/c\/.+/.test(location.hash));
  return decodeURIComponent(new URL(page.url()).hash.slice("#/c/".length));
}

interface ConversationDetail {
  activeRunId: string | null;
  messages: Array<{ role: string; content: string; runId: string | null }>;
}

/** conversations.get over plain tRPC HTTP, as any client would call it. */
async function getConversation(conversationId: string): Promise<ConversationDetail> {
  const input = encodeURIComponent(JSON.stringify({ conversationId }));
  const response = await fetch(`${baseUrl}/trpc/conversations.get?input=${input}`);
  expect(response.status).toBe(200);
  const body = (await response.json()) as { result: { data: ConversationDetail } };
  return body.result.data;
}

const normalize = (text: string) => text.replace(/\s+/g, " ").trim();

/** A page with one finished exchange open, so the next answer streams in the same pane. */
async function openConversation(firstMessage: string): Promise<Page> {
  const page = await openApp();
  await send(page, firstMessage);
  await waitForAnswerState(page, "stop");
  await conversationIdOf(page);
  return page;
}

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

const onePixelPng =
  "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";

/** Samples the last answer's length until it reaches `atLeast` characters; returns every sample. */
async function sampleGrowth(page: Page, atLeast: number): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < 600; i++) {
    const length = (await answerText(page)).length;
    samples.push(length);
    if (length >= atLeast) return samples;
    await page.waitForTimeout(30);
  }
  throw new Error(`answer never reached ${atLeast} characters; samples: ${samples.join(",")}`);
}

function distinctGrowth(samples: number[]): number[] {
  return samples.filter((n, i) => n > 0 && n !== samples[i - 1]);
}

// ---- scenarios -------------------------------------------------------------------------------

describe.skipIf(!runBrowserTests)("web app in Chromium against the real API and the simulator", () => {
  it("streams an answer token by token: status first, then strictly growing text, TTFT as soon as it starts", async () => {
    const page = await openApp();
    const stream = server.sim!.control({ lastUserIncludes: "controlled-stream" });
    await send(page, "Say hello (controlled-stream)");
    await stream.connected;

    const status = page.locator('[data-testid="status-line"]');
    await status.waitFor();
    expect(await status.textContent()).toContain("Processing your question…");
    expect(await answerText(page)).toBe("");

    // Reasoning goes into a collapsed <details>, apart from the answer.
    await stream.push({ thinking: "The user greets me; greet back." });
    const reasoning = lastAnswer(page).locator("details.reasoning");
    await reasoning.waitFor();
    expect(await reasoning.evaluate((d) => (d as HTMLDetailsElement).open)).toBe(false);
    expect(await reasoning.locator(".reasoning__text").textContent()).toBe("The user greets me; greet back.");
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
        // Live TTFT shows while the answer is still streaming.
        expect(await lastAnswer(page).getAttribute("data-state")).toBe("streaming");
        expect(await lastAnswer(page).locator('[data-testid="metrics"]').textContent()).toMatch(/TTFT\s*\d/);
        expect(await status.count()).toBe(0);
      }
    }
    for (let i = 1; i < lengths.length; i++) expect(lengths[i]!).toBeGreaterThan(lengths[i - 1]!);

    await stream.push({ done: true });
    await waitForAnswerState(page, "stop");
    expect(await answerText(page)).toBe("Hello there, this answer arrives in pieces.");
    expect(await page.locator('[data-testid="connection"]').getAttribute("data-state")).toBe("caught-up");
    // The conversation is in the URL, so a reload returns to it.
    const conversationId = await conversationIdOf(page);
    const stored = await getConversation(conversationId);
    expect(stored.messages.filter((m) => m.role === "assistant").at(-1)?.content).toBe(expected);
  });

  it("commits buffered events at once when a hidden tab (no animation frames) becomes visible", async () => {
    const page = await openApp();
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

    const stream = server.sim!.control({ lastUserIncludes: "hide-me" });
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

  it("shows a tool card with arguments, result and duration for the time in Tokyo", async () => {
    const page = await openApp();
    await send(page, "What time is it in Tokyo?");
    await waitForAnswerState(page, "stop");

    const card = lastAnswer(page).locator('[data-testid="tool-card"][data-tool="current_time"]');
    await card.waitFor();
    expect(await card.getAttribute("class")).toContain("tool-card--ok");
    const cardText = (await card.textContent()) ?? "";
    expect(cardText).toContain("Asia/Tokyo");
    expect(cardText).toMatch(/\d+(\.\d+)? (ms|s)/);
    expect(await card.locator('[data-testid="tool-result"]').textContent()).toContain("Asia/Tokyo");
    expect(await answerText(page)).toContain("Tokyo");

    await page.screenshot({ path: join(artifacts, "chat.png"), fullPage: false });

    // After a reload the card still shows how long the tool took: conversations.get carries it.
    await page.reload();
    await card.waitFor();
    expect(await card.getAttribute("class")).toContain("tool-card--ok");
    expect((await card.textContent()) ?? "").toMatch(/\d+(\.\d+)? (ms|s)/);
  });

  it("stops mid-answer: keeps the partial text, marks it stopped, and closes the model connection", async () => {
    const page = await openApp();
    await send(page, "Write a long answer about oceans");
    const samples = await sampleGrowth(page, 60);
    const growth = distinctGrowth(samples);
    expect(growth.length, `samples: ${samples.join(",")}`).toBeGreaterThanOrEqual(2);
    for (let i = 1; i < growth.length; i++) expect(growth[i]!).toBeGreaterThan(growth[i - 1]!);

    await page.getByRole("button", { name: "Stop" }).click();
    await waitForAnswerState(page, "cancelled");
    await lastAnswer(page).locator('[data-testid="stopped"]').waitFor();
    const partial = await answerText(page);
    expect(partial.length).toBeGreaterThanOrEqual(60);

    const request = server.sim!.chatRequests().find((r) => JSON.stringify(r.body).includes("long answer about oceans"));
    expect(request).toBeDefined();
    await request!.finished;
    expect(request!.clientClosedEarly).toBe(true);

    // What the page kept is what the server stored.
    const stored = await getConversation(await conversationIdOf(page));
    const storedAnswer = stored.messages.filter((m) => m.role === "assistant").at(-1)?.content ?? "";
    expect(normalize(partial)).toBe(normalize(storedAnswer));
    expect(storedAnswer.length).toBeLessThan(900); // the full answer is ~200 words
  });

  it("resumes after a reload mid-answer without duplicated or missing text", async () => {
    const page = await openApp();
    const stream = server.sim!.control({ lastUserIncludes: "reload-me" });
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
    const detail = await getConversation(conversationId);
    expect(detail.activeRunId).toBeNull();
    expect(detail.messages.filter((m) => m.role === "assistant").at(-1)?.content).toBe(expected);
    expect(await page.locator('[data-testid="assistant-message"]').count()).toBe(1);
  });

  it("reconnects after the connection drops mid-answer and resumes from the last event it has", async () => {
    const page = await openApp();
    // Record every connection state the badge shows (the reconnect can be brief).
    await page.evaluate(() => {
      const seen: string[] = [];
      (window as unknown as { __connectionStates: string[] }).__connectionStates = seen;
      new MutationObserver(() => {
        const state = document.querySelector('[data-testid="connection"]')?.getAttribute("data-state");
        if (state && seen.at(-1) !== state) seen.push(state);
      }).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ["data-state"] });
    });
    const stream = server.sim!.control({ lastUserIncludes: "drop-me" });
    await send(page, "Tell me a story drop-me");
    await stream.connected;
    await stream.push({ content: "Before" });
    await stream.push({ content: " the drop," });
    await waitForAnswerText(page, "Before the drop,");

    // Drop every HTTP connection of the API (the SSE stream included); the run itself goes on,
    // and what it produces meanwhile is replayed after the reconnect.
    server.app.server.closeAllConnections();
    await stream.push({ content: " during it," });
    await stream.push({ content: " and after." });
    await stream.push({ done: true });
    await waitForAnswerState(page, "stop");

    expect(await answerText(page)).toBe("Before the drop, during it, and after.");
    const states = await page.evaluate(() => (window as unknown as { __connectionStates: string[] }).__connectionStates);
    expect(states).toContain("live");
    expect(states.slice(states.indexOf("live"))).toContain("reconnecting");
    expect(states.at(-1)).toBe("caught-up");
  });

  it("resumes a conversation opened again from the last event it has, not from the start", async () => {
    const page = await openApp();
    const subscriptions: string[] = [];
    page.on("request", (request) => {
      if (request.url().includes("/trpc/chat.events")) subscriptions.push(decodeURIComponent(request.url()));
    });
    const stream = server.sim!.control({ lastUserIncludes: "come-back" });
    await send(page, "Tell me something come-back");
    await stream.connected;
    const conversationId = await conversationIdOf(page);
    await stream.push({ content: "Part one." });
    await waitForAnswerText(page, "Part one.");

    await page.getByRole("button", { name: "New chat" }).click(); // leaves the conversation mid-answer
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
    const page = await openApp();
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
    server.sim!.addScenario({
      name: "recovered",
      match: { lastUserIncludes: "[sim:error-mid-stream]" },
      chunks: [{ content: "Recovered " }, { content: "answer." }, { done: true }],
    });
    await error.getByRole("button", { name: "Retry" }).click();
    await page.waitForFunction(() => {
      const answers = document.querySelectorAll('[data-testid="assistant-message"]');
      const last = answers[answers.length - 1];
      return last?.getAttribute("data-state") === "stop" && last.textContent?.includes("Recovered answer.");
    });
    expect(await page.locator('[data-testid="run-error"]').count()).toBe(0);
    expect(await page.locator('[data-testid="assistant-message"]').count()).toBe(1);
    server.sim!.clearScenarios();
  });

  it("treats a stream that ends without done as a dropped connection and resumes from the last event", async () => {
    const page = await openConversation("Hello first-of-resume");
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
    const stored = await getConversation(await conversationIdOf(page));
    expect(normalize(await answerText(page))).toBe(normalize(stored.messages.at(-1)?.content ?? ""));
    expect(await page.locator('[data-testid="action-error"]').count()).toBe(0);
  });

  it("stops waiting after a few early ends: the answer is marked disconnected and Retry continues it", async () => {
    const page = await openConversation("Hello first-of-give-up");
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
    expect(await page.locator('[data-testid="connection"]').getAttribute("data-state")).toBe("error");
    // one stream, then a bounded number of resumes from the last event the page has
    expect(asked).toEqual([null, "8", "8", "8"]);

    cut = false;
    await error.getByRole("button", { name: "Retry" }).click();
    await waitForAnswerState(page, "stop");
    expect(asked.at(-1)).toBe("8");
    expect(await error.count()).toBe(0);
    const stored = await getConversation(await conversationIdOf(page));
    expect(normalize(await answerText(page))).toBe(normalize(stored.messages.at(-1)?.content ?? ""));
  });

  it("renders model HTML and javascript: links inertly", async () => {
    const page = await openApp();
    await send(page, "Show me some markup [sim:html]");
    await waitForAnswerState(page, "stop");
    expect(await answerText(page)).toContain("A safe renderer");
    expect(await page.evaluate(() => (window as unknown as { __xss?: unknown }).__xss)).toBeUndefined();
    expect(await page.locator('a[href^="javascript" i]').count()).toBe(0);
    expect(await page.locator('[data-testid="messages"] img').count()).toBe(0);
    // The link text is still shown; only its target is gone.
    const link = lastAnswer(page).getByText("click");
    expect(await link.count()).toBeGreaterThan(0);
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
      const page = await openApp();
      const stream = server.sim!.control({ lastUserIncludes: "remote-image" });
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
    const page = await openApp();
    await page.context().grantPermissions(["clipboard-read", "clipboard-write"], { origin: baseUrl });
    await send(page, "Write code in typescript that greets");
    await waitForAnswerState(page, "stop");

    const block = lastAnswer(page).locator(".code-block");
    await block.waitFor();
    expect(await block.locator(".code-block__lang").textContent()).toBe("ts");
    expect(await block.locator("code.hljs .hljs-keyword").count()).toBeGreaterThan(0);
    const code = (await block.locator("pre").textContent()) ?? "";
    expect(code).toContain("export function greet");

    await block.getByRole("button", { name: "Copy code" }).click();
    await block.getByRole("button", { name: "Copy code" }).filter({ hasText: "Copied" }).waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(code.replace(/\n$/, ""));

    // Every button has an accessible name (keyboard and screen-reader users need one).
    const unnamed = await page.evaluate(() =>
      [...document.querySelectorAll("button")].filter((b) => !(b.getAttribute("aria-label") ?? b.textContent ?? "").trim()).length,
    );
    expect(unnamed).toBe(0);
  });

  it("queues a message typed while a reply streams and sends it when the reply ends", async () => {
    const page = await openApp();
    const stream = server.sim!.control({ lastUserIncludes: "first-of-two" });
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

  it("regenerates the last answer and edits a question, replacing what followed", async () => {
    const page = await openApp();
    await send(page, "Hello there");
    await waitForAnswerState(page, "stop");
    const firstRun = await lastAnswer(page).getAttribute("data-run-id");

    await lastAnswer(page).getByRole("button", { name: "Regenerate" }).click();
    await page.waitForFunction((old) => {
      const answers = document.querySelectorAll('[data-testid="assistant-message"]');
      const last = answers[answers.length - 1];
      return answers.length === 1 && last?.getAttribute("data-run-id") !== old && last?.getAttribute("data-state") === "stop";
    }, firstRun);

    await page.locator('[data-testid="user-message"]').first().hover();
    await page.getByRole("button", { name: "Edit" }).click();
    await page.fill("#edit-message", "What is 12*7?");
    await page.getByRole("button", { name: "Save & send" }).click();
    await page.waitForFunction(() => {
      const answers = document.querySelectorAll('[data-testid="assistant-message"]');
      return answers.length === 1 && answers[0]?.getAttribute("data-state") === "stop" && answers[0].textContent?.includes("84");
    });
    const users = await page.locator('[data-testid="user-message"] .message__bubble').allTextContents();
    expect(users).toEqual(["What is 12*7?"]);
    const stored = await getConversation(await conversationIdOf(page));
    expect(stored.messages.filter((m) => m.role === "user").map((m) => m.content)).toEqual(["What is 12*7?"]);
  });

  it("lists, renames and deletes conversations in the sidebar", async () => {
    const page = await openApp();
    await send(page, "Hello sidebar");
    await waitForAnswerState(page, "stop");
    const conversationId = await conversationIdOf(page);
    const item = page.locator('[data-testid="conversation-item"]:has([aria-current="page"])');
    await item.waitFor();

    await item.hover();
    await item.getByRole("button", { name: /^Rename/ }).click();
    await page.fill('input[aria-label="Conversation title"]', "Renamed chat");
    await page.press('input[aria-label="Conversation title"]', "Enter");
    await page.locator('[data-testid="conversation-item"]', { hasText: "Renamed chat" }).waitFor();
    await page.locator(".chat__title", { hasText: "Renamed chat" }).waitFor();

    const renamed = page.locator('[data-testid="conversation-item"]', { hasText: "Renamed chat" });
    await renamed.hover();
    await renamed.getByRole("button", { name: /^Delete/ }).click();
    await renamed.getByRole("button", { name: "Delete", exact: true }).click();
    await renamed.waitFor({ state: "detached" });
    await page.waitForFunction(() => location.hash === "#/");
    const input = encodeURIComponent(JSON.stringify({ conversationId }));
    expect((await fetch(`${baseUrl}/trpc/conversations.get?input=${input}`)).status).toBe(404);
  });

  it("shows the demo badge and model capabilities", async () => {
    const page = await openApp();
    await page.locator('[data-testid="demo-badge"]').first().waitFor();
    const options = await page.locator("#model-select option").allTextContents();
    expect(options.some((o) => o.startsWith("demo"))).toBe(true);
    expect(await page.locator(".model-picker .badge--on", { hasText: "tools" }).count()).toBe(1);
    expect(await page.locator('[data-testid="tools-off-note"]').count()).toBe(0);

    // A model without tool support says so in words, in the list and under it; it cannot think either,
    // so the Think toggle is not offered.
    expect(options.find((o) => o.startsWith("gemma3"))).toContain("no tools");
    expect(options.find((o) => o.startsWith("qwen3"))).not.toContain("no tools");
    await page.selectOption("#model-select", "gemma3");
    const note = page.locator('[data-testid="tools-off-note"]');
    await note.waitFor();
    expect(await note.textContent()).toContain("Tools are off for gemma3");
    expect(await page.locator(".model-picker .badge--off", { hasText: "tools" }).count()).toBe(1);
    await page.locator('[data-testid="think-toggle"]').waitFor({ state: "detached" });

    // The picked model is the one that answers.
    await page.selectOption("#model-select", "qwen3");
    await send(page, "Hello from the picker");
    await waitForAnswerState(page, "stop");
    expect(await lastAnswer(page).locator('[data-testid="metrics"]').textContent()).toContain("qwen3");
  });

  it("asks for the API token when the server requires one, then streams with it", async () => {
    const authed = await buildServer({
      config: loadConfig({
        CHAT_PROVIDER: "sim",
        HOST: "127.0.0.1",
        PORT: "0",
        DATABASE_PATH: ":memory:",
        AUTH_TOKENS: "alice:alice-secret-token",
        LOG_LEVEL: "silent",
      }),
      logger: false,
      simulator: { tokenDelayMs: 5 },
      webDistDir: join(webRoot, "dist"),
    });
    try {
      const authedUrl = await authed.listen();
      const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
      contexts.push(context);
      const page = await context.newPage();
      page.on("pageerror", (error) => pageErrors.push(error.message));
      await page.goto(authedUrl + "/");

      await page.locator('[data-testid="auth-banner"]').waitFor();
      await page.getByRole("button", { name: "Enter token" }).click();
      await page.waitForFunction(() => document.activeElement?.id === "api-token");
      await page.keyboard.type("alice-secret-token");
      await page.keyboard.press("Enter");
      await page.locator('[data-testid="auth-banner"]').waitFor({ state: "detached" });

      // chat.send carries the token as a Bearer header, the SSE subscription as connectionParams.
      await send(page, "Hello with a token");
      await waitForAnswerState(page, "stop");
      expect(await answerText(page)).toContain("demo");
    } finally {
      await authed.close();
    }
  });

  it("thinks on request: the Think toggle (thinking models only, remembered) streams reasoning", async () => {
    const page = await openApp();
    const toggle = page.locator('[data-testid="think-toggle"]');
    // The default model (demo) can think.
    await toggle.waitFor();
    expect(await toggle.getAttribute("aria-pressed")).toBe("false");
    await toggle.click();
    expect(await toggle.getAttribute("aria-pressed")).toBe("true");

    await send(page, "Explain server-sent events in a short list");
    await waitForAnswerState(page, "stop");
    const reasoning = lastAnswer(page).locator("details.reasoning");
    await reasoning.waitFor();
    expect(((await reasoning.locator(".reasoning__text").textContent()) ?? "").length).toBeGreaterThan(10);
    // The chip gets what it asks for: a short list about server-sent events.
    expect(await lastAnswer(page).locator(".markdown li").count()).toBeGreaterThanOrEqual(3);
    expect(await answerText(page)).toContain("Last-Event-ID");
    const request = server.sim!.chatRequests().at(-1)?.body as { think?: unknown };
    expect(request.think).toBe(true);

    // Remembered across reloads; a model without the thinking capability disables it.
    await page.reload();
    await page.waitForFunction(() => document.querySelector('[data-testid="think-toggle"]')?.getAttribute("aria-pressed") === "true");
    await page.selectOption("#model-select", "llama3.2");
    await toggle.waitFor({ state: "detached" });
    await page.getByRole("button", { name: "New chat" }).click();
    await send(page, "Hello without thinking");
    await waitForAnswerState(page, "stop");
    expect(server.sim!.chatRequests().at(-1)?.body).not.toHaveProperty("think");
    expect(await lastAnswer(page).locator("details.reasoning").count()).toBe(0);
    // Back on a thinking model the toggle returns, still on.
    await page.selectOption("#model-select", "qwen3");
    await page.waitForFunction(() => document.querySelector('[data-testid="think-toggle"]')?.getAttribute("aria-pressed") === "true");
    await page.evaluate(() => localStorage.clear());
  });

  it("keeps a queued message when the user switches conversations, and sends it when the reply ends", async () => {
    const page = await openApp();
    const stream = server.sim!.control({ lastUserIncludes: "leave-while-queued" });
    await send(page, "Answer me leave-while-queued");
    await stream.connected;
    const conversationId = await conversationIdOf(page);
    await stream.push({ content: "Working on it." });
    await waitForAnswerText(page, "Working on it.");
    await send(page, "Queued follow-up");
    await page.locator('[data-testid="queued-message"]').waitFor();

    // Leave for a new chat, then the reply ends while the user is elsewhere.
    await page.getByRole("button", { name: "New chat" }).click();
    await page.waitForFunction(() => location.hash === "#/");
    expect(await page.locator('[data-testid="queued-message"]').count()).toBe(0);
    await stream.push({ done: true });

    // The queued message went to its own conversation, and was answered there.
    await expect
      .poll(async () => {
        const stored = await getConversation(conversationId);
        return stored.activeRunId === null ? stored.messages.map((m) => `${m.role}:${m.role === "user" ? m.content : ""}`) : [];
      }, { timeout: 20_000 })
      .toEqual(["user:Answer me leave-while-queued", "assistant:", "user:Queued follow-up", "assistant:"]);

    await page.locator('[data-testid="conversation-item"] button', { hasText: "Answer me leave-while-queued" }).click();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="assistant-message"]').length === 2);
    await waitForAnswerState(page, "stop");
    expect(await page.locator('[data-testid="queued-message"]').count()).toBe(0);
    const users = await page.locator('[data-testid="user-message"] .message__bubble').allTextContents();
    expect(users).toEqual(["Answer me leave-while-queued", "Queued follow-up"]);
  });

  it("keeps a queued message with its conversation while the reply is still running elsewhere", async () => {
    const page = await openApp();
    const stream = server.sim!.control({ lastUserIncludes: "come-back-queued" });
    await send(page, "Answer me come-back-queued");
    await stream.connected;
    await stream.push({ content: "Still going." });
    await waitForAnswerText(page, "Still going.");
    await send(page, "Kept for later");
    await page.locator('[data-testid="queued-message"]').waitFor();

    await page.getByRole("button", { name: "New chat" }).click();
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

  it("is usable at 375 px: no horizontal overflow, the sidebar behind a toggle", async () => {
    const page = await openApp({ width: 375, height: 740 }, true);
    await send(page, "Explain server-sent events in a short list");
    await waitForAnswerState(page, "stop");
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
    expect(await page.locator("#sidebar").isVisible()).toBe(false);
    await page.screenshot({ path: join(artifacts, "chat-mobile.png") });

    await page.getByRole("button", { name: "Show conversations" }).click();
    await page.locator("#sidebar").waitFor({ state: "visible" });
    await page.waitForTimeout(300); // the drawer's slide-in transition, for the screenshot only
    await page.screenshot({ path: join(artifacts, "chat-mobile-sidebar.png") });

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
