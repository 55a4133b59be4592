/**
 * Public shapes of the simulator (see CONTRACTS "@streamchat/ollama-sim"). Fields marked "addition" go beyond
 * the agreed contract; they are optional so code written against the contract keeps compiling.
 */

export interface SimToolCall {
  name: string;
  arguments: Record<string, unknown>;
  id?: string;
}

/** One NDJSON line (Ollama) or one group of SSE events (OpenAI) the simulator writes. */
export interface SimChunk {
  /** Wait this long before writing it. */
  delayMs?: number;
  content?: string;
  thinking?: string;
  toolCalls?: SimToolCall[];
  /** done:true line (adds metrics + done_reason). */
  done?: boolean;
  doneReason?: "stop" | "length";
  /** Write {"error": "..."} (OpenAI: data: {"error":{...}}) and end the stream. */
  error?: string;
  /** Write these exact bytes, whatever the wire (garbage, partial JSON, split UTF-8). Uint8Array: addition. */
  raw?: string | Uint8Array;
  /**
   * Addition: write this chunk's encoded bytes in two socket writes, cut inside the first multi-byte UTF-8
   * character, `splitDelayMs` (default 10) apart — works on both wires.
   */
  splitUtf8?: boolean;
  splitDelayMs?: number;
}

export interface SimChatRequest {
  model: string;
  messages: Array<Record<string, unknown>>;
  tools?: unknown[];
  stream?: boolean;
  think?: boolean | string;
  options?: Record<string, unknown>;
  /** Addition: which endpoint the request came through. */
  wire?: "ollama" | "openai";
}

/** Addition: what a `respond` function may use besides the request. */
export interface SimContext {
  /** The simulator's default delay between word-sized tokens (SimulatorOptions.tokenDelayMs). */
  tokenDelayMs: number;
  /** The catalog model answering, when the request names one (capabilities, family). */
  model?: SimModel;
  /**
   * Addition: how many requests with the same model and messages this simulator answered before this one (a regenerated
   * answer's request is its first answer's again); the demo model may phrase its answer differently each time.
   */
  repeat?: number;
}

export interface SimHttpError {
  status: number;
  error: string;
}

export interface Scenario {
  name: string;
  /** First matching scenario wins; model "*" (or no `match` at all) = any model. Both fields must hold. */
  match?: { model?: string; lastUserIncludes?: string };
  /** Error before streaming: status + JSON body {"error": message}. */
  httpError?: SimHttpError;
  /** Addition: decide per request whether to refuse it (e.g. 400 only when the request has tools). */
  reject?: (req: SimChatRequest) => SimHttpError | undefined;
  /** Stream these chunks (each becomes one line unless raw). Without a done chunk the stream is cut (truncated). */
  chunks?: SimChunk[];
  /** Or compute the reply from the request. Returning a lazy Iterable (addition) lets long streams stay cheap. */
  respond?: (req: SimChatRequest, ctx: SimContext) => SimChunk[] | Iterable<SimChunk>;
  /** Hang after the listed chunks without closing (stall). */
  stallAfterChunks?: boolean;
}

export interface RecordedRequest {
  id: number;
  method: string;
  path: string;
  /** The parsed JSON body (or the raw text when it was not JSON); undefined without a body or when dropped. */
  body: unknown;
  /** Addition: the raw body's size in bytes (kept when the body itself was dropped). */
  bodyBytes: number;
  /** Addition: true when the body was dropped to keep the recorded bodies within `maxRecordedBodyBytes`. */
  bodyDropped?: boolean;
  startedAt: number;
  /** true when the client closed the connection before the simulator finished writing. */
  clientClosedEarly: boolean;
  /** Resolves when the response ended or the client closed. */
  finished: Promise<void>;
  /** Addition: the scenario that answered a chat request ("demo", "sim-truncated", "control", a custom name…). */
  scenario?: string;
  /**
   * Addition: how the simulator fitted the prompt into the context window, as Ollama does: `numCtx` the
   * window (options.num_ctx, else the default), `tokens` what prompt_eval_count reports, `droppedMessages`
   * the oldest messages it left out, `truncated` whether anything was cut.
   */
  prompt?: { numCtx: number; tokens: number; droppedMessages: number; truncated: boolean };
  /** Addition: the model was not loaded and this request waited `loadDelayMs` for it. */
  coldStart?: boolean;
}

