/**
 * What a V8 heap snapshot holds that an earlier one of the same process did not: the objects created between the two
 * that are still alive, grouped by kind. Node ids are stable across the snapshots of one process (V8 keeps an object's
 * id while it lives), so "new" is "id not in the first". Used by `pnpm bench --heap` to say what a held stream keeps.
 * V8's internal arrays (element stores, property dictionaries, Map and Set tables, suspended functions' registers) are
 * the largest kind and have no name of their own, so they are also grouped by what holds them (`arraysByHolder`).
 */
import { readFileSync } from "node:fs";

/** The parts of the `.heapsnapshot` format (V8's JSON) read here. */
interface SnapshotFile {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]]; edge_fields?: string[]; edge_types?: [string[], ...unknown[]] } };
  nodes: number[];
  edges?: number[];
  strings: string[];
}

export interface HeapNodes {
  /** Per node: id, type, name and self size, in the snapshot's order. */
  ids: Float64Array;
  types: string[];
  names: string[];
  sizes: Float64Array;
  /**
   * Per node, the node that holds it and by which edge (`-1` / "" for none): the first retainer in the snapshot's
   * order by a strong edge, leaving out V8's synthetic roots. An internal array has one such holder (the object whose
   * elements, properties or table it is).
   */
  holders: Int32Array;
  holderEdges: string[];
}

/** Edges that do not keep their target alive, and the synthetic nodes (GC roots) that are no one's data. */
const weakEdge = "weak";
const syntheticType = "synthetic";

/** Reads a snapshot's nodes, and who holds each (its edges, when the snapshot has them). */
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
  const heap: HeapNodes = {
    ids: new Float64Array(count),
    types: new Array(count),
    names: new Array(count),
    sizes: new Float64Array(count),
    holders: new Int32Array(count).fill(-1),
    holderEdges: new Array<string>(count).fill(""),
  };
  for (let node = 0; node < count; node++) {
    const base = node * width;
    heap.ids[node] = file.nodes[base + idAt]!;
    heap.types[node] = typeNames[file.nodes[base + typeAt]!] ?? "unknown";
    heap.names[node] = file.strings[file.nodes[base + nameAt]!] ?? "";
    heap.sizes[node] = file.nodes[base + sizeAt]!;
  }
  readHolders(file, heap, width);
  return heap;
}

function readHolders(file: SnapshotFile, heap: HeapNodes, width: number): void {
  const { edges } = file;
  const edgeFields = file.snapshot.meta.edge_fields;
  const edgeTypes = file.snapshot.meta.edge_types?.[0];
  const countAt = file.snapshot.meta.node_fields.indexOf("edge_count");
  if (!edges || !edgeFields || !edgeTypes || countAt === -1) return;
  const edgeWidth = edgeFields.length;
  const [typeAt, nameAt, toAt] = ["type", "name_or_index", "to_node"].map((name) => edgeFields.indexOf(name)) as [number, number, number];
  let edge = 0;
  for (let node = 0; node < heap.ids.length; node++) {
    const edgeCount = file.nodes[node * width + countAt]!;
    const synthetic = heap.types[node] === syntheticType;
    for (let k = 0; k < edgeCount; k++, edge++) {
      const base = edge * edgeWidth;
      const to = edges[base + toAt]! / width;
      const type = edgeTypes[edges[base + typeAt]!];
      if (synthetic || type === weakEdge || heap.holders[to] !== -1) continue;
      heap.holders[to] = node;
      const nameOrIndex = edges[base + nameAt]!;
      // An element or hidden edge's name is an index, which says nothing about the kind of holding.
      heap.holderEdges[to] = type === "element" || type === "hidden" ? `[${type}]` : (file.strings[nameOrIndex] ?? "");
    }
  }
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
  /** The new internal arrays ("array" nodes) by the kind of their holder and the edge: `object: Map.table`. */
  arraysByHolder: HeapGroup[];
}

/** Strings are grouped as one kind: their "name" is their content. */
const namedTypes = new Set(["object", "closure", "native"]);

const kindOf = (heap: HeapNodes, node: number): string => {
  const type = heap.types[node]!;
  return namedTypes.has(type) ? `${type}: ${heap.names[node] || "(anonymous)"}` : type;
};

/** The nodes of `after` that `before` did not have, by kind, largest first; and the new arrays by holder. */
export function heapGrowth(before: HeapNodes, after: HeapNodes): HeapGrowth {
  const known = new Set<number>(before.ids);
  const groups = new Map<string, HeapGroup>();
  const arrays = new Map<string, HeapGroup>();
  let bytes = 0;
  for (let node = 0; node < after.ids.length; node++) {
    if (known.has(after.ids[node]!)) continue;
    const kind = kindOf(after, node);
    const size = after.sizes[node]!;
    bytes += size;
    addTo(groups, kind, size);
    if (kind === "array") {
      const holder = after.holders[node]!;
      addTo(arrays, holder === -1 ? "(no holder)" : `${kindOf(after, holder)}.${after.holderEdges[node]}`, size);
    }
  }
  return { bytes, groups: largestFirst(groups), arraysByHolder: largestFirst(arrays) };
}

function addTo(groups: Map<string, HeapGroup>, kind: string, size: number): void {
  const group = groups.get(kind) ?? { kind, count: 0, bytes: 0 };
  group.count += 1;
  group.bytes += size;
  groups.set(kind, group);
}

const largestFirst = (groups: Map<string, HeapGroup>): HeapGroup[] => [...groups.values()].sort((a, b) => b.bytes - a.bytes);
