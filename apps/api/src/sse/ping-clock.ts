/** Something the clock can ping: it records the tick of its last write and writes a ping when asked. */
export interface PingTarget {
  lastWriteTick: number;
  ping(): void;
}

/**
 * One timer for the keep-alive pings of every open stream. tRPC races a fresh timer against every pull of
 * every subscription (a `setTimeout`, a Promise and a `Promise.race` per event); here a stream only
 * notes the clock's tick when it writes, and each tick pings the streams that stayed quiet.
 *
 * The tick is `intervalMs / slices`; a stream is pinged at the first tick more than `slices` ticks after its
 * last write, so after a silence between `intervalMs` and `intervalMs + intervalMs / slices` (tRPC: exactly
 * `intervalMs`). `slices` is chosen so that bound stays under the client's reconnectAfterInactivityMs.
 */
export class PingClock {
  /** Advances once per tick; streams compare it with their last write's tick. */
  tick = 0;
  readonly tickMs: number;
  readonly #slices: number;
  readonly #targets = new Set<PingTarget>();
  #timer: NodeJS.Timeout | undefined;

  constructor(intervalMs: number, reconnectAfterInactivityMs?: number) {
    this.#slices = slicesFor(intervalMs, reconnectAfterInactivityMs);
    this.tickMs = intervalMs / this.#slices;
  }

  get size(): number {
    return this.#targets.size;
  }

  add(target: PingTarget): void {
    target.lastWriteTick = this.tick;
    this.#targets.add(target);
    if (this.#timer === undefined) {
      this.#timer = setInterval(this.#onTick, this.tickMs);
      // Open streams keep the process alive through their sockets, not through this timer.
      this.#timer.unref();
    }
  }

  delete(target: PingTarget): void {
    this.#targets.delete(target);
    if (this.#targets.size === 0 && this.#timer !== undefined) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }

  readonly #onTick = (): void => {
    const tick = ++this.tick;
    for (const target of this.#targets) {
      if (tick - target.lastWriteTick > this.#slices) target.ping();
    }
  };
}

/** At least 4; more when the client's inactivity timeout leaves less than a quarter interval of slack. */
function slicesFor(intervalMs: number, reconnectAfterInactivityMs: number | undefined): number {
  if (!reconnectAfterInactivityMs || reconnectAfterInactivityMs <= intervalMs) return reconnectAfterInactivityMs ? 64 : 4;
  // intervalMs + intervalMs / slices < reconnectAfterInactivityMs, with room to spare for a late timer.
  const needed = Math.floor((2 * intervalMs) / (reconnectAfterInactivityMs - intervalMs)) + 1;
  return Math.min(64, Math.max(4, needed));
}
