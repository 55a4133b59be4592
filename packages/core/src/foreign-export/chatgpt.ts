import { maxImagesPerMessage, type ImageAttachment } from "../attachments.js";
import { maxFilesPerMessage, type FileAttachment } from "../files.js";
import { textFile } from "./attachments.js";
import { ConversationBuilder, ForeignExportError, secondsToMs, type LeftOut } from "./document.js";
import { applyCanvasCall, canvasResponse, emptyCanvas, isCanvasCall, type Canvas } from "./chatgpt-canvas.js";
import { withCitations } from "./chatgpt-citations.js";
import { codeCallMarkdown, codeOutputMarkdown, codeShown, isCodeCall, isCodeOutput } from "./chatgpt-code.js";
import { array, record, string, type Json } from "./json-values.js";
import type { ForeignFile, ForeignReader } from "./read.js";
import { writtenDocumentMarkdown } from "./written-document.js";

/**
 * Reader of ChatGPT's data export (`conversations.json` in the zip of Settings → Data controls → Export data): each
 * conversation is a tree of nodes (`mapping`), most of which a person never saw as messages (the system prompt, custom
 * instructions, tool calls and their results, reasoning). What ChatGPT showed is rebuilt: each question, and per
 * question one answer made of the visible text of every assistant-side node up to the next question, with the
 * reasoning as its `thinking`. Edited questions and regenerated answers stay versions (siblings), and the version
 * ChatGPT showed (`current_node`) is the active one. The pictures and text files a question was asked with are taken
 * when the export's archive is read where they are (`fileIds`, chatgpt-files.ts); otherwise they are counted as left
 * out. Canvas documents come in the answer that wrote them (chatgpt-canvas.ts), the code it ran and what that printed in
 * the answer where it ran (chatgpt-code.ts).
 */
export const chatGptReader: ForeignReader = {
  source: "ChatGPT",
  matches(value) {
    const conversation = record(value);
    return conversation !== undefined && record(conversation.mapping) !== undefined && ("current_node" in conversation || "title" in conversation);
  },
  titleOf(value) {
    const title = record(value)?.title;
    return typeof title === "string" ? title : "";
  },
  fileIds(value) {
    const ids: string[] = [];
    for (const node of Object.values(record(record(value)?.mapping) ?? {})) {
      const message = record(record(node)?.message);
      if (string(record(message?.author)?.role) !== "user") continue;
      ids.push(...readParts(record(message?.content)?.parts, new Map()).pointers);
      for (const attachment of array(record(message?.metadata)?.attachments)) {
        const id = string(record(attachment)?.id);
        if (id !== undefined) ids.push(id);
      }
    }
    return [...new Set(ids)];
  },
  read(value, now, files) {
    const conversation = record(value);
    if (!conversation) throw new ForeignExportError("It is not a ChatGPT conversation.");
    const mapping = record(conversation.mapping);
    if (!mapping) throw new ForeignExportError("Its messages are missing: it has no “mapping” of messages as ChatGPT writes them.");
    const builder = new ConversationBuilder();
    const activeMessageId = rebuild(treeOf(mapping), builder, string(conversation.current_node), files);
    if (builder.size === 0) throw new ForeignExportError("It has no messages.");
    const document = builder.build({
      id: string(conversation.conversation_id) ?? string(conversation.id) ?? "",
      title: string(conversation.title),
      createdAt: secondsToMs(conversation.create_time),
      updatedAt: secondsToMs(conversation.update_time),
      activeMessageId,
      now,
      archived: conversation.is_archived === true,
    });
    return { document, leftOut: builder.leftOut };
  },
};

// ---------------------------------------------------------------------------------------------------------------------
// The tree

interface TreeNode {
  message: Json | undefined;
  /** Its message's create_time in ms. */
  time: number | undefined;
  children: string[];
}

interface Tree {
  nodes: Map<string, TreeNode>;
  roots: string[];
}

