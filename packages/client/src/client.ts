import { emptyUsage, errorCodeMessages, RunSummaryFold, type ChatEvent } from "@streamchat/core";
import type { inferRouterInputs, inferRouterOutputs } from "@trpc/server";
import type { AppRouter } from "@streamchat/api";
import { abortErrorIn, ChatClientError, mayHaveBeenActedOn, toChatClientError } from "./errors.js";
import { exportAllLines, type ExportAllOptions, type ExportLines } from "./export-all.js";
import { delay, followRun } from "./follow.js";
import { requestId } from "./ids.js";
import { createTransport, type TransportOptions, type TrpcClient } from "./transport.js";

type Inputs = inferRouterInputs<AppRouter>;
type Outputs = inferRouterOutputs<AppRouter>;

export type ChatClientOptions = TransportOptions;
export type SendResult = Outputs["chat"]["send"];
export type CompleteResult = Outputs["chat"]["complete"];
export type ConversationSummary = Outputs["conversations"]["list"][number];
export type ConversationDetail = Outputs["conversations"]["get"];
/** A conversation file: `content` to save as `filename`. */
export type ExportedConversation = Outputs["conversations"]["export"];
export type ExportFormat = Inputs["conversations"]["export"]["format"];
export type SearchHit = Outputs["conversations"]["search"][number];
export type ModelList = Outputs["models"]["list"];
export type Health = Outputs["health"];
export type ApproveResult = Outputs["chat"]["approve"];
/**
 * `{ cancelled: true }`, or `{ cancelled: false, reason }`: `"ended"` (the run had ended already) or `"unreachable"`
 * (it runs where the server could not stop it now; try again in a moment).
 */
export type CancelResult = Outputs["chat"]["cancel"];
export type ToolsList = Outputs["tools"]["list"];
export type ToolServerView = Outputs["tools"]["setServerEnabled"];
/**
 * The user's settings for all their chats: `{ instructions, sampling, updatedAt }` ("", every sampling setting null and
 * `updatedAt` null when never set).
 */
export type UserSettings = Outputs["settings"]["get"];
/**
 * A conversation's own settings: `{ instructions, sampling, updatedAt }` ("", every sampling setting null and
 * `updatedAt` null when never set).
 */
export type ConversationSettings = Outputs["conversations"]["settings"];
/** What `conversations.instructions` returns: the same settings, under the name from before they had sampling. */
export type ConversationInstructions = Outputs["conversations"]["instructions"];
/**
 * How a conversation's answers are sampled: `{ temperature, topP, seed }`, each null for the default (the user's own,
 * `settings.get`, else the model's)
 * (temperature 0 to 2, top P above 0 to 1, seed a whole number from 0 to 2,147,483,647).
 */
export type ConversationSampling = NonNullable<Inputs["chat"]["send"]["sampling"]>;
/** Some of a conversation's sampling settings, to change those alone (`conversations.setSampling`). */
export type ConversationSamplingChange = Inputs["conversations"]["setSampling"]["sampling"];
/** Some of the user's own sampling settings, to change those alone (`settings.setSampling`): the same shape. */
export type UserSamplingChange = Inputs["settings"]["setSampling"]["sampling"];

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
  /**
   * A new conversation's own instructions (no `conversationId`), which its answers get after the user's custom
   * instructions, its first answer included; an existing conversation's are changed by `conversations.setInstructions`.
   */
  instructions?: string | undefined;
  /**
   * A new conversation's sampling (no `conversationId`), which its answers are sampled with, its first answer
   * included; an existing conversation's is changed by `conversations.setSampling`.
   */
  sampling?: ConversationSampling | undefined;
  /** Aborting cancels the run on the server and makes the iteration throw the abort reason. */
  signal?: AbortSignal | undefined;
}

export type CompleteOptions = Omit<StreamOptions, "signal"> & { signal?: AbortSignal | undefined };

