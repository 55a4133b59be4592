import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

describe("keepResponseShape", () => {
  it("keeps later responses out of dictionary mode when a full GC ran after the first six were answered", async () => {
    // A fresh process: V8 fixes ServerResponse's size once per process, from its first seven responses.
    const script = fileURLToPath(new URL("./test-support/response-shapes.ts", import.meta.url));
    const output = await new Promise<string>((resolve, reject) => {
      execFile(
        process.execPath,
        ["--import", "tsx", "--allow-natives-syntax", "--expose-gc", script],
        { timeout: 60_000 },
        (error, stdout, stderr) => (error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout)),
      );
    });
    expect(JSON.parse(output) as unknown).toEqual({ fast: [true, true, true] });
  });
});
