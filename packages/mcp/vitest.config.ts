import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

// Workspace packages resolve to their TypeScript source, so tests never run stale dist builds. By alias
// rather than the "source" condition the other packages use: vitest hands that condition to Node, and Node,
// loading the MCP SDK, would follow it into eventsource-parser's own src/*.ts under node_modules and refuse
// to run it.
export default defineConfig({
  resolve: {
    alias: {
      "@streamchat/core": fileURLToPath(new URL("../core/src/index.ts", import.meta.url)),
      "@streamchat/ollama-sim": fileURLToPath(new URL("../ollama-sim/src/index.ts", import.meta.url)),
    },
  },
  test: { include: ["src/**/*.test.ts"], testTimeout: 20_000, hookTimeout: 20_000 },
});
