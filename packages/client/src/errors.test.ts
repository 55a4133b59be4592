import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createChatClient } from "./client.js";
import { abortErrorIn, isAbortError } from "./errors.js";
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
