import { abortReason, linkedController, untilAborted } from "./abort.js";
import {
  askApproval,
  defaultApprovalPolicy,
  defaultApprovalTimeoutMs,
  deniedFailure,
  sourceOf,
  unaskableFailure,
  waitingForApprovalMessage,
  type ApprovalOutcome,
  type ApprovalPolicy,
  type ApproveHook,
} from "./approval.js";
import { capabilitiesNow, capabilitiesOf, imagesOnLastUserMessage, imagesUnsupported, stateNow, stateOf, thinkToSend } from "./capabilities.js";
import { fitContext } from "./context.js";
import { answerReserve, chooseNumCtx, contextMemoryOf, contextWindowOf, numCtxAnswerRoom, promptWasTruncated, type ContextWindow } from "./context-window.js";
import { carriedEvents, continuedAnswerOf, type ContinuedAnswer } from "./continue-answer.js";
import { ChatError, errorCodeMessages, isRetryable } from "./errors.js";
import type { ChatEvent, ContextUsage, DoneReason, ErrorCode, EventOf, Usage } from "./events.js";
import type { KeepAlive } from "./keep-alive.js";
import type { ChatMessage, ChatModel, ModelCapabilities, ModelChunk, ModelRequest, ToolCall } from "./model.js";
import { newCallId } from "./providers/call-id.js";
import { roundInCallOrder, runSnapshotOf, type RunSnapshot } from "./resume.js";
import type { ThinkSetting } from "./think.js";
import { mayOpenThinkBlock, ThinkTagSplitter, type SplitTextSink } from "./think-tags.js";
import { timerDelay } from "./timers.js";
import { isDefaultSampling, samplingOptions, type Sampling } from "./sampling.js";
import { carriesImages, estimateMessageTokens, messageTextTokens, toolTextTokens } from "./tokens.js";
import { executeTool, toolResultContent, toolSpec, validateToolCall, type AnyTool, type ToolOutcome } from "./tools.js";
import { UsageMeter } from "./usage.js";

export interface RunOptions {
  model: ChatModel;
  modelName: string;
  conversationId: string;
  runId: string;
  /**
   * Full request context: system + history + the new user message (with its `images`). Pass the whole
   * history: the run trims it to `maxContextMessages` and the model's context window itself, and reports
   * what it left out (a status event with `contextTrimmed`, and `usage.context.droppedMessages`).
   */
  messages: ChatMessage[];
  tools?: AnyTool[];
  /** Model rounds, default 5. */
  maxSteps?: number;
  /** Per call, default 15000; a tool's own timeoutMs wins. Capped at 2^31 - 1 ms (see timers.ts), as the others. */
  toolTimeoutMs?: number;
  /**
   * Ask the model to reason first (true, or a level "low" | "medium" | "high") or not (false); undefined
   * leaves it to the model. A model known to lack the thinking capability gets no `think` at all: true or a
   * level then ends the run with model_unsupported before any model request, `false` is simply left out.
   * A level for a model known to take only on/off is sent as `true`.
   */
  think?: ThinkSetting;
  /** Ollama `keep_alive` for this run's requests (overrides the provider's default). */
  keepAlive?: KeepAlive;
  /**
   * Most messages sent besides the leading system message(s), the new question included, oldest dropped
   * first (MAX_CONTEXT_MESSAGES, counted as the API's buildContext does). Default: only the token budget.
   */
  maxContextMessages?: number;
  /**
   * Most tokens a request may fill on servers that size the window per request (Ollama num_ctx): the
   * model's context length is capped to it. Default 32768. On servers with a fixed window (OpenAI-
   * compatible) it applies only when given.
   */
  maxContextTokens?: number;
  /** Abort ends the run with done{reason:"cancelled"} only (no error event). */
  signal?: AbortSignal;
  /** Clock for `at` and usage timings (default Date.now). */
  now?: () => number;
  /**
   * Addition: fail with provider_error when the model sends nothing for this long while the engine waits
   * (a stalled server). Default 300000, like undici's body timeout; generous because Ollama sends nothing
   * while it loads a model.
   */
  idleTimeoutMs?: number;
  /**
   * The limit of the first wait of a run's first round when the model is not loaded (the provider's `state` says so):
   * the server sends nothing until it has loaded the model. Default 300000 (Ollama's own load timeout); never shorter
   * than `idleTimeoutMs`. Once data came, `idleTimeoutMs` holds.
   */
  loadTimeoutMs?: number;
  /**
   * What `loadTimeoutMs` is called where the person who can raise it sets it, for the error of a run whose model took
   * longer to load (the API: its CHAT_LOAD_TIMEOUT_MS). Default "loadTimeoutMs", this option's own name.
   */
  loadTimeoutName?: string;
  /**
   * The most tokens the model may write in one round (Ollama `num_predict`, OpenAI-compatible `max_tokens`); a round cut
   * there ends the run with `done.reason: "length"`, and `continueAnswer` writes on from it. Undefined: the server's
   * own limit (usually none).
   */
  maxAnswerTokens?: number;
  /** The conversation's sampling (temperature, top P, seed); null settings, or none given, leave the model's defaults. */
  sampling?: Sampling;
  /**
   * Addition (DESIGN §10): asks a person about each validated call that needs approval (see
   * `requiresApproval`); called just before its approval-request event is yielded, so the decision can be
   * taken as soon as anyone sees the request. Without a hook such calls are refused (tool-result
   * tool_denied), never run unasked.
   */
  approve?: ApproveHook;
  /** Which calls need approval (e.g. per-server config); default: the tool's own `requiresApproval`. */
  requiresApproval?: ApprovalPolicy;
  /** How long a call waits for a decision, default 600000 (TOOL_APPROVAL_TIMEOUT_MS); then tool_denied. */
  approvalTimeoutMs?: number;
  /**
   * Continue a run an earlier process started and did not finish (it waited for approval when the API
   * restarted): `events` is that run's log so far, in order. `messages` is then the context the run
   * started with (without what it produced: that is rebuilt from the log). The run emits only what is
   * new: no run-start, no tool-call or approval-request again; its pending calls are decided (logged
   * approval-result), asked again (logged approval-request, same expiresAt) or run, then the next round.
   */
  resume?: { events: readonly ChatEvent[] };
  /**
   * Continue an answer that was cut short (stopped, the length limit, a failure) as a new version of it: its messages
   * after the question, ending with the model's text (continue-answer.ts). `messages` is the history up to the
   * question. The run tells the answer so far first, between `run-start` and its first `status` (one event per
   * message: reasoning, text, tool calls and results), then sends the first round with the answer's text last, which
   * the model writes on from (`continueFinal`). Its result holds the whole answer, that text and what the model added
   * joined in one message; none when the model added nothing (it failed or was stopped first).
   */
  continueAnswer?: readonly ChatMessage[];
  /**
   * The tool-result events the run that made the continued answer logged for its calls: told again as they were
   * (durations, typed errors) instead of rebuilt from the tool messages.
   */
  continuedToolResults?: readonly EventOf<"tool-result">[];
  /**
   * Takes the model's answer as it streams instead of the generator: the round's token and reasoning events and the
   * statuses between them, called synchronously as each chunk arrives, in order with what the generator yields (it
   * yields nothing while a round streams). Used only with a model that has `streamTo`; otherwise every event is
   * yielded. Must not throw. For a consumer that passes events on at once (the API's run executor): it saves the
   * iterator steps per chunk between the model's socket and the consumer. Such a consumer's `return()` takes effect
   * after the round, so stop a run through `signal`.
   */
  onStreamEvent?: (event: ChatEvent) => void;
}

