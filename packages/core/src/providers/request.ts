import { ChatError } from "../errors.js";
import { bodyJson } from "./body-json.js";
import { fetchTransport } from "./fetch-transport.js";
import { isConnectionReset, readError, toChatError } from "./http-errors.js";
import { nodeTransport } from "./node-transport.js";
import type { Transport, TransportResponse } from "./transport.js";

export interface HttpTarget {
  baseUrl: string;
  transport: Transport;
  headers: Record<string, string>;
  /** Told the URL when a request finds no server there (provider_unavailable), for the server's log. */
  onUnreachable?: ((failure: UnreachableFailure) => void) | undefined;
}

/** A request that could not reach the model server: where it went and why (never shown to users). */
export interface UnreachableFailure {
  url: string;
  error: unknown;
}

/** The user's fetch when given (proxies, mocks), else node:http with a keep-alive agent of its own. */
export function transportFor(fetchImpl: typeof fetch | undefined): Transport {
  return fetchImpl ? fetchTransport(fetchImpl) : nodeTransport();
}

/**
 * One HTTP request to a model server. Returns the 2xx response (body unread) or throws a typed ChatError.
 * The signal goes to the transport, so aborting closes the socket (and stops generation on the server).
 */
export async function send(
  target: HttpTarget,
  path: string,
  init: { method: "GET" | "POST"; body?: unknown; signal?: AbortSignal | undefined },
): Promise<TransportResponse> {
  const ctx = { signal: init.signal };
  const url = joinUrl(target.baseUrl, path);
  const request = {
    url,
    method: init.method,
    headers: init.body === undefined ? target.headers : { "content-type": "application/json", ...target.headers },
    body: init.body === undefined ? undefined : bodyJson(init.body),
    signal: init.signal,
  };
  let res: TransportResponse;
  for (let attempt = 1; ; attempt += 1) {
    try {
      res = await target.transport.request(request);
      break;
    } catch (error) {
      // A pooled keep-alive connection can be closed by the server just as we reuse it: the request dies
      // before any response header with a socket reset. The server never saw a request to answer, so one
      // retry (on a fresh connection) is safe. Never after headers (that path does not come here), never
      // on our own abort, never twice.
      if (attempt === 1 && !init.signal?.aborted && isConnectionReset(error)) continue;
      const failure = toChatError({ kind: "request", error }, ctx);
      if (failure.code === "provider_unavailable") target.onUnreachable?.({ url, error });
      throw failure;
    }
  }
  if (res.status < 200 || res.status > 299) {
    const { message, body } = await readError(res);
    throw toChatError({ kind: "status", status: res.status, message, body }, ctx);
  }
  return res;
}

/** GET/POST expecting a JSON body; a body that is not JSON is a provider_error. */
export async function sendJson(
  target: HttpTarget,
  path: string,
  init: { method: "GET" | "POST"; body?: unknown; signal?: AbortSignal | undefined },
): Promise<unknown> {
  const res = await send(target, path, init);
  try {
    return (await res.json()) as unknown;
  } catch (error) {
    // SyntaxError = the server spoke something else; anything else = the connection broke while reading.
    if (error instanceof SyntaxError && !init.signal?.aborted) {
      throw new ChatError("provider_error", `The model server answered ${path} with invalid JSON.`, { cause: error });
    }
    throw toChatError({ kind: "body", error }, { signal: init.signal });
  }
}

export function joinUrl(baseUrl: string, path: string): string {
  return `${baseUrl.replace(/\/+$/, "")}${path}`;
}
