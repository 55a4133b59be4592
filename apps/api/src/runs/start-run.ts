import { randomUUID } from "node:crypto";
import { isStoreError, type ChatStore, type Conversation, type RunRecord } from "@streamchat/store";
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
  /** Ask the model to think first (reasoning events). A model without that capability fails the run (model_unsupported). */
  think?: boolean | undefined;
}

export interface RegenerateInput {
  userId: string;
  conversationId: string;
  model?: string | undefined;
  think?: boolean | undefined;
}

export interface EditInput extends RegenerateInput {
  messageId: number;
  message: string;
}

export interface StartedRun {
  conversationId: string;
  runId: string;
}

export interface RunStarterOptions {
  store: ChatStore;
  limits: Pick<RunLimits, "maxMessageChars" | "maxRunsPerUser">;
  defaultModel: string;
  /** Provider name recorded with each run ("ollama", "openai", "sim"). */
  provider: string;
  /** This process: the owner recorded with each run it starts. */
  replicaId: string;
  /** Starts executing a created run in the background. */
  launch: (record: RunRecord, think: boolean | undefined) => void;
  hooks?: RunHooks;
}

export const busyMessage = "This conversation is still answering. Wait for it or stop it first.";

/**
 * Starting runs: chat.send, chat.regenerate, chat.edit. The database decides what may start, so that several API
 * processes on one database keep the rules: at most one running run per conversation (CONFLICT), one run per
 * (user, clientRequestId) (a retried send returns the run it started, from any process), at most MAX_RUNS_PER_USER
 * running runs per user (rate_limited). The run record is created before the conversation is changed, so a refused
 * start changes nothing.
 */
export class RunStarter {
  constructor(private readonly opts: RunStarterOptions) {}

  /** Stores the user message and starts answering it; the same clientRequestId again returns the same run. */
  async start(input: StartInput): Promise<StartedRun> {
    const message = this.validMessage(input.message);
    const { store } = this.opts;
    const { clientRequestId } = input;
    if (!clientRequestId) return this.startNew(input, message);
    const existing = await store.findRunByClientRequestId(input.userId, clientRequestId);
    if (existing) return started(existing);
    try {
      return await this.startNew(input, message);
    } catch (error) {
      // Refused because the same send started meanwhile (maybe on another process: its run now holds the
      // conversation, or the user's last place): that run is the answer to this one too.
      const meanwhile = await store.findRunByClientRequestId(input.userId, clientRequestId).catch(() => undefined);
      if (meanwhile) return started(meanwhile);
      throw error;
    }
  }

  private async startNew(input: StartInput, message: string): Promise<StartedRun> {
    const { store } = this.opts;
    let conversation: Conversation;
    let created = false;
    if (input.conversationId) {
      conversation = await this.ownConversation(input.userId, input.conversationId);
    } else {
      // Checked before a new conversation is made for a run that may not start (createRun checks it again, atomically).
      await this.assertCapacity(input.userId);
      conversation = await store.createConversation({ id: randomUUID(), userId: input.userId, title: titleFrom(message) });
      created = true;
    }
    let record: RunRecord;
    try {
      record = await this.createRun(conversation.id, input.userId, input.model, input.clientRequestId);
    } catch (error) {
      // A new conversation for a run that did not start would be an empty one in the list.
      if (created) await store.deleteConversation(input.userId, conversation.id).catch(() => {});
      throw refusal(error, this.opts.limits.maxRunsPerUser);
    }
    await this.beforeLaunch(record, async () => {
      const stored = await store.appendMessage({ conversationId: conversation.id, runId: record.id, message: { role: "user", content: message } });
      this.opts.hooks?.messageAdded?.(input.userId, stored);
    });
    this.opts.launch(record, input.think);
    return started(record);
  }

  /** Answers the last user message again, dropping what came after it (chat.regenerate). */
  async regenerate(input: RegenerateInput): Promise<StartedRun> {
    const { store } = this.opts;
    const conversation = await this.ownConversation(input.userId, input.conversationId);
    if (!(await store.listMessages(conversation.id)).some((m) => m.message.role === "user")) {
      throw new AppError("bad_request", "The conversation has no message to answer.");
    }
    const record = await this.createRun(conversation.id, input.userId, input.model, undefined).catch((error: unknown) => {
      throw refusal(error, this.opts.limits.maxRunsPerUser);
    });
    // The run holds the conversation now: its messages can change under no one else.
    await this.beforeLaunch(record, async () => {
      const messages = await store.listMessages(conversation.id);
      const lastUser = messages.findLastIndex((m) => m.message.role === "user");
      if (lastUser < 0) throw new AppError("bad_request", "The conversation has no message to answer.");
      const after = messages[lastUser + 1];
      if (after) await store.deleteMessagesFrom(conversation.id, after.id);
    });
    this.opts.launch(record, input.think);
    return started(record);
  }

  /** Replaces a user message, drops everything after it, and answers anew (chat.edit). */
  async edit(input: EditInput): Promise<StartedRun> {
    const { store } = this.opts;
    const message = this.validMessage(input.message);
    const conversation = await this.ownConversation(input.userId, input.conversationId);
    const isTarget = (m: { id: number; message: { role: string } }) => m.id === input.messageId && m.message.role === "user";
    if (!(await store.listMessages(conversation.id)).some(isTarget)) throw notFound("User message");
    const record = await this.createRun(conversation.id, input.userId, input.model, undefined).catch((error: unknown) => {
      throw refusal(error, this.opts.limits.maxRunsPerUser);
    });
    await this.beforeLaunch(record, async () => {
      if (!(await store.listMessages(conversation.id)).some(isTarget)) throw notFound("User message");
      await store.deleteMessagesFrom(conversation.id, input.messageId);
      const stored = await store.appendMessage({ conversationId: conversation.id, runId: record.id, message: { role: "user", content: message } });
      this.opts.hooks?.messageAdded?.(input.userId, stored);
    });
    this.opts.launch(record, input.think);
    return started(record);
  }

  private validMessage(message: string): string {
    if (message.trim() === "") throw new AppError("bad_request", "Message is required");
    const max = this.opts.limits.maxMessageChars;
    if (message.length > max) throw new AppError("bad_request", `Message is too long (at most ${max} characters).`);
    return message;
  }

  private async assertCapacity(userId: string) {
    if ((await this.opts.store.countRunningRuns(userId)) >= this.opts.limits.maxRunsPerUser) throw tooManyRuns(this.opts.limits.maxRunsPerUser);
  }

  private async ownConversation(userId: string, conversationId: string): Promise<Conversation> {
    const conversation = await this.opts.store.getConversation(userId, conversationId);
    if (!conversation) throw notFound("Conversation");
    return conversation;
  }

  private createRun(conversationId: string, userId: string, model: string | undefined, clientRequestId: string | undefined) {
    return this.opts.store.createRun({
      id: randomUUID(),
      conversationId,
      userId,
      model: model ?? this.opts.defaultModel,
      provider: this.opts.provider,
      clientRequestId: clientRequestId ?? null,
      owner: this.opts.replicaId,
      maxRunningPerUser: this.opts.limits.maxRunsPerUser,
    });
  }

  /** Store work between creating a run and launching it: when it fails, the run is not left `running`. */
  private async beforeLaunch(record: RunRecord, work: () => Promise<void>) {
    try {
      await work();
    } catch (error) {
      // The store is failing: the next recovery (or start) closes the run.
      await this.opts.store.finishRun(record.id, { reason: "error", usage: null }).catch(() => {});
      throw storeFailure(error) ?? error;
    }
  }
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