export interface RunResult {
  reason: DoneReason;
  /** Concatenation of all token events (a resumed run: those logged before the restart included). */
  text: string;
  /** New messages: assistant (with toolCalls), tool results, final assistant. A resumed run: all of the run's, those before the restart included. */
  messages: ChatMessage[];
  usage: Usage;
  error?: { code: ErrorCode; message: string };
}

/** Ollama's own limit for loading a model (OLLAMA_LOAD_TIMEOUT's default). */
const defaultLoadTimeoutMs = 300_000;

export const processingMessage = "Processing your question…";
export const continuingMessage = "Continuing the answer…";
export const usingToolMessage = (name: string) => `Using tool: ${name}…`;
export const respondingMessage = "Responding…";

type EventBody<T extends ChatEvent["type"]> = Omit<EventOf<T>, "runId" | "at">;

/**
 * One answer: streams the model, runs the tools it asks for (in parallel within a round), feeds the
 * results back and streams again, up to maxSteps rounds. Yields the run's events and returns its result.
 *
 * Guarantees: exactly one `done`, last; failures yield `error` then `done{reason:"error"}`; an abort ends
 * with `done{reason:"cancelled"}` as soon as it happens, even while a tool or the model is mid-await; a
 * consumer that stops iterating (`return()`) aborts the model request.
 */
