import type { Transport, TransportResponse } from "./transport.js";

/** A Transport over a `fetch` the user gave (a proxy, a mock): requests go exactly as fetch sends them. */
export function fetchTransport(fetchImpl: typeof fetch): Transport {
  return {
    async request(request): Promise<TransportResponse> {
      const res = await fetchImpl(request.url, {
        method: request.method,
        headers: request.headers,
        ...(request.body === undefined ? {} : { body: request.body }),
        ...(request.signal ? { signal: request.signal } : {}),
      });
      const stream = res.body;
      /** The reader of `body` once it is read: cancelling a locked stream goes through it. */
      let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
      const body: AsyncIterable<Uint8Array> | null =
        stream &&
        ({
          [Symbol.asyncIterator]: (): AsyncIterator<Uint8Array> => {
            const own = stream.getReader();
            reader = own;
            return {
              next: () => own.read() as Promise<IteratorResult<Uint8Array>>,
              // Stopping early cancels the body, as breaking out of a ReadableStream's own iterator does.
              return: async () => {
                await own.cancel();
                return { done: true, value: undefined };
              },
            };
          },
        } satisfies AsyncIterable<Uint8Array>);
      return {
        status: res.status,
        body,
        text: () => res.text(),
        json: () => res.json() as Promise<unknown>,
        cancel: () => {
          // While the body is read, through its reader (a pending read then ends); a body already read whole
          // (text, json) has nothing left open.
          if (reader) reader.cancel().catch(() => undefined);
          else if (stream && !res.bodyUsed && !stream.locked) stream.cancel().catch(() => undefined);
        },
      };
    },
  };
}
