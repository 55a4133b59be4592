/**
 * A subscription's source that can hand values to the SSE writer itself, as they happen, instead of through its
 * async iterator: the writer attaches a `write` function once it has sent `connected` and pulls from the iterator.
 *
 * Why: a run's token used to cross three async steps between the run's publish and `res.write` (the follower's
 * wake, its generator, the procedure's generator), each a promise, an iterator result and a microtask. A source
 * calls `write` only while the writer waits in `next()` for it and nothing of the source's is on its way, so
 * writes stay in order; whatever `write` refuses (it returns false: the response waits for `drain`, the client
 * left) the source hands out through `next()` as before, which is where backpressure and the end of the stream
 * are handled. tRPC's own SSE producer never attaches and pulls every value.
 */
export const attachWriter = Symbol("attachWriter");

/**
 * Writes one value of the subscription now (true) or cannot now (false). Never throws. `id`: the value is
 * `tracked(id, data)` (the source need not build the envelope). `json`: `JSON.stringify(data)` when the source has it
 * at hand; a writer whose router serializes values as they are (no transformer) sends it instead of serializing again.
 */
export type DirectWrite = (data: unknown, id?: string, json?: string) => boolean;

export interface DirectWritesSource {
  [attachWriter](write: DirectWrite): void;
}

export const acceptsDirectWrites = (value: object): value is DirectWritesSource =>
  typeof (value as Partial<DirectWritesSource>)[attachWriter] === "function";
