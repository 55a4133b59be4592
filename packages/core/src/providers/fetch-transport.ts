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
      return {
        status: res.status,
        body: res.body,
        text: () => res.text(),
        json: () => res.json() as Promise<unknown>,
        cancel: () => {
          // A body already read or locked cannot be cancelled: nothing is left open then.
          if (res.body && !res.bodyUsed && !res.body.locked) res.body.cancel().catch(() => undefined);
        },
      };
    },
  };
}
