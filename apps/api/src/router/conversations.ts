import { z } from "zod";
import { samplingSchema, type ChatEvent, type ChatMessage, type EventOf, type ToolCall } from "@streamchat/core";
import {
  branchConversation,
  exportConversation,
  importConversation,
  isBranchError,
  isImportError,
  isStoreError,
  type ChatStore,
  type Conversation,
  type MessageVersions,
  type PathMessage,
  type RunRecord,
  type StoredEvent,
  type StoredMessage,
} from "@streamchat/store";
import { AppError, notFound } from "../errors.js";
import { idSchema, titleSchema } from "../input-schemas.js";
import { emptyOutcome, outcomeEventTypes, runOutcomeFromEvents } from "../runs/run-outcome.js";
import { busyMessage } from "../runs/start-run.js";
import { messagesFromEvents } from "../runs/transcript.js";
import { authedProcedure, router } from "../trpc.js";
import { attachmentAt, attachmentViews, type AttachmentView } from "./attachment-view.js";
import { conversationUsage } from "./conversation-usage.js";
import { conversationFeedProcedure } from "./conversation-feed.js";
import { instructionsSchema } from "./settings.js";
import { listTitleMatches } from "./title-search.js";

const conversationId = idSchema;
const messageId = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);
/** How many title matches conversations.list gives when not told: as many as a page of the list without a query. */
const defaultTitleMatches = 100;

/** The store's not_found (no such conversation of the caller's) as the API's NOT_FOUND. */
async function ownedOnly<T>(read: Promise<T>): Promise<T> {
  try {
    return await read;
  } catch (error) {
    throw isStoreError(error, "not_found") ? notFound("Conversation") : error;
  }
}

/** A conversation's setting saved (NOT_FOUND when not the caller's) and only then told to the user's other tabs. */
async function savedThenTold<T>(save: Promise<T>, tell: () => void): Promise<T> {
  const saved = await ownedOnly(save);
  tell();
  return saved;
}

/**
 * The conversation's own settings: its instructions ("" when none), which its answers get after the user's, and its
 * sampling (each setting null when not chosen: the user's own, else the model's default); updatedAt null when never set.
 */
const conversationSettings = authedProcedure
  .input(z.object({ conversationId }))
  .query(({ ctx, input }) => ownedOnly(ctx.store.getConversationSettings(ctx.userId, input.conversationId)));

function conversationView(conversation: Conversation, activeRunId: string | null) {
  return {
    id: conversation.id,
    title: conversation.title,
    createdAt: conversation.createdAt,
    updatedAt: conversation.updatedAt,
    /** When the user pinned it (the list shows pinned conversations first, most recently pinned first); null: not pinned. */
    pinnedAt: conversation.pinnedAt,
    /** When the user archived it (out of the list, among the archived ones); null: not archived. */
    archivedAt: conversation.archivedAt,
    activeRunId,
  };
}
/** One shape for every role, so clients can read `toolCalls` etc. without narrowing first. */
export interface MessageView {
  id: number;
  /** The message it follows in the conversation's tree (null: a first message). */
  parentId: number | null;
  /**
   * Present when the message has siblings (other versions: edits of a user message, regenerated answers). An
   * answer's versions are on its first message (the one right after the question); `siblingIds[index - 1]` is this
   * message's id, oldest first. conversations.switchBranch to a sibling shows that version.
   */
  versions?: MessageVersions;
  role: ChatMessage["role"];
  content: string;
  thinking?: string;
  toolCalls?: ToolCall[];
  toolCallId?: string;
  toolName?: string;
  /** Images and text files on a user message (attachment-view.ts). */
  attachments?: AttachmentView[];
  runId: string | null;
  createdAt: number;
}

function messageView({ id, parentId, message, runId, createdAt, versions }: PathMessage, withAttachmentData: boolean): MessageView {
  const base: MessageView = { id, parentId, ...(versions ? { versions } : {}), role: message.role, content: message.content, runId, createdAt };
  switch (message.role) {
    case "user": {
      const attachments = attachmentViews(message, withAttachmentData);
      return attachments ? { ...base, attachments } : base;
    }
    case "assistant":
      return {
        ...base,
        ...(message.thinking ? { thinking: message.thinking } : {}),
        ...(message.toolCalls?.length ? { toolCalls: message.toolCalls } : {}),
      };
    case "tool":
      return { ...base, toolCallId: message.toolCallId, toolName: message.toolName };
    default:
      return base;
  }
}

