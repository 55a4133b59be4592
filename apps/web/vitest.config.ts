import react from "@vitejs/plugin-react";
import { defineConfig } from "vitest/config";
import { workspaceSourceAliases } from "../../scripts/workspace-source.js";

// Workspace packages resolve to their TypeScript source (scripts/workspace-source.ts says why by alias).
const workspaceSource = { resolve: { alias: workspaceSourceAliases() } };

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
