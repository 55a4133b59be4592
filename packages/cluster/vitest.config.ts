import { defineConfig } from "vitest/config";

// "source" resolves workspace packages to their TypeScript source, so tests never run stale dist builds.
export default defineConfig({
  resolve: { conditions: ["source"] },
  ssr: { resolve: { conditions: ["source"] } },
  test: { include: ["src/**/*.test.ts"], testTimeout: 60_000, hookTimeout: 120_000 },
});
