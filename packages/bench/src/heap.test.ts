import { describe, expect, it } from "vitest";
import { heapGrowth, parseSnapshot } from "./heap-diff.js";
import { heapPlan, renderHeap, runHeap } from "./heap.js";

/** A V8 heap snapshot's JSON with only the node fields heap-diff.ts reads (V8's order: type, name, id, self_size, …). */
function snapshot(nodes: Array<[type: number, name: string, id: number, size: number]>): string {
  const strings: string[] = [];
  const flat = nodes.flatMap(([type, name, id, size]) => {
    if (!strings.includes(name)) strings.push(name);
    return [type, strings.indexOf(name), id, size, 0];
  });
  const types = ["hidden", "array", "string", "object", "code", "closure"];
  return JSON.stringify({ snapshot: { meta: { node_fields: ["type", "name", "id", "self_size", "edge_count"], node_types: [types, "string"] } }, nodes: flat, strings, edges: [] });
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
    const text = renderHeap(rows, 5);
    expect(text).toMatch(/^\| stack-memory \| \d+\.\d\d KB \| \d+ \| 0 \|$/m);
    expect(text).toContain("stack-memory, per held stream (largest 5 kinds):");
  }, 180_000);

  it("refuses the paths it cannot run", () => {
    expect(() => heapPlan("smoke", ["stack-cluster"])).toThrow(/--heap runs on .*; not on stack-cluster/);
    expect(heapPlan("smoke", ["stack-postgres"]).paths).toEqual(["stack-postgres"]);
    expect(() => heapPlan("default", ["stack"], 1)).toThrow(/--hold=2 or more/);
  });
});