export async function* runChat(opts: RunOptions): AsyncGenerator<ChatEvent, RunResult, void> {
  const now = opts.now ?? Date.now;
  const maxSteps = Math.max(1, Math.floor(opts.maxSteps ?? 5));
  const toolTimeoutMs = opts.toolTimeoutMs ?? 15_000;
  // Capped so expiresAt stays a finite time a client can show (and the timer fires when it says).
  const approvalTimeoutMs = Math.max(1, timerDelay(opts.approvalTimeoutMs ?? defaultApprovalTimeoutMs));
  const needsApproval = opts.requiresApproval ?? defaultApprovalPolicy;
  const idleTimeoutMs = opts.idleTimeoutMs ?? 300_000;
  const loadTimeoutMs = Math.max(idleTimeoutMs, opts.loadTimeoutMs ?? defaultLoadTimeoutMs);
  const loadTimeoutName = opts.loadTimeoutName ?? "loadTimeoutMs";
  // Our own controller also covers a consumer that stops iterating: the finally below aborts it.
  const { controller, unlink } = linkedController(opts.signal);
  const signal = controller.signal;
  const usage = new UsageMeter(now(), now);
  const produced: ChatMessage[] = [];
  /** The ids of the run's tool calls, made at its first (a held answer without tools keeps no table). */
  let seenCallIds: Set<string> | undefined;
  let text = "";
  /**
   * A continued answer's last text, sent last in the first round and joined with what the model adds; cleared once
   * the model added to it.
   */
  let pending: AnswerText | undefined;

  // Typed per event type by the caller's literal; the cast only joins the common fields.
  function event<T extends ChatEvent["type"]>(type: T, body: Omit<EventBody<T>, "type">): ChatEvent {
    return { type, runId: opts.runId, at: now(), ...body } as unknown as ChatEvent;
  }

  // The phase of the last status event: the answer's first token of a round announces "responding"
  // when something else ("Processing…", "Using tool…") was the last thing said, so at most once a round.
  let lastPhase: EventOf<"status">["phase"] | null = null;
  function status(phase: EventOf<"status">["phase"], message: string, extra: Pick<EventOf<"status">, "contextTrimmed" | "unsupportedFeature"> = {}): ChatEvent {
    lastPhase = phase;
    return event("status", { phase, message, ...extra });
  }

  let reason: DoneReason = "stop";
  let failure: { code: ErrorCode; message: string } | undefined;
  // Context window bookkeeping for usage.context (see context-window.ts).
  const memory = contextMemoryOf(opts.model);
  let window: ContextWindow | undefined;
  let droppedMessages = 0;
  let truncated = false;
  let lastRound: { promptTokens: number; estimated: boolean; completionTokens: number; numCtx: number | undefined } | undefined;
  // The same for every round: worked out once, and nothing when everything is left to the model.
  const sampled = opts.sampling && !isDefaultSampling(opts.sampling) ? samplingOptions(opts.sampling) : undefined;

  try {
    try {
      // A resumed run's run-start (and the rest of its start) is in its log already.
      if (!opts.resume) {
        const start = {
          conversationId: opts.conversationId,
          model: opts.modelName,
          provider: opts.model.provider,
          ...(opts.continueAnswer ? { continues: true as const } : {}),
          ...(sampled ? { sampling: sampled } : {}),
        };
        yield event("run-start", start);
      }
      if (opts.continueAnswer) {
        // The answer so far comes between run-start and the first status: a client that showed it already skips those.
        const continued: ContinuedAnswer = continuedAnswerOf(opts.continueAnswer);
        for (const told of carriedEvents(continued, opts.runId, now(), opts.continuedToolResults)) yield told;
        produced.push(...continued.before);
        text = continued.text;
        for (const m of continued.before) if (m.role === "assistant") for (const call of m.toolCalls ?? []) (seenCallIds ??= new Set()).add(call.id);
        pending = continued.last;
        yield status("thinking", continuingMessage);
      } else if (!opts.resume) {
        yield status("thinking", processingMessage);
      }

      // Only what the model accepts: a model without the tools capability still chats, without tools.
      // Known without waiting (the provider's cache) in the usual case: no await, no promise.
      let capabilities = capabilitiesNow(opts.model, opts.modelName) ?? (await capabilitiesOf(opts.model, opts.modelName, signal));
      const tools = capabilities.tools === false ? [] : (opts.tools ?? []);
      let resumed: RunSnapshot | undefined;
      if (opts.resume) {
        resumed = runSnapshotOf(opts.resume.events, tools);
        if (resumed.finished) throw new ChatError("bad_request", "The run already finished: there is nothing to continue.");
        if (resumed.answered) throw new ChatError("bad_request", "The run was answering when it stopped: there is no tool round to continue.");
        produced.push(...resumed.messages);
        text = resumed.text;
        for (const m of resumed.messages) if (m.role === "assistant") for (const call of m.toolCalls ?? []) (seenCallIds ??= new Set()).add(call.id);
      }
      let specs = tools.map((t) => toolSpec(t));
      // The schemas' text is the same every round: serialized and counted once per run, not twice per round.
      let toolText = toolTextTokens(specs);
      const think = thinkToSend(opts.think, capabilities, opts.modelName);
      let context = opts.messages;
      if (capabilities.vision === false) {
        // The question's own images cannot be answered; images earlier in the history (sent to another
        // model) are left out so the conversation can go on with this one.
        if (imagesOnLastUserMessage(context) > 0) throw imagesUnsupported(opts.modelName);
        context = withoutImages(context);
      }
      window = contextWindowOf(capabilities, opts.maxContextTokens);
      let trimAnnounced = false;
      let overflowAnnounced = false;
      /** The server refused a round's prompt as longer than its window once already (sent again cut to it). */
      let windowRefused = false;

      /**
       * One tool round: announce the calls, start those that need no approval (in parallel), ask about the
       * others and start each once approved, report results in completion order. A resumed run passes its
       * snapshot: the calls were announced (and some asked about or decided) before the restart.
       */
      const toolRound = async function* (calls: ToolCall[], prior?: RunSnapshot): AsyncGenerator<ChatEvent, void, void> {
        const checked = calls.map((call) => ({ call, check: validateToolCall(tools, call) }));
        if (!prior) {
          for (const { call, check } of checked) {
            yield event("tool-call", { callId: call.id, name: call.name, args: check.ok ? check.args : call.args });
          }
        }
        type Settled = { index: number; outcome: ToolOutcome } | { index: number; decision: ApprovalOutcome };
        const pending = new Map<number, Promise<Settled>>();
        const outcomes = new Map<string, ToolOutcome>();
        /** Per asked call: its approval timeout, for the timed-out message. */
        const waits = new Map<number, number>();
        const track = (index: number, settled: Promise<Settled>) => {
          // After a cancel, tools and approvals still pending reject later: expected, not unhandled.
          settled.catch(() => undefined);
          pending.set(index, settled);
        };
        const start = (index: number, tool: AnyTool, args: unknown) =>
          track(index, executeTool(tool, args, { signal, timeoutMs: toolTimeoutMs, now }).then((outcome) => ({ index, outcome })));
        const answer = (index: number, outcome: ToolOutcome) => track(index, Promise.resolve({ index, outcome }));
        const refusal = (index: number, decision: ApprovalOutcome): ToolOutcome => ({
          ok: false,
          error: deniedFailure(checked[index]!.call.name, decision, waits.get(index) ?? approvalTimeoutMs),
          durationMs: 0,
        });
        try {
          // Everything starts (and every hook is asked, so the API can take a decision as soon as a client
          // sees the request) before the first event of the round goes out.
          const announcements: ChatEvent[] = [];
          checked.forEach(({ call, check }, index) => {
            if (!check.ok) {
              answer(index, { ok: false, error: check.error, durationMs: 0 });
              announcements.push(status("tool", usingToolMessage(call.name)));
              return;
            }
            const logged = prior?.decided.get(call.id);
            const asked = prior?.requested.get(call.id);
            // A call asked before a restart keeps its decision, whatever the policy says now: a person saw the request
            // (and may have denied it); running it unasked would break that.
            if (!asked && !needsApproval(check.tool, check.args)) {
              start(index, check.tool, check.args);
              announcements.push(status("tool", usingToolMessage(call.name)));
              return;
            }
            if (asked) waits.set(index, Math.max(0, asked.expiresAt - asked.at));
            if (logged) {
              // Decided before the restart: its approval-result is logged, the call only has to run.
              if (logged.approved) {
                start(index, check.tool, check.args);
                announcements.push(status("tool", usingToolMessage(call.name)));
              } else {
                answer(index, refusal(index, { approved: false, timedOut: logged.timedOut, ...(logged.reason ? { reason: logged.reason } : {}) }));
              }
              return;
            }
            if (!opts.approve) {
              answer(index, { ok: false, error: unaskableFailure(call.name), durationMs: 0 });
              return;
            }
            const askedAt = now();
            const expiresAt = asked?.expiresAt ?? askedAt + approvalTimeoutMs;
            const source = sourceOf(check.tool);
            const request = { callId: call.id, name: call.name, args: check.args, source, tool: check.tool, expiresAt, resumed: asked !== undefined };
            track(index, askApproval(opts.approve, request, { signal, now }).then((decision) => ({ index, decision })));
            if (!asked) {
              const description = check.tool.description ? { description: check.tool.description } : {};
              // Stamped with the instant expiresAt counts from: expiresAt - at is the timeout.
              const requestEvent = event("approval-request", { callId: call.id, name: call.name, args: check.args, source, ...description, expiresAt });
              announcements.push({ ...requestEvent, at: askedAt });
            }
            announcements.push(status("waiting", waitingForApprovalMessage(call.name)));
          });
          for (const announcement of announcements) yield announcement;

          while (pending.size > 0) {
            const settled = await untilAborted(Promise.race(pending.values()), signal);
            pending.delete(settled.index);
            const { call, check } = checked[settled.index]!;
            if ("decision" in settled) {
              const { approved, reason: given, timedOut } = settled.decision;
              yield event("approval-result", { callId: call.id, name: call.name, approved, ...(given ? { reason: given } : {}), timedOut });
              if (approved && check.ok) {
                start(settled.index, check.tool, check.args);
                yield status("tool", usingToolMessage(call.name));
              } else {
                answer(settled.index, refusal(settled.index, settled.decision));
              }
              continue;
            }
            const { outcome } = settled;
            outcomes.set(call.id, outcome);
            yield event("tool-result", {
              callId: call.id,
              name: call.name,
              ok: outcome.ok,
              ...(outcome.ok ? { result: outcome.result } : { error: outcome.error }),
              durationMs: outcome.durationMs,
            });
          }
        } finally {
          // In call order; a call cut short by cancel still gets an answer, so the history stays valid.
          for (const call of calls) {
            const outcome = outcomes.get(call.id) ?? {
              ok: false as const,
              error: { code: "cancelled" as const, message: errorCodeMessages.cancelled },
              durationMs: 0,
            };
            produced.push({ role: "tool", toolCallId: call.id, toolName: call.name, content: toolResultContent(outcome) });
          }
          // A resumed round: the results logged before the restart came first; all of them in call order.
          if (prior) roundInCallOrder(produced);
        }
      };

      // ---- a resumed run first finishes the tool round it stopped in
      const roundsBefore = resumed?.rounds ?? 0;
      if (resumed) {
        if (resumed.pendingCalls.length > 0) yield* toolRound(resumed.pendingCalls, resumed);
        else yield status("thinking", processingMessage);
        if (roundsBefore >= maxSteps) reason = "max-steps";
      }
      // Asked before the first request: a model that is not loaded keeps the answer silent for seconds.
      const state =
        reason === "max-steps" ? { loaded: undefined } : (stateNow(opts.model, opts.modelName) ?? (await stateOf(opts.model, opts.modelName, signal)));

      for (let step = roundsBefore + 1; reason !== "max-steps"; step += 1) {
        // ---- one model round
        if (signal.aborted) throw new ChatError("cancelled", errorCodeMessages.cancelled);
        const ratio = memory.ratio(opts.modelName);
        const all = pending ? [...context, ...produced, pending] : [...context, ...produced];
        const toolTokens = Math.ceil(toolText * ratio); // as estimateToolTokens(specs, ratio) computes it
        const reserve = window.limit === undefined ? 0 : answerReserve(window.limit);
        const fit = fitContext(all, {
          ...(opts.maxContextMessages === undefined ? {} : { maxMessages: leadingSystemMessages(all) + Math.max(0, opts.maxContextMessages) }),
          ...(window.limit === undefined ? {} : { maxTokens: Math.max(0, window.limit - reserve - toolTokens) }),
          estimateTokens: (m) => estimateMessageTokens(m, ratio),
        });
        droppedMessages = Math.max(droppedMessages, fit.droppedMessages);
        if (fit.droppedMessages > 0 && !trimAnnounced) {
          trimAnnounced = true;
          yield status("thinking", contextTrimmedMessage(fit.droppedMessages), { contextTrimmed: { droppedMessages: fit.droppedMessages } });
        }
        const expected = fit.estimatedTokens + toolTokens;
        let numCtx: number | undefined;
        if (window.limit !== undefined && capabilities.defaultContextTokens !== undefined) {
          numCtx = chooseNumCtx({
            need: expected + numCtxAnswerRoom(reserve),
            defaultTokens: capabilities.defaultContextTokens,
            limit: window.limit,
            sticky: memory.stickyNumCtx(opts.modelName),
            loadedTokens: state.contextTokens,
          });
        }
        const serverWindow = numCtx ?? capabilities.defaultContextTokens ?? capabilities.contextLength;
        if (serverWindow !== undefined && window.limit !== undefined && expected > serverWindow && !overflowAnnounced) {
          overflowAnnounced = true;
          yield status("thinking", overflowMessage(expected, serverWindow));
        }
        // The server loads the model before it answers the run's first request: silent for as long as that takes.
        const loading = step === roundsBefore + 1 && state.loaded === false;
        if (loading) yield status("loading-model", loadingModelMessage(opts.modelName));

        const request: ModelRequest = { model: opts.modelName, messages: fit.messages };
        if (specs.length > 0) request.tools = specs;
        if (think !== undefined) request.think = think;
        if (opts.keepAlive !== undefined) request.keepAlive = opts.keepAlive;
        if (pending) request.continueFinal = true;
        if (numCtx !== undefined) {
          request.options = { numCtx };
          memory.sentNumCtx(opts.modelName, numCtx);
        }
        if (opts.maxAnswerTokens !== undefined) request.options = { ...request.options, numPredict: opts.maxAnswerTokens };
        if (sampled) request.options = { ...request.options, ...sampled };
        lastRound = { promptTokens: expected, estimated: true, completionTokens: 0, numCtx };

        const round = { content: "", thinking: "", calls: [] as ToolCall[] };
        let finish: Extract<ModelChunk, { type: "finish" }> | undefined;
        usage.startRound();
        // A big model from a slow disk loads for minutes: the first wait then gets the load limit.
        const idle = new IdleTimer(idleTimeoutMs, controller, loading ? loadTimeoutMs : idleTimeoutMs, loadTimeoutName);
        // Where the chunk being taken sends its events (take's `to`).
        let out!: (event: ChatEvent) => void;
        const addReasoning = (reasoning: string): void => {
          // The model is loaded once it speaks: "Loading…" must not stay up while it reasons.
          if (lastPhase === "loading-model") out(status("thinking", processingMessage));
          round.thinking += reasoning;
          out(event("reasoning", { text: reasoning }));
        };
        const addText = (answer: string): void => {
          round.content += answer;
          text += answer;
          if (lastPhase !== "responding") out(status("responding", respondingMessage));
          out(event("token", { text: answer }));
        };
        // Reasoning some servers send in the text, as a <think> block before the answer (think-tags.ts): looked for
        // only when the round's text starts as one could (undefined: no text yet; null: the text is the answer).
        // A continued answer's text is past any such block.
        let tags: { splitter: ThinkTagSplitter; sink: SplitTextSink } | null | undefined = pending ? null : undefined;
        /** What one chunk of the answer adds to the round, and the events it makes (to `to`, in order). */
        const take = (chunk: ModelChunk, to: (event: ChatEvent) => void): void => {
          if (finish) return; // a well-behaved model ends right after finish
          out = to;
          switch (chunk.type) {
            case "reasoning":
              if (chunk.text === "") break;
              usage.chunk(chunk.pieces);
              addReasoning(chunk.text);
              break;
            case "text":
              if (chunk.text === "") break;
              usage.chunk(chunk.pieces);
              if (tags === undefined) tags = mayOpenThinkBlock(chunk.text) ? { splitter: new ThinkTagSplitter(), sink: { reasoning: addReasoning, answer: addText } } : null;
              if (tags === null) addText(chunk.text);
              else {
                tags.splitter.split(chunk.text, tags.sink);
                if (tags.splitter.passing) tags = null;
              }
              break;
            case "tool-call": {
              // Ids must be unique within the conversation's round trip; old servers send none.
              seenCallIds ??= new Set();
              const id = chunk.call.id && !seenCallIds.has(chunk.call.id) ? chunk.call.id : newCallId();
              seenCallIds.add(id);
              round.calls.push({ ...chunk.call, id });
              break;
            }
            case "finish":
              tags?.splitter.end(tags.sink);
              finish = chunk;
              break;
          }
        };
        const race = new AbortRace(signal);
        const onStreamEvent = opts.onStreamEvent;
        const streamTo = opts.model.streamTo;
        /** Chunks still count for the run (not once the round ended, by an abort or a failure). */
        let reading = true;
        let iterator: AsyncIterator<ModelChunk> | undefined;
        let iteratorDone = false;
        let refusedTools = false;
        let refusedImages = false;
        let refusedWindow: number | undefined;
        try {
          if (onStreamEvent && streamTo) {
            // The answer handed over as it arrives: no iterator step per chunk, nothing yielded while it streams.
            const onChunk = (chunk: ModelChunk): void => {
              if (!reading) return;
              idle.arm(); // silence is counted from the last chunk
              take(chunk, onStreamEvent);
            };
            idle.arm();
            await race.wait(streamTo.call(opts.model, request, { signal }, onChunk));
          } else {
            iterator = opts.model.stream(request, { signal })[Symbol.asyncIterator]();
            const events: ChatEvent[] = [];
            const collect = (e: ChatEvent): void => {
              events.push(e);
            };
            for (;;) {
              idle.arm();
              let next: IteratorResult<ModelChunk>;
              try {
                next = await race.next(iterator);
              } finally {
                idle.disarm();
              }
              if (next.done) {
                iteratorDone = true;
                break;
              }
              take(next.value, collect);
              for (const e of events) yield e;
              events.length = 0;
            }
          }
        } catch (error) {
          // A refused round is sent again: it leaves nothing in the usage or the history.
          if (capabilities.tools === undefined && toolsRefused(error, request, round)) {
            refusedTools = true;
          } else if (capabilities.vision === undefined && historyImagesRefused(error, context, round)) {
            refusedImages = true;
          } else if (!windowRefused && (refusedWindow = await smallerWindowRefused(error, window, round, opts, signal)) !== undefined) {
            windowRefused = true;
          } else {
            usage.endRound();
            pending = keepUnfinished(produced, pending, round);
            throw error;
          }
        } finally {
          reading = false;
          race.close();
          idle.stop();
          // Not awaited: on abort the provider's pending read settles by itself once fetch is aborted.
          if (iterator && !iteratorDone) iterator.return?.()?.catch(() => undefined);
        }
        if (refusedTools) {
          // Capabilities unknown, so the tools went as asked and the server refused them before answering: the
          // question is answered without them rather than not at all, as for a model known to lack them. Said
          // once; the provider remembers it for the model's next runs. (Known capabilities the server contradicts
          // fail with model_unsupported: the model changed, and the next run reads what it takes now.)
          specs = [];
          toolText = 0;
          yield status("thinking", toolsRefusedMessage(opts.modelName), { unsupportedFeature: "tools" });
          step -= 1; // the same round again
          continue;
        }
        if (refusedImages) {
          // Capabilities unknown, so the pictures of earlier questions (asked of another model) went along and the
          // server refused them: the question has none, so it is answered without them, as for a model known not to
          // see. The provider remembers it for the model's next runs.
          context = withoutImages(context);
          yield status("thinking", historyImagesRefusedMessage(opts.modelName));
          step -= 1; // the same round again
          continue;
        }
        if (refusedWindow !== undefined) {
          // The server's window is smaller than the run knew (or it did not know it): the round goes again with the
          // history cut to it (a status says what was left out), once. The provider remembers it for the next runs.
          capabilities = { ...capabilities, contextLength: refusedWindow };
          window = contextWindowOf(capabilities, opts.maxContextTokens);
          step -= 1; // the same round again
          continue;
        }
        if (!finish) {
          usage.endRound();
          pending = keepUnfinished(produced, pending, round);
          throw new ChatError("stream_truncated", "The model stopped before finishing the answer.");
        }
        usage.endRound(finish.metrics);
        const reported = finish.metrics.promptTokens;
        const cut = promptWasTruncated({ expected, window: serverWindow, reported });
        truncated ||= cut;
        if (reported !== undefined && !cut && !carriesImages(fit.messages)) {
          const text = fit.messages.reduce((n, m) => n + messageTextTokens(m), 0) + toolText;
          memory.calibrate(opts.modelName, text, reported);
        }
        lastRound = {
          promptTokens: reported ?? expected,
          estimated: reported === undefined,
          completionTokens: finish.metrics.completionTokens ?? 0,
          numCtx,
        };

        const answered = joined(pending, round);
        pending = undefined;
        if (round.calls.length === 0) {
          produced.push(assistantMessage(answered));
          reason = finish.reason;
          break;
        }

        produced.push(assistantMessage(answered));
        yield* toolRound(round.calls);

        if (step >= maxSteps) {
          reason = "max-steps";
          break;
        }
      }
    } catch (error) {
      if (opts.signal?.aborted) {
        reason = "cancelled";
      } else {
        const chatError = asChatError(error);
        reason = "error";
        failure = { code: chatError.code, message: chatError.message };
        yield event("error", { code: chatError.code, message: chatError.message, retryable: chatError.retryable });
      }
    }

    // A continuation that added nothing (it failed or was stopped before the model said a word) stores nothing: the
    // answer it was to write on from stays as it was, not copied into an identical version.
    if (pending) produced.length = 0;
    const finalUsage = usage.snapshot();
    const contextUsage = contextUsageOf(window, lastRound, droppedMessages, truncated);
    if (contextUsage) finalUsage.context = contextUsage;
    yield event("done", { reason, usage: finalUsage });
    const result: RunResult = { reason, text, messages: produced, usage: finalUsage };
    if (failure) result.error = failure;
    return result;
  } finally {
    // Also reached when the consumer calls return(): stop the model request and any running tools.
    unlink();
    controller.abort(consumerStopped);
  }
}