/** continueAnswer's: the conversation is its argument, and a continuation takes no new files or settings. */
export type ContinueOptions = Omit<StreamOptions, "conversationId" | "attachments" | "instructions" | "sampling">;

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
  /**
   * Writes on from the answer at the end of a conversation that was cut short (stopped, the length limit, a failure):
   * `chat.continue`, streamed as `stream` does. The events between `run-start` and the first `status` are the answer
   * so far; the rest is what the model adds. Fails with `bad_request` when the conversation does not end with the
   * model's text.
   */
  continueAnswer(conversationId: string, opts?: ContinueOptions): ChatStream;
  /**
   * Starts a run without following it. Aborting `signal` before the answer came throws the signal's reason at once,
   * and cancels the run if the server started it all the same.
   */
  send(message: string, opts?: StreamOptions): Promise<SendResult>;
  /**
   * Waits for the whole answer: what `chat.complete` returns, folded here from the run's events, so that it survives
   * dropped connections like `stream` and aborting `signal` cancels the run. A failed run throws ChatClientError.
   */
  complete(message: string, opts?: CompleteOptions): Promise<CompleteResult>;
  /** Attaches to an existing run (e.g. after a restart of this process). */
  events(runId: string, opts?: EventsOptions): ChatStream;
  /** Stops a run; a run not stopped says why (CancelResult's `reason`). */
  cancel(runId: string): Promise<CancelResult>;
  /**
   * Runs stopped before their send was answered (`signal` aborted while the server had not named the run yet): this
   * client cancels each once the answer comes. 0 when it owes no cancel.
   */
  readonly pendingCancels: number;
  /**
   * Resolves once the pending cancels were sent (true), or after `timeoutMs` (false; default 3 s) if the server has
   * not answered by then. A process about to exit right after an abort (a CLI on Ctrl-C) waits for this first, so
   * that the run it stopped does not go on without it.
   */
  cancelsSent(opts?: { timeoutMs?: number }): Promise<boolean>;
  /**
   * Decides a tool call that waits for approval (an `approval-request` event of the run): approved, it runs; denied,
   * the model gets `tool_denied` and goes on. Any client of the same user may decide; the first decision wins, a
   * conflicting later one fails with a CONFLICT error (`trpcCode`), whose `conflict` says which decision won or why
   * none is waited for.
   */
  approve(runId: string, callId: string, approved: boolean, opts?: { reason?: string | undefined }): Promise<ApproveResult>;
  tools: {
    /** The user's tools (built-ins and MCP servers' tools) and each MCP server's state. */
    list(): Promise<ToolsList>;
    /** Turns an MCP server's tools on or off for the user's chats. */
    setServerEnabled(server: string, enabled: boolean): Promise<ToolServerView>;
  };
  conversations: {
    /**
     * Pinned first, then newest activity first; at most `limit` (default 100, at most 500). `after`: the next page, the
     * ones listed after that conversation (the last of the page before); an empty page is the end, and NOT_FOUND means
     * it is gone (deleted meanwhile): start again from the first page. `query`: only those whose title holds every word
     * of it (any order, case and accents ignored), in the same order and paged the same way. Archived ones are left out;
     * `archived: true` lists them alone.
     */
    list(opts?: { limit?: number; after?: string; query?: string; archived?: boolean }): Promise<ConversationSummary[]>;
    get(conversationId: string): Promise<ConversationDetail>;
    rename(conversationId: string, title: string): Promise<Outputs["conversations"]["rename"]>;
    /** Pins it to the top of `list` (most recently pinned first), or unpins it; `pinnedAt` says when (null: not pinned). */
    pin(conversationId: string, pinned: boolean): Promise<Outputs["conversations"]["pin"]>;
    /**
     * Archives it (out of `list`, into `list({ archived: true })`; it stays whole and can go on) or brings it back;
     * `archivedAt` says when (null: not archived).
     */
    archive(conversationId: string, archived: boolean): Promise<Outputs["conversations"]["archive"]>;
    delete(conversationId: string): Promise<Outputs["conversations"]["delete"]>;
    /**
     * Shows another version: the active path goes through `messageId` (any message, e.g. a sibling from a
     * message's `versions.siblingIds`, or a search hit) and down its most recent children. Returns what `get` returns.
     */
    switchBranch(conversationId: string, messageId: number): Promise<ConversationDetail>;
    /**
     * A new conversation ("Branch · <title>") holding this one up to the answer `messageId` (the end of an answer: the
     * last assistant message of its turn), to go on from there and keep both. The original does not change.
     */
    branch(conversationId: string, messageId: number): Promise<Outputs["conversations"]["branch"]>;
    /** `json` (default: the whole tree, what `import` reads) or `markdown` (the active path, to read). */
    export(conversationId: string, opts?: { format?: ExportFormat }): Promise<ExportedConversation>;
    /**
     * Every conversation of the user (`GET /api/export`, JSON Lines), in the list's order: one line per conversation,
     * its JSON export (what `export` gives as json, on one line; what `import` reads), without the newline, yielded as
     * the body arrives. A refusal throws ChatClientError as any call does (a token refused: `unauthorized`); an export
     * cut short (the connection broke, or the body ended inside a line) throws `stream_truncated` after the lines that
     * were whole. Leaving the loop early, or aborting `signal`, stops the download.
     */
    exportAll(opts?: ExportAllOptions): ExportLines;
    /** A JSON export as a new conversation (new ids; never overwrites). Sent unbatched, up to MAX_IMPORT_BYTES. */
    import(content: string): Promise<Outputs["conversations"]["import"]>;
    /** The user's messages containing `query` (case-insensitive), on every branch, newest first. */
    search(query: string, opts?: { limit?: number }): Promise<SearchHit[]>;
    /**
     * The conversation's own settings: its instructions ("" when never set), which every answer started in it gets
     * after the user's custom instructions (`settings.get`) and which win where the two differ, and its sampling (each
     * setting null when not chosen: the user's own, `settings.get`, else the model's default); `updatedAt` null when
     * never set. NOT_FOUND when the user has no such conversation.
     */
    settings(conversationId: string): Promise<ConversationSettings>;
    /** The conversation's settings, as `settings` (the name from before they had sampling). */
    instructions(conversationId: string): Promise<ConversationInstructions>;
    /**
     * Replaces its instructions ("" clears; trimmed; at most 4,000 characters) for answers started in it afterwards
     * (one already running keeps what it started with); its sampling and the user's custom instructions do not change.
     * Returns its settings as stored. NOT_FOUND when the user has no such conversation.
     */
    setInstructions(conversationId: string, instructions: string): Promise<ConversationInstructions>;
    /**
     * Sets the sampling settings named (null puts one back to the default: the user's, else the model's; those not
     * named stay as they are, also when another client changes them at the same time), for answers started in it afterwards (one already
     * running keeps what it started with); its instructions do not change. Returns its settings as stored. BAD_REQUEST
     * for a setting out of range, NOT_FOUND when the user has no such conversation.
     */
    setSampling(conversationId: string, sampling: ConversationSamplingChange): Promise<ConversationSettings>;
  };
  settings: {
    /**
     * The user's custom instructions ("" when none), which every answer started gets after the server's prompt (and
     * before a conversation's own: `conversations.settings`), and their sampling for all their chats (each setting null
     * for the model's default), which a conversation's own settings override one by one.
     */
    get(): Promise<UserSettings>;
    /** Replaces the instructions ("" clears; trimmed; at most 4,000 characters) for answers started afterwards. */
    setInstructions(instructions: string): Promise<UserSettings>;
    /**
     * Sets the user's sampling settings named (null puts one back to the model's default; those not named stay), for
     * answers started afterwards in conversations that do not set that setting themselves. BAD_REQUEST for a setting
     * out of range.
     */
    setSampling(sampling: UserSamplingChange): Promise<UserSettings>;
  };
  /** The models, with capabilities (in words too), context length and whether loaded; `refresh` skips the API's short cache. */
  models(opts?: { refresh?: boolean }): Promise<ModelList>;
  health(): Promise<Health>;
  /** The underlying tRPC client, for procedures this wrapper does not cover. */
  trpc: TrpcClient;
}

