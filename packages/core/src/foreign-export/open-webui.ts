import { QuestionAttachments } from "./attachments.js";
import { isRecord } from "./json-values.js";
import { addTree, type ForeignNode } from "./tree.js";
import { ConversationBuilder, epochToMs, ForeignExportError, type ForeignChatMessage, type ForeignSampling, type LeftOut } from "./document.js";
import type { ForeignReader } from "./read.js";
import { splitLeadingReasoning } from "../think-tags.js";

/**
 * Open WebUI's chat export (Settings → Chats → Export chats, or a chat's "Export chat (.json)"): an array of chat rows
 * `{ id, title, chat: { history: { messages, currentId }, messages }, created_at, updated_at, … }`. The history is the
 * whole tree (every edit and regenerate); `chat.messages` only the path shown, read when there is no history.
 */
export const openWebUiReader: ForeignReader = {
  source: "Open WebUI",
  matches: (value) => chatOf(value) !== undefined,
  titleOf: (value) => ownTitle(value) ?? "",
  read,
};

const notOpenWebUi = "It is not in the form of an Open WebUI chat.";
const badMessage = "One of its messages is not in the form Open WebUI writes.";
/** The title Open WebUI gives a chat until one is generated; where generation is off, every chat has it. */
const placeholderTitle = "New Chat";

function chatOf(row: unknown): Record<string, unknown> | undefined {
  if (!isRecord(row) || !isRecord(row.chat)) return undefined;
  const chat = row.chat;
  if (isRecord(chat.history) && isRecord(chat.history.messages)) return chat;
  return Array.isArray(chat.messages) ? chat : undefined;
}

function ownTitle(row: unknown): string | undefined {
  if (!isRecord(row)) return undefined;
  if (typeof row.title === "string") return row.title;
  return isRecord(row.chat) && typeof row.chat.title === "string" ? row.chat.title : undefined;
}

function read(row: unknown, now: number): ReturnType<ForeignReader["read"]> {
  const chat = chatOf(row);
  if (!isRecord(row) || !chat) throw new ForeignExportError(notOpenWebUi);
  const builder = new ConversationBuilder();
  const history = isRecord(chat.history) ? chat.history : {};
  const tree = isRecord(history.messages) ? history.messages : undefined;
  const nodes = tree ? historyNodes(tree, builder.leftOut) : pathNodes(chat.messages, builder.leftOut);
  const resolved = addTree(builder, nodes);
  if (builder.size === 0) throw new ForeignExportError("It has no messages.");
  const currentId = tree ? history.currentId : undefined;
  const title = ownTitle(row);
  const document = builder.build({
    id: typeof row.id === "string" ? row.id : typeof chat.id === "string" ? chat.id : "",
    title: title?.trim() === placeholderTitle ? undefined : title,
    createdAt: epochToMs(row.created_at) ?? epochToMs(chat.timestamp),
    updatedAt: epochToMs(row.updated_at),
    activeMessageId: (typeof currentId === "string" ? resolved.get(currentId) : undefined) ?? builder.size,
    now,
    archived: row.archived === true,
    pinned: row.pinned === true,
    // The chat's own system prompt (Chat Controls → System Prompt), kept in the chat's params.
    instructions: isRecord(chat.params) && typeof chat.params.system === "string" ? chat.params.system : undefined,
    // Its own temperature, top P and seed, beside it (null there: the model's, as here).
    sampling: isRecord(chat.params) ? paramsSampling(chat.params) : undefined,
  });
  return { document, leftOut: builder.leftOut };
}

/** The sampling settings of a chat's params that are numbers (Open WebUI keeps null for the model's own). */
function paramsSampling(params: Record<string, unknown>): ForeignSampling {
  const given = { temperature: params.temperature, topP: params.top_p, seed: params.seed };
  return Object.fromEntries(Object.entries(given).filter(([, value]) => typeof value === "number")) as ForeignSampling;
}

/** The history's messages, linked by their `parentId` (not `childrenIds`: the parent link is the one each keeps). */
function historyNodes(messages: Record<string, unknown>, leftOut: LeftOut): ForeignNode[] {
  return Object.entries(messages).map(([key, message]) => {
    if (!isRecord(message)) throw new ForeignExportError(badMessage);
    return {
      key: typeof message.id === "string" ? message.id : key,
      parentKey: typeof message.parentId === "string" ? message.parentId : null,
      message: messageOf(message, leftOut),
      createdAt: epochToMs(message.timestamp),
    };
  });
}

/** The shown path of a chat without history: one message after the other. */
function pathNodes(messages: unknown, leftOut: LeftOut): ForeignNode[] {
  if (!Array.isArray(messages)) throw new ForeignExportError(notOpenWebUi);
  return messages.map((message, i) => {
    if (!isRecord(message)) throw new ForeignExportError(badMessage);
    return { key: String(i), parentKey: i === 0 ? null : String(i - 1), message: messageOf(message, leftOut), createdAt: epochToMs(message.timestamp) };
  });
}

