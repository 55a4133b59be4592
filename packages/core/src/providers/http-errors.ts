import { ChatError, type UnsupportedFeature } from "../errors.js";

/** What went wrong talking to a model server, before it is given one of our error codes. */
export type ProviderFailure =
  /** The server answered with a non-2xx status before streaming. `message` is its error text, `body` its JSON. */
  | { kind: "status"; status: number; message: string; body?: unknown }
  /** The request got no response: no connection, DNS, reset before headers, or our own abort. */
  | { kind: "request"; error: unknown }
  /** Reading the body threw after a 2xx: the connection broke mid-answer, or our own abort. */
  | { kind: "body"; error: unknown };

export interface FailureContext {
  signal?: AbortSignal | undefined;
}

/**
 * The one place where provider failures become typed ChatErrors. Read top to bottom: first match wins.
 */
export function toChatError(failure: ProviderFailure, ctx: FailureContext): ChatError {
  // Our own abort wins over whatever error the abort caused (AbortError, "terminated", a ChatError...).
  if (ctx.signal?.aborted) {
    return new ChatError("cancelled", "The answer was stopped.", { cause: errorOf(failure) });
  }

  if (failure.kind === "request" || failure.kind === "body") {
    // Already typed, e.g. a bad NDJSON line or an {"error"} line raised while reading.
    if (failure.error instanceof ChatError) return failure.error;

    if (failure.kind === "request") {
      // No address in the message: users see it, and the model server's address is the operator's business
      // (providers report it through onUnreachable for the server log).
      return new ChatError("provider_unavailable", `Cannot reach the model server${detail(failure.error)}. Is it running?`, {
        cause: failure.error,
      });
    }
    // The socket died after the answer started (undici reports "terminated"): the answer is incomplete.
    return new ChatError("stream_truncated", `The connection to the model server broke mid-answer${detail(failure.error)}.`, {
      cause: failure.error,
    });
  }

  const { status, message } = failure;
  const upstream = message.trim() || `HTTP ${status}`;

  const overflow = contextOverflowError(upstream, failure.body, status);
  if (overflow) return overflow;

  // Ollama: 400 `"llama3.2" does not support tools` / `... does not support thinking` (also vision, insert).
  if (status === 400 && /does not support/i.test(upstream)) {
    const unsupported = unsupportedFeatureOf(upstream);
    return new ChatError("model_unsupported", upstream, { status, ...(unsupported ? { unsupported } : {}) });
  }
  // Ollama, images for a model without a vision projector (the runner's answer, a 500 on some versions).
  if (/missing data required for image input/i.test(upstream)) {
    return new ChatError("model_unsupported", `The model does not support images: ${upstream}`, { status, unsupported: "images" });
  }
  // Ollama: 404 `model "x" not found, try pulling it first`; OpenAI-compatible servers: 404 for unknown models.
  if (status === 404) return new ChatError("model_not_found", upstream, { status });
  if (status === 401 || status === 403) {
    return new ChatError("unauthorized", `The model server refused the credentials: ${upstream}`, { status });
  }
  if (status === 429) return new ChatError("rate_limited", `The model server is busy: ${upstream}`, { status });
  if (status >= 400 && status < 500) {
    return new ChatError("bad_request", `The model server rejected the request: ${upstream}`, { status });
  }
  // 5xx (Ollama: 500 runner errors, 503 queue full) and anything else unexpected.
  return new ChatError("provider_error", `The model server failed (HTTP ${status}): ${upstream}`, { status });
}

/**
 * The one feature a "does not support …" refusal names (Ollama checks tools and thinking separately, so one
 * answer names one); undefined when it names none of them, or several.
 */
function unsupportedFeatureOf(message: string): UnsupportedFeature | undefined {
  const named = ([
    ["tools", /does not support (tools|function calling)\b/i],
    ["thinking", /does not support (thinking|reasoning)\b/i],
    ["images", /does not support (vision|images?)\b/i],
  ] as const).filter(([, pattern]) => pattern.test(message));
  return named.length === 1 ? named[0]![0] : undefined;
}

// Refusals of a prompt longer than the window, with the window's size where the words give it: vLLM, OpenAI and
// OpenRouter "This model's maximum context length is 32768 tokens. However, you requested …", LM Studio "… the model is
// loaded with context length of only 4096 tokens, which is not enough …", llama.cpp "the request exceeds the available
// context size" (its size in the error's `n_ctx`), LM Studio's "number of tokens to keep from the initial prompt is
// greater than the context length".
const windowInWords = [/maximum context length is (\d+) tokens/i, /context length of only (\d+) tokens/i];
const overflowInWords = [...windowInWords, /exceeds? the available context size/i, /greater than the context length/i, /\bcontext_length_exceeded\b/i];

/**
 * A refusal of a prompt longer than the server's context window, as a bad_request that says so (trying the same again
 * cannot help; a shorter conversation can) and carries the window where the refusal gives it (`contextWindow`, null
 * where it does not); undefined for any other failure. `body` is the error's JSON, where llama.cpp puts `n_ctx`.
 */
