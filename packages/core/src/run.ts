import { ChatError, errorCodeMessages, isRetryable } from "./errors.js";
import type { ChatEvent, DoneReason, ErrorCode, EventOf, Usage } from "./events.js";
import type { ChatMessage, ChatModel, ModelCapabilities, ModelChunk, ModelRequest, ToolCall } from "./model.js";
import { newCallId } from "./providers/call-id.js";
import { executeTool, toolResultContent, toolSpec, validateToolCall, type AnyTool, type ToolOutcome } from "./tools.js";
import { UsageMeter } from "./usage.js";

export interface RunOptions {
  model: ChatModel;
  modelName: string;
  conversationId: string;
  runId: string;
  /** Full request context: system + history + the new user message. */
  messages: ChatMessage[];
  tools?: AnyTool[];
  /** Model rounds, default 5. */
  maxSteps?: number;
  /** Per call, default 15000; a tool's own timeoutMs wins. */
  toolTimeoutMs?: number;
  /**
   * Ask the model to reason first (true) or not (false); undefined leaves it to the model. A model known
   * to lack the thinking capability gets no `think` at all: `true` then ends the run with model_unsupported
   * before any model request, `false` is simply left out.
   */
  think?: boolean;
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
}

export interface RunResult {
  reason: DoneReason;
  /** Concatenation of all token events. */
  text: string;
  /** New messages: assistant (with toolCalls), tool results, final assistant. */
  messages: ChatMessage[];
  usage: Usage;
  error?: { code: ErrorCode; message: string };
}

