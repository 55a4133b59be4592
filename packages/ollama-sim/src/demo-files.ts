/**
 * The demo model reading text files: the API sends a user message's files before what the user typed, each as
 * `<file name="NAME">\nTEXT\n</file>\n\n` (core's `userMessageText`). `parseFileBlocks` takes them apart again;
 * `filesPlan` answers with what a glance at each file tells — its size and what kind of text it is (a CSV's columns
 * and rows, Markdown's headings, JSON's keys or items, the language of code) — so the offline demo shows a file
 * reaching the model. It reads no meaning into them, and says so.
 */
import type { TextPlan } from "./demo-answers.js";

export interface FileBlock {
  /** The name as the user's system showed it (entities of the attribute decoded). */
  name: string;
  /** The text as the model got it: it always ends with a newline (the API adds one when the file has none). */
  text: string;
}

export interface FilesInMessage {
  /** The message's file blocks, in order; empty when it starts with none. */
  files: FileBlock[];
  /** What the user typed after them (the whole content when there are no files). */
  question: string;
}

// The name never holds a raw quote (written &quot;) or a line break (the API refuses control characters).
const opening = /^<file name="([^"\n]*)">\n/;
// Where a block may end: a line of its own, then the blank line before the next block or the question. A message
// cut short (trimmed, or nothing after the files) may lack the blank line.
const closing = /\n<\/file>(?:\n\n|\n?$)/g;

/**
 * A message's leading file blocks and the question after them. A file's text may itself hold `</file>` lines (an
 * XML file, a file about this very format): of the places the block could end, the first one followed by another
 * block's opening wins, else the last one, so only text that looks like a whole block boundary can cut a file short.
 * Anything that is not a whole block stays in the question.
 */
export function parseFileBlocks(content: string): FilesInMessage {
  const files: FileBlock[] = [];
  let rest = content;
  for (let open = opening.exec(rest); open; open = opening.exec(rest)) {
    const body = rest.slice(open[0].length);
    const ends = [...body.matchAll(closing)];
    const end = ends.find((m) => opening.test(body.slice(m.index + m[0].length))) ?? ends.at(-1);
    if (!end) break;
    files.push({ name: decodeEntities(open[1]!), text: body.slice(0, end.index + 1) });
    rest = body.slice(end.index + end[0].length);
  }
  return { files, question: files.length > 0 ? rest : content };
}

const namedEntities: Record<string, string> = { amp: "&", quot: '"', lt: "<", gt: ">", apos: "'" };

/** The API writes `& " < >` as named entities; numeric ones are decoded too, as any XML reader would. */
function decodeEntities(value: string): string {
  return value.replace(/&(?:#x([0-9a-f]{1,6})|#(\d{1,7})|([a-z]+));/gi, (whole, hex: string | undefined, dec: string | undefined, name: string | undefined) => {
    if (name !== undefined) return namedEntities[name.toLowerCase()] ?? whole;
    const code = hex !== undefined ? Number.parseInt(hex, 16) : Number(dec);
    return code <= 0x10ffff ? String.fromCodePoint(code) : whole;
  });
}

// ---- what a file is ---------------------------------------------------------------------------------------

export interface FileSummary {
  name: string;
  lines: number;
  words: number;
  characters: number;
  /** One or more sentences on what kind of text it is, in markdown. */
  kind: string;
}

const count = (n: number, one: string, many = `${one}s`) => `${n.toLocaleString("en-US")} ${n === 1 ? one : many}`;

/** Inline code that survives backticks and line breaks in what it quotes, shortened to stay one glance long. */
function code(value: string): string {
  const flat = shorten(value.replace(/\s+/g, " ").trim(), 40) || " ";
  return flat.includes("`") ? `\`\` ${flat} \`\`` : `\`${flat}\``;
}

