import { defineConfig } from "vitest/config";

// "source" resolves workspace packages to their TypeScript source, so tests never run stale dist builds.
export default defineConfig({
  resolve: { conditions: ["source"] },
  ssr: { resolve: { conditions: ["source"] } },
  // isolate: false shares the module cache between test files of a worker: every file imports Fastify, tRPC
  // and the workspace sources, and importing them again per file tripled the suite time on a loaded box.
  // No module here keeps global state (each test starts its own server).
  test: { include: ["src/**/*.test.ts"], testTimeout: 20_000, hookTimeout: 20_000, isolate: false },
});
