import { QuestionAttachments } from "./attachments.js";
import { applyArtifactCall, artifactMarkdown, isArtifactCall, type Artifacts } from "./claude-artifacts.js";
import { isRecord } from "./json-values.js";
import { addTree, type ForeignNode } from "./tree.js";
import { ConversationBuilder, ForeignExportError, isoToMs, type ForeignChatMessage, type LeftOut } from "./document.js";
import type { ForeignReader } from "./read.js";

/**
 * Claude's data export (Settings → Privacy → Export data): `conversations.json` in the zip, an array of
 * `{ uuid, name, created_at, updated_at, chat_messages: [...] }`. The messages are the branch the conversation
 * showed, in order; newer exports link each one to its parent (`parent_message_uuid`), and then hold the other
 * versions too. The artifacts an answer wrote come in its text where Claude showed them, as they stood after it
 * (claude-artifacts.ts), each built up along the message's own branch.
 */
export const claudeReader: ForeignReader = {
  source: "Claude",
  matches: (value) => isRecord(value) && Array.isArray(value.chat_messages) && typeof value.uuid === "string",
  titleOf: (value) => (isRecord(value) && typeof value.name === "string" ? value.name : ""),
  read,
};

const notClaude = "It is not in the form of a Claude conversation.";
const badMessage = "One of its messages is not in the form Claude's export writes.";
/** What a pasted text is named in the export (Claude turns a long paste into an attachment without a name). */
const pastedFileName = "pasted.txt";
const imageExtension = /\.(png|jpe?g|gif|webp|heic|heif|bmp|tiff?|svg|avif)$/i;

function read(value: unknown, now: number): ReturnType<ForeignReader["read"]> {
  if (!isRecord(value) || !Array.isArray(value.chat_messages) || typeof value.uuid !== "string") throw new ForeignExportError(notClaude);
  const messages = value.chat_messages.map((message) => {
    if (!isRecord(message) || typeof message.sender !== "string") throw new ForeignExportError(badMessage);
    return message;
  });
  const builder = new ConversationBuilder();
  const links = parentLinks(messages);
  // The artifacts as each message leaves them, by its key: a message's start from its parent's (the export lists a
  // parent before its children).
  const artifactsAfter = new Map<string, Artifacts>();
  const nodes = messages.map((message, i): ForeignNode => {
    // Without links, the file order: the branch shown.
    const link = links?.[i] ?? { key: String(i), parentKey: i === 0 ? null : String(i - 1) };
    const before = (link.parentKey === null ? undefined : artifactsAfter.get(link.parentKey)) ?? noArtifacts;
    const read = messageOf(message, builder.leftOut, before);
    artifactsAfter.set(link.key, read.artifacts);
    return { ...link, message: read.message, createdAt: isoToMs(message.created_at) };
  });
  const resolved = addTree(builder, nodes);
  if (builder.size === 0) throw new ForeignExportError("It has no messages.");
  const last = nodes.at(-1);
  const document = builder.build({
    id: value.uuid,
    title: typeof value.name === "string" ? value.name : undefined,
    createdAt: isoToMs(value.created_at),
    updatedAt: isoToMs(value.updated_at),
    // The export holds the branch Claude showed last, ending with its last message.
    activeMessageId: (last ? resolved.get(last.key) : undefined) ?? builder.size,
    now,
  });
  return { document, leftOut: builder.leftOut };
}

/**
 * Each message's place in the tree by its `parent_message_uuid`, only when every message has one (one without would
 * have to be guessed into the tree). A parent not in the conversation (the root's is
 * "00000000-0000-4000-8000-000000000000") makes a first message.
 */
function parentLinks(messages: ReadonlyArray<Record<string, unknown>>): Array<{ key: string; parentKey: string }> | undefined {
  const links = messages.flatMap(({ uuid, parent_message_uuid: parent }) =>
    typeof uuid === "string" && typeof parent === "string" ? [{ key: uuid, parentKey: parent }] : [],
  );
  return links.length > 0 && links.length === messages.length ? links : undefined;
}

const noArtifacts: Artifacts = new Map();

/**
 * The message as this app keeps it (undefined for one with nothing to import: an answer that never came), and the
 * artifacts as it leaves them.
 */
