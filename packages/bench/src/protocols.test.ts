import { describe, expect, it } from "vitest";
import { aiSdkUiSse, bareSse, ollamaNdjson, type Protocol, restSse, trpcEventsSse } from "./protocols.js";

/** Feeds `text` line by line (as the reader does) and records what the decoder reported. */
function decode(protocol: Protocol, text: string): string[] {
  const seen: string[] = [];
  const feed = protocol({
    token: (t) => seen.push(`token:${t}`),
    other: () => seen.push("other"),
    end: (outcome) => seen.push(outcome.ok ? "end:ok" : `end:error:${outcome.error}`),
  });
  for (const line of text.split("\n")) feed(line);
  return seen;
}

describe("wire decoders", () => {
  it("Ollama NDJSON: content tokens, then done", () => {
    const text = [
      `{"model":"m","message":{"role":"assistant","content":"tok1 "},"done":false}`,
      `{"model":"m","message":{"role":"assistant","content":""},"done":false}`,
      `{"model":"m","message":{"role":"assistant","content":""},"done":true,"done_reason":"stop"}`,
    ].join("\n");
    expect(decode(ollamaNdjson, text)).toEqual(["token:tok1 ", "other", "end:ok"]);
    expect(decode(ollamaNdjson, `{"error":"boom"}`)).toEqual(["end:error:boom"]);
  });

  it("bare relay SSE: one data event per token, CRLF accepted, comments skipped", () => {
    const text = `: hi\r\ndata: "tok1 "\r\n\r\ndata: "tok2 "\n\nevent: done\ndata: {}\n\n`;
    expect(decode(bareSse, text)).toEqual(["token:tok1 ", "token:tok2 ", "end:ok"]);
  });

  it("AI SDK UI message stream: text-delta tokens, [DONE] ends it", () => {
    const text = [
      `data: {"type":"start"}`,
      ``,
      `data: {"type":"text-delta","id":"0","delta":"tok1 "}`,
      ``,
      `data: {"type":"finish"}`,
      ``,
      `data: [DONE]`,
      ``,
    ].join("\n");
    expect(decode(aiSdkUiSse, text)).toEqual(["other", "token:tok1 ", "other", "end:ok"]);
  });

  it("tRPC chat.events: tracked ChatEvents between connected and return; a failed run is an error", () => {
    const ev = (e: object) => `id: 1\ndata: ${JSON.stringify({ runId: "r", at: 1, ...e })}\n`;
    const ok = [
      `event: connected\ndata: {}\n`,
      ev({ type: "token", text: "tok1 " }),
      `event: ping\ndata: \n`,
      ev({ type: "done", reason: "stop" }),
      `event: return\ndata: \n`,
    ].join("\n");
    expect(decode(trpcEventsSse, ok)).toEqual(["other", "token:tok1 ", "other", "end:ok", "other"]);
    const failed = [ev({ type: "error", code: "provider_error", message: "x" }), ev({ type: "done", reason: "error" })].join("\n");
    expect(decode(trpcEventsSse, failed)).toEqual(["other", "end:error:provider_error: x"]);
    expect(decode(trpcEventsSse, `event: return\ndata: \n`)).toEqual(["end:error:subscription returned without done"]);
  });

  it("REST /api/chat/stream: token events carry the text; an error before done fails the stream", () => {
    const ok = `event: thinking\ndata: "Processing your question..."\n\nevent: token\ndata: "tok1 "\n\nevent: done\ndata: null\n\n`;
    expect(decode(restSse, ok)).toEqual(["other", "token:tok1 ", "end:ok"]);
    const failed = `event: error\ndata: {"error":"x"}\n\nevent: done\ndata: null\n\n`;
    expect(decode(restSse, failed)).toEqual(["other", `end:error:{"error":"x"}`]);
  });
});
