import { describe, expect, it } from "vitest";
import { heapGrowth, parseSnapshot } from "./heap-diff.js";
import { heapPlan, renderHeap, runHeap } from "./heap.js";

type SnapshotNode = [type: number, name: string, id: number, size: number];
/** An edge from the node at index `from` (in the list given) to the node at index `to`; `name` is a property's. */
type SnapshotEdge = { from: number; type: "element" | "property" | "internal" | "weak"; name: string | number; to: number };

/** A V8 heap snapshot's JSON with only the fields heap-diff.ts reads (V8's order: type, name, id, self_size, edge_count, …). */
function snapshot(nodes: SnapshotNode[], edges: SnapshotEdge[] = []): string {
  const strings: string[] = [];
  const stringAt = (text: string) => {
    if (!strings.includes(text)) strings.push(text);
    return strings.indexOf(text);
  };
  const nodeWidth = 5;
  const flat = nodes.flatMap(([type, name, id, size], index) => [type, stringAt(name), id, size, edges.filter((edge) => edge.from === index).length]);
  const edgeTypes = ["context", "element", "property", "internal", "hidden", "shortcut", "weak"];
  // V8 lists a node's edges together, in the order of the nodes.
  const flatEdges = [...edges]
    .sort((a, b) => a.from - b.from)
    .flatMap((edge) => [edgeTypes.indexOf(edge.type), typeof edge.name === "number" ? edge.name : stringAt(edge.name), edge.to * nodeWidth]);
  const types = ["hidden", "array", "string", "object", "code", "closure", "synthetic"];
  return JSON.stringify({
    snapshot: {
      meta: {
        node_fields: ["type", "name", "id", "self_size", "edge_count"],
        node_types: [types, "string"],
        edge_fields: ["type", "name_or_index", "to_node"],
        edge_types: [edgeTypes, "string_or_number", "node"],
      },
    },
    nodes: flat,
    edges: flatEdges,
    strings,
  });
}

describe("heapGrowth", () => {
  it("counts the nodes of the later snapshot that the earlier one had not, by kind, largest first", () => {
    const before = parseSnapshot(snapshot([[3, "Socket", 1, 100], [5, "onData", 3, 56], [2, "hello", 5, 24]]));
    const after = parseSnapshot(
      snapshot([
        [3, "Socket", 1, 100], // still there: not new
        [3, "Socket", 7, 100],
        [3, "Socket", 9, 104],
        [5, "onData", 11, 56],
        [5, "", 13, 40],
        [2, "a string's content", 15, 32],
        [2, "another", 17, 16],
      ]),
    );
    const growth = heapGrowth(before, after);
    expect(growth.bytes).toBe(100 + 104 + 56 + 40 + 32 + 16);
    expect(growth.groups).toEqual([
      { kind: "object: Socket", count: 2, bytes: 204 },
      { kind: "closure: onData", count: 1, bytes: 56 },
      { kind: "string", count: 2, bytes: 48 },
      { kind: "closure: (anonymous)", count: 1, bytes: 40 },
    ]);
  });

  it("groups the new internal arrays by what holds them, through strong edges from real nodes", () => {
    const before = parseSnapshot(snapshot([[3, "Map", 1, 32], [1, "", 3, 200]], [{ from: 0, type: "internal", name: "table", to: 1 }]));
    const nodes: SnapshotNode[] = [
      [6, "(GC roots)", 100, 0], // 0: synthetic: holds nothing for this purpose
      [3, "Map", 1, 32], // 1: old, with its old table (2)
      [1, "", 3, 200], // 2
      [3, "Map", 5, 32], // 3: new
      [1, "", 7, 120], // 4: its table
      [3, "Array", 9, 32], // 5
      [1, "", 11, 80], // 6: its elements
      [3, "runChat", 13, 96], // 7
      [1, "", 15, 744], // 8: its registers
      [3, "Map", 17, 32], // 9
      [1, "", 19, 120], // 10: its table
      [1, "", 21, 64], // 11: held only weakly
    ];
    const after = parseSnapshot(
      snapshot(nodes, [
        { from: 0, type: "element", name: 1, to: 4 },
        { from: 0, type: "weak", name: 2, to: 11 },
        { from: 1, type: "internal", name: "table", to: 2 },
        { from: 3, type: "internal", name: "table", to: 4 },
        { from: 5, type: "internal", name: "elements", to: 6 },
        { from: 7, type: "internal", name: "parameters_and_registers", to: 8 },
        { from: 9, type: "internal", name: "table", to: 10 },
        { from: 9, type: "weak", name: "table", to: 11 },
      ]),
    );
    expect(heapGrowth(before, after).arraysByHolder).toEqual([
      { kind: "object: runChat.parameters_and_registers", count: 1, bytes: 744 },
      { kind: "object: Map.table", count: 2, bytes: 240 },
      { kind: "object: Array.elements", count: 1, bytes: 80 },
      { kind: "(no holder)", count: 1, bytes: 64 },
    ]);
  });

  it("refuses what is not a heap snapshot", () => {
    expect(() => parseSnapshot(JSON.stringify({ snapshot: { meta: { node_fields: ["type"], node_types: [[]] } }, nodes: [], strings: [] }))).toThrow(
      /not a V8 heap snapshot/,
    );
  });
});

