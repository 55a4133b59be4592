import { describe, expect, it } from "vitest";
import { ChatError } from "../errors.js";
import { errorMessageOf, toChatError } from "./http-errors.js";

const ctx = {};
const refused = new TypeError("fetch failed", { cause: Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:11434"), { code: "ECONNREFUSED" }) });

describe("toChatError", () => {
  it("prefers cancelled whenever our signal was aborted", () => {
    const signal = AbortSignal.abort();
    expect(toChatError({ kind: "request", error: refused }, { ...ctx, signal }).code).toBe("cancelled");
    expect(toChatError({ kind: "body", error: new ChatError("provider_error", "x") }, { ...ctx, signal }).code).toBe("cancelled");
    expect(toChatError({ kind: "status", status: 500, message: "x" }, { ...ctx, signal }).code).toBe("cancelled");
  });

  it("maps a failed connection to provider_unavailable naming the cause but not the address (users see it)", () => {
    const e = toChatError({ kind: "request", error: refused }, ctx);
    expect(e).toMatchObject({ code: "provider_unavailable", retryable: true });
    expect(e.message).toBe("Cannot reach the model server (ECONNREFUSED). Is it running?");
  });

  it("leaves out a cause that names an address", () => {
    for (const message of ["Failed to parse URL from http://ollama.internal:11434/api/chat", "connect to 10.0.0.7 failed", "localhost:11434 refused"]) {
      expect(toChatError({ kind: "request", error: new TypeError(message) }, ctx).message, message).toBe(
        "Cannot reach the model server. Is it running?",
      );
    }
    expect(toChatError({ kind: "request", error: new TypeError("bad port") }, ctx).message).toBe("Cannot reach the model server (bad port). Is it running?");
  });

  it("finds the code inside an AggregateError (several addresses tried)", () => {
    const aggregate = new TypeError("fetch failed", { cause: new AggregateError([Object.assign(new Error("x"), { code: "ECONNREFUSED" })]) });
    expect(toChatError({ kind: "request", error: aggregate }, ctx).message).toContain("(ECONNREFUSED)");
  });

  it("maps Ollama's refusal of images for a model without vision to model_unsupported, whatever the status", () => {
    for (const status of [400, 500]) {
      expect(toChatError({ kind: "status", status, message: "this model is missing data required for image input" }, ctx)).toMatchObject({
        code: "model_unsupported",
        message: "The model does not support images: this model is missing data required for image input",
        retryable: false,
      });
    }
  });

  it("says which feature a model_unsupported refusal names (the run loop retries only a tools refusal), and none for others", () => {
    const unsupported = (message: string) => toChatError({ kind: "status", status: 400, message }, ctx).unsupported;
    expect(unsupported('"gemma3" does not support tools')).toBe("tools");
    expect(unsupported('registry.ollama.ai/library/m1:latest does not support tools')).toBe("tools");
    expect(unsupported('"llama3.2" does not support thinking')).toBe("thinking");
    expect(unsupported('"llama3.2" does not support insert')).toBeUndefined();
    expect(toChatError({ kind: "status", status: 500, message: "this model is missing data required for image input" }, ctx).unsupported).toBe("images");
  });

  it("reads a refusal of a prompt longer than the window as a bad_request that says so, with the window where the server gives it", () => {
    const overflow = (status: number, message: string, body?: unknown) => {
      const e = toChatError({ kind: "status", status, message, body }, ctx);
      return [e.code, e.retryable, e.contextWindow, e.message];
    };
    // vLLM (OpenAI and OpenRouter word it the same).
    const vllm = "This model's maximum context length is 32768 tokens. However, you requested 40017 tokens (39017 in the messages, 1000 in the completion). Please reduce the length of the messages or completion.";
    expect(overflow(400, vllm)).toEqual(["bad_request", false, 32_768, `The conversation is longer than the model's context window on the server (32,768 tokens): ${vllm}`]);
    // LM Studio.
    const lmStudio = "Trying to keep the first 5230 tokens when context the overflows. However, the model is loaded with context length of only 4096 tokens, which is not enough. Try to load the model with a larger context length, or provide a shorter input";
    expect(overflow(400, lmStudio).slice(0, 3)).toEqual(["bad_request", false, 4096]);
    // llama.cpp: the size beside the message.
    const llamaCpp = { error: { code: 400, message: "the request exceeds the available context size, try increasing it", type: "exceed_context_size_error", n_prompt_tokens: 9000, n_ctx: 8192 } };
    expect(overflow(400, llamaCpp.error.message, llamaCpp).slice(0, 3)).toEqual(["bad_request", false, 8192]);
    // Said without a size: still a bad_request that says so, its window null (the provider may know it by now).
    expect(overflow(400, "The number of tokens to keep from the initial prompt is greater than the context length.").slice(0, 3)).toEqual(["bad_request", false, null]);
    expect(overflow(500, "the request exceeds the available context size").slice(0, 3)).toEqual(["bad_request", false, null]);
    // Other failures that name a context or a length are not refusals of the prompt's length.
    expect(overflow(400, "context: field required").slice(0, 3)).toEqual(["bad_request", false, undefined]);
    expect(overflow(400, "context: field required")[3]).toBe("The model server rejected the request: context: field required");
    expect(overflow(500, "max_tokens must be at least 1, got -5").slice(0, 3)).toEqual(["provider_error", true, undefined]);
  });

  it("maps a connection lost mid-body to stream_truncated and passes typed errors through", () => {
    expect(toChatError({ kind: "body", error: new TypeError("terminated") }, ctx)).toMatchObject({
      code: "stream_truncated",
      message: "The connection to the model server broke mid-answer (terminated).",
    });
    const typed = new ChatError("provider_error", "bad line");
    expect(toChatError({ kind: "body", error: typed }, ctx)).toBe(typed);
  });

  it.each([
    [400, '"llama3.2" does not support tools', "model_unsupported"],
    [400, "invalid character 'x' looking for beginning of value", "bad_request"],
    [404, "model 'x' not found", "model_not_found"],
    [403, "forbidden", "unauthorized"],
    [422, "bad", "bad_request"],
    [429, "slow down", "rate_limited"],
    [502, "", "provider_error"],
  ] as const)("HTTP %i %j → %s", (status, message, code) => {
    const e = toChatError({ kind: "status", status, message }, ctx);
    expect(e.code).toBe(code);
    expect(e.status).toBe(status);
    expect(e.message).toContain(message || `HTTP ${status}`);
  });
});

describe("errorMessageOf", () => {
  it("reads Ollama, OpenAI and plain-text error bodies", () => {
    expect(errorMessageOf('{"error":"model is required"}')).toBe("model is required");
    expect(errorMessageOf('{"error":{"message":"Incorrect API key","type":"invalid_request_error"}}')).toBe("Incorrect API key");
    expect(errorMessageOf("Bad Gateway")).toBe("Bad Gateway");
    expect(errorMessageOf("x".repeat(600))).toHaveLength(501);
  });
});
