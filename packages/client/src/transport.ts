import { createTRPCClient, httpBatchLink, httpLink, httpSubscriptionLink, splitLink } from "@trpc/client";
import { EventSource as FetchEventSource } from "eventsource";
import type { AppRouter } from "@streamchat/api";
import { certificateProblem, ChatClientError, NotTheApiError, untrustedCertificateMessage } from "./errors.js";

/** Any WHATWG-style EventSource constructor (the browser's, Node's, or the `eventsource` package's). */
export type EventSourceConstructor = typeof globalThis.EventSource;

export interface TransportOptions {
  /**
   * Base URL of the API server, e.g. `http://127.0.0.1:3000` (the tRPC endpoint is `<url>/trpc`); in a browser it may be
   * relative to the page. Another scheme, or none, throws ChatClientError `bad_request` when the client is made.
   */
  url: string;
  /** Bearer token, when the server has `AUTH_TOKENS` set. */
  token?: string | undefined;
  /** Used for queries, mutations and (with an EventSource that accepts one) subscriptions. */
  fetch?: typeof globalThis.fetch;
  EventSource?: EventSourceConstructor;
}

export type TrpcClient = ReturnType<typeof createTRPCClient<AppRouter>>;

// The `eventsource` package marks constructors that take a `fetch` option with this symbol.
const fetchOverride = Symbol.for("eventsource.supports-fetch-override");

/**
 * The base URL, checked once when the client is made: one without its scheme ("localhost:3000") or with another
 * would fail every call later, as "cannot reach the chat server (fetch failed)" or "unexpected response", and a
 * stream only after its reconnects. In a browser a relative URL ("", "/") is the page's.
 */
function checkedUrl(url: string): string {
  const page = (globalThis as { location?: { href?: unknown } }).location?.href;
  const base = typeof page === "string" ? page : undefined;
  const protocol = URL.canParse(url, base) ? new URL(url, base).protocol : undefined;
  if (protocol !== "http:" && protocol !== "https:") {
    throw new ChatClientError(
      "bad_request",
      `The chat server's URL must be an http:// or https:// URL, e.g. http://127.0.0.1:3000 (got ${JSON.stringify(url)}).`,
      { retryable: false },
    );
  }
  return url;
}

export function trpcUrl(url: string): string {
  const base = url.replace(/\/+$/, "");
  return base.endsWith("/trpc") ? base : `${base}/trpc`;
}

function supportsFetch(EventSource: EventSourceConstructor): boolean {
  return (EventSource as unknown as Record<symbol, unknown>)[fetchOverride] === true;
}

function withAuthorization(init: RequestInit | undefined, token: string): Headers {
  const headers = new Headers(init?.headers);
  headers.set("Authorization", `Bearer ${token}`);
  return headers;
}

export function createTransport(opts: TransportOptions): TrpcClient {
  const url = trpcUrl(checkedUrl(opts.url));
  // Looked up per call, so a fetch patched or polyfilled after the client was created is still used.
  const fetchImpl: typeof globalThis.fetch = opts.fetch ?? ((input, init) => globalThis.fetch(input, init));
  // A custom fetch only reaches subscriptions through an EventSource that accepts one, so prefer the package then.
  const EventSource: EventSourceConstructor =
    opts.EventSource ??
    (opts.fetch ? undefined : globalThis.EventSource) ??
    (FetchEventSource as unknown as EventSourceConstructor);
  const { token } = opts;

  // The API answers every query and mutation with JSON, errors too; anything else came from something else.
  const apiFetch: typeof globalThis.fetch = async (input, init) => {
    const response = await fetchImpl(input, init);
    const contentType = response.headers.get("content-type") ?? "";
    if (!/\bjson\b/i.test(contentType)) {
      await response.body?.cancel();
      throw new NotTheApiError(response.status, contentType.split(";")[0]!.trim());
    }
    return response;
  };

  const headers = () => (token === undefined ? {} : { Authorization: `Bearer ${token}` });
  const sseFetch: typeof globalThis.fetch = async (input, init) => {
    try {
      return await fetchImpl(input, token === undefined ? init : { ...init, headers: withAuthorization(init, token) });
    } catch (error) {
      // The EventSource passes on only an error's message: a certificate failure's code rides in it, so the
      // subscription can fail at once with it (followRun) instead of retrying as if the server were down.
      const certificate = certificateProblem(error);
      throw certificate === undefined ? error : new Error(untrustedCertificateMessage(certificate), { cause: error });
    }
  };

  // Headers where the EventSource lets us set them; otherwise (browsers) the token rides in connectionParams,
  // which the server reads in createContext.
  const headerCapable = supportsFetch(EventSource);

  return createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: (op) => op.type === "subscription",
        true: httpSubscriptionLink({
          url,
          EventSource,
          ...(headerCapable
            ? // The DOM's EventSourceInit has no `fetch`; headerCapable proved this constructor takes one.
              { eventSourceOptions: () => ({ fetch: sseFetch }) as EventSourceInit }
            : token !== undefined
              ? { connectionParams: { token } }
              : {}),
        }),
        false: splitLink({
          // An import is sent on its own: its route takes bodies up to MAX_IMPORT_BYTES, a batch only MAX_BODY_BYTES.
          condition: (op) => op.path === "conversations.import",
          true: httpLink({ url, fetch: apiFetch, headers }),
          // The API runs at most 32 calls per batch (apps/api trpc-http.ts maxBatchSize).
          false: httpBatchLink({ url, fetch: apiFetch, headers, maxItems: 32 }),
        }),
      }),
    ],
  });
}
