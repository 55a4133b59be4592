import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { connect } from "node:net";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { apiNodeFlags } from "./node-flags.js";
import { processTree } from "./proc-tree.js";
import { clusterAvailability } from "./test-cluster.js";

// `pnpm cluster` as a user runs it: its own PostgreSQL and Redis, a replica, nginx; Ctrl-C (SIGINT) stops everything
// and deletes the data, also when the user presses it twice. Run from source (tsx), so no build is needed.

const { urls } = clusterAvailability();
const packageDir = fileURLToPath(new URL("..", import.meta.url));

interface RunningCli {
  child: ChildProcess;
  output(): string;
  exit: Promise<number | null>;
}

function startCli(args: string[]): RunningCli {
  const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: "warn" };
  // The simulator answers: a model server configured for the test run must not leak in.
  for (const name of ["OLLAMA_HOST", "OPENAI_BASE_URL", "CHAT_PROVIDER", "DATABASE_URL", "REDIS_URL"]) delete env[name];
  const child = spawn(process.execPath, ["--import", "tsx", "src/cli.ts", ...args], { cwd: packageDir, env, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
  const exit = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, output: () => output, exit };
}

async function until<T>(read: () => T | undefined, what: string, cli: RunningCli, ms = 120_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = read();
    if (value !== undefined) return value;
    if (Date.now() > deadline || cli.child.exitCode !== null) throw new Error(`no ${what}; output:\n${cli.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const refused = (url: string) =>
  new Promise<boolean>((resolve) => {
    const { hostname, port } = new URL(url);
    const socket = connect(Number(port), hostname);
    socket.once("connect", () => {
      socket.destroy();
      resolve(false);
    });
    socket.once("error", () => resolve(true));
  });

/** Starts `pnpm cluster --replicas 1 --port 0`, waits until it is ready and answers through nginx. */
async function readyCli(): Promise<{ cli: RunningCli; url: string; databaseUrl: string; redisUrl: string; dataDir: string }> {
  const cli = startCli(["--replicas", "1", "--port", "0"]);
  const url = await until(() => /ready: open (http:\/\/\S+) /.exec(cli.output())?.[1], "ready line", cli);
  const services = /PostgreSQL (\S+), Redis (\S+) \(data in (\S+), deleted on stop\)/.exec(cli.output());
  expect(services).not.toBeNull();
  const health = await fetch(`${url}/healthz`);
  expect(health.status).toBe(200);
  expect(await health.json()).toMatchObject({ ok: true, store: { ok: true }, redis: { ok: true } });
  return { cli, url, databaseUrl: services![1]!, redisUrl: services![2]!, dataDir: services![3]! };
}

describe.runIf(urls !== null)("pnpm cluster", () => {
  it("serves through nginx, and Ctrl-C stops the replica, nginx, PostgreSQL and Redis and deletes the data", async () => {
    const { cli, url, databaseUrl, redisUrl, dataDir } = await readyCli();
    // The replica runs with the API's Node flags, as `pnpm start` does.
    const commandLines = processTree(cli.child.pid!).map((pid) => readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0"));
    const replica = commandLines.find((args) => args.includes("src/server.ts"));
    expect(replica?.slice(1, 1 + apiNodeFlags().length)).toEqual(apiNodeFlags());
    cli.child.kill("SIGINT");
    expect(await cli.exit).toBe(0);
    expect(cli.output()).toContain("cluster: stopped");
    expect(existsSync(dataDir)).toBe(false);
    // The replicas' logs go too (no replica exited on its own).
    const logFile = / log (\S+\.log)/.exec(cli.output())?.[1];
    expect(logFile).toBeDefined();
    expect(existsSync(dirname(logFile!))).toBe(false);
    expect(await Promise.all([refused(url), refused(databaseUrl), refused(redisUrl)])).toEqual([true, true, true]);
  });

  it("stops everything too when Ctrl-C is pressed twice (the second kills the replicas at once)", async () => {
    const { cli, url, databaseUrl, redisUrl, dataDir } = await readyCli();
    cli.child.kill("SIGINT");
    await until(() => (cli.output().includes("stopping the replicas") ? true : undefined), "stopping line", cli, 10_000);
    cli.child.kill("SIGINT");
    expect(await cli.exit).toBe(0);
    expect(cli.output()).toContain("second signal");
    expect(existsSync(dataDir)).toBe(false);
    expect(await Promise.all([refused(url), refused(databaseUrl), refused(redisUrl)])).toEqual([true, true, true]);
  });
});