/** A feature the model server refused for a run, which then answered without it (a `status` event's `unsupportedFeature`). */
export interface UnsupportedFeatureView {
  feature: NonNullable<EventOf<"status">["unsupportedFeature"]>;
  /** The status line that said so ("… does not support tools: answering without them."), shown with the answer. */
  message: string;
}

function unsupportedFeaturesOf(events: Iterable<StoredEvent>): UnsupportedFeatureView[] {
  const features: UnsupportedFeatureView[] = [];
  for (const { event } of events) {
    if (event.type === "status" && event.unsupportedFeature && !features.some((f) => f.message === event.message)) {
      features.push({ feature: event.unsupportedFeature, message: event.message });
    }
  }
  return features;
}

/**
 * Whether conversations.get needs a run's outcome (error, tool results) from its log, besides its status events (which
 * any run has to be read for: it may have answered without a feature its model refused). Only runs that failed or
 * called tools have an outcome to find. The path tells which of its runs called tools; a run of another branch is not
 * on it (its messages were not loaded), so its log is asked.
 */
function needsOutcome(run: RunRecord, path: readonly StoredMessage[]): boolean {
  const failed = run.reason === "error" || run.reason === "interrupted";
  const onPath = path.some((m) => m.runId === run.id);
  const usedTools = !onPath || path.some((m) => m.runId === run.id && m.message.role === "tool");
  return failed || usedTools;
}

/**
 * The runs as conversations.get shows them. `error`, `toolResults` and `unsupportedFeatures` come from each run's event
 * log, so a page loaded later shows a failed answer's message, tool durations and "answered without tools" without
 * replaying the run. Only finished runs are read (a running run is followed live by the client instead), and only the
 * few events that are not streamed: the tokens of a long answer are never read. All of them in one store call (one
 * query per 500 runs), not one per run: a long conversation has hundreds of runs. That call reads the outcome types
 * for every run when any needs them; each run then uses only its own types, so the view is as if read run by run.
 */
async function runViews(store: ChatStore, records: readonly RunRecord[], path: readonly StoredMessage[]) {
  const finished = records.filter((run) => run.status === "done");
  const withOutcome = new Set(finished.filter((run) => needsOutcome(run, path)).map((run) => run.id));
  const types: ChatEvent["type"][] = withOutcome.size > 0 ? [...outcomeEventTypes, "status"] : ["status"];
  const logs = await store.readEventsOfTypesForRuns(finished.map((run) => run.id), types);
  return records.map((run) => {
    const outcomeRead = withOutcome.has(run.id);
    const log = logs.get(run.id) ?? [];
    const events = outcomeRead ? log : log.filter(({ event }) => event.type === "status");
    const outcome = outcomeRead ? runOutcomeFromEvents(events) : emptyOutcome();
    return {
      id: run.id,
      status: run.status,
      reason: run.reason,
      usage: run.usage,
      model: run.model,
      createdAt: run.createdAt,
      error: outcome.error,
      toolResults: outcome.toolResults,
      /** It continued an earlier answer (chat.continue); read for runs that failed or called tools, false for the others. */
      continued: outcome.continued,
      unsupportedFeatures: unsupportedFeaturesOf(events),
    };
  });
}

async function ownConversation(store: ChatStore, userId: string, id: string): Promise<Conversation> {
  const conversation = await store.getConversation(userId, id);
  if (!conversation) throw notFound("Conversation");
  return conversation;
}

/**
 * What `get` and `switchBranch` return: the active path's messages and every run of the conversation (on every
 * branch: a message names its run, so switching versions shows the right usage and outcome without another call).
 */
async function conversationDetail(store: ChatStore, conversation: Conversation, path: readonly PathMessage[], withAttachmentData = true) {
  const [records, branchOrigin] = await Promise.all([store.listRuns(conversation.id), store.branchOrigin(conversation.userId, conversation.id)]);
  const runs = await runViews(store, records, path);
  const active = records.find((run) => run.status === "running")?.id ?? null;
  return {
    ...conversationView(conversation, active),
    messages: path.map((m) => messageView(m, withAttachmentData)),
    runs,
    usage: conversationUsage(records),
    /**
     * A branch's way back (conversations.branch): the original and its answer the branch was made at, and the
     * branch's own copy of that answer (what the path holds up to it came from the original); `title` null once the
     * original is deleted. null for a conversation that is no branch.
     */
    branchedFrom: branchOrigin ?? null,
  };
}

