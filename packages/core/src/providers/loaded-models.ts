import { untilAborted } from "../abort.js";
import { modelKey } from "./capability-cache.js";

export interface LoadedModel {
  /** The window the model runs with (Ollama /api/ps `context_length`, newer servers). */
  contextTokens: number | undefined;
}

export interface LoadedModelsOptions {
  /** Reads the loaded models by name (Ollama /api/ps). */
  read: (signal: AbortSignal) => Promise<Map<string, LoadedModel>>;
  /** How long one answer is used: models load and unload all the time, so briefly (default 2 s). */
  ttlMs: number;
  readTimeoutMs: number;
  now: () => number;
}

/**
 * Which models the server has in memory, read at most once per `ttlMs` and shared by concurrent callers.
 * A failed read counts as "cannot say" for the same time. A finished answer corrects an answer that calls its model
 * absent (`answered`), so the next run does not take a model it just used for a cold one.
 */
export class LoadedModels {
  private cached: { models: Map<string, LoadedModel> | undefined; expiresAt: number } | undefined;
  private reading: Promise<Map<string, LoadedModel> | undefined> | undefined;
  /** Bumped by invalidate(): a read that started before must not store its (older) answer. */
  private generation = 0;

  constructor(private readonly opts: LoadedModelsOptions) {}

  /** The loaded models keyed by `modelKey`, or undefined when the server could not say. Rejects only on abort. */
  async get(signal?: AbortSignal): Promise<Map<string, LoadedModel> | undefined> {
    const current = this.current();
    if (current) return current.models;
    if (!this.reading) {
      const read = this.refresh();
      this.reading = read;
      void read.finally(() => {
        if (this.reading === read) this.reading = undefined;
      });
    }
    return signal ? untilAborted(this.reading, signal) : this.reading;
  }

  /** The model's entry, false when the server says it is not loaded, undefined when it cannot say. */
  async find(model: string, signal?: AbortSignal): Promise<LoadedModel | false | undefined> {
    return entryOf(await this.get(signal), model);
  }

  /** What `find` would resolve to now, without reading (`entry` as `find`'s); undefined when it must read. */
  findNow(model: string): { entry: LoadedModel | false | undefined } | undefined {
    const current = this.current();
    return current && { entry: entryOf(current.models, model) };
  }

  /**
   * The model just answered, so it is in memory now. A fresh answer that already lists it (or cannot say) still holds
   * and is kept: dropping it made every run read /api/ps again before its request. One that calls it absent is dropped,
   * so the next run does not announce a cold start for a model it just used.
   */
  answered(model: string): void {
    const current = this.current();
    if (current && (current.models === undefined || current.models.has(modelKey(model)))) return;
    this.invalidate();
  }

  /** /api/ps's answer while it holds; undefined once it expired (or was never read). */
  private current(): { models: Map<string, LoadedModel> | undefined } | undefined {
    const cached = this.cached;
    return cached && cached.expiresAt > this.opts.now() ? cached : undefined;
  }

  private invalidate(): void {
    this.generation += 1;
    this.cached = undefined;
    this.reading = undefined;
  }

  private async refresh(): Promise<Map<string, LoadedModel> | undefined> {
    const generation = this.generation;
    let models: Map<string, LoadedModel> | undefined;
    try {
      const read = await this.opts.read(AbortSignal.timeout(this.opts.readTimeoutMs));
      models = new Map([...read].map(([name, entry]) => [modelKey(name), entry]));
    } catch {
      models = undefined; // unreachable, too slow, an old server without /api/ps: unknown
    }
    if (generation === this.generation) this.cached = { models, expiresAt: this.opts.now() + this.opts.ttlMs };
    return models;
  }
}

function entryOf(models: Map<string, LoadedModel> | undefined, model: string): LoadedModel | false | undefined {
  if (!models) return undefined;
  return models.get(modelKey(model)) ?? false;
}
