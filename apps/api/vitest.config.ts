import { configDefaults, defineConfig, type TestProjectInlineConfiguration } from "vitest/config";
import { workspaceSourceAliases } from "../../scripts/workspace-source.js";

/**
 * Two projects: the suite on SQLite ("sqlite", every test) and again on PostgreSQL ("postgres": every test whose
 * outcome depends on the store; the pure unit tests below run once). The postgres project needs a throwaway
 * cluster's admin URL in STREAMCHAT_TEST_DATABASE_URL (`pnpm test:pg`, or `scripts/test-services.sh run …`); it
 * makes one database for the run (src/test-support/postgres-setup.ts) and a schema per API a test starts. Without
 * the variable it is skipped with a notice; under CI=true that is an error instead: CI never passes without it.
 */
const postgresUrl = process.env["STREAMCHAT_TEST_DATABASE_URL"];
const inCi = process.env["CI"] === "true" || process.env["CI"] === "1";

/** Tests that never reach the store (or only its in-memory kind): the same on every backend. */
const backendIndependent = [
  "src/config.test.ts",
  "src/host-guard.test.ts",
  "src/log-destination.test.ts",
  "src/body-guard.test.ts",
  "src/provider.test.ts",
  "src/shutdown-logs.test.ts",
  "src/startup-database.test.ts",
  "src/runs/run-outcome.test.ts",
  "src/runs/approve-call.test.ts",
  "src/runs/token-coalescer.test.ts",
  "src/runs/transcript.test.ts",
  "src/runs/subscribe.test.ts",
  "src/runs/live-runs.test.ts",
  "src/runs/named-model.test.ts",
  "src/router/model-list-cache.test.ts",
  "src/router/model-words.test.ts",
  "src/feed/conversation-feed.test.ts",
  "src/feed/feed-publisher.test.ts",
  "src/cluster/blocking-stream-reader.test.ts",
  "src/titles/title-prompt.test.ts",
  // Their own routers and Redis connections, no store: ~50 s of the PostgreSQL project's time, for the same tests.
  "src/sse/conformance.test.ts",
  "src/sse/subscription-stream.test.ts",
  "src/sse/ping-clock.test.ts",
  "src/lean-mutations.test.ts",
  "src/cluster/redis-connection.test.ts",
  "src/cluster/control-channel.test.ts",
  "src/cluster/redis-keys.test.ts",
  "src/cluster/run-event-script.test.ts",
  "src/cluster/run-stream-followers.test.ts",
  "src/node-flags.test.ts",
  "src/response-shape.test.ts",
  "src/security-headers.test.ts",
  "src/trpc.test.ts",
];

/** The run's temp directory (reliability suites' data dirs), removed at its end. */
const tempRoot = "src/test-support/temp-root.ts";

const projects: TestProjectInlineConfiguration[] = [
  { extends: true, test: { name: "sqlite", env: { STREAMCHAT_TEST_BACKEND: "sqlite" }, globalSetup: [tempRoot] } },
];
if (postgresUrl) {
  projects.push({
    extends: true,
    test: {
      name: "postgres",
      env: { STREAMCHAT_TEST_BACKEND: "postgres" },
      exclude: [...configDefaults.exclude, ...backendIndependent],
      globalSetup: [tempRoot, "src/test-support/postgres-setup.ts"],
    },
  });
} else if (inCi) {
  throw new Error(
    "STREAMCHAT_TEST_DATABASE_URL is not set: under CI=true the API suite must also run on PostgreSQL " +
      "(scripts/test-services.sh run pnpm test, or pnpm test:pg).",
  );
} else {
  // Once per run, although vitest evaluates this file more than once.
  const noticed = Symbol.for("streamchat.api.postgres-skipped");
  const global = globalThis as Record<symbol, unknown>;
  if (!global[noticed]) {
    global[noticed] = true;
    console.warn(
      "[postgres] SKIPPED the API suite on PostgreSQL: STREAMCHAT_TEST_DATABASE_URL is not set " +
        "(run `pnpm test:pg`, or `scripts/test-services.sh run pnpm --filter @streamchat/api test`).",
    );
  }
}

// Workspace packages resolve to their TypeScript source (scripts/workspace-source.ts says why by alias).
export default defineConfig({
  resolve: { alias: workspaceSourceAliases() },
  // isolate: false shares the module cache between test files of a worker: every file imports Fastify, tRPC
  // and the workspace sources, and importing them again per file tripled the suite time on a loaded box.
  // No module here keeps global state (each test starts its own server).
  test: { include: ["src/**/*.test.ts"], testTimeout: 20_000, hookTimeout: 20_000, isolate: false, projects },
});
