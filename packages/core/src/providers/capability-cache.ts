import { untilAborted } from "../abort.js";

export interface CapabilityCacheOptions<T> {
  /** Reads what is known about a model (Ollama: its /api/show); undefined when the server says nothing. */
  read: (model: string, signal: AbortSignal) => Promise<T | undefined>;
  /** How long known capabilities are used before they are read again. */
  ttlMs: number;
  /** How long a failed read is remembered (so a broken /api/show does not delay every run). */
  unknownTtlMs: number;
  /** A read taking longer than this counts as failed. */
  readTimeoutMs: number;
  /** Models remembered at most; model names come from users, so the map must stay bounded. */
  maxEntries: number;
  now: () => number;
}

interface Entry<T> {
  /** undefined: unknown (the read failed or the server does not say). */
  names: T | undefined;
  /** From /api/tags when the entry was filled or confirmed by a model list. */
  digest: string | undefined;
  expiresAt: number;
}

/** "gemma3" and "gemma3:latest" are the same model (Ollama's default tag). */
export function modelKey(name: string): string {
  const lastSegment = name.slice(name.lastIndexOf("/") + 1);
  return lastSegment.includes(":") ? name : `${name}:latest`;
}

/**
 * Capabilities per model, read once and reused: on the run's path every request would otherwise cost an
 * /api/show first. Entries expire after `ttlMs`; a model list (/api/tags) re-reads models whose digest
 * changed and drops models that are gone; a request the server refuses for the model drops its entry. A failed read is
 * remembered as unknown for `unknownTtlMs`; a stale known entry outlives a failed refresh. What the server refused
 * (`refuse`) is remembered apart, for `ttlMs`: it holds whatever a read says, and it is all that is known of a model
 * whose capabilities cannot be read.
 */
export class CapabilityCache<T> {
  private readonly entries = new Map<string, Entry<T>>();
  private readonly reading = new Map<string, Promise<T | undefined>>();
  /** Per model: each refused feature and when that is forgotten. */
  private readonly refusals = new Map<string, Map<string, number>>();

  constructor(private readonly opts: CapabilityCacheOptions<T>) {}

  /** What is known about the model, or undefined when unknown. Rejects only when `signal` aborts. */
  async get(model: string, signal?: AbortSignal): Promise<T | undefined> {
    const key = modelKey(model);
    const entry = this.entries.get(key);
    if (entry && entry.expiresAt > this.opts.now()) return entry.names;
    let read = this.reading.get(key);
    if (!read) {
      // Shared by concurrent callers, so it runs on its own timeout rather than one caller's signal.
      read = this.refresh(key, model, entry);
      this.reading.set(key, read);
      void read.finally(() => this.reading.delete(key));
    }
    return signal ? untilAborted(read, signal) : read;
  }

  /** What `get` would resolve to now, without reading (`names` undefined: known to be unknown); undefined when it must read. */
  fresh(model: string): { names: T | undefined } | undefined {
    const entry = this.entries.get(modelKey(model));
    return entry && entry.expiresAt > this.opts.now() ? entry : undefined;
  }

  /** Known, unexpired names for a model the list shows with `digest`; undefined when it must be read again. */
  forDigest(model: string, digest: string | undefined): T | undefined {
    const entry = this.entries.get(modelKey(model));
    if (!entry || digest === undefined || entry.digest !== digest || entry.expiresAt <= this.opts.now()) return undefined;
    return entry.names;
  }

  /** The cached value without reading (expired or not); undefined when nothing is known. */
  peek(model: string): T | undefined {
    return this.entries.get(modelKey(model))?.names;
  }

  set(model: string, names: T | undefined, digest: string | undefined): void {
    const ttl = names === undefined ? this.opts.unknownTtlMs : this.opts.ttlMs;
    this.store(modelKey(model), { names, digest, expiresAt: this.opts.now() + ttl });
  }

  forget(model: string): void {
    this.entries.delete(modelKey(model));
  }

  /** The server refused a request for the model because of `feature` ("does not support tools"). */
  refuse(model: string, feature: string): void {
    const key = modelKey(model);
    const features = this.refusals.get(key) ?? new Map<string, number>();
    features.set(feature, this.opts.now() + this.opts.ttlMs);
    this.refusals.delete(key); // re-inserted last, as in store()
    this.refusals.set(key, features);
    for (const oldest of this.refusals.keys()) {
      if (this.refusals.size <= this.opts.maxEntries) break;
      this.refusals.delete(oldest);
    }
  }

  /** The features the server refused for the model, in the last `ttlMs`. */
  refused(model: string): ReadonlySet<string> {
    const features = this.refusals.get(modelKey(model));
    const now = this.opts.now();
    return new Set([...(features ?? [])].filter(([, expiresAt]) => expiresAt > now).map(([feature]) => feature));
  }

  /** After a model list: forget models that are no longer installed. */
  retain(listed: Iterable<string>): void {
    const keep = new Set([...listed].map(modelKey));
    for (const key of this.entries.keys()) if (!keep.has(key)) this.entries.delete(key);
    for (const key of this.refusals.keys()) if (!keep.has(key)) this.refusals.delete(key);
  }

  private async refresh(key: string, model: string, stale: Entry<T> | undefined): Promise<T | undefined> {
    let names: T | undefined;
    try {
      names = await this.opts.read(model, AbortSignal.timeout(this.opts.readTimeoutMs));
    } catch {
      // Unreachable, not found, garbage, too slow: the run goes ahead and the server's own answer decides.
      // A capability list read before stays in use meanwhile.
      const names = stale?.names;
      this.store(key, { names, digest: stale?.digest, expiresAt: this.opts.now() + this.opts.unknownTtlMs });
      return names;
    }
    this.store(key, { names, digest: stale?.digest, expiresAt: this.opts.now() + (names === undefined ? this.opts.unknownTtlMs : this.opts.ttlMs) });
    return names;
  }

  private store(key: string, entry: Entry<T>): void {
    this.entries.delete(key); // re-inserted last: the map's order is least recently stored first
    this.entries.set(key, entry);
    for (const oldest of this.entries.keys()) {
      if (this.entries.size <= this.opts.maxEntries) break;
      this.entries.delete(oldest);
    }
  }
}
