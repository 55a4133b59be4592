import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root: this module sits in packages/cluster/src or packages/cluster/dist. */
export const repoRoot = fileURLToPath(new URL("../../..", import.meta.url));

/** Running from TypeScript source (tests, tsx) or from the tsc build (`pnpm cluster`). */
export const runningFromSource = fileURLToPath(import.meta.url).endsWith(".ts");

export const testServicesScript = join(repoRoot, "scripts", "test-services.sh");
export const nginxTemplatePath = join(repoRoot, "deploy", "nginx.conf");
export const apiDir = join(repoRoot, "apps", "api");

/** nginx's binary: STREAMCHAT_NGINX, else Debian's /usr/sbin/nginx, else the first `nginx` on PATH; null when none. */
export function nginxBinary(env: NodeJS.ProcessEnv = process.env): string | null {
  const candidates = [env["STREAMCHAT_NGINX"], "/usr/sbin/nginx", ...(env["PATH"] ?? "").split(":").filter(Boolean).map((dir) => join(dir, "nginx"))];
  for (const candidate of candidates) if (candidate && existsSync(candidate)) return candidate;
  return null;
}

export { dirname };
