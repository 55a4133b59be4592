/**
 * Scenarios as data: the built-in fault scenarios (selected by model name `sim-x` or by the tag `[sim:x]` in the
 * last user message) and the matching rules. The `demo` model's answers live in demo-model.ts.
 */
import { respondDemo } from "./demo-model.js";
import { hasToolResultsAfterLastUser, lastUserQuestion, lastUserText } from "./messages.js";
import type { Scenario, SimChatRequest, SimChunk, SimContext } from "./types.js";

export function matches(match: Scenario["match"], req: SimChatRequest): boolean {
  if (!match) return true;
  if (match.model !== undefined && match.model !== "*" && match.model !== req.model) return false;
  if (match.lastUserIncludes !== undefined && !lastUserText(req).includes(match.lastUserIncludes)) return false;
  return true;
}

/** "tokens:N" in the last user message (what the user typed, not an attached file), else `fallback`. */
export function requestedTokens(req: SimChatRequest, fallback: number): number {
  const m = /tokens:(\d+)/.exec(lastUserQuestion(req));
  return m?.[1] ? Number(m[1]) : fallback;
}

const midStreamError = "an error was encountered while running the model";
const partial = ["The ", "answer ", "starts "];

function tokens(words: string[], delayMs: number): SimChunk[] {
  return words.map((content) => ({ content, delayMs }));
}

/** Round 2 of the tool scenarios: once the tool results are in, answer like the demo model does. */
function afterTools(first: (req: SimChatRequest, ctx: SimContext) => SimChunk[]) {
  return (req: SimChatRequest, ctx: SimContext): SimChunk[] =>
    hasToolResultsAfterLastUser(req) ? [...respondDemo(req, ctx)] : first(req, ctx);
}

/**
 * The sim-bench line for token i (1-based) carries content `tok${i} ` — "tok1 ", "tok2 ", … "tokN " — so a
 * benchmark can verify every token arrived, once and in order. A done:true line with eval_count N follows.
 */
export function benchToken(i: number): string {
  return `tok${i} `;
}

function* benchChunks(n: number, delayMs: number): Generator<SimChunk> {
  for (let i = 1; i <= n; i++) yield { content: benchToken(i), delayMs };
  yield { done: true, doneReason: "stop" };
}

/**
 * For tests of continuing an answer: questions holding `lastUserIncludes` are answered `first`, stopped at the length
 * limit; a request that ends with the model's text (a continue) gets `rest` instead.
 */
export function cutAnswerScenario(opts: { name: string; lastUserIncludes: string; first: string; rest: SimChunk[] }): Scenario {
  return {
    name: opts.name,
    match: { lastUserIncludes: opts.lastUserIncludes },
    respond: (req) => (req.messages.at(-1)?.["role"] === "assistant" ? opts.rest : [{ content: opts.first }, { done: true, doneReason: "length" }]),
  };
}

export const builtinScenarios: Scenario[] = [
  {
    name: "sim-not-found",
    match: { model: "sim-not-found" },
    reject: (req) => ({ status: 404, error: `model "${req.model}" not found, try pulling it first` }),
  },
  {
    name: "sim-no-tools",
    match: { model: "sim-no-tools" },
    reject: (req) => (req.tools?.length ? { status: 400, error: `"${req.model}" does not support tools` } : undefined),
    respond: (req, ctx) => respondDemo(req, ctx),
  },
  {
    name: "sim-no-thinking",
    match: { model: "sim-no-thinking" },
    reject: (req) => (req.think && req.think !== "false" ? { status: 400, error: `"${req.model}" does not support thinking` } : undefined),
    respond: (req, ctx) => respondDemo(req, ctx),
  },
  {
    name: "sim-error-mid-stream",
    match: { model: "sim-error-mid-stream" },
    respond: (_req, ctx) => [...tokens(partial, ctx.tokenDelayMs), { error: midStreamError, delayMs: ctx.tokenDelayMs }],
  },
  {
    name: "sim-truncated",
    match: { model: "sim-truncated" },
    respond: (_req, ctx) => tokens(partial, ctx.tokenDelayMs),
  },
  {
    name: "sim-stall",
    match: { model: "sim-stall" },
    respond: (_req, ctx) => tokens(partial, ctx.tokenDelayMs),
    stallAfterChunks: true,
  },
  {
    name: "sim-slow",
    match: { model: "sim-slow" },
    // one token per second; "tokens:N" sets how many (default 10)
    respond: (req) => {
      const n = requestedTokens(req, 10);
      const words = Array.from({ length: n }, (_, i) => `drip${i + 1} `);
      return [...tokens(words, 1000), { done: true, doneReason: "stop" }];
    },
  },
  {
    name: "sim-tool-on-done",
    match: { model: "sim-tool-on-done" },
    // Ollama's own streaming test expects the call on the done:true chunk itself
    respond: afterTools((_req, ctx) => [
      { content: "Let me check. ", delayMs: ctx.tokenDelayMs },
      { done: true, doneReason: "stop", toolCalls: [{ name: "current_time", arguments: { timeZone: "Europe/London" } }] },
    ]),
  },
  {
    name: "sim-two-tools",
    match: { model: "sim-two-tools" },
    respond: afterTools((_req, ctx) => [
      { toolCalls: [{ name: "current_time", arguments: { timeZone: "Asia/Tokyo" } }], delayMs: ctx.tokenDelayMs },
      { toolCalls: [{ name: "calculator", arguments: { expression: "6*7" } }], delayMs: ctx.tokenDelayMs },
      { done: true, doneReason: "stop" },
    ]),
  },
  {
    name: "sim-utf8-split",
    match: { model: "sim-utf8-split" },
    // each line is written in two socket writes cut inside its first multi-byte character
    respond: (_req, ctx) => [
      ...["Grüße ", "aus ", "東京 ", "🎉 ", "café ", "— ", "naïve ", "日本語"].map((content) => ({
        content,
        splitUtf8: true,
        delayMs: ctx.tokenDelayMs,
      })),
      { done: true, doneReason: "stop" },
    ],
  },
  {
    name: "sim-garbage-line",
    match: { model: "sim-garbage-line" },
    respond: (req, ctx) => [
      ...tokens(["Before ", "garbage. "], ctx.tokenDelayMs),
      { raw: req.wire === "openai" ? "data: {this is not json\n\n" : "this is not json {\n" },
      ...tokens(["After ", "garbage."], ctx.tokenDelayMs),
      { done: true, doneReason: "stop" },
    ],
  },
  {
    name: "sim-bench",
    match: { model: "sim-bench" },
    respond: (req, ctx) => benchChunks(requestedTokens(req, 100), ctx.tokenDelayMs),
  },
];

/** The built-in scenario a `[sim:x]` tag in the last user message (not in a file attached to it) selects, if any. */
export function taggedScenario(req: SimChatRequest): Scenario | undefined {
  const m = /\[sim:([a-z0-9-]+)\]/.exec(lastUserQuestion(req));
  if (!m) return undefined;
  return builtinScenarios.find((s) => s.name === `sim-${m[1]}`);
}

/** The built-in scenario a `sim-x` model name selects, if any. */
export function modelScenario(req: SimChatRequest): Scenario | undefined {
  const model = req.model.endsWith(":latest") ? req.model.slice(0, -7) : req.model;
  return builtinScenarios.find((s) => s.match?.model === model);
}
