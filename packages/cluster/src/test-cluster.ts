import { type Cluster, type ClusterOptions, startCluster } from "./cluster.js";
import { nginxBinary } from "./paths.js";
import { treeCpuMs } from "./proc-tree.js";
import { type Schema, type ServiceUrls, createSchema, postgresPid, redisPid, servicesFromEnv, startServices } from "./services.js";

/**
 * Whether the replicated topology can run here: the test run's PostgreSQL and Redis (scripts/test-services.sh:
 * `pnpm test:pg`, .ci/run) and an nginx binary. Service-backed tests run when it can and, under CI=true, fail
 * when it cannot (CI provides them all), like the other PostgreSQL tests.
 */
export function clusterAvailability(env: NodeJS.ProcessEnv = process.env): { urls: ServiceUrls | null; missing: string[] } {
  const { urls, missing } = servicesFromEnv(env);
  const nginx = nginxBinary(env);
  return { urls: nginx ? urls : null, missing: [...missing, ...(nginx ? [] : ["nginx (apt-get install nginx, or STREAMCHAT_NGINX)"])] };
}

export const inCi = process.env["CI"] === "true" || process.env["CI"] === "1";

export interface TestCluster extends Cluster {
  /** The schema the replicas' data lives in (dropped by close()). */
  readonly schema: Schema;
  readonly services: ServiceUrls;
  /** Processes whose CPU is the cluster's cost: replicas, nginx (with its workers), PostgreSQL's and Redis's servers. */
  readonly pids: { replicas: number[]; nginx: number; postgres: number; redis: number };
  /** CPU (ms) used so far by each part; PostgreSQL and nginx count their whole process trees. */
  cpuMs(): { replicas: number; nginx: number; postgres: number; redis: number; total: number };
}

export interface TestClusterOptions extends Omit<ClusterOptions, "databaseUrl" | "redisUrl"> {
  /** The services to use (default: the test run's, from the environment; else started here and stopped by close()). */
  services?: ServiceUrls;
  /** Use the test run's services only: fail instead of starting them (default false). */
  requireRunningServices?: boolean;
}

/**
 * The topology of `pnpm cluster`, for a test suite (start it once in beforeAll): N replicas (source, fresh schema)
 * behind nginx on the test run's PostgreSQL and Redis.
 */
export async function startTestCluster(opts: TestClusterOptions = {}): Promise<TestCluster> {
  let services = opts.services ?? servicesFromEnv().urls ?? undefined;
  let stopServices: (() => Promise<void>) | undefined;
  if (!services) {
    if (opts.requireRunningServices) throw new Error(`no test services: ${servicesFromEnv().missing.join(", ")} not set`);
    const started = await startServices();
    services = { databaseUrl: started.databaseUrl, redisUrl: started.redisUrl };
    stopServices = started.stop;
  }
  let schema: Schema | undefined;
  let cluster: Cluster | undefined;
  try {
    const [postgres, redis] = await Promise.all([postgresPid(services.databaseUrl), redisPid(services.redisUrl)]);
    schema = await createSchema(services.databaseUrl);
    const { services: _services, requireRunningServices: _require, ...clusterOpts } = opts;
    cluster = await startCluster({ ...clusterOpts, databaseUrl: schema.url, redisUrl: services.redisUrl });
    const pids = { replicas: cluster.replicas.map((r) => r.pid), nginx: cluster.nginx.pid, postgres, redis };
    const own = cluster;
    const ownSchema = schema;
    const readCpu = (pid: number) => {
      try {
        return treeCpuMs(pid);
      } catch {
        return 0; // a replica a test killed
      }
    };
    return {
      ...own,
      url: own.url,
      replicas: own.replicas,
      nginx: own.nginx,
      schema: ownSchema,
      services,
      pids,
      cpuMs() {
        const parts = {
          replicas: pids.replicas.reduce((sum, pid) => sum + readCpu(pid), 0),
          nginx: readCpu(pids.nginx),
          postgres: readCpu(pids.postgres),
          redis: readCpu(pids.redis),
        };
        return { ...parts, total: parts.replicas + parts.nginx + parts.postgres + parts.redis };
      },
      async close() {
        await own.close();
        await ownSchema.drop().catch(() => {});
        await stopServices?.();
      },
    };
  } catch (error) {
    await cluster?.close().catch(() => {});
    await schema?.drop().catch(() => {});
    await stopServices?.().catch(() => {});
    throw error;
  }
}
