import { createHash } from "node:crypto";

/** OpenAI's limit on function names; Ollama models cope badly with longer ones too. */
export const maxToolNameLength = 64;

export interface ToolRef {
  server: string;
  /** The tool's name as its server gives it. */
  tool: string;
}

/**
 * The names tools are offered to the model under: `<server>__<tool>`, characters outside [A-Za-z0-9_-]
 * replaced by "_", at most 64 characters.
 *
 * A name that needed no change is kept. A name that had to be shortened, or that collides with another
 * after replacing characters, ends in "_" + 8 hex digits of a hash of its server and tool names instead.
 * The result depends only on the set of tools, not on their order or on which servers answered first,
 * so a name stays the same across restarts (pending approvals refer to tools by name).
 */
export function offeredNames(refs: readonly ToolRef[]): string[] {
  const candidates = refs.map((ref) => {
    const raw = `${ref.server}__${ref.tool}`;
    const clean = raw.replace(/[^A-Za-z0-9_-]/g, "_");
    const exact = clean === raw && raw.length <= maxToolNameLength;
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
