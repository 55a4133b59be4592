/** The part of requestAnimationFrame the batcher needs; injected so tests can step frames by hand. */
export interface FrameScheduler {
  request(callback: () => void): number;
  cancel(handle: number): void;
}

export const animationFrameScheduler: FrameScheduler = {
  request: (callback) => requestAnimationFrame(() => callback()),
  cancel: (handle) => cancelAnimationFrame(handle),
};

export interface FrameBatcher {
  /** Marks new data; the commit runs on the next frame, once however many times this is called. */
  schedule(): void;
  /**
   * Commits now if anything is pending. For when frames do not run: a hidden tab gets no
   * requestAnimationFrame callbacks, so becoming visible must not wait for one.
   */
  flush(): void;
  /** Drops a pending commit (unmount). */
  cancel(): void;
  readonly pending: boolean;
}

/** Coalesces many updates into at most one commit per animation frame. */
export function createFrameBatcher(commit: () => void, scheduler: FrameScheduler = animationFrameScheduler): FrameBatcher {
  let handle: number | null = null;
  let dirty = false;

  const run = () => {
    handle = null;
    if (!dirty) return;
    dirty = false;
    commit();
  };

  return {
    schedule() {
      dirty = true;
      if (handle === null) handle = scheduler.request(run);
    },
    flush() {
      if (handle !== null) scheduler.cancel(handle);
      run();
    },
    cancel() {
      if (handle !== null) scheduler.cancel(handle);
      handle = null;
      dirty = false;
    },
    get pending() {
      return dirty;
    },
  };
}