/** Text shown as it is in markdown (a name, a heading): characters that would format it escaped. */
function plain(value: string): string {
  return shorten(value.replace(/\s+/g, " ").trim(), 80).replace(/[\\`*_[\]<>#|~]/g, (c) => `\\${c}`);
}

function shorten(value: string, max: number): string {
  const chars = [...value];
  return chars.length <= max ? value : `${chars.slice(0, max - 1).join("")}…`;
}

/** The first `max` items as a list ("a, b and c"), naming how many more there are. */
function listOf(items: string[], max: number): string {
  const shown = items.slice(0, max);
  const more = items.length - shown.length;
  if (more > 0) return `${shown.join(", ")} and ${count(more, "more", "more")}`;
  return shown.length <= 1 ? (shown[0] ?? "") : `${shown.slice(0, -1).join(", ")} and ${shown.at(-1)}`;
}

export function summarizeFile(file: FileBlock): FileSummary {
  const { text } = file;
  const lines = text === "" ? 0 : text.split("\n").length - (text.endsWith("\n") ? 1 : 0);
  return {
    name: file.name,
    lines,
    words: text.match(/\S+/g)?.length ?? 0,
    characters: text.length,
    kind: kindOf(file),
  };
}

const codeLanguages: Record<string, string> = {
  ts: "TypeScript", tsx: "TypeScript (TSX)", mts: "TypeScript", cts: "TypeScript",
  js: "JavaScript", jsx: "JavaScript (JSX)", mjs: "JavaScript", cjs: "JavaScript",
  py: "Python", pyi: "Python", go: "Go", rs: "Rust", java: "Java", kt: "Kotlin", kts: "Kotlin", scala: "Scala",
  c: "C", h: "C (a header)", cc: "C++", cpp: "C++", cxx: "C++", hpp: "C++ (a header)", cs: "C#", swift: "Swift",
  rb: "Ruby", php: "PHP", pl: "Perl", lua: "Lua", r: "R", dart: "Dart", ex: "Elixir", exs: "Elixir", hs: "Haskell",
  clj: "Clojure", erl: "Erlang", zig: "Zig", sh: "shell", bash: "shell", zsh: "shell", fish: "fish shell",
  ps1: "PowerShell", sql: "SQL", html: "HTML", htm: "HTML", css: "CSS", scss: "SCSS", less: "Less", vue: "Vue",
  svelte: "Svelte",
};

const otherFormats: Record<string, string> = {
  yaml: "YAML", yml: "YAML", toml: "TOML", xml: "XML", ini: "an INI configuration file", cfg: "a configuration file",
  conf: "a configuration file", env: "environment variables", log: "a log", txt: "plain text", text: "plain text",
};

/** Files known by their whole name, which have no extension to go by. */
const wholeNames: Record<string, string> = {
  dockerfile: "code: a **Dockerfile**",
  makefile: "code: a **Makefile**",
  ".gitignore": "a list of ignore patterns (`.gitignore`)",
  ".env": "environment variables",
};

const shebangs: Array<[RegExp, string]> = [
  [/python/, "Python"],
  [/node|deno|bun/, "JavaScript"],
  [/\b(?:ba|z|da|k)?sh\b/, "shell"],
  [/ruby/, "Ruby"],
  [/perl/, "Perl"],
];

function extensionOf(name: string): string {
  const dot = name.lastIndexOf(".");
  return dot > 0 ? name.slice(dot + 1).toLowerCase() : "";
}

function kindOf(file: FileBlock): string {
  const ext = extensionOf(file.name);
  const text = file.text;
  const whole = wholeNames[file.name.toLowerCase()];
  if (whole) return `${capitalize(whole)}.`;
  if (ext === "csv" || ext === "tsv") return csvKind(text, ext);
  if (ext === "md" || ext === "markdown" || ext === "mdx") return markdownKind(text);
  if (ext === "json") return jsonKind(text, true);
  if (ext === "jsonl" || ext === "ndjson") return jsonLinesKind(text);
  const language = codeLanguages[ext];
  if (language) return `Code: **${language}** (from the ${code(`.${ext}`)} extension).`;
  const shebang = /^#!([^\n]*)/.exec(text)?.[1];
  const scripted = shebang === undefined ? undefined : shebangs.find(([re]) => re.test(shebang))?.[1];
  if (scripted) return `Code: a **${scripted}** script (from its ${code("#!")} line).`;
  const other = otherFormats[ext];
  if (other && other !== "plain text") return `${capitalize(other)}.`;
  // No extension to go by (or .txt): what the text itself looks like.
  if (/^\s*[[{]/.test(text)) {
    const json = jsonKind(text, false);
    if (json) return json;
  }
  const paragraphs = text.split(/\n\s*\n/).filter((p) => p.trim() !== "").length;
  return `Plain text in ${count(paragraphs, "paragraph")}.`;
}

function capitalize(text: string): string {
  return text.replace(/^\p{Ll}/u, (c) => c.toUpperCase());
}

/** A CSV file's records: fields split at the delimiter, quoted fields kept whole (doubled quotes, line breaks). */
export function csvRecords(text: string, delimiter: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = "";
  let quoted = false;
  let started = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i]!;
    if (quoted) {
      if (c !== '"') field += c;
      else if (text[i + 1] === '"') {
        field += '"';
        i += 1;
      } else quoted = false;
      continue;
    }
    if (c === '"' && field === "") {
      quoted = true;
      started = true;
    } else if (c === delimiter) {
      record.push(field);
      field = "";
      started = true;
    } else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i += 1;
      record.push(field);
      // A blank line is no record (a trailing one least of all).
      if (started || field.trim() !== "") records.push(record);
      record = [];
      field = "";
      started = false;
    } else {
      field += c;
      started = true;
    }
  }
  if (started || field !== "") records.push([...record, field]);
  return records;
}

function csvKind(text: string, ext: string): string {
  const header = text.split(/\r?\n/).find((line) => line.trim() !== "") ?? "";
  // European spreadsheets write ";" (the comma is their decimal mark): the header says which one this file uses.
  const delimiter = ext === "tsv" ? "\t" : ([",", ";", "\t"] as const).map((d) => [d, header.split(d).length] as const).sort((a, b) => b[1] - a[1])[0]![0];
  const records = csvRecords(text, delimiter);
  const label = ext === "tsv" ? "TSV" : delimiter === "," ? "CSV" : `CSV (separated by ${delimiter === "\t" ? "tabs" : `${code(delimiter)}`})`;
  const columns = records[0];
  if (!columns) return `${label} without a header.`;
  const rows = records.slice(1);
  const names = columns.map((name) => (name.trim() === "" ? "(unnamed)" : code(name)));
  let kind = `${label} with ${count(columns.length, "column")} (${listOf(names, 12)}) and **${count(rows.length, "row")}** under the header.`;
  const ragged = rows.filter((row) => row.length !== columns.length).length;
  if (ragged > 0) kind += ` ${ragged === 1 ? "One row has" : `${ragged.toLocaleString("en-US")} rows have`} another number of fields than the header.`;
  return kind;
}

/** ATX headings ("## Goals") and setext ones (a line underlined with === or ---), outside code fences. */
export function markdownHeadings(text: string): Array<{ level: number; text: string }> {
  const headings: Array<{ level: number; text: string }> = [];
  let fence: string | undefined;
  let previous = "";
  for (const line of text.split(/\r?\n/)) {
    const marker = /^ {0,3}(`{3,}|~{3,})/.exec(line)?.[1];
    if (fence !== undefined) {
      if (marker !== undefined && marker[0] === fence[0] && marker.length >= fence.length && line.trim() === marker) fence = undefined;
      previous = "";
      continue;
    }
    if (marker !== undefined) {
      fence = marker;
      previous = "";
      continue;
    }
    const atx = /^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$/.exec(line);
    const setext = /^ {0,3}(=+|-+)[ \t]*$/.exec(line);
    if (atx) {
      headings.push({ level: atx[1]!.length, text: (atx[2] ?? "").trim() });
      previous = "";
      continue;
    }
    // Under a paragraph's line; not under a list item, where "---" is a rule.
    if (setext && previous.trim() !== "" && !/^ {0,3}(?:[-*+]|\d+[.)])[ \t]/.test(previous)) {
      headings.push({ level: setext[1]![0] === "=" ? 1 : 2, text: previous.trim() });
      previous = "";
      continue;
    }
    previous = line;
  }
  return headings;
}

