import react from "@vitejs/plugin-react";
import { defineConfig, type Plugin } from "vite";

// The browser bundle uses the workspace packages' built `dist` (turbo builds dependencies first);
// the type checker reads their sources through the "types" export condition.
// `pnpm dev` runs the API beside this server: on PORT as it is, or at API_URL.
const apiUrl = process.env["API_URL"] ?? `http://127.0.0.1:${process.env["PORT"] ?? "3000"}`;

/**
 * The built page's entry script gets `blocking="render"`: the browser paints nothing before main.tsx ran, and main.tsx
 * applies the chosen theme first. A plain module script runs after the parser, and Chromium sometimes paints a frame
 * before it (in the system's scheme: a white flash before a chosen Dark). The CSP allows no inline script that could
 * run sooner, and the page shows nothing before the app has run anyway. Vite writes the script tag itself and keeps no
 * attribute of index.html's; browsers without `blocking` (Firefox) ignore it.
 */
function renderBlockingEntry(): Plugin {
  return {
    name: "streamchat:render-blocking-entry",
    apply: "build",
    transformIndexHtml: {
      order: "post",
      handler(html) {
        const entry = /<script type="module" crossorigin src="([^"]+)"><\/script>/g;
        const count = html.match(entry)?.length ?? 0;
        // Fail the build rather than lose it silently if Vite ever writes the tag differently.
        if (count !== 1) throw new Error(`renderBlockingEntry: expected one entry script in index.html, found ${count}`);
        return html.replace(entry, '<script type="module" crossorigin blocking="render" src="$1"></script>');
      },
    },
  };
}

export default defineConfig({
  plugins: [react(), renderBlockingEntry()],
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
