import { createHash } from "node:crypto";

/** OpenAI's limit on function names; Ollama models cope badly with longer ones too. */
export const maxToolNameLength = 64;

export interface ToolRef {
  server: string;
  /** The tool's name as its server gives it. */
  tool: string;
}

/** A server's name as the first part of its tools' names: characters outside [A-Za-z0-9_-] replaced by "_". */
export function serverPrefix(server: string): string {
  return server.replace(/[^A-Za-z0-9_-]/g, "_");
}

/**
 * Why a server's name cannot prefix its tools' names unambiguously (checked with the config, see offeredNames), or
 * undefined when it can.
 */
export function serverNameProblem(server: string): string | undefined {
  const prefix = serverPrefix(server);
  if (prefix === "") return "must not be empty";
  if (prefix.includes("__") || prefix.endsWith("_")) return 'must not contain "__" nor end with "_" (its tools are offered as <server>__<tool>)';
  if (prefix.length > 32) return "must be at most 32 characters";
  return undefined;
}

/**
 * The names one server's tools are offered to the model under: `<server>__<tool>`, characters outside [A-Za-z0-9_-]
 * replaced by "_", at most 64 characters.
 *
 * A name that needed no change is kept. A name that had to be shortened, or that collides with another of the server's
 * after replacing characters, ends in "_" + 8 hex digits of a hash of its server and tool names instead.
 *
 * Names depend on the server's own tools only, never on which other servers answered (a slow or failed one), so a
 * name stays the same across restarts: pending approvals refer to tools by name. Two servers never share a name: the
 * config refuses server names that could make `<a>__<x>` equal `<b>__<y>` (serverNameProblem: with no "__" in a
 * prefix and none ending in "_", a name's first "__" ends its server's prefix) and names that clean to the same prefix.
 */
export function offeredNames(server: string, tools: readonly string[]): string[] {
  const candidates = tools.map((tool) => {
    const ref = { server, tool };
    const raw = `${serverPrefix(server)}__${tool}`;
    const clean = raw.replace(/[^A-Za-z0-9_-]/g, "_");
    const exact = clean === `${server}__${tool}` && raw.length <= maxToolNameLength;
    return { ref, clean, exact, name: clean.length <= maxToolNameLength ? clean : hashed(clean, ref) };
  });
  const byName = new Map<string, typeof candidates>();
  for (const candidate of candidates) {
    const group = byName.get(candidate.name) ?? [];
    group.push(candidate);
    byName.set(candidate.name, group);
  }
  for (const group of byName.values()) {
    if (group.length < 2) continue;
    const exact = group.filter((c) => c.exact);
    for (const candidate of group) {
      if (exact.length === 1 && candidate.exact) continue;
      candidate.name = hashed(candidate.clean, candidate.ref);
    }
  }
  return candidates.map((c) => c.name);
}

function hashed(clean: string, ref: ToolRef): string {
  const digest = createHash("sha256").update(`${ref.server}\u0000${ref.tool}`).digest("hex").slice(0, 8);
  return `${clean.slice(0, maxToolNameLength - 9)}_${digest}`;
}
