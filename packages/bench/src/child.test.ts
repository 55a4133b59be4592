import { apiNodeFlags } from "@streamchat/cluster";
import { describe, expect, it } from "vitest";
import { cpuProfileArgs, resolveEntry } from "./child.js";

describe("resolveEntry", () => {
  it("starts every server under test with the API's Node flags, baselines included", () => {
    for (const entry of ["servers/bare-relay", "servers/ai-sdk-relay", "servers/stack", "/abs/server.js", "/abs/server.ts"]) {
      const { execArgv } = resolveEntry(entry);
      expect(execArgv.slice(0, apiNodeFlags().length)).toEqual(apiNodeFlags());
      expect(execArgv).toContain("--expose-gc");
    }
  });
});

describe("cpuProfileArgs", () => {
  it("names a cluster replica's profile as one file in the folder, not a subfolder that does not exist", () => {
    const [flag, dir, name] = cpuProfileArgs("/tmp/profiles", "stack-cluster/api-1");
    expect([flag, dir]).toEqual(["--cpu-prof", "--cpu-prof-dir=/tmp/profiles"]);
    expect(name).toMatch(/^--cpu-prof-name=stack-cluster-api-1-\d+\.cpuprofile$/);
  });
});
