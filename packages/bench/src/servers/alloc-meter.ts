import { GCProfiler, getHeapStatistics } from "node:v8";

/** What V8's GC profiler reports per collection (camelCase at run time; @types/node names them as getHeapStatistics does). */
interface GcStatistics {
  beforeGC: { heapStatistics: { usedHeapSize: number } };
  afterGC: { heapStatistics: { usedHeapSize: number } };
}

/**
 * The bytes this thread's JS heap allocated, counted from the first call (which returns 0): the heap's growth between
 * collections, summed — what each collection found in use, less what the one before it left, plus the growth since
 * the last. V8 keeps no running total of allocations; its GC profiler reports the heap's size before and after each
 * collection, which is enough. Off-heap memory (a Buffer's bytes) and other threads' heaps are not in it.
 *
 * Started on demand: a server that is never asked runs without the profiler.
 */
export class AllocationMeter {
  #profiler: GCProfiler | undefined;
  #total = 0;
  #lastUsed = 0;

  allocatedBytes(): number {
    if (this.#profiler === undefined) {
      this.#lastUsed = getHeapStatistics().used_heap_size;
      this.#profiler = this.#started();
      return 0;
    }
    const collections = this.#profiler.stop().statistics as unknown as GcStatistics[];
    const used = getHeapStatistics().used_heap_size;
    this.#profiler = this.#started();
    let previous = this.#lastUsed;
    for (const gc of collections) {
      this.#total += Math.max(0, gc.beforeGC.heapStatistics.usedHeapSize - previous);
      previous = gc.afterGC.heapStatistics.usedHeapSize;
    }
    this.#total += Math.max(0, used - previous);
    this.#lastUsed = used;
    return this.#total;
  }

  #started(): GCProfiler {
    const profiler = new GCProfiler();
    profiler.start();
    return profiler;
  }
}
