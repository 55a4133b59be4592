import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import type { Simulator } from "@streamchat/ollama-sim";
import { type BenchSchema, clusterSpecOf, createBenchSchema, serverSpecOf, startBenchSimulator } from "./bench.js";
import { type ServerProcess, startServer } from "./child.js";
import { startClusterServer } from "./cluster-server.js";
import { clusterPaths, type PathName, postgresPaths } from "./paths.js";

/**
 * One path at a time, each on a fresh server of its own with nothing else running in its process, against one bench
 * simulator: `measure` gives each path's row. The runs that measure a server rather than time it (`--count`, `--heap`,
 * `--alloc`). A path on PostgreSQL (stack-postgres, the cluster paths) gets a schema of its own in `databaseUrl`,
 * dropped after its server stops; a cluster path (`redisUrl` too) is its replicas behind nginx (cluster-server.ts).
 */
export async function onFreshServers<Row>(
  paths: readonly PathName[],
  opts: { tempPrefix: string; countAsync?: boolean | undefined; databaseUrl?: string | undefined; redisUrl?: string | undefined; clusterReplicas?: number | undefined },
  measure: (path: PathName, server: ServerProcess, sim: Simulator, dir: string) => Promise<Row>,
): Promise<Row[]> {
  const dir = mkdtempSync(join(os.tmpdir(), opts.tempPrefix));
  const sim = await startBenchSimulator();
  const rows: Row[] = [];
  try {
    for (const path of paths) {
      let schema: BenchSchema | undefined;
      if (postgresPaths.has(path)) {
        if (opts.databaseUrl === undefined) throw new Error(`${path} needs a PostgreSQL URL (BENCH_DATABASE_URL)`);
        schema = await createBenchSchema(opts.databaseUrl);
      }
      try {
        const server =
          clusterPaths.has(path) && schema
            ? await startClusterServer({
                ...clusterSpecOf(path, sim.url, dir, {
                  schemaUrl: schema.url,
                  databaseUrl: opts.databaseUrl!,
                  redisUrl: redisUrlFor(path, opts.redisUrl),
                  replicas: opts.clusterReplicas,
                }),
                countAsync: opts.countAsync === true,
              })
            : await startServer({ ...serverSpecOf(path, sim.url, dir, schema?.url), countAsync: opts.countAsync });
        try {
          rows.push(await measure(path, server, sim, dir));
        } finally {
          await server.stop();
        }
      } finally {
        await schema?.drop();
      }
    }
  } finally {
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

function redisUrlFor(path: PathName, redisUrl: string | undefined): string {
  if (redisUrl === undefined) throw new Error(`${path} needs a Redis URL (BENCH_REDIS_URL)`);
  return redisUrl;
}
