import {
  ChatError,
  continuedAnswerOf,
  splitAttachments,
  type Attachment,
  type ChatMessage,
  type EventOf,
  type FileAttachment,
  type ImageAttachment,
  type Sampling,
  type ThinkSetting,
} from "@streamchat/core";
import {
  isStoreError,
  MessageTree,
  newRecordId,
  questionToRegenerate,
  type ChatStore,
  type Conversation,
  type CreateRunInput,
  type RunRecord,
  type StartRunInput,
  type StoredMessage,
} from "@streamchat/store";
import { AppError, notFound, storeFailure } from "../errors.js";
import { titleFrom } from "./context.js";
import type { RunHooks } from "./run-hooks.js";
import type { RunLimits } from "./run-limits.js";

export interface StartInput {
  userId: string;
  conversationId?: string | undefined;
  message: string;
  model?: string | undefined;
  clientRequestId?: string | undefined;
  /**
   * Ask the model to think first (reasoning events), or at a level ("low" | "medium" | "high", sent as is). A model
   * without that capability fails the run (model_unsupported).
   */
  think?: ThinkSetting | undefined;
  /** Images and text files on the message, checked at the edge (attachments.ts); stored with it. */
  attachments?: Attachment[] | undefined;
  /** A new conversation's own instructions (trimmed at the edge; "" is none), stored in its start. */
  instructions?: string | undefined;
  /** A new conversation's sampling (checked at the edge), stored in its start. */
  sampling?: Sampling | undefined;
}

interface RestartInput {
  userId: string;
  conversationId: string;
  model?: string | undefined;
  think?: ThinkSetting | undefined;
}

export interface RegenerateInput extends RestartInput {
  /**
   * The message to answer again: any message of the conversation's tree (an answer, one of its tool rounds, or a
   * user message); the question answered again is the nearest user message at or before it. Default: the last
   * question of the active path.
   */
  messageId?: number | undefined;
}

/** chat.continue: the answer at the end of the conversation's active path, written on as a new version of it. */
export type ContinueInput = RestartInput;

export interface EditInput extends RestartInput {
  /** Any user message of the conversation's tree. */
  messageId: number;
  message: string;
  /** The edited message's images and files; undefined keeps those of the message it replaces, [] removes them. */
  attachments?: Attachment[] | undefined;
}

export interface StartedRun {
  conversationId: string;
  runId: string;
}

/** What the starter knows that the run would otherwise read or lose. */
export interface LaunchContext {
  /** The conversation's active path when the caller knows it without a read (a new conversation: its question). */
  history?: readonly StoredMessage[];
  /** A regenerate's: the end of the active path before it was rewound, where a run that stores nothing goes back to. */
  previousHead?: number;
  /** A continue's: the answer's messages after its question, which the run writes on from (RunOptions.continueAnswer). */
  continueAnswer?: ChatMessage[];
  /** A continue's: the tool results the answer's run logged (RunOptions.continuedToolResults). */
  continuedToolResults?: EventOf<"tool-result">[];
}

export interface RunStarterOptions {
  store: ChatStore;
  limits: Pick<RunLimits, "maxMessageChars" | "maxRunsPerUser">;
  defaultModel: string;
  /** Provider name recorded with each run ("ollama", "openai", "sim"). */
  provider: string;
  /** This process: the owner recorded with each run it starts. */
  replicaId: string;
  /** Starts executing a created run in the background (see LaunchContext). */
  launch: (record: RunRecord, think: ThinkSetting | undefined, context?: LaunchContext) => void;
  hooks?: RunHooks;
  /** First wait before marking finished again a run that could not start and could not be marked then (default 1 s). */
  finishRetryMs?: number;
}

export const busyMessage = "This conversation is still answering. Wait for it or stop it first.";

/**
 * Starting runs: chat.send, chat.regenerate, chat.edit. The database decides what may start, so that several API
 * processes on one database keep the rules: at most one running run per conversation (CONFLICT), one run per
 * (user, clientRequestId) (a retried send returns the run it started, from any process), at most MAX_RUNS_PER_USER
 * running runs per user (rate_limited). A question is stored with its run, and a first message's conversation with
 * them, in one store transaction (ChatStore.startRun): a refused or failed start changes nothing. A regenerate
 * creates its run before it moves the conversation's path.
 */
