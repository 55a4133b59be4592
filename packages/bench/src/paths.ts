import type http from "node:http";
import { v7 as timeOrderedId } from "uuid";
import { aiSdkUiSse, bareSse, ollamaNdjson, restSse, trpcEventsSse } from "./protocols.js";
import { requestJson, type StreamTarget } from "./reader.js";

/** The ways a token can travel from the simulator to the load generator. */
export const pathNames = ["direct", "bare-relay", "trpc-floor", "ai-sdk", "stack", "stack-memory", "stack-postgres", "stack-cluster-1", "stack-cluster", "stack-rest"] as const;
export type PathName = (typeof pathNames)[number];

/** Paths that need a PostgreSQL database (BENCH_DATABASE_URL); run only when one is given. */
export const postgresPaths: ReadonlySet<PathName> = new Set<PathName>(["stack-postgres", "stack-cluster-1", "stack-cluster"]);

/** Paths that also need Redis (BENCH_REDIS_URL) and nginx: replicas behind a load balancer. */
export const clusterPaths: ReadonlySet<PathName> = new Set<PathName>(["stack-cluster-1", "stack-cluster"]);

/** API replicas behind nginx on a cluster path: stack-cluster-1 one (what nginx and Redis cost alone), stack-cluster N. */
export const clusterReplicasOf = (path: PathName, replicas: number) => (path === "stack-cluster-1" ? 1 : replicas);

/** Paths a run takes only when asked for (--paths): the one-replica cluster, a reference for stack-cluster. */
export const optInPaths: ReadonlySet<PathName> = new Set<PathName>(["stack-cluster-1"]);

/**
 * The paths a run takes by default: all but the opt-in ones, the PostgreSQL ones only with a database URL, the
 * cluster one only with a Redis URL as well.
 */
export function defaultPaths(databaseUrl: string | undefined, redisUrl?: string): PathName[] {
  return pathNames.filter(
    (path) =>
      !optInPaths.has(path) &&
      (databaseUrl !== undefined || !postgresPaths.has(path)) &&
      (redisUrl !== undefined || !clusterPaths.has(path)),
  );
}

/** chat.send, then chat.events as its own request: this stack over tRPC, whatever its store or topology, and its floor. */
export const trpcStackPaths: ReadonlySet<PathName> = new Set<PathName>(["trpc-floor", "stack", "stack-memory", "stack-postgres", "stack-cluster-1", "stack-cluster"]);

export const pathDescriptions: Record<PathName, string> = {
  direct: "reader straight on the simulator's NDJSON (no server in between)",
  "bare-relay": "minimal node:http relay, NDJSON in, one SSE data event per token out",
  "trpc-floor":
    "the protocol's floor: node:http answering chat.send, then chat.events on tRPC's SSE wire; no framework, auth, validation or store",
  "ai-sdk": "AI SDK 7 streamText + ai-sdk-ollama, UI message stream (SSE) on node:http",
  stack: "this stack: tRPC chat.send + chat.events (SSE), durable SQLite log",
  "stack-memory": "this stack: tRPC chat.send + chat.events (SSE), in-memory store",
  "stack-postgres": "this stack: tRPC chat.send + chat.events (SSE), durable PostgreSQL log (API process CPU only)",
  "stack-cluster-1":
    "this stack, 1 API replica behind nginx, Redis Streams + PostgreSQL log: tRPC chat.send + chat.events (SSE); CPU of the replica, nginx, Redis and PostgreSQL",
  "stack-cluster":
    "this stack, API replicas (2; BENCH_CLUSTER_REPLICAS) behind nginx, Redis Streams + PostgreSQL log: tRPC chat.send + chat.events (SSE); CPU of the replicas, nginx, Redis and PostgreSQL",
  "stack-rest": "this stack: REST POST /api/chat/stream (SSE), durable SQLite log",
};

/** The stack runs with AUTH_TOKENS for this many bench users: MAX_RUNS_PER_USER is capped at 1000 per user. */
export const benchUsers = 16;
export const benchUserToken = (i: number) => `bench-token-${String(i).padStart(2, "0")}`;
export const benchAuthTokens = () =>
  Array.from({ length: benchUsers }, (_, i) => `bench${i}:${benchUserToken(i)}`).join(",");

function rotatingAuth(): () => Record<string, string> {
  let next = 0;
  return () => ({ authorization: `Bearer ${benchUserToken(next++ % benchUsers)}` });
}

export function targetFor(path: PathName, urls: { simUrl: string; serverUrl: string | null }, model: string): StreamTarget {
  const server = () => {
    if (urls.serverUrl === null) throw new Error(`${path} needs a server`);
    return urls.serverUrl;
  };
  switch (path) {
    case "direct":
      return {
        protocol: ollamaNdjson,
        open: async (prompt) => ({
          method: "POST",
          url: `${urls.simUrl}/api/chat`,
          body: { model, messages: [{ role: "user", content: prompt }], stream: true },
        }),
      };
    case "bare-relay":
      return { protocol: bareSse, open: async (prompt) => ({ method: "POST", url: `${server()}/chat`, body: { prompt } }) };
    case "ai-sdk":
      return { protocol: aiSdkUiSse, open: async (prompt) => ({ method: "POST", url: `${server()}/chat`, body: { prompt } }) };
    case "trpc-floor":
    case "stack":
    case "stack-memory":
    case "stack-postgres":
    case "stack-cluster-1":
    case "stack-cluster": {
      const auth = rotatingAuth();
      return {
        protocol: trpcEventsSse,
        open: async (prompt, agent: http.Agent, timeoutMs) => {
          const headers = auth();
          const sent = await requestJson(
            // With a clientRequestId, as the web app and the typed client send every message (a retry is then safe):
            // time-ordered (UUID v7), as theirs are.
            { method: "POST", url: `${server()}/trpc/chat.send`, body: { message: prompt, model, clientRequestId: timeOrderedId() }, headers },
            agent,
            timeoutMs,
          );
          const runId = (sent as { result?: { data?: { runId?: unknown } } }).result?.data?.runId;
          if (typeof runId !== "string") throw new Error(`chat.send answered without a runId: ${JSON.stringify(sent).slice(0, 200)}`);
          const input = encodeURIComponent(JSON.stringify({ runId }));
          return { method: "GET", url: `${server()}/trpc/chat.events?input=${input}`, headers };
        },
      };
    }
    case "stack-rest": {
      const auth = rotatingAuth();
      return {
        protocol: restSse,
        open: async (prompt) => ({ method: "POST", url: `${server()}/api/chat/stream`, body: { message: prompt }, headers: auth() }),
      };
    }
  }
}
