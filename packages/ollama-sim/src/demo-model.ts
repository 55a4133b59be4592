/**
 * The `demo` model: offline answers that match what was asked (code for common tasks, notes on common topics,
 * honest fallbacks; see demo-answers.ts), with real tool use — it asks for `current_time`, `calculator` and
 * `search_conversations` when the request offers them, and answers from the tool results of the next round.
 * The same request streams the same tokens on a fresh simulator; asked again (a regenerated answer) it may choose another of
 * the equivalent phrasings, unless its temperature is 0 or it gives a seed (demo-sampling.ts), as a model samples.
 */
import { evaluate, extractExpression, formatNumber } from "./arithmetic.js";
import { choiceSeed, choosesAnew, requestSampling } from "./demo-sampling.js";
import { capabilitiesAnswer, codeAnswer, codeRequest, fallbackAnswer, formatOf, jokeAnswer, topicAnswer } from "./demo-answers.js";
import { isTitleRequest, titleForRequest } from "./demo-title.js";
import { topicsIn } from "./demo-topics.js";
import { filesPlan, parseFileBlocks, type FilesInMessage } from "./demo-files.js";
import { describeImage } from "./image-info.js";
import { earlierUserTexts, lastUserImages, lastUserText, offeredTools, toolResultsAfterLastUser, type MessageImage, type ToolResult } from "./messages.js";
import { traitsOf } from "./models.js";
import { prefillOf } from "./prefill.js";
import type { SimChatRequest, SimChunk, SimContext, SimModel, SimToolCall } from "./types.js";

/** Cities the demo model knows the IANA zone of (lower-case keys, longest names first when matching). */
export const cityZones: Record<string, string> = {
  tokyo: "Asia/Tokyo",
  osaka: "Asia/Tokyo",
  london: "Europe/London",
  "new york": "America/New_York",
  nyc: "America/New_York",
  paris: "Europe/Paris",
  sydney: "Australia/Sydney",
  melbourne: "Australia/Melbourne",
  berlin: "Europe/Berlin",
  madrid: "Europe/Madrid",
  rome: "Europe/Rome",
  amsterdam: "Europe/Amsterdam",
  moscow: "Europe/Moscow",
  dubai: "Asia/Dubai",
  mumbai: "Asia/Kolkata",
  delhi: "Asia/Kolkata",
  singapore: "Asia/Singapore",
  "hong kong": "Asia/Hong_Kong",
  beijing: "Asia/Shanghai",
  shanghai: "Asia/Shanghai",
  seoul: "Asia/Seoul",
  "los angeles": "America/Los_Angeles",
  "san francisco": "America/Los_Angeles",
  seattle: "America/Los_Angeles",
  chicago: "America/Chicago",
  denver: "America/Denver",
  toronto: "America/Toronto",
  "mexico city": "America/Mexico_City",
  "são paulo": "America/Sao_Paulo",
  "sao paulo": "America/Sao_Paulo",
  "buenos aires": "America/Argentina/Buenos_Aires",
  cairo: "Africa/Cairo",
  johannesburg: "Africa/Johannesburg",
  lagos: "Africa/Lagos",
  auckland: "Pacific/Auckland",
  honolulu: "Pacific/Honolulu",
  utc: "UTC",
};

/** Splits text into ~word tokens (" world", "\n\n- item"); joining them gives the text back exactly. */
export function wordTokens(text: string): string[] {
  const tokens: string[] = text.match(/\s*\S+/g) ?? [];
  const tail = text.slice(tokens.join("").length);
  if (tail) {
    if (tokens.length > 0) tokens[tokens.length - 1] += tail;
    else tokens.push(tail);
  }
  return tokens;
}

interface Plan {
  thinking: string;
  answer?: string;
  call?: SimToolCall;
}

export function findCity(text: string): { city: string; timeZone: string } | undefined {
  const lower = text.toLowerCase();
  const names = Object.keys(cityZones).sort((a, b) => b.length - a.length);
  for (const name of names) {
    const at = lower.search(new RegExp(`\\b${name}\\b`));
    if (at >= 0) return { city: text.slice(at, at + name.length).replace(/^\w/, (c) => c.toUpperCase()), timeZone: cityZones[name] ?? "UTC" };
  }
  return undefined;
}