/**
 * The reason every run's own controller aborts with when the run ends. One shared instance: building an Error
 * captures a stack, a visible share of a short run's CPU, and nothing reads this one's stack.
 */
const consumerStopped = new ChatError("cancelled", "The run's consumer stopped listening.");

export const loadingModelMessage = (model: string) => `Loading ${model}…`;
export const toolsRefusedMessage = (model: string) => `"${model}" does not support tools: answering without them.`;
const historyImagesRefusedMessage = (model: string) => `"${model}" cannot see images: answering without the earlier pictures.`;
export const contextTrimmedMessage = (dropped: number) =>
  `Left out ${dropped} older message${dropped === 1 ? "" : "s"} to fit the model's context window.`;
const overflowMessage = (expected: number, window: number) =>
  `The newest messages are longer than the model's context window (about ${expected} of ${window} tokens): the model may not see all of them.`;

function contextUsageOf(
  window: ContextWindow | undefined,
  last: { promptTokens: number; estimated: boolean; completionTokens: number; numCtx: number | undefined } | undefined,
  droppedMessages: number,
  truncated: boolean,
): ContextUsage | undefined {
  if (!window || !last || (window.limit === undefined && droppedMessages === 0 && !truncated)) return undefined;
  const out: ContextUsage = {
    promptTokens: last.promptTokens,
    promptTokensEstimated: last.estimated,
    completionTokens: last.completionTokens,
    droppedMessages,
    truncated,
  };
  if (window.contextLength !== undefined) out.contextLength = window.contextLength;
  if (window.limit !== undefined) out.limitTokens = window.limit;
  if (last.numCtx !== undefined) out.numCtx = last.numCtx;
  return out;
}

