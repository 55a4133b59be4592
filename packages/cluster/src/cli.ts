/**
 * `pnpm cluster [--replicas N] [--port P]`: the replicated topology on this machine, for trying it.
 * PostgreSQL and Redis (scripts/test-services.sh: Debian's packages, throwaway data, free loopback ports), N API
 * replicas (`pnpm start` each, on its own port), the Ollama-protocol simulator unless a model server is configured,
 * and nginx on one port in front (deploy/nginx.conf). Ctrl-C stops them all, in order, and deletes the data.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { startSimulator, type Simulator } from "@streamchat/ollama-sim";
import { type Cluster, startCluster } from "./cluster.js";
import { apiReplicaStarter } from "./replica.js";
import { type StartedServices, startServices } from "./services.js";

const usage = `Usage: pnpm cluster [--replicas 2] [--port 8080]

Starts PostgreSQL and Redis (throwaway), N API replicas and nginx on 127.0.0.1:<port> in front of them.
Without OLLAMA_HOST, OPENAI_BASE_URL or CHAT_PROVIDER in the environment the replicas answer from the
simulator (model "demo"). Every other API variable you set (AUTH_TOKENS, MAX_RUNS_PER_USER…) reaches the
replicas. --port 0 picks a free port. Ctrl-C stops everything and deletes the data and the replicas' logs
(kept when a replica exited on its own).`;

function parseCli(argv: string[]): { replicas: number; port: number } {
  const { values } = parseArgs({
    args: argv.filter((arg) => arg !== "--"),
    options: { replicas: { type: "string" }, port: { type: "string" }, help: { type: "boolean", short: "h" } },
    strict: true,
  });
  if (values.help) {
    console.log(usage);
    process.exit(0);
  }
  const replicas = Number(values.replicas ?? "2");
  const port = Number(values.port ?? "8080");
  if (!Number.isInteger(replicas) || replicas < 1 || replicas > 16) throw new Error(`--replicas must be 1 to 16, got ${values.replicas}`);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new Error(`--port must be 0 to 65535, got ${values.port}`);
  return { replicas, port };
}

const say = (line: string) => console.log(`cluster: ${line}`);

async function main(): Promise<void> {
  const args = parseCli(process.argv.slice(2));
  let services: StartedServices | undefined;
  let sim: Simulator | undefined;
  let cluster: Cluster | undefined;
  let stopping: Promise<void> | undefined;
  let logDir: string | undefined;
  /** A replica exited on its own: its log is kept for reading after the stop. */
  let crashed = false;

  const stop = (why: string) => {
    if (stopping) return stopping;
    say(`${why}: stopping the replicas (they finish or close their runs), nginx, the simulator, PostgreSQL and Redis…`);
    stopping = (async () => {
      await cluster?.close().catch((error: unknown) => say(`stopping the replicas or nginx failed: ${String(error)}`));
      await sim?.close().catch(() => {});
      await services?.stop().catch((error: unknown) => say(`stopping PostgreSQL or Redis failed: ${String(error)}`));
      if (logDir && crashed) say(`the replicas' logs are kept in ${logDir}`);
      else if (logDir) rmSync(logDir, { recursive: true, force: true });
      say("stopped");
    })();
    return stopping;
  };
  let signals = 0;
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, () => {
      signals++;
      if (signals > 1) {
        // The stop under way goes on (PostgreSQL and Redis are stopped and their data deleted): it no longer waits.
        say("second signal: killing the replicas and nginx now");
        for (const replica of cluster?.replicas ?? []) void replica.kill("SIGKILL");
        cluster?.nginx.kill();
        return;
      }
      void stop(signal).then(() => process.exit(0));
    });
  }

  try {
    services = await startServices();
    const env: Record<string, string> = { LOG_LEVEL: process.env["LOG_LEVEL"] ?? "info" };
    const modelConfigured = ["OLLAMA_HOST", "OPENAI_BASE_URL", "CHAT_PROVIDER"].some((name) => process.env[name]);
    if (!modelConfigured) {
      // One simulator for every replica, as one Ollama would be: any replica can run any conversation.
      sim = await startSimulator({ maxRecordedRequests: 0 });
      Object.assign(env, { CHAT_PROVIDER: "ollama", OLLAMA_HOST: sim.url, CHAT_MODEL: process.env["CHAT_MODEL"] ?? "demo" });
    }
    logDir = mkdtempSync(join(tmpdir(), "streamchat-cluster-logs-"));
    const logs = logDir;
    cluster = await startCluster({
      databaseUrl: services.databaseUrl,
      redisUrl: services.redisUrl,
      replicas: args.replicas,
      env,
      inheritEnv: true,
      startReplica: apiReplicaStarter({ logDir: logs }),
      nginx: args.port === 0 ? {} : { port: args.port },
    });
    say(`PostgreSQL ${services.databaseUrl}, Redis ${services.redisUrl} (data in ${services.dir}, deleted on stop)`);
    say(sim ? `model: the simulator at ${sim.url} (model "demo")` : "model: as configured in the environment");
    for (const replica of cluster.replicas) {
      say(`${replica.name}: ${replica.url} pid ${replica.pid}, replica id ${replica.replicaId() ?? "?"}, log ${join(logs, `${replica.name}.log`)}`);
      void replica.exited.then(() => {
        if (stopping) return;
        crashed = true;
        say(`${replica.name} exited on its own; nginx sends its requests to the others (log: ${join(logs, `${replica.name}.log`)}, kept after the stop)`);
      });
    }
    say(`ready: open ${cluster.url} (nginx over ${cluster.replicas.length} replicas). Ctrl-C stops everything.`);
  } catch (error) {
    say(`could not start: ${error instanceof Error ? error.message : String(error)}`);
    await stop("start-up failed");
    process.exit(1);
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