type Level = "low" | "medium" | "high";
const levels: readonly string[] = ["low", "medium", "high"];

/**
 * How much the model reasons, if at all. Models with think levels (gpt-oss) always reason, as in Ollama
 * where true/false do not turn gpt-oss's reasoning off: at the level asked, else "medium". Other models
 * reason when `think` is true or any level ("plain" reasoning, one length).
 */
function reasoning(req: SimChatRequest, model: SimModel | undefined): Level | "plain" | undefined {
  if (model && traitsOf(model).thinkLevels) return typeof req.think === "string" && levels.includes(req.think) ? (req.think as Level) : "medium";
  return req.think === true || (typeof req.think === "string" && req.think !== "" && req.think !== "false") ? "plain" : undefined;
}

const mediumSteps = [
  "Let me make sure I understood what is asked.",
  "I'll keep the answer focused and check it once before replying.",
];
const highSteps = [
  "First, restate the question and what a good answer needs.",
  "Next, consider whether a tool or a worked example would help.",
  "Then check the edge cases: empty input, units, time zones.",
  "Decide the format: a sentence, a list or a table.",
  "Finally, re-read the draft: nothing in it should contradict the question.",
];

/** The reasoning text for a level: low is the plan alone, medium adds a check, high a whole checklist. */
export function reasoningText(thinking: string, level: Level | "plain"): string {
  if (level === "plain" || level === "low") return thinking;
  return [thinking, ...mediumSteps, ...(level === "high" ? highSteps : [])].join(" ");
}

export function respondDemo(req: SimChatRequest, ctx: SimContext): SimChunk[] {
  // Asked to name the conversation (the API does after its first answer): the title alone, no reasoning.
  if (isTitleRequest(req)) {
    return [...wordTokens(titleForRequest(req)).map((content) => ({ content, delayMs: ctx.tokenDelayMs })), { done: true, doneReason: "stop" }];
  }
  const results = toolResultsAfterLastUser(req);
  const attached = parseFileBlocks(lastUserText(req));
  const userText = attached.question;
  const images = lastUserImages(req);
  const plan =
    results.length > 0
      ? answerFromTools(results, userText)
      : images.length > 0 || attached.files.length > 0
        ? attachmentsPlan(images, attached)
        : sampledPlan(
            req,
            ctx.repeat ?? 0,
            userText,
            offeredTools(req),
            // "now in Go" after a question that came with files refers to the question, not to the files' text.
            earlierUserTexts(req).map((text) => parseFileBlocks(text).question),
          );
  const delayMs = ctx.tokenDelayMs;
  const out: SimChunk[] = [];
  const level = reasoning(req, ctx.model);
  if (level) for (const t of wordTokens(reasoningText(plan.thinking, level))) out.push({ thinking: t, delayMs });
  if (plan.call) {
    out.push({ toolCalls: [plan.call], delayMs });
  } else {
    for (const t of wordTokens(plan.answer ?? "")) out.push({ content: t, delayMs });
  }
  out.push({ done: true, doneReason: "stop", delayMs });
  return out;
}

/** A question with images, files or both: what each image and each file is, images first (as the API orders them). */
function attachmentsPlan(images: MessageImage[], attached: FilesInMessage): Plan {
  if (attached.files.length === 0) return visionPlan(images);
  const files = filesPlan(attached);
  if (images.length === 0) return files;
  const vision = visionPlan(images);
  return { thinking: `${vision.thinking} ${files.thinking}`, answer: `${vision.answer ?? ""}\n\n${files.answer}` };
}

