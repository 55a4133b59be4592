import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildServer, loadConfig, type ApiServer } from "@streamchat/api";
import type { Browser, BrowserContext, Locator, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, expect } from "vitest";
import { chromiumAvailable, launchChromium } from "./browser.js";

export const webRoot = fileURLToPath(new URL("../..", import.meta.url));
const repoRoot = fileURLToPath(new URL("../../../..", import.meta.url));
export const artifacts = join(webRoot, "test-artifacts");
export const runBrowserTests = chromiumAvailable();

/** The sizes and themes every area is checked in. */
export const desktop = { name: "desktop", viewport: { width: 1280, height: 800 }, mobile: false, colorScheme: "light" } as const;
export const mobile = { name: "mobile", viewport: { width: 390, height: 844 }, mobile: true, colorScheme: "light" } as const;
export const dark = { name: "dark", viewport: { width: 1280, height: 800 }, mobile: false, colorScheme: "dark" } as const;
export type Look = { name: string; viewport: { width: number; height: number }; mobile: boolean; colorScheme: "light" | "dark" };
export const looks: Look[] = [desktop, mobile, dark];

export type ApiEnv = Record<string, string>;

/**
 * The simulator's delay between word-sized tokens in the browser tests. Short, because a test that acts while an
 * answer streams must hold it open with `sim.control()` and push the tokens itself (a paced answer finishes sooner on
 * an idle machine than on a loaded one); every other test only waits for its answers to end, and a demo answer of
 * 35–110 words took 1–4 s at a chat-like 30 ms, the largest part of the suite's time on the 2-core CI machine.
 * A file that wants a chat's pace (screenshots.e2e.test.ts: "Thought for N s" in the pictures) passes its own.
 */
export const e2eTokenDelayMs = 5;

/**
 * One real API (in-process, the simulator as the model, a temp SQLite file) serving the built web app, and one
 * Chromium, for the test file that calls this at its top level. Every page error fails the test it happened in.
 */
export function useE2E(opts: { env?: ApiEnv; tokenDelayMs?: number } = {}) {
  let server: ApiServer;
  let baseUrl = "";
  let browser: Browser;
  let tmp = "";
  const contexts: BrowserContext[] = [];
  const pageErrors: string[] = [];

  beforeAll(async () => {
    if (!runBrowserTests) return;
    tmp = mkdtempSync(join(tmpdir(), "streamchat-web-e2e-"));
    mkdirSync(artifacts, { recursive: true });
    server = await startApi({ DATABASE_PATH: join(tmp, "chat.db"), ...opts.env }, opts.tokenDelayMs ?? e2eTokenDelayMs);
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

  async function newPage(look: Look = desktop, url = baseUrl): Promise<Page> {
    const context = await browser.newContext({
      viewport: look.viewport,
      colorScheme: look.colorScheme,
      isMobile: look.mobile,
      hasTouch: look.mobile,
    });
    contexts.push(context);
    const page = await context.newPage();
    page.on("pageerror", (error) => pageErrors.push(error.message));
    await page.goto(url + "/");
    return page;
  }

  return {
    get server() {
      return server;
    },
    get sim() {
      return server.sim!;
    },
    get baseUrl() {
      return baseUrl;
    },
    get browser() {
      return browser;
    },
    trackContext: (context: BrowserContext) => contexts.push(context),
    onPageError: (message: string) => pageErrors.push(message),
    /** Two tabs of one browser profile (one cookie jar, one connection pool), both on the app, ready to type into. */
    async twoTabs(look: Look = desktop): Promise<[Page, Page, BrowserContext]> {
      const context = await browser.newContext({ viewport: look.viewport, isMobile: look.mobile, hasTouch: look.mobile });
      contexts.push(context);
      const open = async () => {
        const page = await context.newPage();
        page.on("pageerror", (error) => pageErrors.push(error.message));
        await page.goto(baseUrl + "/");
        await page.locator("#composer-input").waitFor();
        return page;
      };
      return [await open(), await open(), context];
    },
    /** The app at `look`'s size and theme, ready to type into. */
    async openApp(look: Look = desktop): Promise<Page> {
      const page = await newPage(look);
      await page.locator("#composer-input").waitFor();
      return page;
    },
    newPage,
    /** A page with one finished exchange open, so the next answer streams in the same pane. */
    async openConversation(firstMessage: string, look: Look = desktop): Promise<Page> {
      const page = await this.openApp(look);
      await send(page, firstMessage);
      await waitForAnswerState(page, "stop");
      await conversationIdOf(page);
      return page;
    },
    /** conversations.get over plain tRPC HTTP, as any client would call it. */
    async getConversation(conversationId: string): Promise<ConversationDetail> {
      const input = encodeURIComponent(JSON.stringify({ conversationId }));
      const response = await fetch(`${baseUrl}/trpc/conversations.get?input=${input}`);
      expect(response.status).toBe(200);
      const body = (await response.json()) as { result: { data: ConversationDetail } };
      return body.result.data;
    },
    async renameConversation(conversationId: string, title: string): Promise<void> {
      const response = await fetch(`${baseUrl}/trpc/conversations.rename`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ conversationId, title }),
      });
      expect(response.status).toBe(200);
    },
  };
}

