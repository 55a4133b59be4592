import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { closedPort } from "./test-support/reliability.js";

/**
 * The API as a real child process whose stdout/stderr are pipes to us, and we stop reading them or close
 * them: logging must never block the server, and SIGTERM must end it in bounded time whatever the log
 * reader does. (It once hung for good: pino's exit hook flushed stdout synchronously, and sonic-boom
 * retries EAGAIN on a full pipe forever, sleeping in Atomics.wait, so no later signal was ever handled.)
 */

const packageDir = fileURLToPath(new URL("..", import.meta.url));
const graceMs = 500;
// Generous on a loaded 2-core box (tsx start-up alone takes seconds); a hang never ends at all.
const exitDeadlineMs = graceMs + 30_000;
const children = new Set<ChildProcess>();

afterEach(() => {
  for (const child of children) child.kill("SIGKILL");
  children.clear();
});

function startServer(port: number): ChildProcess {
  const child = spawn(process.execPath, ["--conditions=source", "--import", "tsx", "src/server.ts"], {
    cwd: packageDir,
    env: {
      PATH: process.env["PATH"] ?? "",
      HOME: process.env["HOME"] ?? "",
      HOST: "127.0.0.1",
      PORT: String(port),
      CHAT_PROVIDER: "sim",
      DATABASE_PATH: ":memory:",
      LOG_LEVEL: "info",
      SHUTDOWN_GRACE_MS: String(graceMs),
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.add(child);
  return child;
}

function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
}

/** Polls health until the server answers (it logs its URL, but we do not read its output here). */
async function waitUntilServing(url: string, child: ChildProcess): Promise<void> {
  const until = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
    try {
      const res = await fetch(`${url}/trpc/health`, { signal: AbortSignal.timeout(2000) });
      await res.body?.cancel();
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > until) throw new Error("server did not start");
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** `count` requests, 16 at a time; each makes the server log two request lines. */
async function makeLogs(url: string, count: number): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next++ < count) {
        const res = await fetch(`${url}/trpc/health`, { signal: AbortSignal.timeout(10_000) });
        await res.body?.cancel();
      }
    }),
  );
}

async function expectExitAfterSigterm(child: ChildProcess): Promise<void> {
  child.kill("SIGTERM");
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    exited(child),
    new Promise<"hung">((resolve) => (timer = setTimeout(() => resolve("hung"), exitDeadlineMs))),
  ]);
  clearTimeout(timer);
  expect(outcome).toEqual({ code: 0, signal: null });
}

describe("shutdown whatever the log reader does", () => {
  it("a stdout pipe nobody reads (full): the server keeps serving, and SIGTERM ends it", { timeout: 120_000 }, async () => {
    const port = await closedPort();
    const url = `http://127.0.0.1:${port}`;
    const child = startServer(port);
    // Never read: the pipes (64 KiB each) fill up with the first few hundred log lines.
    child.stdout?.pause();
    child.stderr?.pause();
    await waitUntilServing(url, child);
    // ~2 000 log lines (~0.5 MB), many times what the pipe holds.
    await makeLogs(url, 1000);
    // Logging did not block the event loop: requests are still answered.
    const health = await fetch(`${url}/trpc/health`, { signal: AbortSignal.timeout(10_000) });
    expect(health.status).toBe(200);
    await expectExitAfterSigterm(child);
  });

  it("a stdout whose reader has gone (closed pipe): the server keeps serving, and SIGTERM ends it", { timeout: 120_000 }, async () => {
    const port = await closedPort();
    const url = `http://127.0.0.1:${port}`;
    const child = startServer(port);
    await waitUntilServing(url, child);
    // The reader closes its ends: every later write gets EPIPE.
    child.stdout?.destroy();
    child.stderr?.destroy();
    await makeLogs(url, 300);
    const health = await fetch(`${url}/trpc/health`, { signal: AbortSignal.timeout(10_000) });
    expect(health.status).toBe(200);
    await expectExitAfterSigterm(child);
  });

  it("a reader that reads: SIGINT (Ctrl-C) ends the server with code 0, and its last line says it stopped", { timeout: 120_000 }, async () => {
    const port = await closedPort();
    const url = `http://127.0.0.1:${port}`;
    const child = startServer(port);
    let out = "";
    child.stdout?.setEncoding("utf8").on("data", (chunk: string) => (out += chunk));
    await waitUntilServing(url, child);
    child.kill("SIGINT");
    expect(await exited(child)).toEqual({ code: 0, signal: null });
    const lines = out.trim().split("\n").map((line) => JSON.parse(line) as { msg?: string });
    expect(lines.at(-1)?.msg).toMatch(/^stopped/);
    expect(lines.some((line) => line.msg === "shutting down")).toBe(true);
  });
});
