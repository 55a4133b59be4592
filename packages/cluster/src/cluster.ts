import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type NginxProcess, startNginx } from "./nginx.js";
import { type Replica, type ReplicaHandle, type ReplicaStarter, apiReplicaStarter, startReplica } from "./replica.js";

export interface ClusterOptions<R extends ReplicaHandle = Replica> {
  /** The replicas' DATABASE_URL, as is (a schema of its own: createSchema). */
  databaseUrl: string;
  /** The replicas' REDIS_URL. */
  redisUrl: string;
  /** How many API replicas (default 2). */
  replicas?: number;
  /** More API environment (provider, limits, AUTH_TOKENS…); DATABASE_URL, REDIS_URL, HOST and PORT are the cluster's. */
  env?: Record<string, string>;
  /** Start from this process's environment (the `pnpm cluster` command: a user's OLLAMA_HOST, AUTH_TOKENS…); tests leave it off. */
  inheritEnv?: boolean;
  /** How replicas are started (default: apps/api's server, from source under tests). */
  startReplica?: ReplicaStarter<R>;
  /** nginx's port (default: a free one) and worker count (default 1). */
  nginx?: { port?: number; workerProcesses?: number };
  /** Where nginx's files go (default: a temp directory removed by close()). */
  dir?: string;
}

export interface Cluster<R extends ReplicaHandle = Replica> {
  /** nginx: the one address clients use. */
  readonly url: string;
  readonly replicas: R[];
  readonly nginx: NginxProcess;
  /** The environment every replica got (without HOST and PORT). */
  readonly replicaEnv: Record<string, string>;
  /** Stops the replicas (SIGTERM, in parallel: each closes its runs), then nginx. */
  close(): Promise<void>;
}

function inheritedEnv(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) if (value !== undefined) out[key] = value;
  return out;
}

/**
 * N API replicas on one PostgreSQL and one Redis, nginx in front (deploy/nginx.conf): the topology of
 * docs/scaling.md on loopback ports. The services must be up (startServices or the test run's).
 */
export async function startCluster(opts: ClusterOptions<Replica>): Promise<Cluster<Replica>>;
export async function startCluster<R extends ReplicaHandle>(opts: ClusterOptions<R> & { startReplica: ReplicaStarter<R> }): Promise<Cluster<R>>;
export async function startCluster<R extends ReplicaHandle>(opts: ClusterOptions<R>): Promise<Cluster<R>> {
  const count = opts.replicas ?? 2;
  const starter = (opts.startReplica ?? apiReplicaStarter()) as ReplicaStarter<R>;
  const base = opts.inheritEnv ? inheritedEnv() : { PATH: process.env["PATH"] ?? "", HOME: process.env["HOME"] ?? "" };
  const replicaEnv: Record<string, string> = { ...base, ...opts.env, DATABASE_URL: opts.databaseUrl, REDIS_URL: opts.redisUrl };
  const ownDir = opts.dir === undefined;
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), "streamchat-cluster-"));
  const replicas: R[] = [];
  let nginx: NginxProcess | undefined;
  const close = async () => {
    await Promise.all(replicas.map((r) => r.stop()));
    await nginx?.stop();
    if (ownDir) rmSync(dir, { recursive: true, force: true });
  };
  try {
    // One at a time: the first creates the schema's tables, and two cold tsx starts at once double the wait on 2 cores.
    for (let i = 1; i <= count; i++) replicas.push(await startReplica(starter, `api-${i}`, replicaEnv));
    nginx = await startNginx({
      upstreams: replicas.map((r) => `127.0.0.1:${r.port}`),
      dir: join(dir, "nginx"),
      ...(opts.nginx?.port === undefined ? {} : { port: opts.nginx.port }),
      ...(opts.nginx?.workerProcesses === undefined ? {} : { workerProcesses: opts.nginx.workerProcesses }),
    });
  } catch (error) {
    await close().catch(() => {});
    throw error;
  }
  const proxy = nginx;
  return { url: proxy.url, replicas, nginx: proxy, replicaEnv, close };
}
