import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

// The API's Node flags live in one list (package.json's streamchat.nodeFlags); every way of starting the server
// that the project ships must pass exactly those, right before the server's file.

const read = (path: string) => readFileSync(new URL(path, import.meta.url), "utf8");
const apiManifest = JSON.parse(read("../package.json")) as { scripts: Record<string, string>; streamchat: { nodeFlags: string[] } };
const rootManifest = JSON.parse(read("../../../package.json")) as { scripts: Record<string, string> };
const nodeFlags = apiManifest.streamchat.nodeFlags;

/** The words between `node` and the server file in a shell command line. */
function flagsBefore(command: string, serverFile: string): string[] {
  const match = new RegExp(`(?:^|&& )node ((?:--\\S+ )*)${serverFile.replaceAll(".", "\\.")}`).exec(command);
  if (!match) throw new Error(`no "node … ${serverFile}" in: ${command}`);
  return match[1]!.trim().split(" ").filter(Boolean);
}

describe("the API's Node flags", () => {
  it("are the ones every shipped start command passes", () => {
    expect(nodeFlags.length).toBeGreaterThan(0);
    expect(flagsBefore(apiManifest.scripts["start"]!, "dist/server.js")).toEqual(nodeFlags);
    expect(flagsBefore(rootManifest.scripts["start"]!, "apps/api/dist/server.js")).toEqual(nodeFlags);
    const compose = /command: \[(.*)\]/.exec(read("../../../deploy/compose.yaml"))?.[1];
    expect(compose?.split(", ").map((word) => JSON.parse(word) as string)).toEqual(["node", ...nodeFlags, "apps/api/dist/server.js"]);
  });

  it("cap V8's young generation at the size they name", () => {
    const flag = nodeFlags.find((f) => f.startsWith("--max-semi-space-size="));
    expect(flag).toBeDefined();
    const semiSpaceMb = Number(flag!.split("=")[1]);
    // Keeps ~100 MB alive through many scavenges: without a cap, V8 grows the new space to its default maximum
    // (128 MB on a machine with a 4 GB heap limit) the way a server opening thousands of streams does.
    const script = `
      const keep = [];
      for (let i = 0; i < 1e6; i++) keep.push({ i, list: [i] });
      const space = require("node:v8").getHeapSpaceStatistics().find((s) => s.space_name === "new_space");
      process.stdout.write(String(space.space_size));`;
    const run = (flags: readonly string[]) => Number(execFileSync(process.execPath, [...flags, "-e", script], { encoding: "utf8" }));
    // Two semi-spaces of the cap, with room for the few pages V8 can hold past it while a scavenge runs (33.75 MB for
    // a 32 MB cap was seen once on a loaded machine).
    const bound = 1.5 * 2 * semiSpaceMb * 1024 * 1024;
    expect(run(nodeFlags)).toBeLessThanOrEqual(bound);
    // The check can fail: with a bigger cap the same script grows the young generation past this one's bound.
    expect(run([`--max-semi-space-size=${4 * semiSpaceMb}`])).toBeGreaterThan(bound);
  });
});