function messageOf(message: Record<string, unknown>, leftOut: LeftOut, artifacts: Artifacts): { message: ForeignChatMessage | undefined; artifacts: Artifacts } {
  const blocks = contentBlocks(message);
  leftOut.add("tool call", blocks?.filter((block) => block.type === "tool_use" && !isArtifactCall(block)).length ?? 0);
  if (message.sender === "human") return { message: questionOf(blocks ? joined(blocks, "text", "text") : plainText(message.text), message, leftOut), artifacts };
  if (message.sender !== "assistant") return { message: undefined, artifacts };
  const thinking = blocks ? joined(blocks, "thinking", "thinking") : "";
  const answer = blocks ? answerWithArtifacts(blocks, artifacts) : { text: plainText(message.text).trim(), artifacts };
  if (answer.text === "" && thinking === "") return { message: undefined, artifacts: answer.artifacts };
  return { message: { role: "assistant", content: answer.text, ...(thinking === "" ? {} : { thinking }) }, artifacts: answer.artifacts };
}

/**
 * An answer's text blocks and artifacts in their order, each artifact once, where the answer last touched it and as it
 * stood at the answer's end (Claude's card showed its newest version).
 */
function answerWithArtifacts(blocks: ReadonlyArray<Record<string, unknown>>, before: Artifacts): { text: string; artifacts: Artifacts } {
  let artifacts = before;
  const parts: Array<{ text: string } | { artifact: string }> = [];
  for (const block of blocks) {
    if (block.type === "text" && typeof block.text === "string" && block.text.trim() !== "") {
      parts.push({ text: block.text.trim() });
    } else if (isArtifactCall(block)) {
      const id = String((block.input as Record<string, unknown>).id);
      artifacts = applyArtifactCall(artifacts, block);
      const earlier = parts.findIndex((part) => "artifact" in part && part.artifact === id);
      if (earlier >= 0) parts.splice(earlier, 1);
      if (artifacts.has(id)) parts.push({ artifact: id });
    }
  }
  const shown = artifacts;
  const text = parts.map((part) => ("text" in part ? part.text : artifactMarkdown(shown.get(part.artifact)!))).join("\n\n");
  return { text, artifacts };
}

/**
 * The message's `content` blocks when it has any (text, thinking, tool_use, tool_result…). When it does, its `text`
 * is not read: for an answer that used tools it holds placeholders ("This block is not supported on your current
 * device yet") rather than what was said.
 */
function contentBlocks(message: Record<string, unknown>): Array<Record<string, unknown>> | undefined {
  const content = message.content;
  if (!Array.isArray(content) || content.length === 0) return undefined;
  return content.filter(isRecord);
}

/** The `field` of the blocks of `type`, each trimmed, the empty ones dropped, a blank line between them. */
function joined(blocks: ReadonlyArray<Record<string, unknown>>, type: string, field: string): string {
  return blocks
    .flatMap((block) => (block.type === type && typeof block[field] === "string" ? [block[field].trim()] : []))
    .filter((part) => part !== "")
    .join("\n\n");
}

function plainText(text: unknown): string {
  if (text === undefined || text === null) return "";
  if (typeof text !== "string") throw new ForeignExportError(badMessage);
  return text;
}

/**
 * A question with its attachments: `attachments` are files whose text Claude extracted (`extracted_content`), kept
 * as text files; `files` are uploads the export holds no content of (images, PDFs), left out, unless the same name is
 * among the kept attachments (its text is then imported).
 */
function questionOf(text: string, message: Record<string, unknown>, leftOut: LeftOut): Extract<ForeignChatMessage, { role: "user" }> | undefined {
  const attachments = new QuestionAttachments();
  const extracted = Array.isArray(message.attachments) ? message.attachments.filter(isRecord) : [];
  for (const attachment of extracted) attachments.file(attachment.file_name, attachment.extracted_content, pastedFileName);
  const keptNames = new Set(attachments.files.map((file) => file.name));
  const uploads = Array.isArray(message.files) ? message.files.filter(isRecord) : [];
  for (const upload of uploads) {
    const name = typeof upload.file_name === "string" ? upload.file_name : "";
    if (keptNames.has(name)) continue;
    attachments.leave(imageExtension.test(name) || upload.file_kind === "image" ? "image" : "file");
  }
  return attachments.question(text, leftOut);
}