// Errors leave this package as ChatClientError; an abort leaves as the AbortError (unwrapped from tRPC's error), so
// the caller's abort checks work.
async function call<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw abortErrorIn(error) ?? toChatClientError(error);
  }
}

/** A run's events folded into chat.complete's answer with the server's own fold, so both ways of asking agree. */
async function completeResult(started: SendResult, events: ChatStream): Promise<CompleteResult> {
  const fold = new RunSummaryFold();
  for await (const event of events) fold.add(event);
  const { text, toolCalls, usage, reason, error } = fold.summary;
  if (error) {
    // The message chat.complete's ChatClientError would carry (toChatClientError hides internal failures' details).
    const { code } = error;
    throw new ChatClientError(code, code === "internal" || !error.message ? errorCodeMessages[code] : error.message);
  }
  if (reason === "cancelled") throw new ChatClientError("cancelled", errorCodeMessages.cancelled);
  return { conversationId: started.conversationId, runId: started.runId, text, toolCalls, usage: usage ?? emptyUsage() };
}

/**
 * The waits before each repeat of a failed send worth repeating with the same clientRequestId (which makes the server
 * return the run it started, if it did); undefined: not worth it. No answer at all (a refused or reset socket): two
 * short tries, so that "is the server running?" comes quickly. Something answering for the API while it restarts (a
 * proxy's 502/503 page, no tRPC error in it), or the API saying it is stopping (`interrupted`: "try again in a
 * moment") or that its cluster link is down (SERVICE_UNAVAILABLE): about 4 s of tries, a restart's gap. Never a
 * certificate (the next try meets the same one) nor anything the API decided (a bad request, a token refused, too many
 * runs).
 */
