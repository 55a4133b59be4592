import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream, type WriteStream } from "node:fs";
import { join } from "node:path";
import { freePort } from "./free-port.js";
import { apiNodeFlags } from "./node-flags.js";
import { apiDir, runningFromSource } from "./paths.js";
import { hasExited, stopChild, waitUntil } from "./process.js";

/** What the cluster needs of a replica: a process on a loopback port it can stop. */
export interface ReplicaHandle {
  /** "api-1", "api-2", … */
  readonly name: string;
  readonly pid: number;
  readonly port: number;
  /** http://127.0.0.1:<port>, straight to this replica (not through nginx). */
  readonly url: string;
  /** SIGTERM (the replica finishes or closes its runs), SIGKILL after `timeoutMs`. */
  stop(timeoutMs?: number): Promise<void>;
}

/** An API replica started by apiReplicaStarter (`pnpm cluster`, the tests). */
export interface Replica extends ReplicaHandle {
  /** The id the API logged at start-up (`replica <id> on the … store`), once it did. */
  replicaId(): string | undefined;
  /** Resolves when the process has exited (for whatever reason). */
  readonly exited: Promise<void>;
  /** Its stdout and stderr so far (the last MB). */
  output(): string;
  /** Sends a signal and waits for the exit (SIGKILL: a crash; SIGTERM: a rolling deploy's graceful stop). */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export interface ReplicaSpec {
  name: string;
  port: number;
  /** The API's environment (DATABASE_URL, REDIS_URL, provider…); HOST and PORT are set by the caller. */
  env: Record<string, string>;
}

/** How a replica process is started: the default runs apps/api's server; the bench passes its own (IPC, GC). */
export type ReplicaStarter<R extends ReplicaHandle = Replica> = (spec: ReplicaSpec) => Promise<R>;

export interface ApiReplicaOptions {
  /** Run apps/api/src/server.ts through tsx (tests) rather than apps/api/dist/server.js (`pnpm cluster`). */
  source?: boolean;
  /** Also append its output to <logDir>/<name>.log. */
  logDir?: string;
  startTimeoutMs?: number;
}

const maxOutput = 1024 * 1024;

/** apps/api's server (`pnpm start`) as a child process, ready once its /healthz answers 200. */
export function apiReplicaStarter(opts: ApiReplicaOptions = {}): ReplicaStarter<Replica> {
  const source = opts.source ?? runningFromSource;
  return async (spec) => {
    const args = [...apiNodeFlags(), ...(source ? ["--conditions=source", "--import", "tsx", "src/server.ts"] : ["dist/server.js"])];
    const child = spawn(process.execPath, args, {
      cwd: apiDir,
      env: { ...spec.env, HOST: "127.0.0.1", PORT: String(spec.port) },
      stdio: ["ignore", "pipe", "pipe"],
      // Its own process group: Ctrl-C reaches the cluster command, which stops the replicas itself, in order.
      detached: true,
    });
    const log: WriteStream | undefined = opts.logDir ? createWriteStream(join(opts.logDir, `${spec.name}.log`), { flags: "a" }) : undefined;
    let output = "";
    const onData = (chunk: Buffer) => {
      output += chunk.toString("utf8");
      if (output.length > maxOutput) output = output.slice(-maxOutput);
      log?.write(chunk);
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", () => log?.end());
    const url = `http://127.0.0.1:${spec.port}`;
    const replica = describeReplica(spec, child, url, () => output);
    try {
      await waitUntil(() => healthy(url), { timeoutMs: opts.startTimeoutMs ?? 60_000, what: `${spec.name} (${url})`, child });
    } catch (error) {
      await replica.kill("SIGKILL");
      throw new Error(`${(error as Error).message}\n${output.slice(-4_000)}`);
    }
    return replica;
  };
}

function describeReplica(spec: ReplicaSpec, child: ChildProcess, url: string, output: () => string): Replica {
  const exited = new Promise<void>((resolve) => {
    if (hasExited(child)) resolve();
    else child.once("exit", () => resolve());
  });
  return {
    name: spec.name,
    pid: child.pid as number,
    port: spec.port,
    url,
    exited,
    replicaId: () => /"replicaId":"([^"]+)"/.exec(output())?.[1],
    output,
    async kill(signal = "SIGKILL") {
      if (!hasExited(child)) child.kill(signal);
      await exited;
    },
    stop: (timeoutMs = 30_000) => stopChild(child, "SIGTERM", timeoutMs),
  };
}

async function healthy(url: string): Promise<boolean> {
  try {
    const response = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2_000) });
    await response.body?.cancel();
    return response.status === 200;
  } catch {
    return false;
  }
}

/** Starts a replica on a free port; a port taken meanwhile (the process exits at once) gets a second try. */
export async function startReplica<R extends ReplicaHandle>(starter: ReplicaStarter<R>, name: string, env: Record<string, string>): Promise<R> {
  let lastError: unknown;
  for (let attempt = 1; attempt <= 2; attempt++) {
    try {
      return await starter({ name, port: await freePort(), env });
    } catch (error) {
      lastError = error;
      if (!/EADDRINUSE/.test(String((error as Error).message))) break;
    }
  }
  throw lastError;
}
