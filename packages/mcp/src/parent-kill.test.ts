// Child processes never outlive the API: even when the API is SIGKILLed (no shutdown code runs), a stdio
// server sees its stdin end and exits.
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { afterEach, expect, it } from "vitest";
import { until } from "./test-support/servers.js";

const script = fileURLToPath(new URL("./test-support/hub-parent.ts", import.meta.url));
const packageDir = fileURLToPath(new URL("..", import.meta.url));
const leftovers: number[] = [];

afterEach(() => {
  for (const pid of leftovers.splice(0)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
});

it("a SIGKILLed parent's stdio MCP server exits", { timeout: 60_000 }, async () => {
  const parent = spawn(process.execPath, ["--conditions=source", "--import", "tsx", script], { cwd: packageDir, stdio: ["ignore", "pipe", "inherit"] });
  leftovers.push(parent.pid!);
  const firstLine = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: parent.stdout! });
    lines.once("line", resolve);
    parent.once("exit", (code) => reject(new Error(`hub-parent exited early (${code})`)));
  });
  const { state, pid } = JSON.parse(firstLine) as { state: string; pid: number };
  expect(state).toBe("connected");
  leftovers.push(pid);
  expect(isAlive(pid)).toBe(true);

  const exited = new Promise((resolve) => parent.once("exit", (_code, signal) => resolve(signal)));
  parent.kill("SIGKILL");
  await expect(exited).resolves.toBe("SIGKILL");
  await until(() => !isAlive(pid), `MCP server ${pid} to exit`, 30_000);
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