export class RunStarter {
  constructor(private readonly opts: RunStarterOptions) {}

  /**
   * Stores the user message and starts answering it; the same clientRequestId again returns the same run. The web app
   * and the typed client send one with every message, so it is not looked up first: the store refuses a second run
   * with it (ahead of a busy conversation and the user's limit), and only then is the run that has it read.
   */
  async start(input: StartInput): Promise<StartedRun> {
    const message = this.validMessage(input.message);
    const { clientRequestId } = input;
    try {
      return await this.startNew(input, message);
    } catch (error) {
      if (!clientRequestId) throw error;
      // Refused because the same send started before or meanwhile (maybe on another process: its run may also hold
      // the conversation, or the user's last place): that run is the answer to this one too.
      const existing = await this.opts.store.findRunByClientRequestId(input.userId, clientRequestId).catch(() => undefined);
      if (existing) return started(existing);
      throw error;
    }
  }

  private async startNew(input: StartInput, message: string): Promise<StartedRun> {
    const existing = input.conversationId || undefined;
    // The store checks that an existing conversation is the user's (not_found) and the limit, atomically with the
    // writes: a refused start creates no (empty) conversation, and a failed one leaves no run without its question.
    return this.startWithQuestion(input, {
      ...this.runInput(existing ?? newRecordId(), input.userId, input.model, input.clientRequestId),
      ...(existing ? {} : { conversation: newConversation(titleFrom(message), input) }),
      question: { message: userMessage(message, splitAttachments(input.attachments ?? [])) },
    });
  }

  /**
   * Answers a question again, keeping the answers it had (chat.regenerate): the active path is rewound to the
   * question once the run holds the conversation, and the run's answer lands under it as a new version (a sibling of
   * the old answer's first message). A run that stores no answer goes back to the previous one (answer-versions.ts).
   */
  async regenerate(input: RegenerateInput): Promise<StartedRun> {
    const { store } = this.opts;
    const conversation = await this.ownConversation(input.userId, input.conversationId);
    const { question, answerRunId } = await this.questionOf(conversation.id, input.messageId);
    // "Answer again" without a model keeps the model of the answer it replaces (an image question answered by a vision
    // model is not sent to a default model that cannot see it); a question never answered gets the default.
    const model = input.model ?? (answerRunId === undefined ? undefined : (await store.getRun(answerRunId))?.model);
    const record = await store.createRun(this.runInput(conversation.id, input.userId, model, undefined)).catch((error: unknown) => {
      throw refusal(error, this.opts.limits.maxRunsPerUser);
    });
    // The run holds the conversation now: no other run moves its path until this one ends.
    let previousHead: number | undefined;
    await this.beforeLaunch(record, async () => {
      previousHead = (await store.activePath(conversation.id)).at(-1)?.id;
      await store.rewindActivePath(conversation.id, question.id);
    });
    this.opts.launch(record, input.think, previousHead === undefined ? undefined : { previousHead });
    return started(record);
  }

  /**
   * Writes on from a cut-short answer (chat.continue): the answer at the end of the active path, its text not ended by
   * the model (a stop, the length limit, a failure), is answered again as a new version that starts with all of it
   * (core's continueAnswer), under the same question; the answer itself stays as the version before. Checked again
   * once the run holds the conversation: a path that moved meanwhile is a conflict, not another answer continued.
   */
  async continue(input: ContinueInput): Promise<StartedRun> {
    const { store } = this.opts;
    const conversation = await this.ownConversation(input.userId, input.conversationId);
    const seen = continuable(await store.activePath(conversation.id));
    const model = input.model ?? (seen.runId === undefined ? undefined : (await store.getRun(seen.runId))?.model);
    // The calls' results as their run logged them (durations, typed errors): read only for an answer with tool rounds;
    // a read that fails leaves them to be rebuilt from the tool messages.
    const toolResults =
      seen.runId !== undefined && seen.messages.some((m) => m.role === "tool")
        ? await store.readEventsOfTypes(seen.runId, ["tool-result"]).then(
            (logged) => logged.flatMap(({ event }) => (event.type === "tool-result" ? [event] : [])),
            () => [],
          )
        : [];
    const record = await store.createRun(this.runInput(conversation.id, input.userId, model, undefined)).catch((error: unknown) => {
      throw refusal(error, this.opts.limits.maxRunsPerUser);
    });
    let answer = seen;
    await this.beforeLaunch(record, async () => {
      answer = continuable(await store.activePath(conversation.id));
      if (answer.head !== seen.head) throw new AppError("bad_request", "The conversation changed meanwhile; try again.", "CONFLICT");
      await store.rewindActivePath(conversation.id, answer.question.id);
    });
    this.opts.launch(record, input.think, { previousHead: answer.head, continueAnswer: answer.messages, continuedToolResults: toolResults });
    return started(record);
  }

