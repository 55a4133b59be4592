import { fileURLToPath } from "node:url";
import { build } from "vite";

/** Builds apps/web/dist once: the API serves it at `/`, exactly as in production. */
export default async function setup(): Promise<void> {
  const root = fileURLToPath(new URL("../..", import.meta.url));
  await build({ root, configFile: `${root}/vite.config.ts`, logLevel: "warn", mode: "production" });
}
