import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// The browser bundle uses the workspace packages' built `dist` (turbo builds dependencies first);
// the type checker reads their sources through the "types" export condition.
// `pnpm dev` runs the API beside this server: on PORT as it is, or at API_URL.
const apiUrl = process.env["API_URL"] ?? `http://127.0.0.1:${process.env["PORT"] ?? "3000"}`;

export default defineConfig({
  plugins: [react()],
  server: {
    // Vite's proxy does not forward client disconnects (vitejs/vite#12157): test Stop against the API directly.
    proxy: {
      "/trpc": { target: apiUrl, changeOrigin: false },
      "/api": { target: apiUrl, changeOrigin: false },
    },
  },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    sourcemap: true,
    rolldownOptions: {
      output: {
        // Libraries change less often than the app: separate chunks stay cached across deploys.
        codeSplitting: {
          groups: [
            { name: "react", test: /node_modules[\\/](react|react-dom|scheduler)[\\/]/ },
            { name: "data", test: /node_modules[\\/](@trpc|@tanstack|zod)[\\/]/ },
            // Earlier groups win ties, so this takes the rest of node_modules (markdown, highlighting) that the app
            // loads at start ($initial). What only a lazily loaded module uses stays with it: the math renderer
            // (KaTeX, ~290 kB) loads with the first answer that may hold math (Markdown.tsx).
            { name: "vendor", test: /node_modules[\\/]/, tags: ["$initial"] },
          ],
        },
      },
    },
  },
});
