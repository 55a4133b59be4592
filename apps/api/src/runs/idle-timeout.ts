import { ChatError, type ChatModel, type ModelChunk, type ModelRequest } from "@streamchat/core";

/**
 * Wraps a model so a stream that delivers no chunk for `idleMs` fails with provider_error and its
 * request is aborted (which closes the socket to the model server). A stalled model would otherwise
 * hold the run, and the user's run slot, forever.
 */
export function withIdleTimeout(model: ChatModel, idleMs: number): ChatModel {
  const wrapped: ChatModel = {
    provider: model.provider,
    stream: (request, options) => idleGuardedStream(model, request, options?.signal, idleMs),
  };
  if (model.listModels) wrapped.listModels = model.listModels.bind(model);
  if (model.version) wrapped.version = model.version.bind(model);
  return wrapped;
}

async function* idleGuardedStream(
  model: ChatModel,
  request: ModelRequest,
  outer: AbortSignal | undefined,
  idleMs: number,
): AsyncGenerator<ModelChunk> {
  const controller = new AbortController();
  const forward = () => controller.abort(outer?.reason);
  if (outer?.aborted) forward();
  else outer?.addEventListener("abort", forward, { once: true });

  const iterator = model.stream(request, { signal: controller.signal })[Symbol.asyncIterator]();
  const stalled = Symbol("stalled");
  try {
    for (;;) {
      let timer: NodeJS.Timeout | undefined;
      const idle = new Promise<typeof stalled>((resolve) => {
        timer = setTimeout(() => resolve(stalled), idleMs);
      });
      const next = iterator.next();
      let step: IteratorResult<ModelChunk> | typeof stalled;
      try {
        step = await Promise.race([next, idle]);
      } finally {
        clearTimeout(timer);
      }
      if (step === stalled) {
        // The pending next() settles (rejects) once the abort reaches the provider; nobody needs it.
        next.catch(() => {});
        controller.abort(new Error("model stalled"));
        throw new ChatError(
          "provider_error",
          `The model stalled: no data from the model server for ${Math.round(idleMs / 1000)} s.`,
          { retryable: true },
        );
      }
      if (step.done) return;
      yield step.value;
    }
  } finally {
    outer?.removeEventListener("abort", forward);
    // Ends the request when the consumer stopped early; a no-op after a complete response.
    controller.abort();
    void iterator.return?.()?.catch(() => {});
  }
}