function sendRetryWaits(error: unknown): readonly number[] | undefined {
  if (!(error instanceof ChatClientError) || !error.retryable) return undefined;
  if (error.code === "unreachable") return [200, 400];
  const restarting =
    error.code === "interrupted" ||
    error.trpcCode === "SERVICE_UNAVAILABLE" ||
    (error.trpcCode === undefined && error.status !== undefined && error.status >= 500);
  return restarting ? [250, 500, 1000, 2000] : undefined;
}

/** How long an aborted send waits for the run a lost answer named (see `lostRun`). */
const lostRunLookupMs = 5000;

/** The fields every run-starting procedure shares; absent options stay absent on the wire. */
function runInput(message: string, opts: Omit<StreamOptions, "signal">): Inputs["chat"]["complete"] {
  const { conversationId, model, think, attachments, instructions, sampling } = opts;
  return { message, conversationId, model, think, attachments, instructions, sampling };
}

export function createChatClient(options: ChatClientOptions): ChatClient {
  const trpc = createTransport(options);
  // Looked up per call, as the transport does, so a fetch patched after the client was created is still used.
  const fetchImpl: typeof globalThis.fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));

  async function send(input: Inputs["chat"]["send"], signal: AbortSignal | undefined): Promise<SendResult> {
    // The clientRequestId makes a repeated send return the same run, so a send whose answer was lost is safe to retry;
    // not once the caller gave up (`signal`), which would only start a run nobody follows, unless a lost answer may
    // have named one (then once, to cancel it: lostRun).
    let answerLost = false;
    for (let retries = 0; ; retries++) {
      try {
        return await call(() => trpc.chat.send.mutate(input));
      } catch (error) {
        answerLost ||= mayHaveBeenActedOn(error);
        const wait = sendRetryWaits(error)?.[retries];
        if (wait === undefined) throw error;
        if (signal?.aborted) return lostRun(input, answerLost, error);
        try {
          await delay(wait, signal);
        } catch (aborted) {
          return lostRun(input, answerLost, aborted);
        }
      }
    }
  }

  /**
   * The caller gave up on a send (`start` rejected it already) after a try whose answer was lost: the API may have
   * started the run all the same, and only the run's id lets it be cancelled. The same send once more, with the same
   * clientRequestId, returns that run (and `start` cancels what this returns). The API has no way to look a run up by
   * its clientRequestId without starting one, so when no earlier try got through this starts the run, to be cancelled
   * at once: its question stays in the conversation with a stopped answer, as after an abort while a send is on its
   * way. Bounded: one try, given up after `lostRunLookupMs`.
   */
  async function lostRun(input: Inputs["chat"]["send"], answerLost: boolean, error: unknown): Promise<SendResult> {
    if (!answerLost) throw error;
    return trpc.chat.send.mutate(input, { signal: AbortSignal.timeout(lostRunLookupMs) });
  }

  /** The cancels of runs aborted before their send was answered: each settles once sent (or given up). */
  const pendingCancels = new Set<Promise<void>>();

  async function cancelsSent(timeoutMs: number): Promise<boolean> {
    if (pendingCancels.size === 0) return true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<false>((resolve) => (timer = setTimeout(resolve, timeoutMs, false)));
    try {
      return await Promise.race([Promise.all(pendingCancels).then(() => true), timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }

  async function cancelQuietly(runId: string): Promise<void> {
    try {
      await trpc.chat.cancel.mutate({ runId }, { signal: AbortSignal.timeout(5000) });
    } catch {
      // Best effort: the server may be gone, and then so is the run.
    }
  }

  async function start(message: string, opts: StreamOptions): Promise<SendResult> {
    const { signal } = opts;
    signal?.throwIfAborted();
    // The request is not aborted with the signal: the server may already have created the run, and only its answer
    // names the run to cancel. The caller does not wait for it, though: a server slow to answer (or one that took the
    // connection and hangs) would hold Ctrl-C for as long as fetch waits for headers, five minutes.
    const sending = send({ ...runInput(message, opts), clientRequestId: requestId() }, signal);
    if (!signal) return sending;
    return new Promise<SendResult>((resolve, reject) => {
      const onAbort = () => {
        const cancel = sending.then(
          ({ runId }) => cancelQuietly(runId),
          () => {},
        );
        pendingCancels.add(cancel);
        void cancel.finally(() => pendingCancels.delete(cancel));
        reject(signal.reason);
      };
      signal.addEventListener("abort", onAbort, { once: true });
      sending.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
    });
  }

  /** A run this client started, to its end; stopping early (or aborting `signal`) cancels it. */
  async function* own(runId: string, signal: AbortSignal | undefined): ChatStream {
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

  async function* stream(message: string, opts: StreamOptions = {}): ChatStream {
    const { runId } = await start(message, opts);
    yield* own(runId, opts.signal);
  }

  // No retry: without a request id a second try could start a second version. A run started while `signal` aborted is
  // cancelled by `own`.
  async function* continueAnswer(conversationId: string, opts: ContinueOptions = {}): ChatStream {
    opts.signal?.throwIfAborted();
    const { runId } = await call(() => trpc.chat.continue.mutate({ conversationId, model: opts.model, think: opts.think }));
    yield* own(runId, opts.signal);
  }

  // Not chat.complete: its one HTTP request gets no headers until the whole answer exists, so fetch gives up on a
  // long answer (undici's 300 s headersTimeout), a dropped connection loses the answer, and an abort leaves the run going.
  async function complete(message: string, opts: CompleteOptions = {}): Promise<CompleteResult> {
    const started = await start(message, opts);
    return completeResult(started, own(started.runId, opts.signal));
  }

  return {
    stream,
    continueAnswer,
    send: (message, opts = {}) => start(message, opts),
    complete,
    events: (runId, opts = {}) => followRun(trpc, runId, opts),
    cancel: (runId) => call(() => trpc.chat.cancel.mutate({ runId })),
    get pendingCancels() {
      return pendingCancels.size;
    },
    cancelsSent: (opts = {}) => cancelsSent(opts.timeoutMs ?? 3000),
    approve: (runId, callId, approved, opts = {}) =>
      call(() => trpc.chat.approve.mutate({ runId, callId, approved, ...(opts.reason === undefined ? {} : { reason: opts.reason }) })),
    tools: {
      list: () => call(() => trpc.tools.list.query()),
      setServerEnabled: (server, enabled) => call(() => trpc.tools.setServerEnabled.mutate({ server, enabled })),
    },
    conversations: {
      list: (opts) => call(() => trpc.conversations.list.query(opts)),
      get: (conversationId) => call(() => trpc.conversations.get.query({ conversationId })),
      rename: (conversationId, title) => call(() => trpc.conversations.rename.mutate({ conversationId, title })),
      pin: (conversationId, pinned) => call(() => trpc.conversations.pin.mutate({ conversationId, pinned })),
      archive: (conversationId, archived) => call(() => trpc.conversations.archive.mutate({ conversationId, archived })),
      delete: (conversationId) => call(() => trpc.conversations.delete.mutate({ conversationId })),
      switchBranch: (conversationId, messageId) => call(() => trpc.conversations.switchBranch.mutate({ conversationId, messageId })),
      branch: (conversationId, messageId) => call(() => trpc.conversations.branch.mutate({ conversationId, messageId })),
      export: (conversationId, opts = {}) =>
        call(() => trpc.conversations.export.query({ conversationId, ...(opts.format ? { format: opts.format } : {}) })),
      exportAll: (opts = {}) => exportAllLines(fetchImpl, options.url, options.token, opts.signal),
      import: (content) => call(() => trpc.conversations.import.mutate({ content })),
      search: (query, opts = {}) => call(() => trpc.conversations.search.query({ query, ...(opts.limit === undefined ? {} : { limit: opts.limit }) })),
      settings: (conversationId) => call(() => trpc.conversations.settings.query({ conversationId })),
      instructions: (conversationId) => call(() => trpc.conversations.instructions.query({ conversationId })),
      setInstructions: (conversationId, instructions) => call(() => trpc.conversations.setInstructions.mutate({ conversationId, instructions })),
      setSampling: (conversationId, sampling) => call(() => trpc.conversations.setSampling.mutate({ conversationId, sampling })),
    },
    settings: {
      get: () => call(() => trpc.settings.get.query()),
      setInstructions: (instructions) => call(() => trpc.settings.setInstructions.mutate({ instructions })),
      setSampling: (sampling) => call(() => trpc.settings.setSampling.mutate({ sampling })),
    },
    models: (opts) => call(() => trpc.models.list.query(opts)),
    health: () => call(() => trpc.health.query()),
    trpc,
  };
}
