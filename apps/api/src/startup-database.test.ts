import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { faultServerPath, until } from "@streamchat/mcp/test-support";
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

describe("start-up on a port in use", () => {
  const pids: number[] = [];
  afterAll(() => {
    for (const pid of pids) {
      try {
        process.kill(pid, "SIGKILL"); // only if the test failed: the server left it running
      } catch {
        // gone, as it should be
      }
    }
  });

  it("one line naming PORT, exit 1, and the MCP servers it started are ended, not orphaned", { timeout: 60_000 }, async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    const { port } = taken.address() as AddressInfo;
    try {
      // A server that ignores the end of its stdin and SIGTERM: only the hub's SIGKILL ends it. Its pid goes to a file.
      const pidFile = join(dir, "mcp.pid");
      const config = join(dir, "mcp.json");
      const script = `echo $$ > '${pidFile}'; exec '${process.execPath}' '${faultServerPath}' --stubborn`;
      writeFileSync(config, JSON.stringify({ mcpServers: { stubborn: { command: "/bin/sh", args: ["-c", script] } } }));
      const { code, stdout, stderr } = await run({ PORT: String(port), MCP_CONFIG: config, DATABASE_PATH: join(dir, "port.db") });
      const pid = Number(readFileSync(pidFile, "utf8"));
      pids.push(pid);
      expect(code).toBe(1);
      expect(stderr.trim().split("\n")).toEqual([`PORT: 127.0.0.1:${port} is already in use (another server listens there); set PORT (or HOST) to a free one.`]);
      expect(stdout).not.toMatch(/listening on/);
      await until(() => {
        try {
          process.kill(pid, 0);
          return false;
        } catch {
          return true;
        }
      }, "the MCP server to be ended", 10_000);
    } finally {
      await new Promise<void>((resolve) => taken.close(() => resolve()));
    }
  });
});

describe("start-up on a SQLite file another process serves", () => {
  const children = new Set<ChildProcess>();
  afterAll(() => {
    for (const child of children) child.kill("SIGKILL");
  });

  /** A server process on `dbPath`, resolved once it listens. */
  async function serve(dbPath: string): Promise<{ child: ChildProcess; exited: Promise<number | null> }> {
    const child = spawn(process.execPath, ["--conditions=source", "--import", "tsx", "src/server.ts"], {
      cwd: packageDir,
      env: { PATH: process.env["PATH"] ?? "", HOME: process.env["HOME"] ?? "", HOST: "127.0.0.1", PORT: "0", CHAT_PROVIDER: "sim", LOG_LEVEL: "info", DATABASE_PATH: dbPath },
      stdio: ["ignore", "pipe", "pipe"],
    });
    children.add(child);
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    let output = "";
    await new Promise<void>((resolve, reject) => {
      child.stdout.on("data", (chunk: Buffer) => {
        output += chunk.toString();
        if (/listening/.test(output)) resolve();
      });
      child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
      void exited.then((code) => reject(new Error(`the server exited with ${code}: ${output}`)));
    });
    return { child, exited };
  }

  it("a second process stops with one line naming DATABASE_PATH; once the first is killed, the file is free again", { timeout: 90_000 }, async () => {
    const dbPath = join(dir, "shared.db");
    const first = await serve(dbPath);
    // Recovery in a second process would close the first one's live runs as interrupted: it must not start at all.
    const second = await run({ DATABASE_PATH: dbPath, LOG_LEVEL: "info" });
    expect(second.code).toBe(1);
    expect(second.stderr.trim().split("\n")).toEqual([
      `DATABASE_PATH: ${dbPath} is in use by another API process (one process serves a SQLite file): stop that one, give this one another DATABASE_PATH, or use DATABASE_URL (PostgreSQL) for several processes.`,
    ]);
    expect(second.stdout).not.toMatch(/listening on/);
    // A process that dies without a word (SIGKILL) leaves no lock behind: the operating system drops it.
    first.child.kill("SIGKILL");
    await first.exited;
    const third = await serve(dbPath);
    third.child.kill("SIGTERM");
    expect(await third.exited).toBe(0);
  });
});
