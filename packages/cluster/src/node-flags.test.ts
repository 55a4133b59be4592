import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { apiNodeFlags } from "./node-flags.js";

describe("apiNodeFlags", () => {
  it("reads streamchat.nodeFlags from apps/api/package.json", () => {
    const manifest = JSON.parse(readFileSync(new URL("../../../apps/api/package.json", import.meta.url), "utf8")) as { streamchat: { nodeFlags: string[] } };
    expect(apiNodeFlags()).toEqual(manifest.streamchat.nodeFlags);
  });
});
