import { splitLeadingReasoning, splitUnopenedReasoning, userMessageText, type ChatMessage, type FileAttachment } from "@streamchat/core";

/** The last message of a title request. The demo model (ollama-sim) recognises it by its first words. */
export const titleInstruction =
  "Write a short title (3 to 6 words) for the conversation above. Reply with the title only: no quotes, no punctuation at the end.";

/** How much of the first question and answer the model sees: enough to name the topic, cheap to read. */
const excerptChars = 1500;
/** How much of each file on the first question: its name and first lines say what it is about. */
const fileExcerptChars = 200;
export const titleMaxChars = 60;

function excerpt(text: string): string {
  return text.length <= excerptChars ? text : `${text.slice(0, excerptChars)}…`;
}

/**
 * The whole request: the first exchange, then the instruction (no system prompt, no tools). Files on the question go as
 * the run sent them (`<file name>` blocks) but each cut to its first lines: "What is in this?" names nothing, a file's
 * name and head do, and a whole file would crowd out the question.
 */
export function titleRequestMessages(question: string, answer: string, files: readonly FileAttachment[] = []): ChatMessage[] {
  const heads = files.map((file) => ({ ...file, text: file.text.length <= fileExcerptChars ? file.text : `${file.text.slice(0, fileExcerptChars)}…` }));
  return [
    { role: "user", content: userMessageText({ content: excerpt(question), files: heads }) },
    { role: "assistant", content: excerpt(answer) },
    { role: "user", content: titleInstruction },
  ];
}

/**
 * The title in what the model answered: its first non-empty line without "Title:", quotes, markdown emphasis or
 * trailing punctuation, at most 60 characters (cut at a word). Undefined when nothing usable is left.
 */
export function cleanTitle(answer: string): string | undefined {
  // Reasoning some models inline before their answer (<think> and the other models' markers), read as a run reads it
  // (a block the token limit cut off leaves nothing), or left there without its opening marker (an R1 distill on a
  // server without a reasoning parser: "…\n</think>\n\nTitle").
  const answerText = splitLeadingReasoning(answer).answer;
  const line = (splitUnopenedReasoning(answerText)?.answer ?? answerText)
    .split(/\r?\n/)
    .map((l) => l.trim())
    .find((l) => l !== "");
  if (!line) return undefined;
  let title = line
    .replace(/^#+\s*/, "")
    .replace(/^(?:conversation\s+)?title\s*:\s*/i, "")
    // Markdown emphasis and code around words; a `*` or `_` inside one ("12*7", "snake_case") is the title's own.
    .replace(/(\*\*|\*|`)(?=\S)(.+?)(?<=\S)\1/g, "$2")
    .replace(/(?<![\p{L}\p{N}])(__|_)(?=\S)(.+?)(?<=\S)\1(?![\p{L}\p{N}])/gu, "$2")
    .replace(/^[*_`]+|[*_`]+$/g, "")
    .replace(/^["'“”‘’«»]+|["'“”‘’«»]+$/g, "")
    // Control characters, and NUL or unpaired surrogates a title column cannot hold.
    .replace(/[\u0000-\u001f\u007f]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, "")
    .replace(/\s+/g, " ")
    .replace(/[\s.,;:!]+$/, "")
    .trim();
  if (title.length > titleMaxChars) {
    // Never cut a surrogate pair in half.
    const end = /[\uD800-\uDBFF]/.test(title.charAt(titleMaxChars - 1)) ? titleMaxChars - 1 : titleMaxChars;
    const cut = title.slice(0, end);
    const space = cut.lastIndexOf(" ");
    title = `${(space > 20 ? cut.slice(0, space) : cut).replace(/[\s.,;:!-]+$/, "")}…`;
  }
  return title === "" ? undefined : title;
}