function leadingSystemMessages(messages: readonly ChatMessage[]): number {
  let n = 0;
  while (messages[n]?.role === "system") n += 1;
  return n;
}

function withoutImages(messages: ChatMessage[]): ChatMessage[] {
  return messages.map((m) => {
    if (m.role !== "user" || !m.images) return m;
    const { images: _images, ...rest } = m;
    return rest;
  });
}

function assistantMessage(round: { content: string; thinking: string; calls: ToolCall[] }): ChatMessage {
  const message: ChatMessage = { role: "assistant", content: round.content };
  if (round.thinking) message.thinking = round.thinking;
  if (round.calls.length > 0) message.toolCalls = round.calls;
  return message;
}

/** A round of a continued answer: its text so far, then what the round added (the model wrote on from it). */
function joined(
  pending: AnswerText | undefined,
  round: { content: string; thinking: string; calls: ToolCall[] },
): { content: string; thinking: string; calls: ToolCall[] } {
  if (!pending) return round;
  return { content: pending.content + round.content, thinking: (pending.thinking ?? "") + round.thinking, calls: round.calls };
}

/** A continued answer's last message: the model's text it writes on from. */
type AnswerText = Extract<ChatMessage, { role: "assistant" }>;

/**
 * A round that ends unfinished (a failure, a stop): what it streamed stays (keepPartial), joined with a continued
 * answer's text. Returns that text while the model has added nothing to it (the run then stores nothing), else undefined.
 */
