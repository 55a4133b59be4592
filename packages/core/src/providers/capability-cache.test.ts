import { describe, expect, it } from "vitest";
import { CapabilityCache, modelKey } from "./capability-cache.js";

describe("CapabilityCache", () => {
  it("treats a name without a tag as :latest", () => {
    expect(modelKey("gemma3")).toBe("gemma3:latest");
    expect(modelKey("gemma3:27b")).toBe("gemma3:27b");
    expect(modelKey("registry.local:5000/team/model")).toBe("registry.local:5000/team/model:latest");
  });

  it("stays bounded whatever model names users send", async () => {
    const reads: string[] = [];
    const cache = new CapabilityCache({
      read: async (model) => {
        reads.push(model);
        return ["completion", "tools"];
      },
      ttlMs: 60_000,
      unknownTtlMs: 1_000,
      readTimeoutMs: 1_000,
      maxEntries: 3,
      now: () => 0,
    });
    for (const name of ["a", "b", "c", "d"]) await cache.get(name);
    expect(reads).toEqual(["a", "b", "c", "d"]);
    await cache.get("d");
    await cache.get("b");
    expect(reads).toHaveLength(4); // still cached
    await cache.get("a"); // the oldest went when "d" came
    expect(reads).toEqual(["a", "b", "c", "d", "a"]);
  });

  it("a caller's abort rejects its own wait only; the shared read goes on for the others", async () => {
    let release!: (names: string[]) => void;
    const cache = new CapabilityCache<string[]>({
      read: () => new Promise((resolve) => (release = resolve)),
      ttlMs: 60_000,
      unknownTtlMs: 1_000,
      readTimeoutMs: 60_000,
      maxEntries: 10,
      now: () => 0,
    });
    const controller = new AbortController();
    const aborted = cache.get("m", controller.signal);
    const patient = cache.get("m");
    controller.abort();
    await expect(aborted).rejects.toMatchObject({ code: "cancelled" });
    release(["tools"]);
    expect(await patient).toEqual(["tools"]);
  });

  it("remembers what the server refused per model for ttlMs, apart from what reads say, bounded, and forgets models gone", async () => {
    let now = 0;
    const cache = new CapabilityCache<string[]>({
      read: async () => {
        throw new Error("no /api/show");
      },
      ttlMs: 60_000,
      unknownTtlMs: 1_000,
      readTimeoutMs: 1_000,
      maxEntries: 2,
      now: () => now,
    });
    cache.refuse("m", "tools");
    cache.refuse("m:latest", "thinking");
    expect(await cache.get("m")).toBeUndefined(); // a failed read does not forget the refusals
    cache.forget("m"); // neither does a refused request dropping the read
    expect([...cache.refused("m")].sort()).toEqual(["thinking", "tools"]);
    expect(cache.refused("other").size).toBe(0);
    now = 60_000;
    expect(cache.refused("m").size).toBe(0);
    cache.refuse("a", "tools");
    cache.refuse("b", "tools");
    cache.refuse("c", "tools");
    expect(cache.refused("a").size).toBe(0); // the oldest went when "c" came
    cache.retain(["c"]);
    expect([cache.refused("b").size, cache.refused("c").size]).toEqual([0, 1]);
  });
});