export function startApi(env: ApiEnv, tokenDelayMs = e2eTokenDelayMs): Promise<ApiServer> {
  return buildServer({
    // Titles stay the first message unless a test turns generation on (sync.e2e.test.ts): the other areas check titles.
    config: loadConfig({ CHAT_PROVIDER: "sim", HOST: "127.0.0.1", PORT: "0", DATABASE_PATH: ":memory:", LOG_LEVEL: "silent", GENERATE_TITLES: "0", ...env }),
    logger: false,
    simulator: { tokenDelayMs },
    webDistDir: join(webRoot, "dist"),
  });
}

export interface ConversationDetail {
  title: string;
  activeRunId: string | null;
  messages: Array<{ role: string; content: string; runId: string | null }>;
}

// ---- page helpers ------------------------------------------------------------------------------

export async function send(page: Page, text: string): Promise<void> {
  await page.fill("#composer-input", text);
  await submitComposer(page);
}

/**
 * Sends what the message box holds, as its user would: Enter on a computer; on a phone (whose Enter starts a new line)
 * the Send button, or Queue while an answer streams.
 */
export async function submitComposer(page: Page): Promise<void> {
  const touch = await page.evaluate(() => matchMedia("(hover: none) and (pointer: coarse)").matches);
  if (touch) await page.locator('#composer-input ~ .composer__bar button[type="submit"]').click();
  else await page.press("#composer-input", "Enter");
}

export const answers = (page: Page): Locator => page.locator('[data-testid="assistant-message"]');
export const lastAnswer = (page: Page): Locator => answers(page).last();

/** The rendered text of the last answer ("" before the first token). */
export function answerText(page: Page): Promise<string> {
  return page.evaluate(() => {
    const all = document.querySelectorAll('[data-testid="assistant-message"]');
    return all[all.length - 1]?.querySelector('[data-testid="answer-text"] .markdown')?.textContent ?? "";
  });
}

export async function waitForAnswerText(page: Page, text: string): Promise<void> {
  await page.waitForFunction((expected) => {
    const all = document.querySelectorAll('[data-testid="assistant-message"]');
    return all[all.length - 1]?.querySelector('[data-testid="answer-text"] .markdown')?.textContent === expected;
  }, text);
}

export async function waitForAnswerState(page: Page, state: string): Promise<void> {
  await page.waitForFunction((s) => {
    const all = document.querySelectorAll('[data-testid="assistant-message"]');
    return all[all.length - 1]?.getAttribute("data-state") === s;
  }, state);
}

/** Opens a conversation from the sidebar and waits for its route. */
export async function openFromList(page: Page, title: string, conversationId: string): Promise<void> {
  await page.locator('[data-testid="conversation-item"] button', { hasText: title }).click();
  await page.waitForFunction((hash) => location.hash === hash, `#/c/${encodeURIComponent(conversationId)}`);
}