describe("bench --heap", () => {
  it("finds what a held stream keeps: the bare relay's sockets, and more for the stack (its run, subscription and model request)", async () => {
    const rows = await runHeap({ plan: heapPlan("smoke", ["bare-relay", "stack-memory"], 20) });
    expect(rows.map((row) => row.path)).toEqual(["bare-relay", "stack-memory"]);
    const [bare, stack] = rows as [(typeof rows)[0], (typeof rows)[0]];
    for (const row of rows) {
      expect(row.errors, row.path).toBe(0);
      expect(row.streams, row.path).toBeGreaterThanOrEqual(8);
      // Each held stream has two sockets here at least (the client's and the model request's).
      const sockets = row.groups.find((group) => group.kind === "object: Socket");
      expect(sockets?.count, row.path).toBeGreaterThanOrEqual(1.5);
    }
    expect(bare.bytesPerStream).toBeGreaterThan(4_000);
    expect(stack.bytesPerStream).toBeGreaterThan(bare.bytesPerStream * 1.5);
    // The run's generator (core runChat) is held by every open stream of the stack, and by none of the relay's.
    expect(stack.groups.find((group) => group.kind === "object: runChat")?.count).toBeGreaterThanOrEqual(0.9);
    expect(bare.groups.some((group) => group.kind === "object: runChat")).toBe(false);
    // The same generator's registers, named by what holds them.
    expect(stack.arraysByHolder.find((group) => group.kind === "object: runChat.parameters_and_registers")?.count).toBeGreaterThanOrEqual(0.9);
    expect(bare.arraysByHolder.some((group) => group.kind.startsWith("object: runChat."))).toBe(false);
    const text = renderHeap(rows, 5);
    expect(text).toMatch(/^\| stack-memory \| \d+\.\d\d KB \| \d+ \| 0 \|$/m);
    expect(text).toContain("stack-memory, per held stream (largest 5 kinds):");
    expect(text).toContain("stack-memory, its arrays by holder (largest 5):");
  }, 180_000);

  it("refuses the paths it cannot run: the replicated ones (a snapshot is one process's), each named", () => {
    expect(() => heapPlan("smoke", ["stack-cluster"])).toThrow(/--heap runs on .*; not on stack-cluster/);
    expect(() => heapPlan("smoke", ["stack-postgres", "stack-cluster", "stack-cluster-1"])).toThrow(/--heap runs on .*; not on stack-cluster, stack-cluster-1$/);
    expect(heapPlan("smoke", ["stack-postgres"]).paths).toEqual(["stack-postgres"]);
    expect(() => heapPlan("default", ["stack"], 1)).toThrow(/--hold=2 or more/);
  });
});