/**
 * The mapping's nodes by their key (the id `children` and `parent` name). A node's children are those it lists that
 * exist, then any node naming it as parent that it does not list: a hand-trimmed or partly written export keeps the
 * messages it still links one way.
 */
function treeOf(mapping: Json): Tree {
  const nodes = new Map<string, TreeNode>();
  const parents = new Map<string, string | undefined>();
  for (const [id, value] of Object.entries(mapping)) {
    const node = record(value);
    if (!node) continue;
    const message = record(node.message);
    nodes.set(id, { message, time: secondsToMs(message?.create_time), children: array(node.children).filter((c): c is string => typeof c === "string") });
    parents.set(id, string(node.parent));
  }
  const roots: string[] = [];
  const claimed = new Map<string, string[]>();
  for (const [id, parent] of parents) {
    if (parent === undefined || parent === id || !nodes.has(parent)) roots.push(id);
    else claimed.set(parent, [...(claimed.get(parent) ?? []), id]);
  }
  for (const [id, node] of nodes) {
    const listed = node.children.filter((child) => child !== id && nodes.has(child));
    const unlisted = (claimed.get(id) ?? []).filter((child) => !listed.includes(child));
    node.children = [...new Set([...listed, ...unlisted])];
  }
  return { nodes, roots };
}

/** A piece of an answer: what it said, or a canvas document as it stood (`document`: its id). */
interface AnswerPart {
  readonly text: string;
  readonly document?: string;
}

/** The answer being gathered on a path since its last question. Shared by branches until one adds to it. */
interface Answer {
  readonly parts: readonly AnswerPart[];
  readonly thoughts: readonly string[];
  readonly createdAt: number | undefined;
  /** Set once written, so branches that share this very answer (nothing added since they parted) share one message. */
  writtenId?: number;
}

/** Where a path through the tree stands. */
interface PathState {
  /** The last message written on the path (null: none yet). */
  lastId: number | null;
  answer: Answer | undefined;
  /** The newest create_time on the path, to find the newest leaf. */
  newest: number | undefined;
  /** The canvas documents as the path has written them. */
  canvas: Canvas;
  /** Whether the path's last code call was shown, and so its output is. */
  codeOutputShown: boolean;
}

/** What the walk reads with besides the path. */
interface Reading {
  tree: Tree;
  builder: ConversationBuilder;
  files: Files;
}

/**
 * Walks every node once, depth-first from the roots, children in their order (so versions keep ChatGPT's order and
 * every parent is written before its children); writes the messages; returns the id of the message to show.
 */
function rebuild(tree: Tree, builder: ConversationBuilder, currentNode: string | undefined, files: Files): number | null {
  const visited = new Set<string>();
  const reading: Reading = { tree, builder, files };
  // An explicit stack: a conversation of thousands of turns is a path thousands of nodes deep.
  const stack = [...tree.roots].reverse().map((id) => ({ id, state: { lastId: null, answer: undefined, newest: undefined, canvas: emptyCanvas, codeOutputShown: false } as PathState }));
  let shown: number | null = null;
  let newestLeaf: { id: number; time: number } | undefined;
  for (let next = stack.pop(); next; next = stack.pop()) {
    const node = tree.nodes.get(next.id);
    // A node listed under two parents, or in a cycle, is taken once: the walk ends.
    if (!node || visited.has(next.id)) continue;
    visited.add(next.id);
    const state = advance(next.state, next.id, node, reading);
    if (next.id === currentNode) shown = settle(state, builder);
    const children = node.children.filter((child) => !visited.has(child));
    if (children.length === 0) {
      const id = settle(state, builder);
      const time = state.newest ?? -Infinity;
      // Later leaves win ties: a version made later is listed later.
      if (id !== null && (!newestLeaf || time >= newestLeaf.time)) newestLeaf = { id, time };
    }
    for (const child of children.reverse()) stack.push({ id: child, state });
  }
  // Without a current_node that names a shown message (missing, unknown, or before any message), the version ChatGPT
  // would show is the one last worked on: the path to the newest leaf.
  return shown ?? newestLeaf?.id ?? null;
}

