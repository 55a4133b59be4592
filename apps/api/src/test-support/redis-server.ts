import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

/**
 * A redis-server of a test's own, for tests that kill and restart it: on `port` (loopback), no persistence, its files
 * under `dir`. Resolves once it accepts connections.
 */
export async function startRedisServer(dir: string, port: number): Promise<ChildProcess> {
  const data = join(dir, `redis-${port}`);
  mkdirSync(data, { recursive: true });
  const server = spawn("redis-server", ["--bind", "127.0.0.1", "--port", String(port), "--save", "", "--appendonly", "no", "--dir", data], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`redis-server did not start:\n${output}`)), 10_000);
    server.stdout?.on("data", (chunk: Buffer) => {
      output += chunk.toString("utf8");
      if (output.includes("Ready to accept connections")) {
        clearTimeout(timer);
        resolve();
      }
    });
    server.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited (${code}):\n${output}`));
    });
  });
  return server;
}

/** Stops it (SIGKILL by default: Redis gone at once, as in a crash) and waits for its exit. */
export async function stopRedisServer(server: ChildProcess, signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
  if (server.exitCode !== null || server.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => server.once("exit", () => resolve()));
  server.kill(signal);
  await exited;
}