export const processingMessage = "Processing your question…";
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
  const idleTimeoutMs = opts.idleTimeoutMs ?? 300_000;
  // Our own controller also covers a consumer that stops iterating: the finally below aborts it.
  const controller = new AbortController();
  const signal = opts.signal ? AbortSignal.any([opts.signal, controller.signal]) : controller.signal;
  const usage = new UsageMeter(now(), now);
  const produced: ChatMessage[] = [];
  const seenCallIds = new Set<string>();
  let text = "";

  // Typed per event type by the caller's literal; the cast only joins the common fields.
  function event<T extends ChatEvent["type"]>(type: T, body: Omit<EventBody<T>, "type">): ChatEvent {
    return { type, runId: opts.runId, at: now(), ...body } as unknown as ChatEvent;
  }

  // The phase of the last status event: the answer's first token of a round announces "responding"
  // when something else ("Processing…", "Using tool…") was the last thing said, so at most once a round.
  let lastPhase: EventOf<"status">["phase"] | null = null;
  function status(phase: EventOf<"status">["phase"], message: string): ChatEvent {
    lastPhase = phase;
    return event("status", { phase, message });
  }

  let reason: DoneReason = "stop";
  let failure: { code: ErrorCode; message: string } | undefined;

  try {
    try {
      yield event("run-start", { conversationId: opts.conversationId, model: opts.modelName, provider: opts.model.provider });
      yield status("thinking", processingMessage);

      // Only what the model accepts: a model without the tools capability still chats, without tools.
      const capabilities = await capabilitiesOf(opts.model, opts.modelName, signal);
      const tools = capabilities.tools === false ? [] : (opts.tools ?? []);
      const specs = tools.map((t) => toolSpec(t));
      if (opts.think === true && capabilities.thinking === false) {
        throw new ChatError("model_unsupported", `"${opts.modelName}" does not support thinking.`);
      }
      const think = capabilities.thinking === false ? undefined : opts.think;

      for (let step = 1; ; step += 1) {
        // ---- one model round
        if (signal.aborted) throw new ChatError("cancelled", errorCodeMessages.cancelled);
        const request: ModelRequest = { model: opts.modelName, messages: [...opts.messages, ...produced] };
        if (specs.length > 0) request.tools = specs;
        if (think !== undefined) request.think = think;

        const round = { content: "", thinking: "", calls: [] as ToolCall[] };
        let finish: Extract<ModelChunk, { type: "finish" }> | undefined;
        usage.startRound();
        const idle = new IdleTimer(idleTimeoutMs);
        const roundSignal = AbortSignal.any([signal, idle.signal]);
        const iterator = opts.model.stream(request, { signal: roundSignal })[Symbol.asyncIterator]();
        const race = new AbortRace(roundSignal);
        let iteratorDone = false;
        try {
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
            const chunk = next.value;
            if (finish) continue; // a well-behaved model ends right after finish
            switch (chunk.type) {
              case "reasoning":
                if (chunk.text === "") break;
                usage.chunk();
                round.thinking += chunk.text;
                yield event("reasoning", { text: chunk.text });
                break;
              case "text":
                if (chunk.text === "") break;
                usage.chunk();
                round.content += chunk.text;
                text += chunk.text;
                if (lastPhase !== "responding") yield status("responding", respondingMessage);
                yield event("token", { text: chunk.text });
                break;
              case "tool-call": {
                // Ids must be unique within the conversation's round trip; old servers send none.
                const id = chunk.call.id && !seenCallIds.has(chunk.call.id) ? chunk.call.id : newCallId();
                seenCallIds.add(id);
                round.calls.push({ ...chunk.call, id });
                break;
              }
              case "finish":
                finish = chunk;
                break;
            }
          }
        } catch (error) {
          usage.endRound();
          keepPartial(produced, round);
          throw error;
        } finally {
          race.close();
          idle.stop();
          // Not awaited: on abort the provider's pending read settles by itself once fetch is aborted.
          if (!iteratorDone) iterator.return?.()?.catch(() => undefined);
        }
        if (!finish) {
          usage.endRound();
          keepPartial(produced, round);
          throw new ChatError("stream_truncated", "The model stopped before finishing the answer.");
        }
        usage.endRound(finish.metrics);

        if (round.calls.length === 0) {
          produced.push(assistantMessage(round));
          reason = finish.reason;
          break;
        }

        // ---- tool round: announce, run in parallel, report in completion order
        produced.push(assistantMessage(round));
        const checked = round.calls.map((call) => ({ call, check: validateToolCall(tools, call) }));
        for (const { call, check } of checked) {
          yield event("tool-call", { callId: call.id, name: call.name, args: check.ok ? check.args : call.args });
        }
        const outcomes = new Map<string, ToolOutcome>();
        try {
          const running = checked.map(({ call, check }, index) => {
            const outcome: Promise<ToolOutcome> = check.ok
              ? executeTool(check.tool, check.args, { signal, timeoutMs: toolTimeoutMs, now })
              : Promise.resolve({ ok: false, error: check.error, durationMs: 0 });
            return outcome.then((o) => ({ index, call, outcome: o }));
          });
          // After a cancel, tools still running reject later: that is expected, not unhandled.
          for (const p of running) p.catch(() => undefined);
          for (const { call } of checked) yield status("tool", usingToolMessage(call.name));
          const pending = new Map(running.map((p, i) => [i, p]));
          while (pending.size > 0) {
            const { index, call, outcome } = await untilAborted(Promise.race(pending.values()), signal);
            pending.delete(index);
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
          for (const call of round.calls) {
            const outcome = outcomes.get(call.id) ?? {
              ok: false as const,
              error: { code: "cancelled" as const, message: errorCodeMessages.cancelled },
              durationMs: 0,
            };
            produced.push({ role: "tool", toolCallId: call.id, toolName: call.name, content: toolResultContent(outcome) });
          }
        }

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

    const finalUsage = usage.snapshot();
    yield event("done", { reason, usage: finalUsage });
    const result: RunResult = { reason, text, messages: produced, usage: finalUsage };
    if (failure) result.error = failure;
    return result;
  } finally {
    // Also reached when the consumer calls return(): stop the model request and any running tools.
    controller.abort(new ChatError("cancelled", "The run's consumer stopped listening."));
  }
}

const unknownCapabilities: ModelCapabilities = { tools: undefined, thinking: undefined };

/** The model's capabilities as its provider knows them; unknowns when it cannot say. Rejects only on abort. */
async function capabilitiesOf(model: ChatModel, name: string, signal: AbortSignal): Promise<ModelCapabilities> {
  if (!model.capabilities) return unknownCapabilities;
  try {
    return await untilAborted(model.capabilities(name, { signal }), signal);
  } catch (error) {
    if (signal.aborted) throw error;
    return unknownCapabilities; // a provider bug must not stop the chat: send as asked
  }
}

function assistantMessage(round: { content: string; thinking: string; calls: ToolCall[] }): ChatMessage {
  const message: ChatMessage = { role: "assistant", content: round.content };
  if (round.thinking) message.thinking = round.thinking;
  if (round.calls.length > 0) message.toolCalls = round.calls;
  return message;
}

/** What was already streamed of a failed or cancelled round stays in the history the user saw. */
function keepPartial(produced: ChatMessage[], round: { content: string; thinking: string }): void {
  if (round.content || round.thinking) produced.push(assistantMessage({ ...round, calls: [] }));
}

function asChatError(error: unknown): ChatError {
  if (error instanceof ChatError) return error;
  // A bug or an unexpected throw: never pass its message or stack to the client.
  return new ChatError("internal", errorCodeMessages.internal, { cause: error, retryable: isRetryable("internal") });
}

/**
 * Aborts its signal when a watched wait on the model lasts longer than `ms`. Only time spent waiting
 * counts: a slow consumer between two chunks never trips it. One timer per round, re-armed per wait.
 */
class IdleTimer {
  private readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout;
  private waiting = false;
  readonly signal = this.controller.signal;

  constructor(private readonly ms: number) {
    this.timer = setTimeout(() => {
      if (this.waiting) {
        const seconds = Math.round(this.ms / 100) / 10;
        this.controller.abort(new ChatError("provider_error", `The model stalled: no data from the model server for ${seconds} s.`, { retryable: true }));
      }
    }, ms);
  }

  /** A wait on the model starts: the full `ms` again from now. */
  arm(): void {
    this.timer.refresh();
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

  close(): void {
    this.rejectPending = undefined;
    this.signal.removeEventListener("abort", this.onAbort);
  }
}

function abortReason(signal: AbortSignal): ChatError {
  return signal.reason instanceof ChatError ? signal.reason : new ChatError("cancelled", errorCodeMessages.cancelled);
}

/**
 * Resolves or rejects with `promise`, or rejects as soon as `signal` aborts: with the abort reason when it
 * is a ChatError (a stall), else with ChatError("cancelled").
 */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  const reason = () => abortReason(signal);
  if (signal.aborted) {
    promise.catch(() => undefined);
    return Promise.reject(reason());
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(reason());
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}