/** The vision demo: what the headers and (PNG) pixels of the question's images say. */
function visionPlan(images: MessageImage[]): Plan {
  const descriptions = images.map((image, i) => {
    if (!image.bytes) return `I can't open image ${i + 1}: it is a link, and I only look at images sent with the message.`;
    const info = describeImage(image.bytes);
    if (!info) return `Image ${i + 1} is not a PNG, JPEG, GIF or WebP image I can read.`;
    const size = `a ${info.kind} image of **${info.width}×${info.height}** pixels`;
    if (info.dominant) {
      const share = Math.round(info.dominant.share * 100);
      return `${size}. Its dominant colour is **${info.dominant.name}** (${info.dominant.hex}), ${share}% of the visible pixels.`;
    }
    return `${size}. I can't tell its colours: ${info.note ?? "I could not decode it"}.`;
  });
  const n = images.length;
  const thinking = `The user sent ${n === 1 ? "an image" : `${n} images`}. I'll read the header for the size and look at the pixels for the main colour.`;
  if (n === 1) {
    const only = descriptions[0]!;
    return { thinking, answer: only.startsWith("a ") ? `I see ${only}` : only };
  }
  const list = descriptions.map((d, i) => `${i + 1}. ${d.startsWith("a ") ? d.replace(/^a /, "A ") : d}`);
  return { thinking, answer: `I see ${n} images:\n\n${list.join("\n")}` };
}

/** Phrasings a choice can take: `pick` reads a seed modulo 3 or 5, so 15 seeds in a row reach every combination. */
const everyChoice = 15;

/**
 * The plan under the request's sampling (demo-sampling.ts), `repeat` identical requests after the first. A request that
 * ends with the model's own words (a continue) and may choose anew keeps to a choice that said them, the prompt's own
 * first, as a model writing on from its own text does.
 */
function sampledPlan(req: SimChatRequest, repeat: number, text: string, tools: Set<string>, previous: string[]): Plan {
  const sampling = requestSampling(req.options);
  const prefill = prefillOf(req);
  if (prefill !== undefined && choosesAnew(sampling)) {
    for (let k = 0; k < everyChoice; k++) {
      const plan = plan1(text, tools, previous, (clean) => choiceSeed(clean, sampling, k));
      if (plan.answer?.startsWith(prefill)) return plan;
    }
  }
  return plan1(text, tools, previous, (clean) => choiceSeed(clean, sampling, repeat));
}

