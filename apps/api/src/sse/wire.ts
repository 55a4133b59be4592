/**
 * tRPC v11.19's SSE wire format for subscriptions, byte for byte (`@trpc/server` stream/sse.ts): each
 * message is its fields in the order event, data, id, each on its own line, then "\n\n" — so every frame
 * ends in three newlines. `httpSubscriptionLink` reads these through an EventSource.
 */

/** The headers tRPC sets on a subscription response (sse.ts `sseHeaders`, plus resolveResponse's `vary`). */
export const subscriptionHeaders: ReadonlyArray<readonly [string, string]> = [
  // In the order a fetch `Headers` iterates them (sorted by name), which is how tRPC's Response hands them over.
  ["cache-control", "no-cache, no-transform"],
  ["connection", "keep-alive"],
  ["content-type", "text/event-stream"],
  ["vary", "trpc-accept, accept"],
  ["x-accel-buffering", "no"],
];

/** The first frame: the client options (`reconnectAfterInactivityMs`) the link applies to this stream. */
export function connectedFrame(clientOptions: object): string {
  return `event: connected\ndata: ${JSON.stringify(clientOptions)}\n\n\n`;
}

/** A value the procedure yielded, already serialized to JSON; `id` when it was `tracked(id, value)`. */
export function dataFrame(json: string | undefined, id?: string): string {
  return id === undefined ? `data: ${json}\n\n\n` : `data: ${json}\nid: ${id}\n\n\n`;
}

/** An error the procedure threw, as the router's errorFormatter shaped it (serialized). */
export function errorFrame(json: string | undefined): string {
  return `event: serialized-error\ndata: ${json}\n\n\n`;
}

export const pingFrame = "event: ping\ndata: \n\n\n";

/** The procedure returned: the client completes and does not reconnect. */
export const returnFrame = "event: return\ndata: \n\n\n";