function keepUnfinished(
  produced: ChatMessage[],
  pending: AnswerText | undefined,
  round: { content: string; thinking: string; calls: ToolCall[] },
): AnswerText | undefined {
  keepPartial(produced, joined(pending, round));
  return nothingAnswered(round) ? pending : undefined;
}

/** What was already streamed of a failed or cancelled round stays in the history the user saw. */
function keepPartial(produced: ChatMessage[], round: { content: string; thinking: string }): void {
  if (round.content || round.thinking) produced.push(assistantMessage({ ...round, calls: [] }));
}

/** The round's request was refused for its tools before anything of an answer arrived: it can go again without them. */
function toolsRefused(error: unknown, request: ModelRequest, round: { content: string; thinking: string; calls: ToolCall[] }): boolean {
  return (
    error instanceof ChatError &&
    error.code === "model_unsupported" &&
    error.unsupported === "tools" &&
    (request.tools?.length ?? 0) > 0 &&
    nothingAnswered(round)
  );
}

/** Nothing of an answer arrived in the round: a refused request can go again and leaves nothing behind. */
function nothingAnswered(round: { content: string; thinking: string; calls: ToolCall[] }): boolean {
  return round.content === "" && round.thinking === "" && round.calls.length === 0;
}

/**
 * The round's request was refused for images that only earlier questions carry (the new one has none), before
 * anything of an answer arrived: it can go again without them.
 */
