/**
 * Wire decoders of the load generator: one per response format, all fed line by line (without "\n") and
 * reporting to the same sink, so every path is consumed the same cheap way (no EventSource, no framework).
 */

export interface StreamSink {
  /** An event that carried answer text (one model token, or several when the server coalesces). */
  token(text: string): void;
  /** Any other event (status, run-start, ping...). */
  other(): void;
  /** The stream reported its end: `done` when it finished normally, `error` with a reason otherwise. */
  end(outcome: { ok: true } | { ok: false; error: string }): void;
}

export type LineDecoder = (line: string) => void;
export type Protocol = (sink: StreamSink) => LineDecoder;

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}

/** Ollama's native NDJSON: one JSON object per line; `done:true` ends it; `{"error"}` fails it. */
export const ollamaNdjson: Protocol = (sink) => (line) => {
  if (line === "") return;
  const chunk = parseJson(line);
  if (!isRecord(chunk)) return sink.end({ ok: false, error: `bad NDJSON line: ${line.slice(0, 80)}` });
  if (typeof chunk.error === "string") return sink.end({ ok: false, error: chunk.error });
  const content = isRecord(chunk.message) ? chunk.message.content : undefined;
  if (typeof content === "string" && content !== "") sink.token(content);
  else if (chunk.done !== true) sink.other();
  if (chunk.done === true) sink.end({ ok: true });
};

interface SseMessage {
  event: string;
  data: string;
}

/** Turns SSE lines into messages (event name + joined data lines); comments and ids are skipped. */
function sse(onMessage: (message: SseMessage) => void): LineDecoder {
  let event = "";
  let data: string[] = [];
  return (raw) => {
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (line === "") {
      if (data.length > 0 || event !== "") onMessage({ event: event || "message", data: data.join("\n") });
      event = "";
      data = [];
      return;
    }
    if (line.startsWith(":")) return;
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "data") data.push(value);
    else if (field === "event") event = value;
  };
}

/** The bare relay's format: `data: "<token as JSON string>"` per token, then `event: done` or `event: error`. */
export const bareSse: Protocol = (sink) =>
  sse(({ event, data }) => {
    if (event === "message") {
      const text = parseJson(data);
      if (typeof text === "string") sink.token(text);
      else sink.end({ ok: false, error: `bad token event: ${data.slice(0, 80)}` });
    } else if (event === "done") sink.end({ ok: true });
    else if (event === "error") sink.end({ ok: false, error: data });
    else sink.other();
  });

/** The AI SDK's UI message stream: `data: {"type":"text-delta","delta":...}` ..., ended by `data: [DONE]`. */
export const aiSdkUiSse: Protocol = (sink) =>
  sse(({ data }) => {
    if (data === "[DONE]") return sink.end({ ok: true });
    const chunk = parseJson(data);
    if (!isRecord(chunk)) return sink.end({ ok: false, error: `bad UI chunk: ${data.slice(0, 80)}` });
    if (chunk.type === "text-delta" && typeof chunk.delta === "string") sink.token(chunk.delta);
    else if (chunk.type === "error") sink.end({ ok: false, error: String(chunk.errorText) });
    else if (chunk.type === "abort") sink.end({ ok: false, error: "aborted" });
    else sink.other();
  });

/**
 * Our tRPC subscription `chat.events`: each message is `id: <seq>` + `data: <ChatEvent JSON>`; tRPC adds
 * `event: connected`, `event: ping`, `event: return` (generator finished) and `event: serialized-error`.
 */
export const trpcEventsSse: Protocol = (sink) => {
  let failed: string | null = null;
  let done = false;
  return sse(({ event, data }) => {
    if (event === "message") {
      const chatEvent = parseJson(data);
      if (!isRecord(chatEvent)) return sink.end({ ok: false, error: `bad event: ${data.slice(0, 80)}` });
      if (chatEvent.type === "token" && typeof chatEvent.text === "string") return sink.token(chatEvent.text);
      if (chatEvent.type === "error") failed = `${String(chatEvent.code)}: ${String(chatEvent.message)}`;
      if (chatEvent.type === "done") {
        done = true;
        if (failed === null && chatEvent.reason !== "stop") failed = `done with reason ${String(chatEvent.reason)}`;
        return sink.end(failed === null ? { ok: true } : { ok: false, error: failed });
      }
      return sink.other();
    }
    if (event === "return" && !done) return sink.end({ ok: false, error: "subscription returned without done" });
    if (event === "serialized-error") return sink.end({ ok: false, error: `serialized-error ${data.slice(0, 200)}` });
    sink.other();
  });
};

/** The REST `/api/chat/stream`: `event: thinking|tool|token|error|done` with JSON data; done is always last. */
export const restSse: Protocol = (sink) => {
  let failed: string | null = null;
  return sse(({ event, data }) => {
    if (event === "token") {
      const value = parseJson(data);
      const text = typeof value === "string" ? value : isRecord(value) ? value.text : undefined;
      if (typeof text === "string") return sink.token(text);
      return sink.end({ ok: false, error: `bad token event: ${data.slice(0, 80)}` });
    }
    if (event === "error") {
      failed = data;
      return sink.other();
    }
    if (event === "done") return sink.end(failed === null ? { ok: true } : { ok: false, error: failed });
    sink.other();
  });
};
