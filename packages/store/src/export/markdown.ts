import { splitUnopenedReasoning } from "@streamchat/core";
import { MessageTree } from "../tree.js";
import type { MessageVersions, StoredMessage } from "../types.js";
import type { ConversationExport, ExportedMessage } from "./schema.js";

/** Longest a tool call's arguments or a tool's result is quoted, in characters. */
const quoteMaxChars = 160;

/**
 * The active path of an export as Markdown, to read: a `#` title (and the chat's instructions and sampling, quoted), then one `##` section per turn — "User", or
 * "Assistant" for the whole chain of an answer (its tool calls and results, then its text) — marked "version i of
 * n" where the conversation has other versions. Message text is written verbatim; tool calls and results are short
 * one-line quotes (collapsed whitespace, cut at 160 characters; the tool's name too: a model or an imported file
 * sets it); attached images are named, not embedded; attached text files are named and written whole in a fenced block;
 * reasoning is left out (the JSON export has it), and so is the reasoning a server left in an answer's text before a
 * closing marker without an opening one (core's splitUnopenedReasoning, as the web app folds it).
 */
export function conversationMarkdown(doc: ConversationExport): string {
  const tree = new MessageTree(doc.messages);
  const byId = new Map(doc.messages.map((message) => [message.id, message]));
  const path = tree.pathTo(doc.activeMessageId).map((id) => byId.get(id)!);

  // On one line: a title may hold line breaks (a rename or an imported file sets it), which would end the heading.
  const blocks: string[] = [`# ${doc.conversation.title.replace(/\s+/g, " ").trim()}`, `_Exported from streamchat on ${new Date(doc.exportedAt).toISOString()}._`];
  // What every answer of it was given beside the messages: quoted, so no line of it reads as a heading of the chat.
  const instructions = doc.conversation.instructions?.trim();
  if (instructions) blocks.push(`> **Chat instructions**\n>\n${instructions.split(/\r?\n/).map((line) => (line === "" ? ">" : `> ${line}`)).join("\n")}`);
  const { temperature, topP, seed } = doc.conversation.sampling ?? {};
  const sampling = ([["temperature", temperature], ["top P", topP], ["seed", seed]] as const).filter(([, value]) => value != null);
  if (sampling.length > 0) blocks.push(`> **Sampling** ${sampling.map(([name, value]) => `${name} ${value}`).join(", ")}`);
  let previousRole: string | undefined;
  for (const entry of path) {
    const { message } = entry;
    const section = message.role === "tool" ? "assistant" : message.role;
    const versions = tree.versionsOf(entry.id);
    // An answer's chain (assistant, tool results, assistant …) is one section; each user message starts its own.
    if (section !== previousRole || section !== "assistant" || versions) blocks.push(heading(section, versions));
    previousRole = section;
    blocks.push(...messageBlocks(entry));
  }
  return `${blocks.join("\n\n")}\n`;
}

function heading(role: StoredMessage["message"]["role"], versions: MessageVersions | undefined): string {
  const name = role === "user" ? "User" : role === "system" ? "System" : "Assistant";
  return versions ? `## ${name} (version ${versions.index} of ${versions.count})` : `## ${name}`;
}

function messageBlocks({ message }: ExportedMessage): string[] {
  const blocks: string[] = [];
  switch (message.role) {
    case "assistant":
      for (const call of message.toolCalls ?? []) blocks.push(`> **Tool call** ${code(short(call.name))} ${code(short(JSON.stringify(call.args) ?? ""))}`);
      break;
    case "tool":
      blocks.push(`> **Tool result** ${code(short(message.toolName))} ${code(short(message.content))}`);
      return blocks;
    case "user":
      for (const image of message.images ?? []) blocks.push(`> **Image** (${image.mimeType})`);
      for (const file of message.files ?? []) blocks.push(`> **File** ${code(short(file.name))}`, fenced(file.text));
      break;
    default:
      break;
  }
  const content = message.role === "assistant" && !message.thinking ? (splitUnopenedReasoning(message.content)?.answer ?? message.content) : message.content;
  if (content !== "") blocks.push(content);
  return blocks;
}

function short(text: string): string {
  const flat = text.replace(/\s+/g, " ").trim();
  if (flat.length <= quoteMaxChars) return flat;
  let end = quoteMaxChars - 1;
  if (/[\uD800-\uDBFF]/.test(flat.charAt(end - 1))) end -= 1; // never half a surrogate pair
  return `${flat.slice(0, end)}…`;
}

/** A fenced code block that holds any text: its fence longer than the text's longest run of backticks. */
function fenced(text: string): string {
  let longest = 0;
  for (const run of text.match(/`+/g) ?? []) longest = Math.max(longest, run.length);
  const fence = "`".repeat(Math.max(3, longest + 1));
  return `${fence}\n${text}${text.endsWith("\n") ? "" : "\n"}${fence}`;
}

/** Inline code that holds any text: a fence longer than the text's longest run of backticks. */
function code(text: string): string {
  // A loop, not Math.max(...runs): spreading a long text's runs as arguments overflows the stack.
  let longest = 0;
  for (const run of text.match(/`+/g) ?? []) longest = Math.max(longest, run.length);
  const fence = "`".repeat(longest + 1);
  const pad = text.startsWith("`") || text.endsWith("`") || text === "" ? " " : "";
  return `${fence}${pad}${text}${pad}${fence}`;
}
