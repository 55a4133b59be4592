import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startApi, type TestApi } from "./test-support/api.js";
import { closedPort } from "./test-support/closed-port.js";

const packageDir = fileURLToPath(new URL("..", import.meta.url));

async function closedPortUrl(): Promise<string> {
  return `http://127.0.0.1:${await closedPort()}`;
}

interface CaseResult {
  name: string;
  result: string;
  ms: number;
  left: string[];
}

// process.getActiveResourcesInfo() counts everything in the process, so the client runs in a child of its own,
// apart from the API server and the test runner.
describe("stopping leaves nothing running", () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startApi();
  });
  afterAll(async () => {
    await api?.close();
  });

  it("after an abort, a break out of the loop or the end of a run: no socket, no timer", { timeout: 60_000 }, async () => {
    const child = spawn(process.execPath, ["--conditions=source", "--import", "tsx", "src/test-support/cleanup-child.ts", api.url, await closedPortUrl()], {
      cwd: packageDir,
    });
    let out = "";
    let err = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (out += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (err += chunk));
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    expect(err).toBe("");
    expect(code).toBe(0);
    const results = out.trimEnd().split("\n").map((line) => JSON.parse(line) as CaseResult);
    expect(results.map(({ name, result, left }) => ({ name, result, left }))).toEqual([
      { name: "stream to its end", result: "ok", left: [] },
      { name: "stream aborted", result: "AbortError", left: [] },
      { name: "break out of stream", result: "ok", left: [] },
      { name: "events aborted", result: "AbortError", left: [] },
      { name: "break out of events", result: "ok", left: [] },
      { name: "complete aborted", result: "AbortError", left: [] },
      { name: "send aborted while retrying an unreachable server", result: "AbortError", left: [] },
    ]);
    // The abort ends the retries (200 ms, then 400 ms) at once.
    expect(results.at(-1)!.ms).toBeLessThan(200);
  });
});
