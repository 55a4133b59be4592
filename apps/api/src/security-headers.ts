import type { IncomingMessage, ServerResponse } from "node:http";

/** A connect-style middleware that only sets (or removes) response headers, like helmet's. */
export type HeaderMiddleware = (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void;

/**
 * The headers `middleware` sets, computed once, by lower-case name. For helmet with options that name no
 * per-request value (no CSP nonce functions), these are the same for every response: applied per request through
 * `res.setHeader`, they cost ~11 header validations per request and made Node keep a header map on every response
 * for its whole life (~1.8 KB per open stream). Put on the Fastify reply instead, they reach the socket in the one
 * `writeHead` that sends the status line.
 *
 * Throws when the middleware fails, or does not finish synchronously (it would then depend on the request).
 */
export function constantHeaders(middleware: HeaderMiddleware): Readonly<Record<string, string>> {
  const headers: Record<string, string> = {};
  const recorder = {
    setHeader(name: string, value: unknown) {
      headers[name.toLowerCase()] = Array.isArray(value) ? value.join(", ") : String(value);
      return recorder;
    },
    removeHeader(name: string) {
      delete headers[name.toLowerCase()];
    },
  };
  let finished = false;
  let failure: unknown;
  middleware({ headers: {} } as IncomingMessage, recorder as unknown as ServerResponse, (err) => {
    finished = true;
    failure = err;
  });
  if (failure !== undefined) throw failure;
  if (!finished) throw new Error("the header middleware did not finish synchronously");
  return Object.freeze(headers);
}