function historyImagesRefused(error: unknown, context: readonly ChatMessage[], round: { content: string; thinking: string; calls: ToolCall[] }): boolean {
  return (
    error instanceof ChatError &&
    error.code === "model_unsupported" &&
    error.unsupported === "images" &&
    imagesOnLastUserMessage(context) === 0 &&
    carriesImages(context) &&
    nothingAnswered(round)
  );
}

/**
 * The window the server's refusal of the round's prompt gave (too long for it; where it did not say, the one the
 * provider knows after it: the model may have been loaded for the request), before anything of an answer arrived, when
 * it is smaller than the one the history was cut to: the round can go again cut to it. Undefined otherwise.
 */
async function smallerWindowRefused(
  error: unknown,
  window: ContextWindow,
  round: { content: string; thinking: string; calls: ToolCall[] },
  run: Pick<RunOptions, "model" | "modelName">,
  signal: AbortSignal,
): Promise<number | undefined> {
  if (!(error instanceof ChatError) || error.contextWindow === undefined || !nothingAnswered(round)) return undefined;
  const size = error.contextWindow ?? (await capabilitiesOf(run.model, run.modelName, signal)).contextLength;
  return size !== undefined && (window.limit === undefined || size < window.limit) ? size : undefined;
}

function asChatError(error: unknown): ChatError {
  if (error instanceof ChatError) return error;
  // A bug or an unexpected throw: never pass its message or stack to the client.
  return new ChatError("internal", errorCodeMessages.internal, { cause: error, retryable: isRetryable("internal") });
}

