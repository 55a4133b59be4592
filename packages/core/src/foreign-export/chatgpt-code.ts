import { record, string, type Json } from "./json-values.js";
import { fencedBlock } from "./written-document.js";

// ChatGPT's code interpreter ("Advanced data analysis") as its export holds it: an assistant message addressed to
// `python` (`python_user_visible` for newer models) whose content is `{ content_type: "code", text }`, then the tool's
// answer, a `tool` message of the same name with `{ content_type: "execution_output", text }` (and the charts it drew
// in `metadata.aggregate_result.messages`, which stay counted as left out). ChatGPT showed both in the answer, folded
// under "Analyzed"; imported, they come fenced in the answer where they ran, so the answer's numbers keep their working.
// A reasoning model's own `python` calls were private (its thinking, shown at most as summaries) and stay left out.

/** The tools whose calls ran code the person could open. */
const codeTools: ReadonlySet<string> = new Set(["python", "python_user_visible"]);

/** The placeholder an output has for each picture it drew (the picture itself is in `aggregate_result`). */
const imagePlaceholder = /^<<ImageDisplayed>>$/gm;

/** Whether a message is a call that runs code (shown or private: see `codeShown`). */
export function isCodeCall(message: Json): boolean {
  return string(record(message.author)?.role) === "assistant" && codeTools.has(string(message.recipient) ?? "") && record(message.content)?.content_type === "code";
}

/**
 * Whether the person saw the call: `python_user_visible` always; `python` unless the model said it privately (the
 * `analysis` channel of newer exports) or it came after the answer's reasoning (a reasoning model thinks with it).
 */
export function codeShown(message: Json, afterReasoning: boolean): boolean {
  if (message.recipient === "python_user_visible") return true;
  return message.channel !== "analysis" && !afterReasoning;
}

/** The call's code, fenced as Python ("unknown" is what the export says of it); undefined when it has none. */
export function codeCallMarkdown(message: Json): string | undefined {
  const code = string(record(message.content)?.text);
  if (code === undefined || code.trim() === "") return undefined;
  const language = string(record(message.content)?.language);
  return fencedBlock(code, language === undefined || language === "unknown" ? "python" : language);
}

/** Whether a message is the output of a code call. */
export function isCodeOutput(message: Json): boolean {
  const author = record(message.author);
  return string(author?.role) === "tool" && codeTools.has(string(author?.name) ?? "") && record(message.content)?.content_type === "execution_output";
}

/** What the code printed, fenced as `output`; undefined when it printed nothing but pictures (or nothing at all). */
export function codeOutputMarkdown(message: Json): string | undefined {
  const text = string(record(message.content)?.text)?.replace(imagePlaceholder, "");
  if (text === undefined || text.trim() === "") return undefined;
  return fencedBlock(text.replace(/^\n+|\n+$/g, ""), "output");
}
