/**
 * The `demo` model: believable offline answers from templates, with real tool use — it asks for
 * `current_time`, `calculator` and `search_conversations` when the request offers them, and answers from the
 * tool results of the next round. Deterministic: the same request always streams the same tokens.
 */
import { evaluate, extractExpression, formatNumber } from "./arithmetic.js";
import { lastUserText, offeredTools, toolResultsAfterLastUser, type ToolResult } from "./messages.js";
import type { SimChatRequest, SimChunk, SimContext, SimToolCall } from "./types.js";

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

function wantsThinking(req: SimChatRequest): boolean {
  return req.think === true || (typeof req.think === "string" && req.think !== "" && req.think !== "false");
}

export function respondDemo(req: SimChatRequest, ctx: SimContext): SimChunk[] {
  const results = toolResultsAfterLastUser(req);
  const userText = lastUserText(req);
  const plan = results.length > 0 ? answerFromTools(results, userText) : plan1(userText, offeredTools(req));
  const delayMs = ctx.tokenDelayMs;
  const out: SimChunk[] = [];
  if (wantsThinking(req)) for (const t of wordTokens(plan.thinking)) out.push({ thinking: t, delayMs });
  if (plan.call) {
    out.push({ toolCalls: [plan.call], delayMs });
  } else {
    for (const t of wordTokens(plan.answer ?? "")) out.push({ content: t, delayMs });
  }
  out.push({ done: true, doneReason: "stop", delayMs });
  return out;
}

function plan1(text: string, tools: Set<string>): Plan {
  if (text.includes("[sim:html]")) {
    return {
      thinking: "The user wants to see raw HTML and a link; a safe renderer must neutralise both.",
      answer:
        'Here is some **markup** straight from the model: <img src=x onerror="window.__xss=1"> and a ' +
        "[click](javascript:window.__xss=1) link. A safe renderer shows the tag as text and drops the link target.",
    };
  }

  if (/\b(time|clock)\b/i.test(text)) {
    const place = findCity(text);
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

  const search = /\bsearch\s+(?:(?:my|our|the|all|past|previous|old)\s+)*(?:conversations?|chats?|history|messages)(?:\s+(?:for|about))?\s+(.+)/i.exec(text);
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

  const expression = extractExpression(text);
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

  if (/^\s*(hi|hello|hey|good (morning|afternoon|evening))\b/i.test(text)) {
    return {
      thinking: "A greeting. I'll greet back and say what I can do.",
      answer:
        "Hello! I'm the offline **demo** model of this chat. I can tell the time in cities around the world, " +
        "do arithmetic, search your past conversations, and give short answers to general questions.",
    };
  }

  const topic = topicOf(text);
  if (/\blong\b/i.test(text)) return { thinking: `The user wants a long answer about ${topic}.`, answer: longAnswer(topic) };
  if (/\b(code|function|script|snippet|program|implement|typescript|javascript|python)\b/i.test(text)) {
    return { thinking: `The user wants code for ${topic}. A small, complete example is best.`, answer: codeAnswer(text) };
  }
  return {
    thinking: `The user asks about ${topic}. A short paragraph and a few key points should cover it.`,
    answer:
      `Here is a short overview of **${topic}**.\n\n` +
      "This is the offline demo model, so the answer comes from a template rather than real knowledge, " +
      "but it streams exactly like a real model would.\n\n" +
      `- **What it is:** the core idea behind ${topic}, in one sentence.\n` +
      "- **Why it matters:** where it helps in practice.\n" +
      "- **Next step:** ask a follow-up question to go deeper.\n",
  };
}

function topicOf(text: string): string {
  const cleaned = text
    .replace(/\[sim:[^\]]*\]/g, "")
    .replace(/^\s*(please\s+)?(tell me(?: about)?|explain|describe|what is|what are|what's|who is|how do i|how does|how to|can you|write)\s+/i, "")
    .replace(/[?!.\s]+$/g, "")
    .trim();
  const short = cleaned.length > 60 ? `${cleaned.slice(0, 57)}…` : cleaned;
  return short || "your question";
}

function longAnswer(topic: string): string {
  const sentences = [
    `Let's take ${topic} step by step, starting with the basics.`,
    "Every good explanation begins with a clear definition and a concrete example.",
    "From there, it helps to look at how the pieces fit together in a real system.",
    "Trade-offs matter: what is simple to build is not always simple to run.",
    "Measuring before optimising saves a great deal of time and guesswork.",
    "Small, well-named modules make a codebase easier to read and to change.",
    "Tests that exercise real parts catch the bugs that mocks quietly hide.",
    "Finally, writing down the reasons behind a decision helps the next person.",
  ];
  const paragraphs: string[] = [];
  let words = 0;
  for (let p = 0; words < 200; p++) {
    const para: string[] = [];
    for (let s = 0; s < 4 && words < 200; s++) {
      const sentence = sentences[(p * 4 + s) % sentences.length] ?? "";
      para.push(sentence);
      words += sentence.split(/\s+/).length;
    }
    paragraphs.push(para.join(" "));
  }
  return paragraphs.join("\n\n");
}

function codeAnswer(text: string): string {
  if (/\bpython\b/i.test(text)) {
    return (
      "Here is a small, complete example:\n\n```python\ndef greet(name: str) -> str:\n" +
      '    return f"Hello, {name}!"\n\n\nprint(greet("world"))\n```\n\nRunning it prints `Hello, world!`.'
    );
  }
  return (
    "Here is a small, complete example:\n\n```ts\nexport function greet(name: string): string {\n" +
    "  return `Hello, ${name}!`;\n}\n\nconsole.log(greet(\"world\"));\n```\n\nRunning it prints `Hello, world!`."
  );
}

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

function answerFromTools(results: ToolResult[], userText: string): Plan {
  const sentences = results.map((r) => answerOne(r, userText));
  return { thinking: `The tool${results.length > 1 ? "s" : ""} answered. I'll give the user the result.`, answer: sentences.join("\n\n") };
}

function answerOne(r: ToolResult, userText: string): string {
  const parsed = parseJson(r.content);
  const failure = errorOf(parsed, r.content);
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
