import type { ChatStore } from "@streamchat/store";

export interface TokenEventPrunerOptions {
  store: Pick<ChatStore, "pruneTokenEvents">;
  /** Runs that finished longer ago than this lose their token events. */
  maxAgeMs: number;
  log: { info(obj: object, msg: string): void; error(obj: object, msg: string): void };
  now?: () => number;
  /** From one pass to the next (the first one after `firstPassMs`); default an hour. */
  intervalMs?: number;
  /** Default a minute: start-up's own work (recovery, the first requests) comes first. */
  firstPassMs?: number;
  /** Runs walked in one store transaction; default 20 (answers of 500 tokens: ~10,000 rows deleted in a step). */
  runsPerStep?: number;
  /** Between two steps of a pass, so that a long pass never holds the store (SQLite: the event loop) for long; default 20 ms. */
  pauseMs?: number;
  /** Told the token events each step deleted, when it deleted any (the API's metrics count them). */
  onPruned?: (deleted: number) => void;
}

/**
 * TOKEN_EVENTS_MAX_AGE_DAYS: the token events of runs that finished longer ago are deleted, a few runs at a time.
 * Those events are a second copy of the answer's text, which the run stored as its messages; what the conversation
 * shows, exports and sends to the model as history comes from the messages. A `chat.events` replay of such a run gives
 * its other events (start, statuses, reasoning, tool calls, `done`), as for an imported run. That is ~90 % of the
 * log's rows and of the database (docs/operations.md, "Disk use").
 *
 * A pass walks the runs in the order they started (ChatStore.pruneTokenEvents), from where the last pass stopped in
 * this process (from the first run after a start), and stops at the first run not due yet. The stores' deletes are
 * idempotent: replicas that each run passes delete nothing twice, they only walk the same runs.
 */
export class TokenEventPruner {
  readonly #opts: TokenEventPrunerOptions;
  #afterRunId: string | null = null;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<number> | undefined;
  #stopped = false;
  /** The last pass failed: said once per outage, not every hour. */
  #failing = false;

  constructor(opts: TokenEventPrunerOptions) {
    this.#opts = opts;
  }

  /** Passes every `intervalMs`, the first after `firstPassMs`, until `stop()`. */
  start(): void {
    if (this.#stopped || this.#timer !== undefined) return;
    const tick = () => {
      this.#timer = setTimeout(tick, this.#opts.intervalMs ?? 3_600_000);
      this.#timer.unref();
      void this.pass().then(
        (deleted) => {
          if (this.#failing) this.#opts.log.info({}, "pruning old runs' token events works again");
          this.#failing = false;
          if (deleted > 0) this.#opts.log.info({ deleted, maxAgeMs: this.#opts.maxAgeMs }, "deleted the token events of old finished runs");
        },
        (error: unknown) => {
          if (!this.#failing) this.#opts.log.error({ err: error }, "pruning old runs' token events failed; trying again at the next pass");
          this.#failing = true;
        },
      );
    };
    this.#timer = setTimeout(tick, this.#opts.firstPassMs ?? 60_000);
    this.#timer.unref();
  }

  /** One pass up to the runs not due yet; resolves to the token events it deleted. A pass under way is joined. */
  pass(): Promise<number> {
    this.#running ??= this.#walk().finally(() => (this.#running = undefined));
    return this.#running;
  }

  /** No pass after this; resolves once a pass under way has stopped (after its current step). */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#running?.catch(() => {});
  }

  async #walk(): Promise<number> {
    const { store, maxAgeMs, runsPerStep = 20, pauseMs = 20 } = this.#opts;
    const finishedBefore = (this.#opts.now ?? Date.now)() - maxAgeMs;
    let deleted = 0;
    while (!this.#stopped) {
      const step = await store.pruneTokenEvents({ afterRunId: this.#afterRunId, finishedBefore, maxRuns: runsPerStep });
      deleted += step.deleted;
      if (step.deleted > 0) this.#opts.onPruned?.(step.deleted);
      this.#afterRunId = step.lastRunId;
      if (step.caughtUp) break;
      await new Promise((resolve) => setTimeout(resolve, pauseMs));
    }
    return deleted;
  }
}
