import { errorCodeMessages } from "@streamchat/core/browser";
import { describe, expect, it } from "vitest";
import { describeError } from "./errors.js";

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
});
