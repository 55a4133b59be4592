import { errorCodeMessages } from "@streamchat/core";
import { describe, expect, it } from "vitest";
import { describeError } from "./errors.js";

describe("describeError", () => {
  it("uses the typed app code from a tRPC error's data", () => {
    const error = Object.assign(new Error("4 runs already running"), { data: { appCode: "rate_limited", code: "TOO_MANY_REQUESTS" } });
    expect(describeError(error)).toEqual({
      code: "rate_limited",
      title: errorCodeMessages.rate_limited,
      detail: "4 runs already running",
    });
  });

  it("ignores unknown codes and names network failures", () => {
    expect(describeError(Object.assign(new Error("x"), { data: { appCode: "nope" } })).code).toBeNull();
    expect(describeError(new TypeError("Failed to fetch")).title).toBe("The server is not reachable.");
  });
});
