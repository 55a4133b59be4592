import { fileURLToPath } from "node:url";
import { build } from "vite";

/** Builds apps/web/dist once: the API serves it at `/`, exactly as in production. */
export default async function setup(): Promise<void> {
  const root = fileURLToPath(new URL("../..", import.meta.url));
  // Vitest sets NODE_ENV=test, and a build keeps a NODE_ENV it finds: libraries would then bundle their development
  // builds (React's, with its checks and warnings: twice the code, slower pages), not what `pnpm build` serves users.
  const nodeEnv = process.env["NODE_ENV"];
  process.env["NODE_ENV"] = "production";
  try {
    await build({ root, configFile: `${root}/vite.config.ts`, logLevel: "warn", mode: "production" });
  } finally {
    if (nodeEnv === undefined) delete process.env["NODE_ENV"];
    else process.env["NODE_ENV"] = nodeEnv;
  }
}