function markdownKind(text: string): string {
  const headings = markdownHeadings(text).filter((h) => h.text !== "");
  if (headings.length === 0) return "Markdown without headings.";
  return `Markdown with ${count(headings.length, "heading")}: ${listOf(headings.map((h) => `“${plain(h.text)}”`), 8)}.`;
}

function jsonType(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  return typeof value === "object" ? "object" : typeof value;
}

/** What a JSON text holds at its top; undefined when it does not parse and `named` (the extension says JSON) is false. */
function jsonKind(text: string, named: true): string;
function jsonKind(text: string, named: false): string | undefined;
function jsonKind(text: string, named: boolean): string | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return named ? "Named like JSON, but it does not parse as JSON." : undefined;
  }
  if (Array.isArray(value)) {
    const types = [...new Set(value.map(jsonType))];
    const of = value.length === 0 ? "" : types.length === 1 ? `, all ${types[0] === "array" ? "arrays" : `${types[0]}s`}` : `, mixed (${listOf(types, 6)})`;
    return `JSON: an array of **${count(value.length, "item")}**${of}.`;
  }
  if (value !== null && typeof value === "object") {
    const keys = Object.keys(value);
    if (keys.length === 0) return "JSON: an empty object.";
    return `JSON: an object with ${count(keys.length, "top-level key")}: ${listOf(keys.map(code), 10)}.`;
  }
  return `JSON: a single ${jsonType(value)}.`;
}

