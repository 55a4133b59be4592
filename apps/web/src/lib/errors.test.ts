import { errorCodeMessages } from "@streamchat/core/browser";
import { TRPCClientError } from "@trpc/client";
import { afterEach, describe, expect, it, vi } from "vitest";
import { checkedFetch, describeError, HttpStatusError, httpStatusOf, retryQuery } from "./errors.js";

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

describe("httpStatusOf", () => {
  it("reads the API's status and a proxy page's, so a data load does not retry a 4xx either way", () => {
    expect(httpStatusOf(Object.assign(new Error("x"), { data: { httpStatus: 404 } }))).toBe(404);
    expect(httpStatusOf(TRPCClientError.from(new HttpStatusError(413)))).toBe(413);
    expect(httpStatusOf(new HttpStatusError(502))).toBe(502);
    expect(httpStatusOf(new Error("fetch failed"))).toBeNull();
    expect(httpStatusOf(null)).toBeNull();
  });
});

describe("retryQuery", () => {
  it("retries a data load at most twice, and never a 4xx of the API or of a proxy's page", () => {
    const network = new Error("fetch failed");
    expect([0, 1, 2].map((failures) => retryQuery(failures, network))).toEqual([true, true, false]);
    expect(retryQuery(0, Object.assign(new Error("x"), { data: { httpStatus: 401 } }))).toBe(false);
    expect(retryQuery(0, TRPCClientError.from(new HttpStatusError(413)))).toBe(false);
    expect(retryQuery(0, TRPCClientError.from(new HttpStatusError(503)))).toBe(true);
  });
});
