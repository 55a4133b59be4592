import { errorCodeMessages } from "@streamchat/core/browser";
import { TRPCClientError } from "@trpc/client";
import { afterEach, describe, expect, it, vi } from "vitest";
import { checkedFetch, describeError, HttpStatusError } from "./errors.js";

afterEach(() => vi.unstubAllGlobals());

describe("describeError", () => {
  it("uses the typed app code from a tRPC error's data", () => {
    const error = Object.assign(new Error("4 runs already running"), { data: { appCode: "rate_limited", code: "TOO_MANY_REQUESTS" } });
    expect(describeError(error)).toEqual({
      code: "rate_limited",
      title: errorCodeMessages.rate_limited,
      detail: "4 runs already running",
      retryable: true,
    });
  });

  it("says whether asking again can help", () => {
    const tooLong = Object.assign(new Error("Message is too long (at most 32000 characters)."), {
      data: { appCode: "bad_request", code: "BAD_REQUEST", httpStatus: 400 },
    });
    expect(describeError(tooLong)).toMatchObject({ code: "bad_request", retryable: false });
    expect(describeError(new TypeError("Failed to fetch")).retryable).toBe(true);
    expect(describeError(Object.assign(new Error("Payload too large"), { data: { httpStatus: 413 } })).retryable).toBe(false);
    expect(describeError(Object.assign(new Error("Bad gateway"), { data: { httpStatus: 502 } })).retryable).toBe(true);
  });

  it("ignores unknown codes and names network failures", () => {
    expect(describeError(Object.assign(new Error("x"), { data: { appCode: "nope" } })).code).toBeNull();
    expect(describeError(new TypeError("Failed to fetch")).title).toBe("The server is not reachable.");
  });

  it("puts a proxy's own error page in plain words, not the JSON parser's complaint about it", async () => {
    const page = (status: number, body: string, type: string) => new Response(body, { status, headers: { "content-type": type } });
    for (const [status, body, type] of [
      [503, "<html><h1>503 Service Temporarily Unavailable</h1></html>", "text/html"],
      [429, "Too Many Requests", "text/plain"],
      [413, "<html>413 Request Entity Too Large</html>", "text/html"],
    ] as const) {
      vi.stubGlobal("fetch", async () => page(status, body, type));
      const thrown = await checkedFetch("/trpc/chat.send").catch((e: unknown) => e);
      expect(thrown).toBeInstanceOf(HttpStatusError);
      // As the tRPC links hand it on: wrapped, the HTTP error its cause.
      const described = describeError(TRPCClientError.from(thrown as Error));
      expect(described.title).not.toMatch(/JSON|token/);
      expect(described.detail).toBe(`HTTP ${status}`);
    }
    const [unavailable, busy, tooLarge] = await Promise.all(
      [503, 429, 413].map((status) => describeError(TRPCClientError.from(new HttpStatusError(status)))),
    );
    expect(unavailable).toMatchObject({ title: "The server is unavailable right now. Try again in a moment.", retryable: true });
    expect(busy).toMatchObject({ title: "The server is busy: too many requests. Try again in a moment.", retryable: true });
    expect(tooLarge).toMatchObject({ title: "This is too large for the server to accept.", retryable: false });
  });

  it("leaves the API's own JSON answers, errors included, to tRPC", async () => {
    const json = new Response(JSON.stringify({ error: { message: "x" } }), { status: 429, headers: { "content-type": "application/json" } });
    vi.stubGlobal("fetch", async () => json);
    expect(await checkedFetch("/trpc/chat.send")).toBe(json);
  });
});
