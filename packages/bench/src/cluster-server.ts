/**
 * The stack-cluster path's "server": two API replicas (bench children, like the stack path's, so they answer the
 * GC requests of the hold), nginx in front (deploy/nginx.conf, through @streamchat/cluster), on the run's Redis and
 * PostgreSQL. Its CPU is what the topology costs: both replicas, nginx with its worker, Redis, and PostgreSQL's
 * whole process tree (postmaster, backends, background workers): a replicated deployment pays for all of them.
 */
import { postgresPid, redisPid, startCluster, treeCpuMs, treeRssKb } from "@streamchat/cluster";
import { type ServerProcess, startServer } from "./child.js";
import { type PartsCpu, partsTotal, windowedParts } from "./parts-cpu.js";
import type { AsyncCounts } from "./servers/child-ipc.js";

export interface ClusterServerOptions {
  name: string;
  /** The replicas' environment (DATABASE_URL among it: the run's schema). */
  env: Record<string, string>;
  /** The server's admin URL (to find the postmaster's pid). */
  adminDatabaseUrl: string;
  redisUrl: string;
  replicas?: number;
  /** Told, when the path stops, the CPU each part used in the path's measured windows. */
  onStop?: (cpu: PartsCpu) => void;
  cpuProfileDir?: string;
  /** Preload the counter in every replica (`pnpm bench --count`): the path's `counts` are then the replicas' sum. */
  countAsync?: boolean;
}

export async function startClusterServer(opts: ClusterServerOptions): Promise<ServerProcess> {
  const databaseUrl = opts.env["DATABASE_URL"];
  if (!databaseUrl) throw new Error(`${opts.name}: no DATABASE_URL`);
  const [postgres, redis] = await Promise.all([postgresPid(opts.adminDatabaseUrl), redisPid(opts.redisUrl)]);
  const children: ServerProcess[] = [];
  const cluster = await startCluster({
    databaseUrl,
    redisUrl: opts.redisUrl,
    replicas: opts.replicas ?? 2,
    env: opts.env,
    startReplica: async (spec) => {
      const child = await startServer({
        name: `${opts.name}/${spec.name}`,
        entry: "servers/stack",
        env: { ...spec.env, HOST: "127.0.0.1", PORT: String(spec.port) },
        startTimeoutMs: 60_000,
        ...(opts.cpuProfileDir ? { cpuProfileDir: opts.cpuProfileDir } : {}),
        ...(opts.countAsync ? { countAsync: true } : {}),
      });
      children.push(child);
      return { name: spec.name, pid: child.pid, port: spec.port, url: child.url, stop: () => child.stop() };
    },
  });
  // Only the path's measured windows count in the split by part (parts-cpu.ts).
  const parts = windowedParts(() => ({
    replicas: children.reduce((sum, child) => sum + child.cpuMs(), 0),
    nginx: treeCpuMs(cluster.nginx.pid),
    redis: treeCpuMs(redis),
    postgres: treeCpuMs(postgres),
  }));
  let stopped = false;
  return {
    name: opts.name,
    pid: cluster.nginx.pid,
    url: cluster.url,
    cpuMs: () => partsTotal(parts.mark()),
    // PostgreSQL is left out: every backend maps the same shared buffers, so summing its processes' RSS would count
    // them once per connection.
    rssKb: () => children.reduce((sum, child) => sum + child.rssKb(), 0) + treeRssKb(cluster.nginx.pid) + treeRssKb(redis),
    gc: async () => ({ vmFixedKb: (await Promise.all(children.map((child) => child.gc()))).reduce((sum, report) => sum + report.vmFixedKb, 0) }),
    // A stream's work is split between the replicas (nginx sends chat.send and chat.events where it likes): their sum
    // is the path's. nginx, Redis and PostgreSQL run no JavaScript and are not in it.
    allocatedBytes: async () => (await Promise.all(children.map((child) => child.allocatedBytes?.() ?? noMeter(child.name)))).reduce((a, b) => a + b, 0),
    ...(opts.countAsync ? { counts: async () => (await Promise.all(children.map((child) => child.counts?.() ?? noMeter(child.name)))).reduce(addCounts) } : {}),
    async stop() {
      if (stopped) return;
      stopped = true;
      opts.onStop?.({ ...parts.inWindows });
      await cluster.close();
    },
  };
}

const noMeter = (name: string): Promise<never> => Promise.reject(new Error(`${name} was started without that meter`));

function addCounts(a: AsyncCounts, b: AsyncCounts): AsyncCounts {
  const sum = { ...a };
  for (const key of Object.keys(b) as Array<keyof AsyncCounts>) sum[key] = a[key] + b[key];
  return sum;
}