  /**
   * Asks an edited user message as a new version (chat.edit): a sibling of the message (same parent) with the new
   * text, keeping its other parts (attachments), then answers it. The original and its answers stay in the tree.
   */
  async edit(input: EditInput): Promise<StartedRun> {
    const { store } = this.opts;
    const message = this.validMessage(input.message);
    const conversation = await this.ownConversation(input.userId, input.conversationId);
    const target = (await store.listMessages(conversation.id)).find((m) => m.id === input.messageId && m.message.role === "user");
    if (!target || target.message.role !== "user") throw notFound("User message");
    const kept = { images: target.message.images ?? [], files: target.message.files ?? [] };
    const edited = userMessage(message, input.attachments ? splitAttachments(input.attachments) : kept);
    return this.startWithQuestion(input, {
      ...this.runInput(conversation.id, input.userId, input.model, undefined),
      question: { message: edited, parentId: target.parentId },
    });
  }

  /** Stores the run with its question in one transaction (ChatStore.startRun), then launches it. */
  private async startWithQuestion(input: { userId: string; think?: ThinkSetting | undefined }, run: StartRunInput): Promise<StartedRun> {
    const { run: record, question } = await this.opts.store.startRun(run).catch((error: unknown) => {
      throw refusal(error, this.opts.limits.maxRunsPerUser);
    });
    this.opts.hooks?.messageAdded?.(input.userId, question);
    // A conversation this transaction created holds the question alone, and no one else knows its id yet.
    this.opts.launch(record, input.think, run.conversation ? { history: [question] } : undefined);
    return started(record);
  }

  /**
   * The user message a regenerate answers again (tree.ts questionToRegenerate), from the message's own branch, and the
   * run of the answer it has there (the first message after it on that branch), if any.
   */
  private async questionOf(conversationId: string, messageId: number | undefined): Promise<{ question: StoredMessage; answerRunId: string | undefined }> {
    const { store } = this.opts;
    let path: readonly StoredMessage[];
    let messages: readonly StoredMessage[] = [];
    if (messageId === undefined) {
      path = await store.activePath(conversationId);
    } else {
      // Any message of the tree, not only the active path: its branch is the path from the first message down to it.
      messages = await store.listMessages(conversationId);
      const tree = new MessageTree(messages);
      if (!tree.has(messageId)) throw notFound("Message");
      const byId = new Map(messages.map((m) => [m.id, m]));
      path = tree.withVersions(tree.pathTo(messageId), byId);
    }
    const question = questionToRegenerate(path, messageId);
    if (!question) throw new AppError("bad_request", "The conversation has no message to answer.");
    // The question itself named: its newest answer (the last version) is the one replaced.
    const answer = path[path.indexOf(question) + 1] ?? messages.findLast((m) => m.parentId === question.id && m.runId !== null);
    return { question, answerRunId: answer?.runId ?? undefined };
  }

  private validMessage(message: string): string {
    if (message.trim() === "") throw new AppError("bad_request", "Message is required");
    const max = this.opts.limits.maxMessageChars;
    if (message.length > max) throw new AppError("bad_request", `Message is too long (at most ${max} characters).`);
    return message;
  }

  private async ownConversation(userId: string, conversationId: string): Promise<Conversation> {
    const conversation = await this.opts.store.getConversation(userId, conversationId);
    if (!conversation) throw notFound("Conversation");
    return conversation;
  }

