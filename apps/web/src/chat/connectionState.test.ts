import { describe, expect, it } from "vitest";
import { feedUnreachable, headerConnection } from "./connectionState.js";

describe("feedUnreachable", () => {
  it("is the error of a failed connection attempt that tRPC is retrying", () => {
    expect(feedUnreachable({ status: "connecting", error: { message: "fetch failed" } })).toBe("fetch failed");
  });

  it("is null for the first connection, a live feed, and a refusal (no token), which are not the server gone", () => {
    expect(feedUnreachable({ status: "connecting", error: null })).toBeNull();
    expect(feedUnreachable({ status: "pending", error: null })).toBeNull();
    expect(feedUnreachable({ status: "error", error: { message: "UNAUTHORIZED" } })).toBeNull();
  });
});

describe("headerConnection", () => {
  it("shows the feed's trouble while no answer is followed, or the followed one is complete", () => {
    for (const state of ["idle", "caught-up"] as const) {
      expect(headerConnection({ state, error: null }, "fetch failed")).toEqual({ state: "reconnecting", error: "fetch failed" });
    }
  });

  it("leaves a followed answer's own state alone, and says nothing new while the feed is well", () => {
    expect(headerConnection({ state: "live", error: null }, "fetch failed")).toEqual({ state: "live", error: null });
    expect(headerConnection({ state: "lost", error: "ended" }, "fetch failed")).toEqual({ state: "lost", error: "ended" });
    expect(headerConnection({ state: "idle", error: null }, null)).toEqual({ state: "idle", error: null });
  });
});
