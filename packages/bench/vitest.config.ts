import { defineConfig } from "vitest/config";
import { workspaceSourceAliases } from "../../scripts/workspace-source.js";

// Workspace packages resolve to their TypeScript source (scripts/workspace-source.ts says why by alias).
export default defineConfig({
  resolve: { alias: workspaceSourceAliases() },
  test: { include: ["src/**/*.test.ts"], testTimeout: 20_000, hookTimeout: 20_000 },
});
