/**
 * What a V8 heap snapshot holds that an earlier one of the same process did not: the objects created between the two
 * that are still alive, grouped by kind. Node ids are stable across the snapshots of one process (V8 keeps an object's
 * id while it lives), so "new" is "id not in the first". Used by `pnpm bench --heap` to say what a held stream keeps.
 */
import { readFileSync } from "node:fs";

/** The parts of the `.heapsnapshot` format (V8's JSON) read here. */
interface SnapshotFile {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

export interface HeapNodes {
  /** Per node: id, type, name and self size, in the snapshot's order. */
  ids: Float64Array;
  types: string[];
  names: string[];
  sizes: Float64Array;
}

/** Reads a snapshot's nodes (edges are not needed for a diff by kind). */
export function parseSnapshot(text: string): HeapNodes {
  const file = JSON.parse(text) as SnapshotFile;
  const fields = file.snapshot.meta.node_fields;
  const width = fields.length;
  const at = (name: string) => {
    const index = fields.indexOf(name);
    if (index === -1) throw new Error(`not a V8 heap snapshot: its nodes have no "${name}" field`);
    return index;
  };
  const [typeAt, nameAt, idAt, sizeAt] = [at("type"), at("name"), at("id"), at("self_size")];
  const typeNames = file.snapshot.meta.node_types[0];
  const count = file.nodes.length / width;
  const heap: HeapNodes = { ids: new Float64Array(count), types: new Array(count), names: new Array(count), sizes: new Float64Array(count) };
  for (let node = 0; node < count; node++) {
    const base = node * width;
    heap.ids[node] = file.nodes[base + idAt]!;
    heap.types[node] = typeNames[file.nodes[base + typeAt]!] ?? "unknown";
    heap.names[node] = file.strings[file.nodes[base + nameAt]!] ?? "";
    heap.sizes[node] = file.nodes[base + sizeAt]!;
  }
  return heap;
}

export const readSnapshot = (path: string): HeapNodes => parseSnapshot(readFileSync(path, "utf8"));

export interface HeapGroup {
  /** `type: name` for objects, closures and native nodes (a constructor or function name); the type alone for the rest. */
  kind: string;
  count: number;
  bytes: number;
}

export interface HeapGrowth {
  /** Self size of every node in `after` that was not in `before`. */
  bytes: number;
  groups: HeapGroup[];
}

/** Strings are grouped as one kind: their "name" is their content. */
const namedTypes = new Set(["object", "closure", "native"]);

/** The nodes of `after` that `before` did not have, by kind, largest first. */
export function heapGrowth(before: HeapNodes, after: HeapNodes): HeapGrowth {
  const known = new Set<number>(before.ids);
  const groups = new Map<string, HeapGroup>();
  let bytes = 0;
  for (let node = 0; node < after.ids.length; node++) {
    if (known.has(after.ids[node]!)) continue;
    const type = after.types[node]!;
    const kind = namedTypes.has(type) ? `${type}: ${after.names[node] || "(anonymous)"}` : type;
    const size = after.sizes[node]!;
    bytes += size;
    const group = groups.get(kind) ?? { kind, count: 0, bytes: 0 };
    group.count += 1;
    group.bytes += size;
    groups.set(kind, group);
  }
  return { bytes, groups: [...groups.values()].sort((a, b) => b.bytes - a.bytes) };
}
