import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createChatClient } from "./client.js";
import { abortErrorIn, ChatClientError, isAbortError, mayHaveBeenActedOn, toChatClientError } from "./errors.js";
import { startApi, type TestApi } from "./test-support/api.js";

describe("aborts through tRPC", () => {
  let api: TestApi;

  beforeAll(async () => {
    api = await startApi();
  });
  afterAll(async () => {
    await api?.close();
  });

  it("an aborted call's TRPCClientError is an abort, and gives the AbortError it wraps", async () => {
    const client = createChatClient({ url: api.url });
    const control = api.sim.control({ lastUserIncludes: "abort-raw-call" });
    const abort = new AbortController();
    const call = client.trpc.chat.complete.mutate({ message: "please abort-raw-call" }, { signal: abort.signal });
    await control.connected;
    abort.abort();
    const error = await call.catch((e: unknown) => e);
    expect(error).toMatchObject({ name: "TRPCClientError" });
    expect(isAbortError(error)).toBe(true);
    // tRPC's link aborts the fetch with a signal of its own: an AbortError, though not the caller's reason itself.
    expect(abortErrorIn(error)).toMatchObject({ name: "AbortError" });
    await control.push({ done: true });
  });

  it("other failures are no aborts", () => {
    expect(isAbortError(new Error("boom"))).toBe(false);
    expect(abortErrorIn(new TypeError("fetch failed"))).toBeUndefined();
  });
});

describe("mayHaveBeenActedOn: whether a failed send may have started a run all the same", () => {
  const socketError = (code: string) => new TypeError("fetch failed", { cause: Object.assign(new Error(code), { code }) });

  it("no for a connection never made, an answer of the API's own, a 4xx page, a certificate refused", () => {
    expect(mayHaveBeenActedOn(toChatClientError(socketError("ECONNREFUSED")))).toBe(false);
    expect(mayHaveBeenActedOn(toChatClientError(socketError("ENOTFOUND")))).toBe(false);
    expect(mayHaveBeenActedOn(new ChatClientError("interrupted", "stopping", { trpcCode: "INTERNAL_SERVER_ERROR", status: 500 }))).toBe(false);
    expect(mayHaveBeenActedOn(new ChatClientError("bad_request", "not the API", { status: 404 }))).toBe(false);
    expect(mayHaveBeenActedOn(toChatClientError(socketError("DEPTH_ZERO_SELF_SIGNED_CERT")))).toBe(false);
  });

  it("yes for a proxy's 5xx page, a connection cut after the request went out, an answer that could not be read", () => {
    expect(mayHaveBeenActedOn(new ChatClientError("internal", "502 from a proxy", { status: 502, retryable: true }))).toBe(true);
    expect(mayHaveBeenActedOn(toChatClientError(socketError("ECONNRESET")))).toBe(true);
    expect(mayHaveBeenActedOn(toChatClientError(socketError("UND_ERR_SOCKET")))).toBe(true);
    expect(mayHaveBeenActedOn(toChatClientError(new Error("garbled")))).toBe(true);
  });
});
