/**
 * OpenAI-compatible /v1/chat/completions wire: SSE `data: <json>\n\n` events ending with `data: [DONE]`.
 * Tool-call arguments are split into several string fragments (as OpenAI, llama.cpp and vLLM send them) so
 * clients must concatenate; id/type/name travel on the first fragment of each index only.
 */
import { randomBytes } from "node:crypto";
import type { SimChunk } from "./types.js";
import { jsonString, type Accumulated, type ResolvedCall, type ResponseMeter, type WireEncoder } from "./wire-common.js";

export interface OpenAIEncoderOptions {
  model: string;
  meter: ResponseMeter;
  includeUsage: boolean;
}

/** Cut a string into `parts` pieces on code-point boundaries (never an empty piece when avoidable). */
export function splitFragments(text: string, parts: number): string[] {
  const chars = Array.from(text);
  const n = Math.max(1, Math.min(parts, chars.length));
  const size = Math.ceil(chars.length / n);
  const out: string[] = [];
  for (let i = 0; i < chars.length; i += size) out.push(chars.slice(i, i + size).join(""));
  return out.length > 0 ? out : [""];
}

function openAIErrorType(status: number): string {
  // Ollama's openai middleware maps statuses the same way
  if (status === 400) return "invalid_request_error";
  if (status === 404) return "not_found_error";
  return "api_error";
}

export function createOpenAIEncoder(opts: OpenAIEncoderOptions): WireEncoder {
  const { model, meter, includeUsage } = opts;
  const id = `chatcmpl-${randomBytes(6).toString("hex")}`;
  const created = Math.floor(Date.now() / 1000);
  const head = `data: {"id":"${id}","object":"chat.completion.chunk","created":${created},"model":${JSON.stringify(model)},"system_fingerprint":"fp_ollama","choices":[{"index":0,"delta":`;
  const contentHead = `${head}{"role":"assistant","content":`;
  const contentTail = `},"finish_reason":null}]}\n\n`;
  let sawToolCall = false;

  const event = (delta: Record<string, unknown>, finishReason: string | null): string =>
    `${head}${JSON.stringify(delta)},"finish_reason":${JSON.stringify(finishReason)}}]}\n\n`;

  const usage = () => {
    const m = meter.metrics();
    return { prompt_tokens: m.prompt_eval_count, completion_tokens: m.eval_count, total_tokens: m.prompt_eval_count + m.eval_count };
  };

  return {
    contentType: "text/event-stream",
    midStreamErrorStatus: 500,

    encode(chunk: SimChunk, calls: ResolvedCall[]): string {
      if (chunk.error !== undefined) {
        // llama.cpp's shape for an error after the 200 status went out
        return `data: ${JSON.stringify({ error: { message: chunk.error, type: "server_error", param: null, code: null } })}\n\n`;
      }
      if (chunk.thinking === undefined && calls.length === 0 && !chunk.done) {
        return contentHead + jsonString(chunk.content ?? "") + contentTail;
      }
      let out = "";
      if (chunk.thinking) out += event({ role: "assistant", content: "", reasoning: chunk.thinking }, null);
      if (chunk.content) out += event({ role: "assistant", content: chunk.content }, null);
      for (const call of calls) {
        sawToolCall = true;
        out += event(
          { role: "assistant", tool_calls: [{ index: call.index, id: call.id, type: "function", function: { name: call.name, arguments: "" } }] },
          null,
        );
        const args = JSON.stringify(call.arguments);
        for (const piece of splitFragments(args, 3)) {
          out += event({ tool_calls: [{ index: call.index, function: { arguments: piece } }] }, null);
        }
      }
      if (chunk.done) {
        out += event({}, sawToolCall ? "tool_calls" : (chunk.doneReason ?? "stop"));
        if (includeUsage) {
          out += `data: ${JSON.stringify({ id, object: "chat.completion.chunk", created, model, system_fingerprint: "fp_ollama", choices: [], usage: usage() })}\n\n`;
        }
        out += "data: [DONE]\n\n";
      }
      return out;
    },

    body(acc: Accumulated): unknown {
      const message: Record<string, unknown> = { role: "assistant", content: acc.content };
      if (acc.thinking) message["reasoning"] = acc.thinking;
      if (acc.calls.length > 0) {
        message["tool_calls"] = acc.calls.map((c) => ({
          index: c.index,
          id: c.id,
          type: "function",
          function: { name: c.name, arguments: JSON.stringify(c.arguments) },
        }));
      }
      return {
        id,
        object: "chat.completion",
        created,
        model,
        system_fingerprint: "fp_ollama",
        choices: [{ index: 0, message, finish_reason: acc.calls.length > 0 ? "tool_calls" : acc.doneReason }],
        usage: usage(),
      };
    },

    errorBody(status: number, message: string): unknown {
      return { error: { message, type: openAIErrorType(status), param: null, code: null } };
    },
  };
}
