import {
  chatEventSchema,
  doneReasonSchema,
  fileAttachmentSchema,
  imageAttachmentSchema,
  maxInstructionsChars,
  samplingSchema,
  usageSchema,
} from "@streamchat/core";
import { z } from "zod";

/**
 * The JSON export of one conversation, version 1: the one definition of the format (the TypeScript type is
 * inferred from it). Written by exportConversation, read back by importConversation.
 *
 * - `messages`: the whole tree, every branch, in the exporting store's id order, so a parent always comes before
 *   its children. `id`, `parentId`, `activeMessageId` and `runId` are the exporting store's ids: they only link the
 *   file's parts together; an import gives everything new ids.
 * - `message`: the engine's ChatMessage exactly as stored. Known fields are checked (a user message's `images`:
 *   `{ type: "image", mimeType, data }`, and `files`: `{ type: "file", name, text }`, held to chat.send's rules);
 *   message fields this version does not know are kept as they are.
 * - `runs`: every run of the conversation with its usage and its event log WITHOUT `token` events (their text is
 *   the messages' content; a long answer has thousands) and with each span of consecutive `reasoning` chunks joined
 *   into one event (at the seq and time of the span's first chunk). Run-start, status, tool calls and results,
 *   errors and done (with usage) are kept as logged. Seqs keep their gaps. A run exported while it answered keeps its
 *   `token` events too (joined into spans likewise): its answer is not among the messages yet. An import closes a log
 *   that does not end with `done` (such a run, a hand-made file) as the server closes a run after a crash, the
 *   messages it had produced rebuilt from the log (ImportOptions.rebuildMessages).
 */
export const conversationExportFormat = "streamchat.conversation";
export const conversationExportVersion = 1;

// Tool calls and images are checked field by field (what the engine and the UI rely on); the message itself is a
// loose object, so message fields this version does not know are kept.
const toolCallSchema = z.object({
  id: z.string(),
  name: z.string(),
  args: z.unknown(),
  argsError: z.string().optional(),
});

// What chat.send takes (a PNG, JPEG, WebP or GIF); `type` may be missing from a hand-made file and is then added.
// Count, size and content are checked by parseConversationExport against the importing server's limits.
const imageSchema = imageAttachmentSchema.extend({ type: imageAttachmentSchema.shape.type.default("image") });
const fileSchema = fileAttachmentSchema.extend({ type: fileAttachmentSchema.shape.type.default("file") });

export const exportedChatMessageSchema = z.discriminatedUnion("role", [
  z.looseObject({ role: z.literal("system"), content: z.string() }),
  z.looseObject({ role: z.literal("user"), content: z.string(), images: z.array(imageSchema).optional(), files: z.array(fileSchema).optional() }),
  z.looseObject({
    role: z.literal("assistant"),
    content: z.string(),
    thinking: z.string().optional(),
    toolCalls: z.array(toolCallSchema).optional(),
  }),
  z.looseObject({ role: z.literal("tool"), toolCallId: z.string(), toolName: z.string(), content: z.string() }),
]);

const messageId = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);

/**
 * Text stored in a plain text column (title, model, provider): no NUL (PostgreSQL refuses it) and no unpaired
 * surrogate (not UTF-8). The API refuses both in what users send (its input-schemas.ts); an imported file is held to
 * the same rule. Message contents and events need none: they are stored as JSON, which escapes both.
 */
const storableText = z
  .string()
  .refine((text) => !/\0|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(text), {
    error: "must not contain NUL or unpaired surrogate characters",
  });
const timestamp = z.number().finite();
/**
 * The times of the conversation, its messages and runs: milliseconds since the epoch, as every export writes them.
 * A reader also takes a file without them (hand-made, or from another tool): an import keeps the times it can and
 * gives the others its own (import.ts isImportableTime).
 */
const recordedTime = timestamp.optional();

export const exportedMessageSchema = z.object({
  id: messageId,
  /** null for a first message. */
  parentId: messageId.nullable(),
  /** The run that produced it (one of `runs`), or null. */
  runId: z.string().min(1).nullable(),
  createdAt: recordedTime,
  message: exportedChatMessageSchema,
});

export const exportedEventSchema = z.object({
  // Room above the last seq for the two events (error, done) an import may close an unfinished log with.
  seq: z.number().int().positive().max(Number.MAX_SAFE_INTEGER - 2),
  event: chatEventSchema,
});

