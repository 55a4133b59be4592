import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { closedPort } from "./test-support/reliability.js";

// The real entry point (src/server.ts via tsx) as a child process: what an operator sees when the database is away.
const packageDir = fileURLToPath(new URL("..", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "streamchat-startup-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ["--conditions=source", "--import", "tsx", "src/server.ts"], {
    cwd: packageDir,
    env: { PATH: process.env["PATH"] ?? "", HOME: process.env["HOME"] ?? "", HOST: "127.0.0.1", PORT: "0", CHAT_PROVIDER: "sim", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.once("close", (code) => resolve({ code, stdout, stderr })));
}

describe("start-up with DATABASE_URL", () => {
  it("database unreachable: one line naming DATABASE_URL and host:port/database (never the password), exit 1, no SQLite file", { timeout: 60_000 }, async () => {
    const port = await closedPort();
    const dbPath = join(dir, "chat.db");
    const { code, stdout, stderr } = await run({
      DATABASE_URL: `postgres://chat:hunter2@127.0.0.1:${port}/streamchat`,
      DATABASE_PATH: dbPath,
      LOG_LEVEL: "info",
    });
    expect(code).toBe(1);
    const lines = stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^DATABASE_URL: cannot reach PostgreSQL at 127\\.0\\.0\\.1:${port}/streamchat: .*ECONNREFUSED`));
    expect(stderr + stdout).not.toContain("hunter2");
    // Nothing started: no log line claims otherwise.
    expect(stdout).not.toMatch(/listening/);
    expect(existsSync(dbPath)).toBe(false);
  });
});
