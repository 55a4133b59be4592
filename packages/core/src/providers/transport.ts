/**
 * How the providers talk HTTP to a model server. Two implementations: node-transport.ts (the default:
 * node:http / node:https with a keep-alive agent, cheap per request and per chunk) and fetch-transport.ts
 * (a user's `fetch` option: proxies, mocks). request.ts adds retries and error mapping on top of either.
 */
export interface Transport {
  /**
   * Sends one request and resolves once the response headers arrived, whatever the status. Rejects when no
   * response came (no connection, a reset before headers, our abort: the signal's reason or an AbortError).
   */
  request(request: TransportRequest): Promise<TransportResponse>;
}

export interface TransportRequest {
  url: string;
  method: "GET" | "POST";
  headers: Record<string, string>;
  /** Sent whole, with its content-length. */
  body?: string | undefined;
  /** Aborting closes the connection, before or after the headers (and stops generation on the server). */
  signal?: AbortSignal | undefined;
}

export interface TransportResponse {
  status: number;
  /** The body bytes, or null when the response has none (fetch for a 204). Breaking out closes the connection. */
  body: AsyncIterable<Uint8Array> | null;
  /** The whole body as text. */
  text(): Promise<string>;
  /** The whole body parsed: a SyntaxError when it is not JSON, the connection's error when reading broke. */
  json(): Promise<unknown>;
  /** Drops the body unread (closes the connection). Safe to call at any time, more than once. */
  cancel(): void;
  /**
   * Optional: the body's chunks handed to `onBytes` as they arrive, instead of through `body` (use one or the
   * other); resolves at the end, rejects as reading `body` would throw. When `onBytes` throws, the connection is
   * closed and the promise rejects with that error.
   */
  forEach?(onBytes: (bytes: Uint8Array) => void): Promise<void>;
}