export function contextOverflowError(message: string, body: unknown, status?: number): ChatError | undefined {
  if (!overflowInWords.some((pattern) => pattern.test(message))) return undefined;
  let window: number | undefined;
  for (const pattern of windowInWords) window ??= Number(pattern.exec(message)?.[1]) || undefined;
  window ??= nCtxOf(body);
  const size = window === undefined ? "" : ` (${window.toLocaleString("en-US")} tokens)`;
  return new ChatError("bad_request", `The conversation is longer than the model's context window on the server${size}: ${message}`, {
    ...(status === undefined ? {} : { status }),
    contextWindow: window ?? null,
  });
}

/** llama.cpp's `{"error":{"type":"exceed_context_size_error","n_ctx":4096,…}}` (also the error object alone, as streamed). */
function nCtxOf(body: unknown): number | undefined {
  if (typeof body !== "object" || body === null) return undefined;
  const record = body as Record<string, unknown>;
  const error = typeof record["error"] === "object" && record["error"] !== null ? (record["error"] as Record<string, unknown>) : record;
  const nCtx = error["n_ctx"];
  return typeof nCtx === "number" && Number.isSafeInteger(nCtx) && nCtx > 0 ? nCtx : undefined;
}

/**
 * The error text of a non-2xx response (Ollama `{"error":"..."}`, OpenAI `{"error":{"message":"..."}}`,
 * or plain text) and its JSON, if it is JSON. Never throws.
 */
export async function readError(res: { text(): Promise<string> }): Promise<{ message: string; body: unknown }> {
  let text: string;
  try {
    text = await res.text();
  } catch {
    return { message: "", body: undefined };
  }
  return errorTextOf(text);
}

/** An error's text as its message (see errorMessageOf) and its JSON, if it is JSON. */
export function errorTextOf(text: string): { message: string; body: unknown } {
  const body = jsonOf(text);
  return { message: errorMessageOf(text, body), body };
}

export function errorMessageOf(text: string, body: unknown = jsonOf(text)): string {
  const message = messageField(body);
  if (message !== undefined) return message;
  return text.length > 500 ? `${text.slice(0, 500)}…` : text;
}

/** The text as JSON; undefined when it is not JSON. */
function jsonOf(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * A stream line or chunk that reports a failure: an object with an `error` that is not null. Some servers send
 * `"error": null` on every chunk of a healthy answer (Microsoft Foundry Local, microsoft/foundry-local#273): that is
 * no error.
 */
export function carriesError(body: unknown): boolean {
  return typeof body === "object" && body !== null && (body as { error?: unknown }).error != null;
}

/** `{"error":"x"}`, `{"error":{"message":"x"}}` or `{"message":"x"}` → "x". */
export function messageField(body: unknown): string | undefined {
  if (typeof body !== "object" || body === null) return undefined;
  const record = body as Record<string, unknown>;
  const error = record["error"];
  if (typeof error === "string") return error;
  if (typeof error === "object" && error !== null) {
    const inner = (error as Record<string, unknown>)["message"];
    if (typeof inner === "string") return inner;
  }
  const message = record["message"];
  return typeof message === "string" ? message : undefined;
}

function errorOf(failure: ProviderFailure): unknown {
  return failure.kind === "status" ? undefined : failure.error;
}

/**
 * The connection was closed under a request before any response arrived (undici: UND_ERR_SOCKET "other
 * side closed"; ECONNRESET/EPIPE from the socket): the classic keep-alive reuse race.
 */
export function isConnectionReset(error: unknown): boolean {
  const code = networkCode(error);
  return code === "UND_ERR_SOCKET" || code === "ECONNRESET" || code === "EPIPE";
}

/** ECONNREFUSED and friends hide in `cause` (undici wraps them in TypeError("fetch failed")). */
function networkCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && typeof current === "object" && current !== null; depth += 1) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string") return code;
    // AggregateError (happy eyeballs tried several addresses)
    const errors = (current as { errors?: unknown }).errors;
    if (Array.isArray(errors) && errors.length > 0) {
      current = errors[0];
      continue;
    }
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * " (ECONNREFUSED)", or the innermost message ("bad port", "terminated") when there is no code, unless it
 * names an address: these details reach users, the model server's address is for the server log.
 */
function detail(error: unknown): string {
  const code = networkCode(error);
  if (code) return ` (${code})`;
  let innermost: unknown = error;
  while (innermost instanceof Error && innermost.cause instanceof Error) innermost = innermost.cause;
  if (!(innermost instanceof Error) || !innermost.message || namesAddress(innermost.message)) return "";
  return ` (${innermost.message})`;
}

function namesAddress(text: string): boolean {
  return /:\/\/|\b\d{1,3}(\.\d{1,3}){3}\b|\[[0-9a-f:]+\]|localhost|:\d{2,5}\b/i.test(text);
}