  private runInput(conversationId: string, userId: string, model: string | undefined, clientRequestId: string | undefined): CreateRunInput {
    return {
      id: newRecordId(),
      conversationId,
      userId,
      model: model ?? this.opts.defaultModel,
      provider: this.opts.provider,
      clientRequestId: clientRequestId ?? null,
      owner: this.opts.replicaId,
      maxRunningPerUser: this.opts.limits.maxRunsPerUser,
    };
  }

  /**
   * Marks finished a run that was created and could not be launched. While the store fails, again in the background
   * until it takes it: the run is this process's, so no recovery closes it while the process lives, and a run left
   * `running` holds its conversation (every new message refused) and counts against its user's limit.
   */
  private async finishUnlaunched(record: RunRecord, attempt = 1): Promise<void> {
    try {
      await this.opts.store.finishRun(record.id, { reason: "error", usage: null });
    } catch {
      const first = this.opts.finishRetryMs ?? 1000;
      const timer = setTimeout(() => void this.finishUnlaunched(record, attempt + 1), Math.min(first * 2 ** Math.min(attempt - 1, 20), maxFinishRetryMs));
      timer.unref();
    }
  }

  /** Store work between creating a run and launching it: when it fails, the run is not left `running`. */
  private async beforeLaunch(record: RunRecord, work: () => Promise<void>) {
    try {
      await work();
    } catch (error) {
      await this.finishUnlaunched(record);
      // Deleted meanwhile (the run was created a moment before): the conversation or its message is gone.
      if (isStoreError(error, "not_found")) throw notFound("Conversation");
      throw storeFailure(error) ?? error;
    }
  }
}

/**
 * The answer a continue writes on from: the messages after the active path's last question, checked by core's rule (it
 * ends with the model's text); bad_request when there is none.
 */
function continuable(path: readonly StoredMessage[]): { question: StoredMessage; head: number; runId: string | undefined; messages: ChatMessage[] } {
  const at = path.findLastIndex((m) => m.message.role === "user");
  const question = path[at];
  if (question === undefined) throw new AppError("bad_request", "The conversation has no answer to continue.");
  const after = path.slice(at + 1);
  const messages = after.map((m) => m.message);
  try {
    continuedAnswerOf(messages);
  } catch (error) {
    if (error instanceof ChatError) throw new AppError("bad_request", error.message);
    throw error;
  }
  return { question, head: after.at(-1)!.id, runId: after[0]?.runId ?? undefined, messages };
}

/** The longest wait between two attempts of finishUnlaunched. */
const maxFinishRetryMs = 30_000;

/** The stored user message: its images and files only when it has some (no empty arrays in the store or the request). */
function userMessage(content: string, { images, files }: { images: ImageAttachment[]; files: FileAttachment[] }): ChatMessage {
  return { role: "user", content, ...(images.length ? { images } : {}), ...(files.length ? { files } : {}) };
}

function started(record: RunRecord): StartedRun {
  return { conversationId: record.conversationId, runId: record.id };
}

function tooManyRuns(max: number): AppError {
  return new AppError("rate_limited", `Too many answers at once (at most ${max}). Wait for one to finish or stop it.`);
}

/** What the store's refusal of a new run means for the caller. */
function refusal(error: unknown, maxRunsPerUser: number): unknown {
  if (isStoreError(error, "conflict") && error.reason === "conversation_busy") {
    // Two runs answering the same conversation would interleave their histories.
    return new AppError("bad_request", busyMessage, "CONFLICT");
  }
  if (isStoreError(error, "limit")) return tooManyRuns(maxRunsPerUser);
  if (isStoreError(error, "not_found")) return notFound("Conversation");
  return storeFailure(error) ?? error;
}

/** A new conversation as its first start stores it: its title, and its own settings where the caller gave some. */
function newConversation(title: string, { instructions, sampling }: Pick<StartInput, "instructions" | "sampling">): NonNullable<StartRunInput["conversation"]> {
  return { title, ...(instructions ? { instructions } : {}), ...(sampling ? { sampling } : {}) };
}
