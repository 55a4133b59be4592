import { apiNodeFlags } from "@streamchat/cluster";
import { describe, expect, it } from "vitest";
import { resolveEntry } from "./child.js";

describe("resolveEntry", () => {
  it("starts every server under test with the API's Node flags, baselines included", () => {
    for (const entry of ["servers/bare-relay", "servers/ai-sdk-relay", "servers/stack", "/abs/server.js", "/abs/server.ts"]) {
      const { execArgv } = resolveEntry(entry);
      expect(execArgv.slice(0, apiNodeFlags().length)).toEqual(apiNodeFlags());
      expect(execArgv).toContain("--expose-gc");
    }
  });
});
