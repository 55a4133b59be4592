import { startSimulator, type Simulator } from "@streamchat/ollama-sim";
import { type TestCluster, clusterAvailability, inCi, startTestCluster } from "@streamchat/cluster";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { launchChromium } from "./browser.js";
import { answers, answerText, conversationIdOf, lastAnswer, runBrowserTests, send, waitForAnswerState, waitForAnswerText } from "./harness.js";

/**
 * The web app through nginx (deploy/nginx.conf) over two API replicas on PostgreSQL and Redis: the topology of
 * docs/scaling.md, started once for this file by @streamchat/cluster on the test run's services. Runs where they
 * are (scripts/test-services.sh, .ci/run); fails under CI=true where they are not.
 */
const { urls, missing } = clusterAvailability();
if (runBrowserTests && !urls && !inCi) console.warn(`[cluster] SKIPPED the web e2e over two replicas: ${missing.join(", ")} missing`);

describe.runIf(runBrowserTests && !urls && inCi)("web e2e over two replicas under CI", () => {
  it("has PostgreSQL, Redis and nginx (CI=true requires them)", () => {
    throw new Error(`missing under CI=true: ${missing.join(", ")}`);
  });
});

/** One gauge of one replica's /metrics (0 when absent). */
async function gauge(replicaUrl: string, name: string): Promise<number> {
  const text = await (await fetch(`${replicaUrl}/metrics`)).text();
  const match = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\d+(?:\\.\\d+)?)$`, "m").exec(text);
  return Number(match?.[1] ?? 0);
}

async function eventually<T>(read: () => Promise<T>, ok: (value: T) => boolean, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(value)} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe.runIf(runBrowserTests && urls !== null)("the web app through nginx over two replicas", () => {
  let sim: Simulator;
  let cluster: TestCluster;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  const pageErrors: string[] = [];

  beforeAll(async () => {
    sim = await startSimulator({ tokenDelayMs: 30 });
    cluster = await startTestCluster({
      services: urls!,
      env: { CHAT_PROVIDER: "ollama", OLLAMA_HOST: sim.url, CHAT_MODEL: "demo", LOG_LEVEL: "warn" },
    });
    browser = await launchChromium();
  });
  afterEach(async () => {
    await Promise.all(contexts.splice(0).map((c) => c.close()));
    expect(pageErrors.splice(0), "uncaught errors in the page").toEqual([]);
  });
  afterAll(async () => {
    await browser?.close();
    await cluster?.close();
    await sim?.close();
  });

  async function openApp(): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    contexts.push(context);
    const page = await context.newPage();
    page.on("pageerror", (error) => pageErrors.push(error.message));
    await page.goto(`${cluster.url}/`);
    await page.locator("#composer-input").waitFor();
    return page;
  }

  /** Which replica runs the answer, and which one serves the page's subscription (once there is exactly one). */
  async function placement(): Promise<{ running: string; serving: string }> {
    const read = async () =>
      Promise.all(
        cluster.replicas.map(async (r) => ({
          name: r.name,
          runs: await gauge(r.url, "streamchat_runs_active"),
          subs: await gauge(r.url, "streamchat_subscriptions_active"),
        })),
      );
    const one = (xs: Array<{ runs: number; subs: number }>) =>
      xs.reduce((n, x) => n + x.runs, 0) === 1 && xs.reduce((n, x) => n + x.subs, 0) === 1;
    const state = await eventually(read, one, "one running answer and one subscription across the replicas");
    return { running: state.find((x) => x.runs === 1)!.name, serving: state.find((x) => x.subs === 1)!.name };
  }

  it("resumes after a reload mid-answer on the other replica, without duplicated or missing text", async () => {
    const page = await openApp();
    const stream = sim.control({ lastUserIncludes: "cluster-reload" });
    await send(page, "Tell me a story cluster-reload");
    await stream.connected;
    const conversationId = await conversationIdOf(page);
    const before = ["Once", " upon", " a time", " there was", " a stream."];
    for (const piece of before) await stream.push({ content: piece });
    await waitForAnswerText(page, before.join(""));

    // Reload until the page's subscription lands on the replica that is not running the answer: nginx has no
    // stickiness, so which replica serves it depends on the round robin; one extra request between reloads
    // changes the parity. Every reload must rebuild exactly the text seen so far.
    const { running } = await placement();
    const served: string[] = [];
    for (let attempt = 0; attempt < 6; attempt++) {
      await page.reload();
      await waitForAnswerText(page, before.join(""));
      expect(await lastAnswer(page).getAttribute("data-state")).toBe("streaming");
      const { serving } = await placement();
      served.push(serving);
      if (serving !== running) break;
      await (await fetch(`${cluster.url}/healthz`)).body?.cancel();
    }
    expect(served.at(-1), `the run on ${running}, subscriptions served by ${served.join(", ")}`).not.toBe(running);

    // …and the subscription on the other replica goes on live as the answer goes on where it runs.
    const after = [" It flowed", " to the sea."];
    for (const piece of after) await stream.push({ content: piece });
    await stream.push({ done: true });
    await waitForAnswerState(page, "stop");

    const expected = [...before, ...after].join("");
    expect(await answerText(page)).toBe(expected);
    expect(await answers(page).count()).toBe(1);
    const input = encodeURIComponent(JSON.stringify({ conversationId }));
    const detail = (await (await fetch(`${cluster.url}/trpc/conversations.get?input=${input}`)).json()) as {
      result: { data: { activeRunId: string | null; messages: Array<{ role: string; content: string }> } };
    };
    expect(detail.result.data.activeRunId).toBeNull();
    expect(detail.result.data.messages.filter((m) => m.role === "assistant").at(-1)?.content).toBe(expected);
  });
});