/**
 * Watches a model round for a stall: when a watched wait on the model lasts longer than `ms`, it aborts the run's own
 * controller with a retryable provider_error. A stall ends the run (its error is the run's), so the round needs no
 * controller of its own: one `AbortController`, its signal's listener map and a listener less per round, kept for as
 * long as the answer streams. Only time spent waiting counts: a slow consumer between two chunks never trips it. One
 * timer per round, re-armed per wait.
 */
class IdleTimer {
  private timer: NodeJS.Timeout;
  private waiting = false;
  /** The round's first wait has not started yet: it gets `firstMs`, the waits after it `ms`. */
  private first = true;
  /** The armed limit is the first wait's longer one (the model loads). */
  private loading: boolean;

  /** `firstMs`: the limit of the round's first wait, longer than `ms` while the model loads. */
  constructor(
    private readonly ms: number,
    private readonly run: AbortController,
    firstMs: number,
    /** The load limit's name where it is set (RunOptions.loadTimeoutName), for the message when a load outlasts it. */
    private readonly loadLimitName: string,
  ) {
    this.loading = firstMs !== ms;
    this.timer = this.start(firstMs);
  }

  private start(ms: number): NodeJS.Timeout {
    return setTimeout(() => {
      if (!this.waiting) return;
      const seconds = Math.round(ms / 100) / 10;
      const message = this.loading
        ? `The model did not start answering within ${seconds} s (it was loading). Try again, or raise ${this.loadLimitName} for models that load slowly.`
        : `The model stalled: no data from the model server for ${seconds} s.`;
      this.run.abort(new ChatError("provider_error", message, { retryable: true }));
    }, timerDelay(ms));
  }

  /** A wait on the model starts: the full limit again from now (the first wait's own, then `ms`). */
  arm(): void {
    if (!this.first && this.loading) {
      // Data came: the model is loaded, and the usual limit holds from now on.
      this.loading = false;
      clearTimeout(this.timer);
      this.timer = this.start(this.ms);
    } else {
      this.timer.refresh();
    }
    this.first = false;
    this.waiting = true;
  }

  /** The wait ended; time until the next arm() (the consumer's) does not count. */
  disarm(): void {
    this.waiting = false;
  }

  stop(): void {
    clearTimeout(this.timer);
  }
}

/**
 * `iterator.next()` that also rejects as soon as `signal` aborts (like untilAborted below), for the hot
 * per-chunk loop: the abort listener is registered once per round instead of once per chunk, and it
 * rejects whichever wait is pending. A provider that ignores the signal cannot hold the run.
 */
class AbortRace {
  private rejectPending: ((error: unknown) => void) | undefined;
  private readonly onAbort = () => this.rejectPending?.(abortReason(this.signal));

  constructor(private readonly signal: AbortSignal) {
    signal.addEventListener("abort", this.onAbort, { once: true });
  }

  next<T>(iterator: AsyncIterator<T>): Promise<IteratorResult<T>> {
    if (this.signal.aborted) return Promise.reject(abortReason(this.signal));
    return new Promise<IteratorResult<T>>((resolve, reject) => {
      this.rejectPending = reject;
      iterator.next().then(resolve, reject);
    });
  }

  /** `work`, or the abort's reason as soon as the signal aborts (`work` then settles unobserved). */
  wait<T>(work: Promise<T>): Promise<T> {
    if (this.signal.aborted) {
      work.catch(() => undefined);
      return Promise.reject(abortReason(this.signal));
    }
    return new Promise<T>((resolve, reject) => {
      this.rejectPending = reject;
      work.then(resolve, reject);
    });
  }

  close(): void {
    this.rejectPending = undefined;
    this.signal.removeEventListener("abort", this.onAbort);
  }
}
