import { describe, expect, it } from "vitest";
import { createFrameBatcher, type FrameScheduler } from "./frameBatcher.js";

/** A scheduler whose frames run only when the test says so (like a tab whose frames the browser paused). */
function manualFrames() {
  const callbacks = new Map<number, () => void>();
  let nextHandle = 1;
  const scheduler: FrameScheduler = {
    request(callback) {
      const handle = nextHandle++;
      callbacks.set(handle, callback);
      return handle;
    },
    cancel(handle) {
      callbacks.delete(handle);
    },
  };
  return {
    scheduler,
    requested: () => callbacks.size,
    runFrame() {
      const due = [...callbacks.values()];
      callbacks.clear();
      for (const callback of due) callback();
    },
  };
}

describe("createFrameBatcher", () => {
  it("commits once per frame however many updates arrived", () => {
    const frames = manualFrames();
    let commits = 0;
    const batcher = createFrameBatcher(() => commits++, frames.scheduler);

    for (let i = 0; i < 50; i++) batcher.schedule();
    expect(commits).toBe(0);
    expect(frames.requested()).toBe(1);

    frames.runFrame();
    expect(commits).toBe(1);
    frames.runFrame();
    expect(commits).toBe(1);

    batcher.schedule();
    frames.runFrame();
    expect(commits).toBe(2);
  });

  it("flush commits pending updates without a frame and cancels the requested one", () => {
    const frames = manualFrames();
    let commits = 0;
    const batcher = createFrameBatcher(() => commits++, frames.scheduler);

    batcher.schedule();
    batcher.schedule();
    batcher.flush(); // the tab became visible while its frames were paused
    expect(commits).toBe(1);
    expect(frames.requested()).toBe(0);
    expect(batcher.pending).toBe(false);
  });

  it("flush without pending updates does not commit", () => {
    const frames = manualFrames();
    let commits = 0;
    const batcher = createFrameBatcher(() => commits++, frames.scheduler);
    batcher.flush();
    expect(commits).toBe(0);
  });

  it("cancel drops the pending commit", () => {
    const frames = manualFrames();
    let commits = 0;
    const batcher = createFrameBatcher(() => commits++, frames.scheduler);
    batcher.schedule();
    batcher.cancel();
    frames.runFrame();
    batcher.flush();
    expect(commits).toBe(0);
  });
});
