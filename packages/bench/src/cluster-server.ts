/**
 * The stack-cluster path's "server": two API replicas (bench children, like the stack path's, so they answer the
 * GC requests of the hold), nginx in front (deploy/nginx.conf, through @streamchat/cluster), on the run's Redis and
 * PostgreSQL. Its CPU is what the topology costs: both replicas, nginx with its worker, Redis, and PostgreSQL's
 * whole process tree (postmaster, backends, background workers): a replicated deployment pays for all of them.
 */
import { postgresPid, redisPid, startCluster, treeCpuMs, treeRssKb } from "@streamchat/cluster";
import { type ServerProcess, startServer } from "./child.js";
import { type PartsCpu, partsTotal, windowedParts } from "./parts-cpu.js";

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
    async stop() {
      if (stopped) return;
      stopped = true;
      opts.onStop?.({ ...parts.inWindows });
      await cluster.close();
    },
  };
}
