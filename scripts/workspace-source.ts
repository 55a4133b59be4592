import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * Vite aliases from every workspace package's export ("@streamchat/store/test-support") to its TypeScript source,
 * so tests never run stale dist builds.
 *
 * Why aliases and not `resolve.conditions: ["source"]`: vitest hands that condition to Node too, and Node, loading a
 * dependency from node_modules that publishes a "source" export of its own (the MCP SDK's eventsource-parser), then
 * follows it into that package's src/*.ts and refuses to run it ("Stripping types is currently unsupported for
 * files under node_modules").
 */
export function workspaceSourceAliases(): Array<{ find: RegExp; replacement: string }> {
  const root = fileURLToPath(new URL("..", import.meta.url));
  const aliases: Array<{ find: RegExp; replacement: string }> = [];
  for (const group of ["packages", "apps"]) {
    for (const dir of readdirSync(join(root, group))) {
      const manifest = join(root, group, dir, "package.json");
      if (!existsSync(manifest)) continue;
      const pkg = JSON.parse(readFileSync(manifest, "utf8")) as { name?: string; exports?: Record<string, { source?: string }> };
      for (const [subpath, target] of Object.entries(pkg.exports ?? {})) {
        if (!pkg.name || typeof target !== "object" || !target.source) continue;
        const specifier = subpath === "." ? pkg.name : `${pkg.name}/${subpath.replace(/^\.\//, "")}`;
        aliases.push({
          find: new RegExp(`^${specifier.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}$`),
          replacement: join(root, group, dir, target.source),
        });
      }
    }
  }
  return aliases;
}
