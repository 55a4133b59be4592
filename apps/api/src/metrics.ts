import { timingSafeEqual } from "node:crypto";
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { FastifyInstance } from "fastify";
import { bearerToken, tokenDigest } from "./auth.js";
import type { RunObserver } from "./runs/run-manager.js";

/** What the gauges read when scraped. */
export interface MetricsSources {
  activeRuns(): number;
  subscriptions(): number;
  /** 1 when the store answers. */
  storeUp(): Promise<boolean>;
  /** Cluster mode only (REDIS_URL): without it there is no streamchat_redis_up series at all. */
  redisUp?: () => Promise<boolean>;
}

/** Time-to-first-token buckets (seconds): a local model answers in tens of ms, a loaded one in seconds. */
const ttftBuckets = [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * The API's Prometheus metrics (names prefixed streamchat_), on a registry of its own per server (tests start many
 * servers in one process; prom-client's global registry would mix them). Every replica serves its own; Prometheus
 * sums them. Label-less histograms print their _bucket lines from the start, also before any observation.
 */
export class ApiMetrics {
  readonly registry = new Registry();
  readonly observer: RunObserver;
  /** Counts the token events TOKEN_EVENTS_MAX_AGE_DAYS deleted (TokenEventPruner's `onPruned`). */
  readonly tokenEventsPruned: (deleted: number) => void;

  constructor(sources: MetricsSources, replicaId: string) {
    const registers = [this.registry];
    this.registry.setDefaultLabels({ replica: replicaId });
    const started = new Counter({ name: "streamchat_runs_started_total", help: "Runs started on this replica.", registers });
    const resumed = new Counter({
      name: "streamchat_runs_resumed_total",
      help: "Runs another process started and left waiting for approval, continued on this replica (their end counts in finished).",
      registers,
    });
    const finished = new Counter({
      name: "streamchat_runs_finished_total",
      help: "Runs that ended on this replica, by done reason.",
      labelNames: ["reason"] as const,
      registers,
    });
    const ttft = new Histogram({
      name: "streamchat_ttft_seconds",
      help: "Time from a run's start to its first answer token.",
      buckets: ttftBuckets,
      registers,
    });
    new Gauge({
      name: "streamchat_runs_active",
      help: "Runs executing on this replica.",
      registers,
      collect() {
        this.set(sources.activeRuns());
      },
    });
    new Gauge({
      name: "streamchat_subscriptions_active",
      help: "Open chat.events subscriptions (and other followers of runs) on this replica.",
      registers,
      collect() {
        this.set(sources.subscriptions());
      },
    });
    new Gauge({
      name: "streamchat_store_up",
      help: "1 when the database answers.",
      registers,
      async collect() {
        this.set((await sources.storeUp()) ? 1 : 0);
      },
    });
    const redisUp = sources.redisUp;
    if (redisUp) {
      new Gauge({
        name: "streamchat_redis_up",
        help: "1 when Redis answers (cluster mode only; absent in embedded mode).",
        registers,
        async collect() {
          this.set((await redisUp()) ? 1 : 0);
        },
      });
    }
    new Counter({
      name: "streamchat_process_cpu_seconds_total",
      help: "CPU time (user + system) of this process.",
      registers,
      collect() {
        const { user, system } = process.cpuUsage();
        this.reset();
        this.inc((user + system) / 1e6);
      },
    });
    const pruned = new Counter({
      name: "streamchat_token_events_pruned_total",
      help: "Token events of old finished runs this replica deleted (TOKEN_EVENTS_MAX_AGE_DAYS).",
      registers,
    });
    this.tokenEventsPruned = (deleted) => pruned.inc(deleted);
    this.observer = {
      started: () => started.inc(),
      resumed: () => resumed.inc(),
      finished: (_run, done) => {
        finished.inc({ reason: done?.reason ?? "interrupted" });
        const ttftMs = done?.usage.ttftMs;
        if (ttftMs !== null && ttftMs !== undefined && ttftMs > 0) ttft.observe(ttftMs / 1000);
      },
    };
  }

  /** GET /metrics: Prometheus text; with METRICS_TOKEN set, only for `Authorization: Bearer <token>`. */
  register(app: FastifyInstance, token: string | undefined): void {
    // Read and compared as every other route's bearer token (auth.ts: the scheme in any case, as RFC 9110 says).
    const expected = token === undefined ? undefined : tokenDigest(token);
    app.get("/metrics", async (request, reply) => {
      if (expected) {
        const given = bearerToken(request.headers.authorization);
        if (given === undefined || !timingSafeEqual(tokenDigest(given), expected)) {
          return reply.code(401).header("www-authenticate", "Bearer").send({ error: "A valid metrics token is required.", code: "unauthorized" });
        }
      }
      const text = await this.registry.metrics();
      return reply.code(200).header("content-type", this.registry.contentType).header("cache-control", "no-store").send(text);
    });
  }
}