/** Waits until the page's message box holds exactly `text`. */
export function composerShows(page: Page, text: string): Promise<unknown> {
  return page.waitForFunction((expected) => (document.getElementById("composer-input") as HTMLTextAreaElement).value === expected, text);
}

export async function conversationIdOf(page: Page): Promise<string> {
  await page.waitForFunction(() => /^#\/c\/.+/.test(location.hash));
  return decodeURIComponent(new URL(page.url()).hash.slice("#/c/".length));
}

export const normalize = (text: string) => text.replace(/\s+/g, " ").trim();

/** Presses Tab until the focus is on the control with this accessible label (as a keyboard user gets there). */
export async function tabTo(page: Page, label: string, maxPresses = 60): Promise<void> {
  for (let i = 0; i < maxPresses; i++) {
    if ((await page.evaluate(() => document.activeElement?.getAttribute("aria-label"))) === label) return;
    await page.keyboard.press("Tab");
  }
  throw new Error(`Tab never reached "${label}"`);
}

/** Picks a model in the model menu next to the composer. */
export async function chooseModel(page: Page, name: string): Promise<void> {
  await page.getByRole("button", { name: /^Model:/ }).click();
  await page.getByRole("option", { name, exact: true }).click();
  await page.getByRole("button", { name: `Model: ${name}` }).waitFor();
}

/** The bounding box of an element, or a failure naming it. */
export async function box(locator: Locator): Promise<{ x: number; y: number; width: number; height: number }> {
  const b = await locator.boundingBox();
  if (!b) throw new Error(`no bounding box for ${locator.toString()}`);
  return b;
}

/**
 * Screenshots of the main states: always into test-artifacts/ (git-ignored) for looking at, and into
 * docs/screenshots/ (and docs/screenshot.png for the README) only when UPDATE_SCREENSHOTS=1, so CI never
 * dirties the tree.
 */
export async function snap(page: Page, name: string, opts: { docs?: string[]; fullPage?: boolean } = {}): Promise<void> {
  const shot = { animations: "disabled" as const, caret: "hide" as const, fullPage: opts.fullPage ?? false };
  await page.screenshot({ ...shot, path: join(artifacts, `${name}.png`) });
  if (process.env.UPDATE_SCREENSHOTS === "1") {
    for (const doc of opts.docs ?? []) await page.screenshot({ ...shot, path: join(repoRoot, "docs", doc) });
  }
}

/**
 * The WCAG contrast ratio of an element's text (or of its `::placeholder`) against the background it is painted on:
 * the first opaque background up its ancestors, with the translucent ones above it blended in.
 */
export function contrastOf(locator: Locator, pseudo: "::placeholder" | null = null): Promise<number> {
  return locator.evaluate((el, pseudoElement) => {
    const rgba = (color: string): number[] => {
      const parts = /rgba?\(([^)]+)\)/.exec(color)?.[1]?.split(/[\s,/]+/).filter(Boolean).map(Number);
      if (!parts) throw new Error(`not an rgb colour: ${color}`);
      return [parts[0]!, parts[1]!, parts[2]!, parts[3] ?? 1];
    };
    const blend = (top: number[], base: number[]) => base.map((v, i) => v * (1 - top[3]!) + top[i]! * top[3]!);
    const layers: number[][] = [];
    for (let at: Element | null = el; at; at = at.parentElement) {
      const color = rgba(getComputedStyle(at).backgroundColor);
      if (color[3]! > 0) layers.push(color);
      if (color[3] === 1) break;
    }
    const background = layers.reverse().reduce((base, layer) => blend(layer, base), [255, 255, 255]);
    const text = blend(rgba(getComputedStyle(el, pseudoElement).color), background);
    const luminance = (c: number[]) => {
      const [r, g, b] = c.map((v) => (v / 255 <= 0.03928 ? v / 255 / 12.92 : ((v / 255 + 0.055) / 1.055) ** 2.4));
      return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
    };
    const [light, darkest] = [luminance(text), luminance(background)].sort((a, b) => b - a);
    return (light! + 0.05) / (darkest! + 0.05);
  }, pseudo);
}