/** The conversations of the user answering now, on any process: the running runs are few (MAX_RUNS_PER_USER each). */
async function activeRunsOf(store: ChatStore, userId: string): Promise<Map<string, string>> {
  const running = await store.listRunningRuns();
  return new Map(running.filter((run) => run.userId === userId).map((run) => [run.conversationId, run.id]));
}

export const conversationsRouter = router({
  /**
   * The caller's conversations in the list's order (pinned first). `after`: the next page, the ones listed after that
   * conversation (the last of the previous page; NOT_FOUND when it is not the caller's, e.g. deleted meanwhile: start
   * again from the first page). An empty page is the end. With `query`, only those whose title holds every word of it
   * (case and accents ignored, any order: title-search.ts), in the same order and paged the same way. Archived
   * conversations are left out; `archived: true` lists them alone, in the same order (with `query` too).
   */
  list: authedProcedure
    .input(
      z
        .object({
          limit: z.number().int().min(1).max(500).optional(),
          after: conversationId.optional(),
          query: z.string().trim().min(1).max(200).optional(),
          archived: z.boolean().optional(),
        })
        .optional(),
    )
    .query(async ({ ctx, input }) => {
      const options = {
        ...(input?.limit === undefined ? {} : { limit: input.limit }),
        ...(input?.after === undefined ? {} : { after: input.after }),
        ...(input?.archived === true ? { archived: true } : {}),
      };
      const query = input?.query;
      const [conversations, active] = await Promise.all([
        (query === undefined
          ? ctx.store.listConversations(ctx.userId, options)
          : listTitleMatches(ctx.store, ctx.userId, query, { ...options, limit: options.limit ?? defaultTitleMatches })
        ).catch((error: unknown) => {
          throw isStoreError(error, "not_found") ? notFound("Conversation") : error;
        }),
        activeRunsOf(ctx.store, ctx.userId),
      ]);
      return conversations.map((c) => conversationView(c, active.get(c.id) ?? null));
    }),

  /** The conversation as shown: its active path (with versions on branch points) and every run of every branch. */
  get: authedProcedure
    .input(
      z.object({
        conversationId,
        /** false: images without their data (`bytes` instead), each fetched with conversations.attachment. */
        attachmentData: z.boolean().optional(),
      }),
    )
    .query(async ({ ctx, input }) => {
      const conversation = await ownConversation(ctx.store, ctx.userId, input.conversationId);
      return conversationDetail(ctx.store, conversation, await ctx.store.activePath(conversation.id), input.attachmentData ?? true);
    }),

  /**
   * One attachment of a message, whole: an image with its data, a file with its text (for a client that listed the
   * conversation with attachmentData: false). `index` is its place in the message's `attachments`.
   */
  attachment: authedProcedure
    .input(z.object({ conversationId, messageId: z.number().int().positive().max(Number.MAX_SAFE_INTEGER), index: z.number().int().nonnegative() }))
    .query(async ({ ctx, input }) => {
      const conversation = await ownConversation(ctx.store, ctx.userId, input.conversationId);
      const stored = (await ctx.store.listMessages(conversation.id)).find((m) => m.id === input.messageId);
      const attachment = stored?.message.role === "user" ? attachmentAt(stored.message, input.index) : undefined;
      if (!attachment) throw notFound("Attachment");
      return attachment.type === "image"
        ? { type: attachment.type, mimeType: attachment.mimeType, data: attachment.data }
        : { type: attachment.type, name: attachment.name, text: attachment.text };
    }),

  /**
   * Shows another version: the active path goes through `messageId` (any message of the tree) and then down its most
   * recently created children. Refused (CONFLICT) while the conversation is answering: the answer lands on the path.
   * Returns the conversation as `get` does, on the new path.
   */
  switchBranch: authedProcedure.input(z.object({ conversationId, messageId })).mutation(async ({ ctx, input }) => {
    const conversation = await ownConversation(ctx.store, ctx.userId, input.conversationId);
    if (await ctx.store.activeRun(conversation.id)) throw new AppError("bad_request", busyMessage, "CONFLICT");
    const path = await ctx.store.switchBranch(conversation.id, input.messageId).catch((error: unknown) => {
      throw isStoreError(error, "not_found") ? notFound("Message") : error;
    });
    return conversationDetail(ctx.store, conversation, path);
  }),

  /**
   * The conversation as a file: `json` (versioned, the whole tree with runs, usage and attachments; what `import`
   * reads) or `markdown` (the active path, to read).
   */
  export: authedProcedure
    .input(z.object({ conversationId, format: z.enum(["json", "markdown"]).default("json") }))
    .query(async ({ ctx, input }) => {
      await ownConversation(ctx.store, ctx.userId, input.conversationId);
      return exportConversation(ctx.store, ctx.userId, input.conversationId, input.format).catch((error: unknown) => {
        throw isStoreError(error, "not_found") ? notFound("Conversation") : error;
      });
    }),

  /**
   * A JSON export as a new conversation of the caller (new ids; never overwrites anything). At most MAX_IMPORT_BYTES of
   * content; a refused file (too large, not JSON, another format or version, invalid) is bad_request with what is
   * wrong, and creates nothing. Another app's chat imported before is refused (CONFLICT) when it is the same version,
   * and when it went on in that app since, takes the place of the earlier copy (`replaced`, deleted; its title and pin
   * kept) unless the user went on in that copy here (then both stay).
   */
  import: authedProcedure.input(z.object({ content: z.string() })).mutation(async ({ ctx, input }) => {
    try {
      const imported = await importConversation(ctx.store, ctx.userId, input.content, {
        maxBytes: ctx.config.maxImportBytes,
        imageLimits: { maxBytes: ctx.config.maxImageBytes },
        fileLimits: { maxChars: ctx.config.maxFileChars },
        maxMessageChars: ctx.config.maxMessageChars,
        // A run exported while it answered gets the messages it had streamed, as one closed after a crash does.
        rebuildMessages: (events) => messagesFromEvents(events),
        // Its runs are this process's while they are written: no replica's orphan sweep closes them meanwhile.
        owner: ctx.runs.replicaId,
      });
      ctx.publish.conversationAdded(ctx.userId, imported.conversationId);
      // An earlier import of the same chat, brought up to date: the other tabs drop it as deleted.
      if (imported.replaced !== undefined) ctx.publish.conversationDeleted(ctx.userId, imported.replaced);
      return imported;
    } catch (error) {
      // Imported before (another app's conversation, by its origin): the file is fine, the chat is here already.
      if (isImportError(error)) throw new AppError("bad_request", error.message, error.reason === "already_imported" ? "CONFLICT" : "BAD_REQUEST", { cause: error });
      throw error;
    }
  }),

  /**
   * A new conversation holding this one as it reads up to the answer `messageId` (the path to it, one version of each
   * message, with their runs), titled "Branch · <title>": to try another way from there and keep both. The original is
   * not changed. `messageId` must end an answer (an assistant message its run added last): bad_request otherwise;
   * CONFLICT while that answer is still running.
   */
  branch: authedProcedure.input(z.object({ conversationId, messageId })).mutation(async ({ ctx, input }) => {
    try {
      const branched = await branchConversation(ctx.store, ctx.userId, input.conversationId, input.messageId, { owner: ctx.runs.replicaId });
      ctx.publish.conversationAdded(ctx.userId, branched.conversationId);
      return branched;
    } catch (error) {
      if (isBranchError(error)) throw new AppError("bad_request", error.message, error.reason === "answer_running" ? "CONFLICT" : "BAD_REQUEST", { cause: error });
      if (isStoreError(error, "not_found")) {
        throw (await ctx.store.getConversation(ctx.userId, input.conversationId)) ? notFound("Message") : notFound("Conversation");
      }
      throw error;
    }
  }),

  /** The caller's messages containing `query` (case-insensitive) on every branch of every conversation, newest first. */
  search: authedProcedure
    .input(z.object({ query: z.string().trim().min(1).max(200), limit: z.number().int().min(1).max(100).optional() }))
    .query(async ({ ctx, input }) => {
      const hits = await ctx.store.searchMessages(ctx.userId, input.query, input.limit === undefined ? undefined : { limit: input.limit });
      return hits.map(({ conversationId, title, messageId, role, snippet, createdAt, archivedAt }) => ({
        conversationId,
        title,
        messageId,
        role,
        snippet,
        createdAt,
        archivedAt,
      }));
    }),

  rename: authedProcedure
    .input(z.object({ conversationId, title: titleSchema }))
    .mutation(async ({ ctx, input }) => {
      const renamed = await ctx.store.renameConversation(ctx.userId, input.conversationId, input.title);
      if (!renamed) throw notFound("Conversation");
      ctx.publish.titleChanged(ctx.userId, renamed.id, renamed.title);
      return conversationView(renamed, (await ctx.store.activeRun(renamed.id))?.id ?? null);
    }),

  /**
   * Pins a conversation to the top of the list, or unpins it. Not activity: its place among the others stays. Pinning
   * a pinned conversation keeps when it was pinned (two tabs pinning it do not reorder the pinned ones).
   */
  pin: authedProcedure.input(z.object({ conversationId, pinned: z.boolean() })).mutation(async ({ ctx, input }) => {
    const changed = await ctx.store.setPinned(ctx.userId, input.conversationId, input.pinned);
    if (!changed) throw notFound("Conversation");
    ctx.publish.pinChanged(ctx.userId, changed.id, changed.pinnedAt);
    return conversationView(changed, (await ctx.store.activeRun(changed.id))?.id ?? null);
  }),

  /**
   * Archives a conversation (out of the list, among the archived ones: `list({ archived: true })`) or brings it back.
   * It stays whole: it opens, exports and is found by message search, keeps its pin, and a run may go on in it. Not
   * activity. Archiving an archived one keeps when it was archived.
   */
  archive: authedProcedure.input(z.object({ conversationId, archived: z.boolean() })).mutation(async ({ ctx, input }) => {
    const changed = await ctx.store.setArchived(ctx.userId, input.conversationId, input.archived);
    if (!changed) throw notFound("Conversation");
    ctx.publish.archiveChanged(ctx.userId, changed.id, changed.archivedAt);
    return conversationView(changed, (await ctx.store.activeRun(changed.id))?.id ?? null);
  }),

  settings: conversationSettings,
  /** The conversation's settings, as `settings` (the name clients used before it had sampling). */
  instructions: conversationSettings,

  /**
   * Replaces the conversation's instructions ("" clears them): what every answer started afterwards in it keeps in
   * mind, after the user's custom instructions and before them where the two differ; an answer already running keeps
   * what it started with. Not activity: the conversation keeps its place in the list. Branches copy them; exports carry them.
   */
  setInstructions: authedProcedure
    .input(z.object({ conversationId, instructions: instructionsSchema }))
    .mutation(({ ctx, input }) =>
      savedThenTold(ctx.store.setConversationInstructions(ctx.userId, input.conversationId, input.instructions), () =>
        ctx.publish.instructionsChanged(ctx.userId, input.conversationId),
      ),
    ),

  /**
   * Sets how the conversation's answers are sampled: temperature (0–2), top P (over 0, to 1) and seed (0–2³¹−1), each
   * null to leave it to the model; a setting not named keeps what it was (two clients changing different ones at once
   * both keep theirs). Sent with every answer started afterwards in it (an answer already running keeps what it started
   * with); a server that ignores a setting (a seed, on some) answers as before. Not activity. Branches copy it; exports
   * carry it.
   */
  setSampling: authedProcedure
    .input(z.object({ conversationId, sampling: samplingSchema.partial() }))
    .mutation(({ ctx, input }) =>
      savedThenTold(ctx.store.setConversationSampling(ctx.userId, input.conversationId, input.sampling), () =>
        ctx.publish.samplingChanged(ctx.userId, input.conversationId),
      ),
    ),

  delete: authedProcedure.input(z.object({ conversationId })).mutation(async ({ ctx, input }) => {
    if (!(await ctx.store.getConversation(ctx.userId, input.conversationId))) throw notFound("Conversation");
    // Stop a run still answering here first, so it does not write into a deleted conversation. (A run answering
    // on another process finds its conversation gone at its next write and stops.)
    const active = ctx.runs.activeRunId(input.conversationId);
    if (active) {
      await ctx.runs.cancel(ctx.userId, active);
      await ctx.runs.whenEnded(active);
    }
    if (!(await ctx.store.deleteConversation(ctx.userId, input.conversationId))) throw notFound("Conversation");
    ctx.publish.conversationDeleted(ctx.userId, input.conversationId);
    return { deleted: true as const };
  }),

  feed: conversationFeedProcedure,
});
