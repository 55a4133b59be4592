/**
 * The stack-postgres path's server: the API process on the run's PostgreSQL. Its rows count the API process alone
 * (the path compares the API's own cost with the other single-process paths'); what PostgreSQL's whole process tree
 * (postmaster, backends, background workers) used in the same windows is told apart (`onStop`), for the table of
 * CPU by part: a deployment on PostgreSQL pays for both.
 */
import { postgresPid, treeCpuMs } from "@streamchat/cluster";
import { type ServerProcess, type ServerSpec, startServer } from "./child.js";
import { type PartsCpu, windowedParts } from "./parts-cpu.js";

export interface PostgresServerOptions extends ServerSpec {
  /** The server's admin URL (to find the postmaster's pid). */
  adminDatabaseUrl: string;
  /** Told, when the path stops, the CPU of the API process and of PostgreSQL in the path's measured windows. */
  onStop?: (cpu: PartsCpu) => void;
}

export async function startPostgresServer(opts: PostgresServerOptions): Promise<ServerProcess> {
  const { adminDatabaseUrl, onStop, ...spec } = opts;
  // The postmaster first: a server started before a failing lookup would be left running.
  const postgres = await postgresPid(adminDatabaseUrl);
  const server = await startServer(spec);
  const parts = windowedParts(() => ({ replicas: server.cpuMs(), nginx: 0, redis: 0, postgres: treeCpuMs(postgres) }));
  let stopped = false;
  return {
    name: server.name,
    pid: server.pid,
    url: server.url,
    cpuMs: () => parts.mark().replicas,
    rssKb: () => server.rssKb(),
    gc: () => server.gc(),
    async stop() {
      if (stopped) return;
      stopped = true;
      onStop?.({ ...parts.inWindows });
      await server.stop();
    },
  };
}