export const exportedRunSchema = z.object({
  id: z.string().min(1),
  model: storableText.max(200),
  provider: storableText.max(200),
  status: z.enum(["running", "done"]),
  reason: doneReasonSchema.nullable(),
  usage: usageSchema.nullable(),
  createdAt: recordedTime,
  finishedAt: timestamp.nullable().optional(),
  events: z.array(exportedEventSchema),
});

export const conversationExportSchema = z
  .object({
    format: z.literal(conversationExportFormat),
    version: z.literal(conversationExportVersion),
    exportedAt: timestamp,
    conversation: z.object({
      /** The exporting store's id, for reference; an import creates a new conversation. */
      id: z.string(),
      title: storableText.max(200).refine((title) => title.trim() !== "", { error: "must not be blank" }),
      createdAt: recordedTime,
      /** Its last activity: where the list sorts it, and where an import of it sorts the copy. */
      updatedAt: recordedTime,
      /**
       * Where the chat came from when it is another app's, converted by the client (e.g. "ChatGPT:<their id>@<their
       * update time>"): a user has at most one conversation per origin, so importing it again is refused
       * (ImportError "already_imported") instead of duplicating it. Never written by this app's own export: a copy or
       * a branch imported again is a new conversation.
       */
      origin: storableText.max(500).optional(),
      /**
       * When the user pinned it (the list shows pinned chats first); absent when not pinned (null is read the same
       * way). An import pins the copy at this time, or at its own when the file's is not a time it keeps.
       */
      pinnedAt: timestamp.nullable().optional(),
      /**
       * When the user archived it (out of the list, among the archived chats); absent when not archived (null is read
       * the same way). An import archives the copy at this time. Unlike pinnedAt, a value that is not a time a store
       * keeps (an integer >= 0 of milliseconds since the epoch) is refused: no file this app wrote has one.
       */
      archivedAt: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).nullable().optional(),
      /**
       * The conversation's own instructions (what every answer in it keeps in mind); absent when it has none ("" is
       * read the same way). Held to the rules the API holds them to: at most 4,000 characters, storable text. An import
       * gives them to the copy (trimmed, as the API stores them), and a branch keeps the original's.
       */
      instructions: storableText.max(maxInstructionsChars).optional(),
      /**
       * How its answers are sampled, the settings the user chose only (temperature, topP, seed; one left out, or
       * null, is the model's default); absent when every one is. Held to the ranges the API holds them to (core's
       * samplingSchema: no other key, temperature 0–2, top P above 0 up to 1, seed an integer 0–2147483647). An
       * import gives them to the copy, and a branch keeps the original's.
       */
      sampling: samplingSchema.partial().optional(),
    }),
    /** The last message of the active path (the one shown); null for an empty path. */
    activeMessageId: messageId.nullable(),
    messages: z.array(exportedMessageSchema),
    runs: z.array(exportedRunSchema),
  })
  .superRefine((doc, ctx) => {
    // The parts must link up: a file that does not is refused whole, never imported in part.
    const issue = (path: PropertyKey[], message: string) => ctx.addIssue({ code: "custom", path, message });
    const runIds = new Set<string>();
    doc.runs.forEach((run, i) => {
      if (runIds.has(run.id)) issue(["runs", i, "id"], `run id "${run.id}" appears twice`);
      runIds.add(run.id);
      run.events.forEach((stored, j) => {
        const previous = run.events[j - 1];
        if (previous && stored.seq <= previous.seq) issue(["runs", i, "events", j, "seq"], "seqs must increase");
        // A run's log has one `done`, its last event: what a subscriber replaying it stops at.
        if (stored.event.type === "done" && j !== run.events.length - 1) issue(["runs", i, "events", j, "event"], "done must be the run's last event");
      });
    });
    const seen = new Set<number>();
    doc.messages.forEach((message, i) => {
      if (seen.has(message.id)) issue(["messages", i, "id"], `message id ${message.id} appears twice`);
      if (message.parentId !== null && !seen.has(message.parentId)) {
        issue(["messages", i, "parentId"], `parent ${message.parentId} is not a message listed before this one`);
      }
      if (message.runId !== null && !runIds.has(message.runId)) issue(["messages", i, "runId"], `run "${message.runId}" is not in runs`);
      seen.add(message.id);
    });
    if (doc.activeMessageId !== null && !seen.has(doc.activeMessageId)) {
      issue(["activeMessageId"], `message ${doc.activeMessageId} is not in messages`);
    }
  });

export type ConversationExport = z.infer<typeof conversationExportSchema>;
export type ExportedMessage = z.infer<typeof exportedMessageSchema>;
export type ExportedRun = z.infer<typeof exportedRunSchema>;
export type ExportedEvent = z.infer<typeof exportedEventSchema>;