/** The message as this app keeps it; undefined for one it does not import (a system prompt, a failed answer). */
function messageOf(message: Record<string, unknown>, leftOut: LeftOut): ForeignChatMessage | undefined {
  const content = message.content ?? "";
  if (typeof message.role !== "string" || typeof content !== "string") throw new ForeignExportError(badMessage);
  if (message.role === "user") return questionOf(content, message.files, leftOut);
  if (message.role === "assistant") return answerOf(content, message.files, leftOut);
  // A system message belongs to the settings the chat ran with: the chat's own system prompt, where Open WebUI keeps it
  // (`chat.params.system`), becomes the conversation's instructions (read); the API adds its own prompt.
  return undefined;
}

function questionOf(content: string, files: unknown, leftOut: LeftOut): Extract<ForeignChatMessage, { role: "user" }> | undefined {
  const attachments = new QuestionAttachments();
  if (Array.isArray(files)) for (const file of files) addAttachment(attachments, file);
  return attachments.question(content, leftOut);
}

/**
 * One entry of a question's `files`: `{ type: "image", url }` (a data: URL, or an http one), or an uploaded file
 * `{ type: "file", name, file: { filename, meta: { name, content_type }, data: { content } } }` whose text Open WebUI
 * extracted. The shapes vary by version, so each part is looked for where any of them put it.
 */
function addAttachment(attachments: QuestionAttachments, file: unknown): void {
  if (!isRecord(file)) return attachments.leave("file");
  if (file.type === "image") return attachments.image(file.url);
  const upload = isRecord(file.file) ? file.file : {};
  const meta = isRecord(upload.meta) ? upload.meta : {};
  const text = [upload.data, file.data].find((data) => isRecord(data) && typeof data.content === "string");
  if (isRecord(text)) return attachments.file(firstString(file.name, upload.filename, meta.name), text.content, "file.txt");
  // An image uploaded as a file (newer versions) has no data: URL here; its bytes stayed on the server.
  const contentType = firstString(meta.content_type, file.content_type) ?? "";
  attachments.leave(contentType.startsWith("image/") ? "image" : "file");
}

function firstString(...values: unknown[]): string | undefined {
  return values.find((value): value is string => typeof value === "string" && value.trim() !== "");
}

/**
 * Open WebUI keeps an answer's reasoning and tool calls in its content, as HTML `<details>` blocks the UI folds
 * (`type="reasoning"`, `"tool_calls"`, `"code_interpreter"`); older versions kept a model's reasoning block (`<think>`
 * and the like) as sent, read here as a stream's is (think-tags.ts).
 */
const detailsBlock = /\s*<details\s+type="(reasoning|tool_calls|code_interpreter)"[^>]*>([\s\S]*?)<\/details>\s*/g;

function answerOf(content: string, files: unknown, leftOut: LeftOut): Extract<ForeignChatMessage, { role: "assistant" }> | undefined {
  const leading = splitLeadingReasoning(content);
  const thoughts = [leading.reasoning.trim()];
  const text = leading.answer.replace(detailsBlock, (_, type: string, body: string) => {
    if (type === "reasoning") thoughts.push(reasoningText(body));
    else leftOut.add("tool call");
    return "\n\n";
  });
  // Images an answer made (an image generation tool's) are not an answer's part here.
  if (Array.isArray(files)) leftOut.add("image", files.filter((file) => isRecord(file) && file.type === "image").length);
  const thinking = thoughts.filter((t) => t !== "").join("\n\n");
  const answer = text.trim();
  // A failed answer (`error` set) has neither: nothing to show, nothing to go on from.
  if (answer === "" && thinking === "") return undefined;
  return { role: "assistant", content: answer, ...(thinking === "" ? {} : { thinking }) };
}

/**
 * The reasoning of a `<details type="reasoning">` block, after a `<summary>` ("Thought for 5 seconds"): its lines
 * written as a Markdown quote ("> " before each, none before a line that began with ">"), then HTML-escaped by newer
 * versions, the quote marks with them ("&gt; ").
 */
function reasoningText(body: string): string {
  const quoted = unescapeHtml(body.replace(/^\s*<summary>[\s\S]*?<\/summary>/, ""));
  return quoted
    .split("\n")
    .map((line) => line.replace(/^> ?/, ""))
    .join("\n")
    .trim();
}

/** Undoes Python's html.escape (what Open WebUI escapes reasoning with). */
function unescapeHtml(text: string): string {
  return text
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&#x27;|&#39;/g, "'")
    .replace(/&amp;/g, "&");
}
