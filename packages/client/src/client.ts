import type { ChatEvent } from "@streamchat/core";
import type { inferRouterInputs, inferRouterOutputs } from "@trpc/server";
import type { AppRouter } from "@streamchat/api";
import { ChatClientError, isAbortError, toChatClientError } from "./errors.js";
import { followRun } from "./follow.js";
import { requestId } from "./ids.js";
import { createTransport, type TransportOptions, type TrpcClient } from "./transport.js";

type Inputs = inferRouterInputs<AppRouter>;
type Outputs = inferRouterOutputs<AppRouter>;

export type ChatClientOptions = TransportOptions;
export type SendResult = Outputs["chat"]["send"];
export type CompleteResult = Outputs["chat"]["complete"];
export type ConversationSummary = Outputs["conversations"]["list"][number];
export type ConversationDetail = Outputs["conversations"]["get"];
export type ModelList = Outputs["models"]["list"];
export type Health = Outputs["health"];

/** Images on the message (PNG, JPEG, WebP or GIF, base64; at most 4): only for vision models. */
export type Attachments = NonNullable<Inputs["chat"]["send"]["attachments"]>;
/** true / false, or a level ("low" | "medium" | "high") for models that take levels. */
export type ThinkSetting = NonNullable<Inputs["chat"]["send"]["think"]>;

export interface StreamOptions {
  /** Continue this conversation; a new one is created when absent. */
  conversationId?: string | undefined;
  model?: string | undefined;
  attachments?: Attachments | undefined;
  think?: ThinkSetting | undefined;
  /** Aborting cancels the run on the server and makes the iteration throw the abort reason. */
  signal?: AbortSignal | undefined;
}

export type CompleteOptions = Omit<StreamOptions, "signal"> & { signal?: AbortSignal | undefined };

export interface EventsOptions {
  /** Resume after this event id (see `eventIdOf`). */
  lastEventId?: string | null | undefined;
  /** Aborting closes the subscription (the run goes on; use `cancel` to stop it). */
  signal?: AbortSignal | undefined;
}

/** The events of one run, `run-start` first and `done` last. */
export type ChatStream = AsyncGenerator<ChatEvent, void, undefined>;

export interface ChatClient {
  /** Starts a run and streams its events; leaving the loop early or aborting cancels the run. */
  stream(message: string, opts?: StreamOptions): ChatStream;
  /** Starts a run without following it. */
  send(message: string, opts?: Omit<StreamOptions, "signal">): Promise<SendResult>;
  /** Waits for the whole answer. */
  complete(message: string, opts?: CompleteOptions): Promise<CompleteResult>;
  /** Attaches to an existing run (e.g. after a restart of this process). */
  events(runId: string, opts?: EventsOptions): ChatStream;
  cancel(runId: string): Promise<{ cancelled: boolean }>;
  conversations: {
    list(opts?: { limit?: number }): Promise<ConversationSummary[]>;
    get(conversationId: string): Promise<ConversationDetail>;
    rename(conversationId: string, title: string): Promise<Outputs["conversations"]["rename"]>;
    delete(conversationId: string): Promise<Outputs["conversations"]["delete"]>;
  };
  /** The models, with capabilities (in words too), context length and whether loaded; `refresh` skips the API's short cache. */
  models(opts?: { refresh?: boolean }): Promise<ModelList>;
  health(): Promise<Health>;
  /** The underlying tRPC client, for procedures this wrapper does not cover. */
  trpc: TrpcClient;
}

// Errors leave this package as ChatClientError; aborts keep their identity so `signal.reason` checks work.
async function call<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw isAbortError(error) ? error : toChatClientError(error);
  }
}

const sendAttempts = 3;

/** The fields every run-starting procedure shares; absent options stay absent on the wire. */
function runInput(message: string, opts: Omit<StreamOptions, "signal">): Inputs["chat"]["complete"] {
  return { message, conversationId: opts.conversationId, model: opts.model, think: opts.think, attachments: opts.attachments };
}

export function createChatClient(options: ChatClientOptions): ChatClient {
  const trpc = createTransport(options);

  async function send(input: Inputs["chat"]["send"]): Promise<SendResult> {
    // The clientRequestId makes a repeated send return the same run, so a send whose answer was lost is safe to retry.
    for (let attempt = 1; ; attempt++) {
      try {
        return await call(() => trpc.chat.send.mutate(input));
      } catch (error) {
        const retry = error instanceof ChatClientError && error.code === "unreachable" && attempt < sendAttempts;
        if (!retry) throw error;
        await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
      }
    }
  }

  async function cancelQuietly(runId: string): Promise<void> {
    try {
      await trpc.chat.cancel.mutate({ runId }, { signal: AbortSignal.timeout(5000) });
    } catch {
      // Best effort: the server may be gone, and then so is the run.
    }
  }

  async function* stream(message: string, opts: StreamOptions = {}): ChatStream {
    const { signal } = opts;
    signal?.throwIfAborted();
    // Not aborted mid-flight: the server may already have created the run, and we need its id to cancel it.
    const { runId } = await send({ ...runInput(message, opts), clientRequestId: requestId() });
    let finished = false;
    try {
      signal?.throwIfAborted();
      for await (const event of followRun(trpc, runId, { signal })) {
        if (event.type === "done") finished = true;
        yield event;
      }
    } finally {
      if (!finished) await cancelQuietly(runId);
    }
  }

  return {
    stream,
    send: (message, opts = {}) => send({ ...runInput(message, opts), clientRequestId: requestId() }),
    complete: (message, opts = {}) => call(() => trpc.chat.complete.mutate(runInput(message, opts), { signal: opts.signal })),
    events: (runId, opts = {}) => followRun(trpc, runId, opts),
    cancel: (runId) => call(() => trpc.chat.cancel.mutate({ runId })),
    conversations: {
      list: (opts) => call(() => trpc.conversations.list.query(opts)),
      get: (conversationId) => call(() => trpc.conversations.get.query({ conversationId })),
      rename: (conversationId, title) => call(() => trpc.conversations.rename.mutate({ conversationId, title })),
      delete: (conversationId) => call(() => trpc.conversations.delete.mutate({ conversationId })),
    },
    models: (opts) => call(() => trpc.models.list.query(opts)),
    health: () => call(() => trpc.health.query()),
    trpc,
  };
}
