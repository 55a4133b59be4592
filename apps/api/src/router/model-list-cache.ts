import type { ModelInfo } from "@streamchat/core";
import type { ProviderHandle } from "../provider.js";

/**
 * How long one model list serves every caller. The list itself (/api/tags + /api/show, cached per digest in
 * the provider) rarely changes, but `loaded` (/api/ps) does: a few seconds keeps a picker that several tabs
 * poll from asking the model server each time, while a model that just loaded shows as such soon after.
 */
export const modelListTtlMs = 5000;
const listTimeoutMs = 3000;

interface Entry {
  at: number;
  stamp: string;
  list: Promise<ModelInfo[]>;
  /** The read is still under way. */
  pending: boolean;
}

/**
 * The provider's model list, shared: callers within `modelListTtlMs` (and callers while a read is under way)
 * get the same answer, as long as `stamp` is the same. The stamp changes when a run starts or ends here: a
 * run loads its model and may teach the provider what the model refuses (tools), so the next list reads
 * again. A failed read is not kept, so the next caller asks again; `refresh` reads anew, unless a read is under way
 * already (it is a fresh one): concurrent refreshes — a batch of them, several tabs — share one read rather than each
 * asking the model server.
 */
export class ModelListCache {
  private entry: Entry | undefined;

  constructor(
    private readonly read: (signal: AbortSignal) => Promise<ModelInfo[]>,
    private readonly now: () => number = Date.now,
  ) {}

  get(options: { refresh?: boolean; stamp?: string } = {}): Promise<ModelInfo[]> {
    const current = this.entry;
    const stamp = options.stamp ?? "";
    if (current && current.stamp === stamp) {
      if (current.pending) return current.list;
      if (!options.refresh && this.now() - current.at < modelListTtlMs) return current.list;
    }
    const list = this.read(AbortSignal.timeout(listTimeoutMs));
    const entry: Entry = { at: this.now(), stamp, list, pending: true };
    this.entry = entry;
    list.then(
      () => {
        entry.pending = false;
      },
      () => {
        entry.pending = false;
        if (this.entry === entry) this.entry = undefined;
      },
    );
    return list;
  }
}

const caches = new WeakMap<ProviderHandle, ModelListCache>();

/** The list cache of this provider (one per API instance, as the provider is). */
export function modelListOf(provider: ProviderHandle): ModelListCache {
  let cache = caches.get(provider);
  if (!cache) {
    const listModels = provider.model.listModels?.bind(provider.model);
    cache = new ModelListCache(async (signal) => (listModels ? await listModels({ signal }) : []));
    caches.set(provider, cache);
  }
  return cache;
}
