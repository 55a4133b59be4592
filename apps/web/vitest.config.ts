import react from "@vitejs/plugin-react";
import { defineConfig } from "vitest/config";

// "source" resolves workspace packages to their TypeScript source, so tests never run stale dist builds.
const workspaceSource = {
  resolve: { conditions: ["source"] },
  ssr: { resolve: { conditions: ["source"] } },
};

export default defineConfig({
  test: {
    projects: [
      {
        ...workspaceSource,
        plugins: [react()],
        test: {
          name: "unit",
          include: ["src/**/*.test.{ts,tsx}"],
          exclude: ["src/e2e/**"],
          environment: "node",
          testTimeout: 20_000,
        },
      },
      {
        // Real Chromium against the real API (in-process, simulator as the model) serving a fresh build.
        ...workspaceSource,
        test: {
          name: "e2e",
          include: ["src/e2e/**/*.e2e.test.ts"],
          environment: "node",
          // Builds apps/web/dist once before the browser tests (the API serves it).
          globalSetup: ["src/e2e/global-setup.ts"],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
