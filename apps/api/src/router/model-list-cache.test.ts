import { describe, expect, it } from "vitest";
import type { ModelInfo } from "@streamchat/core";
import { ModelListCache, modelListTtlMs } from "./model-list-cache.js";

/** A reader that counts its reads and answers (or fails) as the test says; the clock is the test's. */
function setup() {
  const state = { reads: 0, fail: false, now: 1_000, pending: [] as Array<() => void> };
  const cache = new ModelListCache(
    async () => {
      state.reads++;
      const n = state.reads;
      if (state.fail) throw new Error("unreachable");
      return [{ name: `m${n}`, capabilities: [] }] satisfies ModelInfo[];
    },
    () => state.now,
  );
  return { state, cache };
}

describe("ModelListCache", () => {
  it("serves one read to callers within the TTL and to concurrent callers, then reads again", async () => {
    const { state, cache } = setup();
    const [a, b] = await Promise.all([cache.get(), cache.get()]);
    expect(a).toBe(b);
    state.now += modelListTtlMs - 1;
    expect(await cache.get()).toBe(a);
    expect(state.reads).toBe(1);
    state.now += 1;
    expect((await cache.get())[0]?.name).toBe("m2");
  });

  it("reads again on refresh and when the stamp (runs started/ended) changed", async () => {
    const { state, cache } = setup();
    await cache.get({ stamp: "0/0" });
    await cache.get({ stamp: "0/0", refresh: true });
    expect(state.reads).toBe(2);
    await cache.get({ stamp: "1/1" });
    await cache.get({ stamp: "1/1" });
    expect(state.reads).toBe(3);
  });

  it("a refresh while a read is under way shares it; one after it ended reads anew", async () => {
    const { state, cache } = setup();
    const [a, b, c] = await Promise.all([cache.get({ refresh: true }), cache.get({ refresh: true }), cache.get()]);
    expect(state.reads).toBe(1);
    expect(b).toBe(a);
    expect(c).toBe(a);
    expect((await cache.get({ refresh: true }))[0]?.name).toBe("m2");
    // Not across stamps: a read for another stamp is its own.
    await Promise.all([cache.get({ stamp: "x" }), cache.get({ stamp: "y", refresh: true })]);
    expect(state.reads).toBe(4);
  });

  it("does not keep a failed read", async () => {
    const { state, cache } = setup();
    state.fail = true;
    await expect(cache.get()).rejects.toThrow("unreachable");
    state.fail = false;
    expect((await cache.get())[0]?.name).toBe("m2");
  });
});
