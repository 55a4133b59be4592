import { readFileSync } from "node:fs";
import { join } from "node:path";
import { apiDir } from "./paths.js";

let cached: readonly string[] | undefined;

/**
 * The Node flags the API runs with: `streamchat.nodeFlags` in apps/api/package.json, the one list that `pnpm start`,
 * deploy/compose.yaml, the replicas started here and the bench's servers follow (apps/api's node-flags test keeps
 * the scripts equal to it). Read from the file rather than imported, so this package does not load the API.
 */
export function apiNodeFlags(): readonly string[] {
  if (cached) return cached;
  const manifest = JSON.parse(readFileSync(join(apiDir, "package.json"), "utf8")) as { streamchat?: { nodeFlags?: unknown } };
  const flags = manifest.streamchat?.nodeFlags;
  if (!Array.isArray(flags) || !flags.every((flag): flag is string => typeof flag === "string" && flag.startsWith("--"))) {
    throw new Error(`apps/api/package.json: streamchat.nodeFlags must be a list of --flags, got ${JSON.stringify(flags)}`);
  }
  cached = Object.freeze([...flags]);
  return cached;
}