export interface SimModel {
  name: string;
  capabilities: string[];
  /** Addition: /api/show `model_info["<architecture>.context_length"]` (default 131072). */
  contextLength?: number;
  /** Addition: /api/show `details.family` and `general.architecture` ("gptoss" makes think take levels). */
  family?: string;
}

export interface SimulatorOptions {
  /** 0 = ephemeral (default 0 in code; CLI default 11434). */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Tried before the built-ins. */
  scenarios?: Scenario[];
  /** Default delay between demo/bench tokens (default 20; 0 = no delay). */
  tokenDelayMs?: number;
  /** /api/tags + /api/show; replaces `defaultModels` when given. Fault models (`sim-*`) always resolve. */
  models?: SimModel[];
  /**
   * How long an idle keep-alive connection stays open (default 65000; Node's own 5000 makes clients that
   * reuse a pooled connection race its close). Clients honour the `Keep-Alive: timeout=` hint, so tests that
   * wait for idle sockets to go away can set it low.
   */
  keepAliveTimeoutMs?: number;
  /**
   * Addition: how many requests `requests` / `chatRequests()` keep, oldest dropped first (default 1000;
   * 0 = record nothing, for a long-running simulator such as the API's demo fallback).
   */
  maxRecordedRequests?: number;
  /**
   * Addition: raw bytes of request bodies kept across the recorded requests, newest first (default 2 MiB);
   * older entries keep their metadata, their `body` becomes undefined and `bodyDropped` true. 0 = metadata only.
   */
  maxRecordedBodyBytes?: number;
  /**
   * Addition: how long loading a model takes (default 0). 0 = every model is always loaded (/api/ps lists
   * them all, no request waits). Above 0, a request for a model that is not loaded (first use, expired
   * keep_alive, `unload()`, or a different num_ctx) waits this long before its answer starts, reports it
   * as load_duration, and /api/ps lists only loaded models until their keep_alive (default 5m) runs out.
   */
  loadDelayMs?: number;
  /**
   * Addition: the context window a request gets without options.num_ctx (default 4096, Ollama 0.6.4+'s
   * default). A prompt longer than the window is cut as Ollama does: the oldest messages after the system
   * prompt are left out, and prompt_eval_count reports what remained.
   */
  defaultNumCtx?: number;
  /**
   * Addition: write each line of a batched (undelayed) answer as an HTTP chunk of its own, as Ollama does (it
   * flushes after every line). The lines of one batch still leave in one socket write, so a flood stays a flood.
   * Default false: a batch is one chunk, which costs a reader fewer body events (tests that only need the bytes).
   */
  chunkPerLine?: boolean;
}

export interface ControlledStream {
  /** Resolves when a request took this stream. */
  connected: Promise<RecordedRequest>;
  /** Writes one chunk now (after its delayMs); resolves once written (and drained). No-op after the client left. */
  push(chunk: SimChunk): Promise<void>;
  /** Closes the response (without a done chunk => truncated). */
  end(): Promise<void>;
  /** Resolves when the client disconnects before end(). */
  closedByClient: Promise<void>;
}

export interface Simulator {
  /** http://127.0.0.1:PORT */
  url: string;
  port: number;
  /** The most recent requests, oldest first (bounded: see `maxRecordedRequests` / `maxRecordedBodyBytes`). */
  requests: RecordedRequest[];
  /** Only /api/chat and /v1/chat/completions (of the recorded ones). */
  chatRequests(): RecordedRequest[];
  /** Prepended (wins over earlier ones). */
  addScenario(s: Scenario): void;
  /** Removes scenarios added by options or addScenario (built-ins stay). */
  clearScenarios(): void;
  /** Controlled mode: the next matching chat request writes only what the test pushes. */
  control(match?: Scenario["match"]): ControlledStream;
  /** Open TCP connections, idle keep-alive ones included. */
  openConnections(): number;
  /** Addition: chat responses still being written (or stalled). */
  activeResponses(): number;
  /** Addition: unloads `model` (or every model): with `loadDelayMs` > 0 its next request is a cold start. */
  unload(model?: string): void;
  close(): Promise<void>;
}
