/**
 * The demo model's text answers (everything but tool use): code, topic explanations in the form asked for
 * (paragraph, list, table, long, one-liner), and honest fallbacks that name what was asked. Choices between
 * equivalent phrasings come from a number, `seed`: by default a hash of the prompt, so different prompts read
 * differently; the request's temperature and seed, and how often it was asked before, change it (demo-sampling.ts).
 */
import { codeTasks, defaultLanguage, languageIn, languages, otherLanguageIn, taskIn, type CodeTask, type Language } from "./demo-code.js";
import { topics, topicsIn, type TopicNote } from "./demo-topics.js";
import { defaultModels } from "./models.js";

export interface TextPlan {
  thinking: string;
  answer: string;
}

/** FNV-1a: a stable, well-spread hash of the prompt for picking phrasings. */
export function promptSeed(text: string): number {
  let h = 0x811c9dc5;
  for (const ch of text.toLowerCase().trim()) {
    h ^= ch.codePointAt(0) ?? 0;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

function pick<T>(seed: number, options: readonly T[]): T {
  return options[seed % options.length] as T;
}

function capitalize(text: string): string {
  return text.replace(/^\p{Ll}/u, (c) => c.toUpperCase());
}

/** "Plain HTTP" → "plain HTTP" inside a sentence; acronyms ("API keys", "SSE") stay as they are. */
function lowerFirst(text: string): string {
  return /^\p{Lu}\p{Ll}/u.test(text) ? text.charAt(0).toLowerCase() + text.slice(1) : text;
}

function withoutSimTags(text: string): string {
  return text.replace(/\[sim:[^\]]*\]/g, " ").replace(/\s+/g, " ").trim();
}

// ---- what the prompt asks for --------------------------------------------------------------------------

export type AnswerFormat = "long" | "list" | "table" | "brief" | "explain";

const formats: Array<[AnswerFormat, RegExp]> = [
  ["table", /\btables?\b|\bcompar(?:e|es|ing|ison)\b|\bvs\.?\b|\bversus\b|\bdifferences? between\b/i],
  ["long", /\b(?:long|detailed|in[- ]depth|thorough|comprehensive)\b(?!\s+(?:does|did|is|ago|time|have|has))|\bin detail\b|\bessay\b|\bat length\b|\bdeep dive\b/i],
  ["list", /\blists?\b|\bbullets?\b|\bbullet points\b|\bkey points\b|\bmain points\b|\bsteps\b/i],
  ["brief", /\bone sentence\b|\bbriefly\b|\btl;?dr\b|\bin short\b|\bshort answer\b|\bone line\b|\bin a nutshell\b/i],
];

export function formatOf(text: string): AnswerFormat {
  return formats.find(([, re]) => re.test(text))?.[0] ?? "explain";
}

const leadIns = [
  /^(?:please|pls|kindly|hey|ok(?:ay)?|so|now|and)\b[,\s]*/i,
  /^(?:can|could|would|will) you\s+/i,
  /^(?:i (?:want|need|would like|'d like) (?:you )?(?:to )?(?:know )?)\s*/i,
  /^(?:tell me|teach me|explain|describe|summari[sz]e|write|give me|show me|list|outline|compare|walk me through|help me understand)\b\s*/i,
  /^(?:what|who|why|how) (?:is|are|was|were|does|do|did)\s+/i,
  /^(?:what's|who's|how's)\s+/i,
  /^(?:an?|the|some|me|us)\s+/i,
  /^(?:(?:long|short|brief|detailed|quick|in-depth|thorough|comprehensive|simple|small)\s+)+/i,
  /^(?:answer|overview|explanation|essay|summary|introduction|intro|list|table|paragraph|article|description|rundown|comparison|guide)\s+(?:about|on|of|for|to|explaining|comparing)?\s*/i,
  /^(?:about|on|of|regarding)\s+/i,
];

const trailers = [
  /\s+(?:in|as|with)\s+(?:a |an |one )?(?:short |brief |bulleted |simple |markdown |long |few )*(?:list|table|sentence|paragraph|bullet points?|points|words|detail|nutshell)\b.*$/i,
  /\s+(?:briefly|please|in short|in detail|for me|for beginners|simply)$/i,
  /\s+work(?:s)?$/i,
];

/** The subject of a prompt, in the user's words: "Write a long answer about oceans" → "oceans". */
export function subjectOf(text: string): string {
  let subject = withoutSimTags(text).replace(/[?!.\s]+$/g, "");
  for (let changed = true; changed; ) {
    changed = false;
    for (const re of [...leadIns, ...trailers]) {
      const next = subject.replace(re, "").trim();
      if (next !== subject && next !== "") {
        subject = next;
        changed = true;
      }
    }
  }
  subject = subject.replace(/[?!.,:;\s]+$/g, "");
  return subject.length > 60 ? `${subject.slice(0, 57).trimEnd()}…` : subject;
}

// ---- code ----------------------------------------------------------------------------------------------

const codeWords = /\b(?:code|function|func|script|snippet|program|implement(?:ation)?|method|algorithm|one-liner|class)\b/i;
const askVerbs = /\b(?:write|show|give|create|make|implement|generate|build|code up|how (?:do|can|would|should) (?:i|you|we)|how to)\b/i;

/** Is this a request for code? `previous` are the earlier user messages (for "now in Rust" follow-ups). */
export function codeRequest(text: string, previous: string[]): { task?: CodeTask; lang?: Language } | undefined {
  const clean = withoutSimTags(text);
  const task = taskIn(clean);
  const lang = languageIn(clean);
  if (task) return codeWords.test(clean) || lang || askVerbs.test(clean) ? { task, lang } : undefined;
  if (codeWords.test(clean) && askVerbs.test(clean) && topicsIn(clean.replace(languageMentions, " ")).length === 0) return { ...(lang ? { lang } : {}) };
  // "now in Rust", "and in Go?": the same task in another language
  if (lang && clean.split(/\s+/).length <= 6) {
    const earlier = [...previous].reverse().find((t) => taskIn(t));
    const earlierTask = earlier ? taskIn(earlier) : undefined;
    if (earlierTask) return { task: earlierTask, lang };
  }
  return undefined;
}

/** Language names are topics too ("TypeScript"); for "write a Python function to …" they are not the subject. */
const languageMentions = /\b(?:typescript|javascript|python|rust|java|golang|node(?:\.?js)?)\b/gi;

function outputSentence(task: CodeTask, output: string | undefined): string {
  if (output === undefined) return "";
  if (task.id === "read-file") return "With a `notes.txt` holding the lines `first` and `second`, it prints `1: first` and `2: second`. ";
  if (output.includes("\n")) return "The comments show what each line prints. ";
  return `Running it prints \`${output}\`. `;
}

function otherLanguagesHint(lang: Language): string {
  const others = languages.filter((l) => l.id !== lang.id).map((l) => l.name);
  return `Want it in another language? Ask for ${others.slice(0, -1).join(", ")} or ${others.at(-1) ?? ""}.`;
}

export function codeAnswer(text: string, request: { task?: CodeTask; lang?: Language }, seed = promptSeed(text)): TextPlan {
  const lang = request.lang ?? defaultLanguage;
  const unsupported = request.lang ? undefined : otherLanguageIn(text);
  if (!request.task) return skeletonAnswer(text, lang, unsupported);
  const task = request.task;
  const snippet = task.snippets[lang.id];
  const intro = unsupported
    ? `The offline demo model has no ${unsupported} examples, so here is ${lang.name} code that ${task.does}:`
    : pick(seed, [`Here's ${lang.name} code that ${task.does}:`, `Sure! This ${lang.name} snippet ${task.does}:`, `This ${lang.name} example ${task.does}:`]);
  const parts = [intro];
  if (snippet.setup) parts.push(snippet.setup);
  parts.push(`\`\`\`${lang.fence}\n${snippet.code}\n\`\`\``);
  parts.push(`${outputSentence(task, snippet.output)}${snippet.note}`);
  if (!request.lang) parts.push(otherLanguagesHint(lang));
  return {
    thinking: `The user wants ${lang.name} code that ${task.does}. ${task.approach} A short, complete example that runs as is, then one line on why it is written that way.`,
    answer: parts.join("\n\n"),
  };
}

function identifierWords(subject: string): string[] {
  const stop = new Set(["a", "an", "the", "that", "which", "to", "for", "of", "in", "and", "or", "with", "function", "code", "program", "script", "snippet", "method"]);
  const words = (subject.toLowerCase().match(/[a-z][a-z0-9]*/g) ?? []).filter((w) => !stop.has(w)).slice(0, 4);
  return words.length > 0 ? words : ["solve"];
}

function skeletonAnswer(text: string, lang: Language, unsupported: string | undefined): TextPlan {
  const subject =
    subjectOf(text)
      .replace(/^(?:(?:a|an|the|small|simple|quick)\s+)*(?:\w+\s+)?(?:function|script|program|snippet|code|method|class)\s*(?:that|which|to|for|in \w+ that|in \w+ to)?\s*/i, "")
      .replace(/\s+in\s+\w+$/i, "")
      .replace(/[^\p{L}\p{N}\s,.'-]/gu, "")
      .trim() || "your task";
  const words = identifierWords(subject);
  const snake = words.join("_");
  const camel = words.map((w, i) => (i === 0 ? w : capitalize(w))).join("");
  const quoted = subject.replace(/["\\]/g, "");
  const skeletons: Record<Language["id"], string> = {
    python: `def ${snake}(*args):\n    """${capitalize(quoted)}."""\n    raise NotImplementedError("${quoted}")`,
    typescript: `export function ${camel}(...args: unknown[]): never {\n  // TODO: ${quoted}\n  throw new Error("not implemented: ${quoted}");\n}`,
    javascript: `export function ${camel}(...args) {\n  // TODO: ${quoted}\n  throw new Error("not implemented: ${quoted}");\n}`,
    go: `import "errors"\n\n// ${camel}: TODO ${quoted}\nfunc ${camel}() error {\n\treturn errors.New("not implemented: ${quoted}")\n}`,
    rust: `fn ${snake}() {\n    todo!("${quoted}")\n}`,
    java: `static void ${camel}() {\n    throw new UnsupportedOperationException("${quoted}");\n}`,
  };
  const titles = codeTasks.map((t) => t.title);
  const known = `${titles.slice(0, -1).join(", ")} and ${titles.at(-1) ?? ""}`;
  const unsupportedNote = unsupported ? ` It has no ${unsupported} examples either, so this is ${lang.name}.` : "";
  return {
    thinking: `The user wants ${lang.name} code for "${subject}". I have no ready-made example for that, so I'll say so and give a skeleton rather than invent an implementation.`,
    answer:
      `I don't have a ready-made ${lang.name} example for **${subject}**: the offline demo model only knows a handful of tasks (${known}).${unsupportedNote} ` +
      "Rather than invent code that might not work, here is a skeleton to start from:\n\n" +
      `\`\`\`${lang.fence}\n${skeletons[lang.id]}\n\`\`\`\n\n` +
      "Connect a real model (start Ollama) and the same request gets a full implementation.",
  };
}

// ---- topics --------------------------------------------------------------------------------------------

function bullets(note: TopicNote): string {
  return note.points.map(([label, text]) => `- **${label}:** ${text}`).join("\n");
}

function firstSentence(text: string): string {
  return /^.*?[.!?](?=\s|$)/.exec(text)?.[0] ?? text;
}

function cell(text: string): string {
  return text.replace(/\|/g, "\\|");
}

function comparisonTable(notes: TopicNote[]): string {
  const header = `| | ${notes.map((n) => n.short).join(" | ")} |`;
  const rule = `| --- | ${notes.map(() => "---").join(" | ")} |`;
  const rows = [
    ["What it is", (n: TopicNote) => n.kind],
    ["Good for", (n: TopicNote) => n.goodFor],
    ["Watch out for", (n: TopicNote) => n.watchOut],
  ] as const;
  return [header, rule, ...rows.map(([label, get]) => `| **${label}** | ${notes.map((n) => cell(get(n))).join(" | ")} |`)].join("\n");
}

function aspectTable(note: TopicNote): string {
  const rows = [["What it is", note.kind], ...note.points, ["Good for", note.goodFor], ["Watch out for", note.watchOut]];
  return ["| Aspect | Details |", "| --- | --- |", ...rows.map(([label, text]) => `| **${cell(label ?? "")}** | ${cell(capitalize(text ?? ""))} |`)].join("\n");
}

export function topicAnswer(text: string, notes: TopicNote[], format: AnswerFormat, seed = promptSeed(text)): TextPlan {
  const [note, second] = notes as [TopicNote, ...TopicNote[]];
  const labels = note.points.map(([label]) => lowerFirst(label)).join(", ");
  switch (format) {
    case "table": {
      if (second) {
        const compared = notes.slice(0, 3);
        const names = compared.map((n) => n.short);
        return {
          thinking: `The user wants ${names.join(" and ")} compared. A table with what each is, what it is good for and what to watch out for, then a rule of thumb.`,
          answer:
            `${pick(seed, ["Here's how", "Side by side, here's how", "A quick comparison of how"])} ${names.slice(0, -1).join(", ")} and ${names.at(-1) ?? ""} compare:\n\n` +
            `${comparisonTable(compared)}\n\n` +
            `Rule of thumb: ${compared.map((n) => `**${n.short}** for ${n.goodFor}`).join("; ")}.`,
        };
      }
      return {
        thinking: `The user wants ${note.name} as a table. One row per aspect: ${labels}.`,
        answer: `${pick(seed, [`${capitalize(note.name)} at a glance:`, `Here's ${note.name} in a table:`, `The key facts about ${note.name}:`])}\n\n${aspectTable(note)}`,
      };
    }
    case "list":
      return {
        thinking: `The user wants a short list about ${note.name}. One line each: ${labels}.`,
        answer: `${pick(seed, [`${capitalize(note.name)} in a few points:`, `The essentials of ${note.name}:`, `${capitalize(note.name)}, point by point:`])}\n\n${bullets(note)}`,
      };
    case "brief":
      return { thinking: `The user wants ${note.name} in a sentence or two.`, answer: firstSentence(note.summary) };
    case "long":
      return {
        thinking: `The user wants a long answer about ${note.name}. Start with what it is, then how it works, how it is used in practice, and the pitfalls, each in its own paragraph.`,
        answer: [note.summary, ...note.more, `**In short:** ${labels}.`].join("\n\n"),
      };
    case "explain":
      return {
        thinking: `The user asks about ${note.name}. A short definition first, then the points that matter most: ${labels}.`,
        answer: `${note.summary}\n\n${pick(seed, ["Key points:", "What matters most:", "The main ideas:"])}\n\n${bullets(note)}`,
      };
  }
}

// ---- everything else -----------------------------------------------------------------------------------

const sampleTopics = ["sse", "streaming", "tools", "ollama", "typescript"]
  .map((id) => topics.find((t) => t.id === id)?.name)
  .filter((n): n is string => n !== undefined);

function canDo(): string {
  return [
    `- **Explain** topics such as ${sampleTopics.join(", ")} — as a paragraph, a short list, a table or a long answer`,
    "- **Write code** for common tasks (reverse a string, FizzBuzz, Fibonacci, sorting, reading a file, an HTTP request…) in Python, TypeScript, JavaScript, Go, Rust or Java",
    "- **Use tools**: the time in a city, arithmetic, or a search through your past conversations",
  ].join("\n");
}

export function capabilitiesAnswer(): TextPlan {
  return {
    thinking: "The user asks what I can do. I'll be clear that I am the offline demo model and list what works here.",
    answer:
      "I'm the offline **demo** model: this chat is running on its built-in simulator, not a real language model, so my answers come from a small set of notes and examples. Here's what works:\n\n" +
      `${canDo()}\n\nStart Ollama (or point \`OLLAMA_HOST\` at one) and the same chat answers with a real model.`,
  };
}

export function fallbackAnswer(text: string, format: AnswerFormat, seed = promptSeed(text)): TextPlan {
  const subject = subjectOf(text) || "that";
  if (format === "table") {
    const rows = defaultModels
      .filter((m) => !m.name.startsWith("sim-"))
      .map((m) => `| \`${m.name}\` | ${m.capabilities.includes("tools") ? "yes" : "no"} | ${m.capabilities.includes("thinking") ? "yes" : "no"} |`);
    return {
      thinking: `The user wants a table about ${subject}. I have no data on that, so I'll say so and show the table format with data I do have: the demo's models.`,
      answer:
        `I have no data on **${subject}** to fill a table with, but here is a markdown table of something I do know — the models this demo offers:\n\n` +
        `| Model | Tools | Thinking |\n| --- | --- | --- |\n${rows.join("\n")}`,
    };
  }
  if (format === "long") {
    return {
      thinking: `The user wants a long answer about ${subject}. I have no notes on it; I'll be upfront, then show how a good long answer would be structured, without inventing facts.`,
      answer: [
        `You asked for a long answer about ${subject}. I'm the offline demo model, answering from a small set of built-in notes rather than real knowledge, and I have no notes on that subject, so instead of inventing facts I'll sketch how a good long answer would be built. A real model (start Ollama) fills that outline with substance.`,
        `It would open with a plain definition of ${subject}, in one or two sentences a newcomer can follow, followed by a single concrete example. Examples anchor everything after them, and a reader who has one in mind can test each later claim against it.`,
        "Next comes how it works: the main parts, how they relate, and the cause and effect between them. This is where diagrams, numbers and comparisons with familiar things help most, and where vague wording hides gaps in understanding.",
        "Then the practical side: where it matters, what people get wrong, and which trade-offs are real rather than folklore. Sources belong here too, because the claims that matter most are the ones worth checking.",
        `It would close with what to explore next: open questions, related subjects, and a good follow-up to ask. Until a real model is connected, try one of the topics I do know, such as ${sampleTopics.slice(0, 3).join(", ")}.`,
      ].join("\n\n"),
    };
  }
  const opener = pick(seed, [
    `I don't have notes on **${subject}**: I'm the offline demo model, which answers from a small set of built-in topics rather than a real language model, so I won't make something up.`,
    `**${capitalize(subject)}** isn't one of the topics the offline demo model knows, and it won't invent an answer: this chat is running on the built-in simulator, not a real language model.`,
    `That's outside what I know: I'm the built-in demo model, with notes on a couple of dozen topics, and **${subject}** isn't among them.`,
  ]);
  return {
    thinking: `The user asks about ${subject}. I have no notes on it, so I'll say so plainly and offer what I can do instead.`,
    answer: `${opener}\n\nHere's what I can do:\n\n${canDo()}\n\nWith Ollama running, the same chat answers with a real model.`,
  };
}

const jokes = [
  "Why do programmers prefer dark mode? Because light attracts bugs.",
  "There are only two hard things in computer science: cache invalidation, naming things, and off-by-one errors.",
  "A SQL query walks into a bar, goes up to two tables and asks: \"Can I join you?\"",
  "I'd tell you a UDP joke, but you might not get it.",
  "Why did the stream stop mid-sentence? It was waiting for backpressure to ease up.",
];

export function jokeAnswer(text: string, seed = promptSeed(text)): TextPlan {
  return { thinking: "A joke, then. Something short about programming.", answer: pick(seed, jokes) };
}