/** The path's state after one more node: a question is written (after the answer it follows); answers gather. */
function advance(state: PathState, id: string, node: TreeNode, { tree, builder, files }: Reading): PathState {
  const newest = node.time === undefined || (state.newest !== undefined && state.newest >= node.time) ? state.newest : node.time;
  if (node.message && isCanvasCall(node.message)) {
    // The tool's answer (a child) names the document; a call nothing answered names one of its own.
    const response = canvasResponse(node.children.map((child) => tree.nodes.get(child)?.message));
    const { canvas, shown } = applyCanvasCall(state.canvas, node.message, response, `canvas:${id}`);
    const document = shown === undefined ? undefined : canvas.documents.get(shown);
    const step: AnswerStep = document && shown !== undefined ? { kind: "answer", document: { id: shown, markdown: writtenDocumentMarkdown(document) } } : nothingShown;
    return { ...state, answer: gather(state.answer, step, node.time), newest, canvas };
  }
  if (node.message && isCodeCall(node.message)) {
    const shown = codeShown(node.message, (state.answer?.thoughts.length ?? 0) > 0);
    const code = shown ? codeCallMarkdown(node.message) : undefined;
    if (code === undefined) builder.leftOut.add("tool call");
    const step: AnswerStep = code === undefined ? nothingShown : { kind: "answer", text: code };
    return { ...state, answer: gather(state.answer, step, node.time), newest, codeOutputShown: shown };
  }
  if (node.message && isCodeOutput(node.message)) {
    countToolImages(node.message, builder.leftOut);
    const output = state.codeOutputShown ? codeOutputMarkdown(node.message) : undefined;
    const step: AnswerStep = output === undefined ? nothingShown : { kind: "answer", text: output };
    return { ...state, answer: gather(state.answer, step, node.time), newest };
  }
  const step = readMessage(node.message, builder.leftOut, files);
  if (step.kind === "question") {
    const parentId = settle(state, builder);
    const { content, images, files: attached } = step;
    const lastId = builder.add(
      parentId,
      { role: "user", content, ...(images.length > 0 ? { images } : {}), ...(attached.length > 0 ? { files: attached } : {}) },
      node.time,
    );
    return { lastId, answer: undefined, newest, canvas: state.canvas, codeOutputShown: false };
  }
  if (step.kind === "answer") return { ...state, answer: gather(state.answer, step, node.time), newest };
  return { ...state, newest };
}

/** The last message on the path, writing the gathered answer first when it has something to show. */
function settle(state: PathState, builder: ConversationBuilder): number | null {
  const answer = state.answer;
  if (!answer || (answer.parts.length === 0 && answer.thoughts.length === 0)) return state.lastId;
  if (answer.writtenId === undefined) {
    const thinking = answer.thoughts.join("\n\n");
    answer.writtenId = builder.add(
      state.lastId,
      { role: "assistant", content: answer.parts.map((part) => part.text).join("\n\n"), ...(thinking === "" ? {} : { thinking }) },
      answer.createdAt,
    );
  }
  return answer.writtenId;
}

/** The answer with one more assistant-side node; the same object when the node adds nothing, a copy otherwise. */
function gather(answer: Answer | undefined, step: AnswerStep, time: number | undefined): Answer {
  const base: Answer = answer ?? { parts: [], thoughts: [], createdAt: time };
  const { text, thought, document } = step;
  if (text === undefined && thought === undefined && document === undefined && (base.createdAt !== undefined || time === undefined)) return base;
  let parts = base.parts;
  if (text !== undefined) parts = [...parts, { text }];
  // A document the answer wrote before is shown once, where it last changed it, as it stood then.
  if (document !== undefined) parts = [...parts.filter((part) => part.document !== document.id), { text: document.markdown, document: document.id }];
  return {
    parts,
    thoughts: step.thought === undefined ? base.thoughts : [...base.thoughts, step.thought],
    createdAt: base.createdAt ?? time,
  };
}

// ---------------------------------------------------------------------------------------------------------------------
// One message