function jsonLinesKind(text: string): string {
  const lines = text.split("\n").filter((line) => line.trim() !== "");
  const bad = lines.filter((line) => {
    try {
      JSON.parse(line);
      return false;
    } catch {
      return true;
    }
  }).length;
  return `JSON Lines: **${count(lines.length - bad, "record")}**${bad > 0 ? `, and ${count(bad, "line")} that ${bad === 1 ? "does" : "do"} not parse` : ""}.`;
}

// ---- the answer -------------------------------------------------------------------------------------------

const countQuestion = /\bhow (?:many|long|big)\b|\b(?:count|size|length)\b/i;

/** One line on what the user asked, from a model that can outline files but not read them for meaning. */
function questionLine(question: string, n: number): string {
  const them = n === 1 ? "it" : "them";
  const clean = question.replace(/\s+/g, " ").trim();
  if (clean === "") {
    return `You sent ${n === 1 ? "the file" : "the files"} without a question. I'm the offline demo model, so this outline is what I can tell; a real model reads the whole text and can summarise ${them}, answer questions about ${them} or rewrite ${them}.`;
  }
  const asked = `You asked: “${plain(shorten(clean, 120))}”`;
  if (countQuestion.test(clean)) return `${asked} — the counts above answer that, as the model received ${them}.`;
  return `${asked} I'm the offline demo model, so I can outline what you sent but not read ${them} for meaning; a real model reads the whole text and answers from it.`;
}

function fileLine(summary: FileSummary): string {
  const size = `${count(summary.lines, "line")}, ${count(summary.words, "word")}, ${count(summary.characters, "character")}`;
  return `**${plain(summary.name)}** — ${size}. ${summary.kind}`;
}

/** The demo model's answer to a message that carries files: what each one is, then a line about the question. */
export function filesPlan(message: FilesInMessage): TextPlan {
  const summaries = message.files.map(summarizeFile);
  const n = summaries.length;
  const names = listOf(summaries.map((s) => s.name), 4);
  const thinking = `The user sent ${n === 1 ? `a file, ${names}` : `${n} files: ${names}`}. I'll count lines and words and look at how ${n === 1 ? "it is" : "each is"} laid out.`;
  const intro = n === 1 ? "You sent one file:" : `You sent ${n} files:`;
  const list = summaries.map((s) => `- ${fileLine(s)}`).join("\n");
  return { thinking, answer: `${intro}\n\n${list}\n\n${questionLine(message.question, n)}` };
}