function plan1(text: string, tools: Set<string>, previous: string[], seedFor: (clean: string) => number): Plan {
  if (text.includes("[sim:html]")) {
    return {
      thinking: "The user wants to see raw HTML and a link; a safe renderer must neutralise both.",
      answer:
        'Here is some **markup** straight from the model: <img src=x onerror="window.__xss=1"> and a ' +
        "[click](javascript:window.__xss=1) link. A safe renderer shows the tag as text and drops the link target.",
    };
  }
  const clean = text.replace(/\[sim:[^\]]*\]/g, " ").trim();
  const seed = seedFor(clean);

  // "use the files__write tool with {"path":"a.txt"}": any offered tool by name (MCP tools in demos and
  // e2e tests), with the first JSON object of the message as its arguments.
  const named = namedToolCall(clean, tools);
  if (named) return named;

  const search = /\bsearch\s+(?:(?:my|our|the|all|past|previous|old)\s+)*(?:conversations?|chats?|history|messages)(?:\s+(?:for|about))?\s+(.+)/i.exec(clean);
  if (search?.[1]) {
    const query = search[1].trim().replace(/^["'“”‘’]+|["'“”‘’.?!]+$/g, "");
    if (tools.has("search_conversations")) {
      return {
        thinking: `The user wants me to search past conversations for "${query}". I'll use the search_conversations tool.`,
        call: { name: "search_conversations", arguments: { query } },
      };
    }
    return {
      thinking: "The user wants a search but the search tool is not available.",
      answer: `I can't search your conversations from here: the search tool isn't available. Try the search box for "${query}".`,
    };
  }

  // before the time and arithmetic checks: "write a function that returns the current time" wants code
  const code = codeRequest(clean, previous);
  if (code) return codeAnswer(clean, code, seed);

  if (asksForTime.test(clean)) {
    const place = findCity(clean);
    const where = place ? ` in ${place.city}` : "";
    if (tools.has("current_time")) {
      return {
        thinking: `The user wants the current time${where}. I can't know it myself, so I'll call the current_time tool${place ? ` with the time zone ${place.timeZone}` : ""}.`,
        call: { name: "current_time", arguments: place ? { timeZone: place.timeZone } : {} },
      };
    }
    return {
      thinking: "The user asks for the time but no clock tool is available.",
      answer: `I can't check the clock right now${where}: no time tool is available in this conversation. Your device's clock will know.`,
    };
  }

  const expression = extractExpression(clean);
  if (expression !== undefined) {
    if (tools.has("calculator")) {
      return {
        thinking: `This is arithmetic: ${expression}. I'll let the calculator tool work it out rather than guess.`,
        call: { name: "calculator", arguments: { expression } },
      };
    }
    const value = evaluate(expression);
    return {
      thinking: `This is arithmetic: ${expression}. I can work it out directly.`,
      answer: `${expression} = **${formatNumber(value ?? Number.NaN)}**`,
    };
  }

  const mentioned = topicsIn(clean);
  if (/^\s*(hi|hello|hey|good (morning|afternoon|evening))\b/i.test(clean) && mentioned.length === 0) {
    return {
      thinking: "A greeting. I'll greet back and say what I can do.",
      answer:
        "Hello! I'm the offline **demo** model of this chat. I can tell the time in cities around the world, " +
        "do arithmetic, search your past conversations, explain common programming topics and write small code examples.",
    };
  }
  if (/\b(what can you do|who are you|what are you|what do you know|your capabilities)\b|^\s*help\b/i.test(clean)) return capabilitiesAnswer();
  if (/\bjokes?\b/i.test(clean)) return jokeAnswer(clean, seed);

  const format = formatOf(clean);
  if (mentioned.length > 0) return topicAnswer(clean, mentioned, format, seed);
  // "tell me more", "go on": continue the previous topic at length
  if (/^\s*(tell me more|more|go on|continue|elaborate|expand on (?:that|this|it)|more details?)\b/i.test(clean)) {
    const earlier = [...previous].reverse().map((t) => topicsIn(t)).find((found) => found.length > 0);
    if (earlier) return topicAnswer(clean, earlier, "long", seed);
  }
  return fallbackAnswer(clean, format, seed);
}

const useTool = /\b(?:use|call|run)\s+(?:the\s+)?(?:tool\s+)?`?([A-Za-z0-9_-]{1,64})`?(?:\s+tool)?\b/gi;

const builtinToolNames = new Set(["current_time", "calculator", "search_conversations"]);

function namedToolCall(text: string, tools: Set<string>): Plan | undefined {
  for (const match of text.matchAll(useTool)) {
    const name = match[1]!;
    if (!tools.has(name)) continue;
    const given = firstJsonObject(text.slice((match.index ?? 0) + match[0].length));
    // "what is 3*4? use the calculator" is the arithmetic rule's (it finds the expression).
    if (!given && builtinToolNames.has(name)) continue;
    const args = given ?? {};
    const shown = Object.keys(args).length > 0 ? ` with ${JSON.stringify(args)}` : "";
    return { thinking: `The user asks me to use the ${name} tool${shown}. I'll call it.`, call: { name, arguments: args } };
  }
  return undefined;
}

/** The first balanced {...} that parses as a JSON object. */
function firstJsonObject(text: string): Record<string, unknown> | undefined {
  for (let start = text.indexOf("{"); start !== -1; start = text.indexOf("{", start + 1)) {
    let depth = 0;
    let inString = false;
    for (let i = start; i < text.length; i += 1) {
      const c = text[i];
      if (inString) {
        if (c === "\\") i += 1;
        else if (c === '"') inString = false;
      } else if (c === '"') inString = true;
      else if (c === "{") depth += 1;
      else if (c === "}" && (depth -= 1) === 0) {
        const parsed = parseJson(text.slice(start, i + 1));
        if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
        break;
      }
    }
  }
  return undefined;
}

/** "what time is it", "time in Paris?", "clock check": not "time complexity" or "a long time ago". */
const asksForTime = /\b(?:what(?:'s| is)? the time|what time|current time|local time|time (?:is it|now|right now|in|at|zone in|over in)|the time in)\b|\bclock\b|^\s*time\??\s*$/i;

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function errorOf(parsed: unknown, raw: string): string | undefined {
  if (parsed && typeof parsed === "object" && "error" in parsed) {
    const e = (parsed as { error: unknown }).error;
    if (typeof e === "string") return e;
    if (e && typeof e === "object" && typeof (e as { message?: unknown }).message === "string") return (e as { message: string }).message;
    return JSON.stringify(e);
  }
  return /^error\b/i.test(raw.trim()) ? raw.trim() : undefined;
}

function codeOf(parsed: unknown): unknown {
  const e = parsed && typeof parsed === "object" ? (parsed as { error?: unknown }).error : undefined;
  return e && typeof e === "object" ? (e as { code?: unknown }).code : undefined;
}

function answerFromTools(results: ToolResult[], userText: string): Plan {
  const sentences = results.map((r) => answerOne(r, userText));
  return { thinking: `The tool${results.length > 1 ? "s" : ""} answered. I'll give the user the result.`, answer: sentences.join("\n\n") };
}

function answerOne(r: ToolResult, userText: string): string {
  const parsed = parseJson(r.content);
  const failure = errorOf(parsed, r.content);
  if (failure && codeOf(parsed) === "tool_denied") return `I did not use ${r.name}: ${failure}`;
  if (failure) return `Sorry — the ${r.name} tool failed: ${failure}`;
  const obj = parsed && typeof parsed === "object" && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};

  if (r.name === "current_time") {
    const tz = typeof obj["timeZone"] === "string" ? obj["timeZone"] : typeof r.args["timeZone"] === "string" ? r.args["timeZone"] : undefined;
    const iso = typeof obj["iso"] === "string" ? obj["iso"] : undefined;
    const place = findCity(userText)?.city ?? (tz && tz !== "UTC" ? tz.split("/").pop()?.replace(/_/g, " ") : undefined);
    const date = iso ? new Date(iso) : undefined;
    if (date && !Number.isNaN(date.getTime())) {
      try {
        const time = new Intl.DateTimeFormat("en-GB", { timeZone: tz, hour: "2-digit", minute: "2-digit", hour12: false }).format(date);
        const weekday = new Intl.DateTimeFormat("en-GB", { timeZone: tz, weekday: "long" }).format(date);
        return `It's ${time} (${weekday}) in ${place ?? tz ?? "your time zone"}.`;
      } catch {
        // unknown zone: fall through to the tool's own formatting
      }
    }
    const formatted = typeof obj["formatted"] === "string" ? obj["formatted"] : r.content;
    return `The current time${place ? ` in ${place}` : ""} is ${formatted}.`;
  }

  if (r.name === "calculator") {
    const expression = typeof obj["expression"] === "string" ? obj["expression"] : String(r.args["expression"] ?? "");
    const result = obj["result"] ?? r.content;
    return `${expression} = **${String(result)}**`;
  }

  if (r.name === "search_conversations") {
    const query = typeof r.args["query"] === "string" ? r.args["query"] : "your query";
    const list = Array.isArray(parsed) ? parsed : Array.isArray(obj["hits"]) ? obj["hits"] : Array.isArray(obj["results"]) ? obj["results"] : undefined;
    if (!list) return `Searching for "${query}" returned: ${r.content}`;
    if (list.length === 0) return `I couldn't find any conversations mentioning "${query}".`;
    const lines = list.slice(0, 5).map((hit: unknown) => {
      const h = hit && typeof hit === "object" ? (hit as Record<string, unknown>) : {};
      const title = h["title"] ?? h["conversationTitle"] ?? h["conversationId"] ?? "Untitled";
      const snippet = h["snippet"] ?? h["content"] ?? h["text"];
      return `- **${String(title)}**${typeof snippet === "string" ? ` — ${snippet}` : ""}`;
    });
    return `I found ${list.length} conversation${list.length === 1 ? "" : "s"} mentioning "${query}":\n\n${lines.join("\n")}`;
  }

  return `The ${r.name} tool returned: ${r.content}`;
}