interface AnswerStep {
  kind: "answer";
  text?: string;
  thought?: string;
  /** A canvas document it wrote, as Markdown. */
  document?: { id: string; markdown: string };
}

interface QuestionStep {
  kind: "question";
  content: string;
  images: ImageAttachment[];
  files: FileAttachment[];
}

type Step = QuestionStep | AnswerStep | { kind: "none" };

/** The files of the export that can be imported (pictures, text files), by the ids the questions point to them with. */
type Files = ReadonlyMap<string, ForeignFile> | undefined;

const none: Step = { kind: "none" };
const nothingShown: AnswerStep = { kind: "answer" };

/** What a node's message is to the person who read the conversation; what it holds that is not imported is counted. */
function readMessage(message: Json | undefined, leftOut: LeftOut, files: Files): Step {
  if (!message) return none;
  // Hidden: the system prompt, custom instructions, memory context. Never shown, so never counted as left out.
  if (record(message.metadata)?.is_visually_hidden_from_conversation === true) return none;
  const role = string(record(message.author)?.role);
  if (role === "user") return readQuestion(message, leftOut, files);
  if (role === "assistant") return readAssistant(message, leftOut);
  if (role === "tool") {
    countToolImages(message, leftOut);
    return nothingShown;
  }
  // System messages (and roles this reader does not know) are none of the conversation as shown; the import takes no
  // system message anyway.
  return none;
}

function readQuestion(message: Json, leftOut: LeftOut, files: Files): Step {
  const content = record(message.content);
  const type = content?.content_type;
  if (!content || (type !== "text" && type !== "multimodal_text")) return none;
  const omitted = new Map<string, number>();
  const { texts, pointers } = readParts(content.parts, omitted);
  const question: QuestionStep = { kind: "question", content: "", images: [], files: [] };
  // The pictures of its parts found in the export, up to chat.send's count; the parts counted each one as omitted.
  for (const id of pointers) {
    const found = files?.get(id);
    if (found?.type === "image" && question.images.length < maxImagesPerMessage) question.images.push(found);
  }
  const stillOmitted = (omitted.get("image") ?? 0) - question.images.length;
  if (stillOmitted > 0) omitted.set("image", stillOmitted);
  else omitted.delete("image");
  // Its uploads (a picture listed here only, a text file) found in the export, up to chat.send's counts.
  for (const value of array(record(message.metadata)?.attachments)) {
    const kind = attachmentKind(value, pointers);
    if (!kind) continue;
    const attachment = record(value);
    const found = files?.get(string(attachment?.id) ?? "");
    if (found?.type === "image" && question.images.length < maxImagesPerMessage) question.images.push(found);
    // Named as the person uploaded it (the archive's name is the same after the id, or a made-up one).
    else if (found?.type === "file" && question.files.length < maxFilesPerMessage) question.files.push(textFile(attachment?.name, found.text, found.name) ?? found);
    else omit(omitted, kind);
  }
  for (const [kind, count] of omitted) leftOut.add(kind, count);
  const text = texts.join("\n");
  // A question that was only a picture or a file still happened: its answer is about it.
  if (text.trim() !== "") question.content = text;
  else if (omitted.size > 0) question.content = `[${placeholderWords(omitted)} not imported]`;
  else if (question.images.length + question.files.length === 0) return none;
  return question;
}

function readAssistant(message: Json, leftOut: LeftOut): AnswerStep {
  const recipient = message.recipient;
  // Addressed to a tool (python, browser, web, dalle.text2im, bio, canmore…): a call, which the person saw at most as
  // a "Searching…" or "Analyzing…" label.
  if (recipient !== undefined && recipient !== null && recipient !== "all") {
    leftOut.add("tool call");
    return nothingShown;
  }
  const content = record(message.content);
  const type = content?.content_type;
  if (type === "thoughts") {
    const thought = thoughtsText(content?.thoughts);
    return thought === "" ? nothingShown : { kind: "answer", thought };
  }
  if (type !== "text" && type !== "multimodal_text") return nothingShown;
  const omitted = new Map<string, number>();
  const text = withCitations(readParts(content?.parts, omitted).texts.join("\n"), record(message.metadata));
  for (const [kind, count] of omitted) leftOut.add(kind, count);
  return text.trim() === "" ? nothingShown : { kind: "answer", text };
}

