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
