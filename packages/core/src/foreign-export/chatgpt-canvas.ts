import { array, record, string, type Json } from "./json-values.js";
import type { WrittenDocument } from "./written-document.js";

// ChatGPT's canvas as its export holds it: an assistant message addressed to `canmore.create_textdoc` whose text is
// the JSON `{ name, type: "document" | "code/<language>", content }`, or to `canmore.update_textdoc` with
// `{ updates: [{ pattern, multiple, replacement }] }` (a regular expression and what replaces its matches; ".*" rewrites
// the whole). The tool's answer, the next message, names the document (`metadata.canvas.textdoc_id`) and says whether
// the change failed. ChatGPT showed the document beside the answer; imported, it comes in the answer where the call was,
// as it stood after it.

const createCall = "canmore.create_textdoc";
const updateCall = "canmore.update_textdoc";

/** The documents of a path through the conversation, and the one open in the canvas (what an update without id changes). */
export interface Canvas {
  readonly documents: ReadonlyMap<string, WrittenDocument>;
  readonly open: string | undefined;
}

export const emptyCanvas: Canvas = { documents: new Map(), open: undefined };

/** What the tool answered a call: the document's id and type, and whether the call failed. */
export interface CanvasResponse {
  textdocId: string | undefined;
  type: string | undefined;
  failed: boolean;
}

/** Whether a message is a call that writes a canvas document. */
export function isCanvasCall(message: Json | undefined): boolean {
  return string(record(message?.author)?.role) === "assistant" && (message?.recipient === createCall || message?.recipient === updateCall);
}

/** The tool's answer to a call, from the messages that answered it (the node's children). */
export function canvasResponse(answers: ReadonlyArray<Json | undefined>): CanvasResponse | undefined {
  for (const answer of answers) {
    const canvas = record(record(answer?.metadata)?.canvas);
    if (string(record(answer?.author)?.role) !== "tool" || !canvas) continue;
    return { textdocId: string(canvas.textdoc_id), type: string(canvas.textdoc_type), failed: canvas.is_failure === true };
  }
  return undefined;
}

/** "document" reads as Markdown; "code/python" as Python. */
function languageOf(type: string | undefined): string {
  if (type === "document") return "markdown";
  return type?.startsWith("code/") === true ? type.slice("code/".length) : "";
}

/** The call's arguments: the JSON in its code text (or its one text part). */
function argumentsOf(message: Json): Json | undefined {
  const content = record(message.content);
  const text = string(content?.text) ?? string(array(content?.parts)[0]);
  if (text === undefined) return undefined;
  try {
    return record(JSON.parse(text));
  } catch {
    return undefined;
  }
}

/**
 * A document's text after an update's replacements, in order; undefined when the text before is not known or a
 * pattern is not one this reader can apply (ChatGPT's are Python's; most are JavaScript's too).
 */
function updated(content: string | undefined, updates: unknown): string | undefined {
  if (content === undefined || !Array.isArray(updates)) return undefined;
  let text = content;
  for (const value of updates) {
    const update = record(value);
    const pattern = string(update?.pattern);
    if (pattern === undefined) return undefined;
    let expression: RegExp;
    try {
      // A dot crosses lines, as ".*" is meant to take the whole document.
      expression = new RegExp(pattern, update?.multiple === true ? "gs" : "s");
    } catch {
      return undefined;
    }
    const replacement = string(update?.replacement) ?? "";
    // A function: the replacement is literal, its "$" signs are not references.
    text = text.replace(expression, () => replacement);
  }
  return text;
}

/**
 * The canvas after a call, and the id of the document to show where the call was; the same canvas and no document for a
 * call that failed or that cannot be read.
 */
export function applyCanvasCall(canvas: Canvas, message: Json, response: CanvasResponse | undefined, fallbackId: string): { canvas: Canvas; shown?: string } {
  const args = argumentsOf(message);
  if (!args || response?.failed === true) return { canvas };
  let id: string;
  let document: WrittenDocument;
  if (message.recipient === createCall) {
    id = response?.textdocId ?? fallbackId;
    document = { title: string(args.name)?.trim() || "Canvas", language: languageOf(string(args.type) ?? response?.type), content: string(args.content) };
  } else {
    id = response?.textdocId ?? canvas.open ?? fallbackId;
    const before = canvas.documents.get(id) ?? { title: "Canvas", language: languageOf(response?.type), content: undefined };
    document = { ...before, content: updated(before.content, args.updates) };
  }
  const documents = new Map(canvas.documents);
  documents.set(id, document);
  return { canvas: { documents, open: id }, shown: id };
}