/** A tool's result is not shown as text, but the images it made (DALL·E's pictures, charts of code) were. */
function countToolImages(message: Json, leftOut: LeftOut): void {
  const content = record(message.content);
  if (content?.content_type === "multimodal_text") {
    const omitted = new Map<string, number>();
    readParts(content.parts, omitted);
    for (const [kind, count] of omitted) leftOut.add(kind, count);
  }
  const outputs = array(record(record(message.metadata)?.aggregate_result)?.messages);
  leftOut.add("image", outputs.filter((output) => record(output)?.message_type === "image").length);
}

/**
 * The text of a message's parts, and what else they hold counted in `omitted` by kind (each image too). `pointers`:
 * the file ids of its images in their order, which `metadata.attachments` lists again.
 */
function readParts(parts: unknown, omitted: Map<string, number>): { texts: string[]; pointers: Set<string> } {
  const texts: string[] = [];
  const pointers = new Set<string>();
  for (const part of array(parts)) {
    if (typeof part === "string") {
      if (part.trim() !== "") texts.push(part);
      continue;
    }
    const object = record(part);
    const type = string(object?.content_type);
    if (!object || type === undefined) continue;
    if (type === "audio_transcription") {
      const text = string(object.text);
      if (text !== undefined && text.trim() !== "") texts.push(text);
    } else if (type === "image_asset_pointer") {
      omit(omitted, "image");
      const pointer = string(object.asset_pointer);
      // "file-service://file-abc" or "sediment://file_abc": the attachment's id is what follows the scheme.
      if (pointer !== undefined) pointers.add(pointer.replace(/^[a-z-]+:\/\//, ""));
    } else if (type === "audio_asset_pointer" || type === "real_time_user_audio_video_asset_pointer") {
      omit(omitted, "audio clip");
    } else if (type.endsWith("asset_pointer")) {
      omit(omitted, "attachment");
    }
    // Any other part is metadata of the app's (as far as is known): nothing the person read.
  }
  return { texts, pointers };
}

/** An uploaded file's kind, or undefined when it is an image already counted from the message's parts. */
function attachmentKind(value: unknown, pointers: Set<string>): string | undefined {
  const attachment = record(value);
  if (!attachment) return undefined;
  const id = string(attachment.id);
  if (id !== undefined && pointers.has(id)) return undefined;
  const mimeType = string(attachment.mimeType) ?? string(attachment.mime_type) ?? "";
  return mimeType.startsWith("image/") ? "image" : "file";
}

function omit(omitted: Map<string, number>, kind: string): void {
  omitted.set(kind, (omitted.get(kind) ?? 0) + 1);
}

/** "image", "2 files", "1 image and 2 files": a lone item needs no number. */
function placeholderWords(omitted: Map<string, number>): string {
  const counts = [...omitted];
  const only = counts[0];
  if (counts.length === 1 && only && only[1] === 1) return only[0];
  const words = counts.map(([kind, n]) => `${n} ${n === 1 ? kind : `${kind}s`}`);
  return words.length === 1 ? (words[0] ?? "") : `${words.slice(0, -1).join(", ")} and ${words.at(-1) ?? ""}`;
}

/** A reasoning model's thoughts as ChatGPT lists them: each one's summary in bold, then what it thought. */
function thoughtsText(thoughts: unknown): string {
  const texts = array(thoughts).flatMap((value) => {
    const thought = record(value);
    const summary = string(thought?.summary)?.trim() ?? "";
    const content = string(thought?.content)?.trim() ?? "";
    const text = [summary === "" ? "" : `**${summary}**`, content].filter((t) => t !== "").join("\n\n");
    return text === "" ? [] : [text];
  });
  return texts.join("\n\n");
}
