import type { AppRouter } from "@streamchat/api";
import { httpBatchLink, httpLink, httpSubscriptionLink, splitLink } from "@trpc/client";
import { createTRPCReact } from "@trpc/react-query";
import type { inferRouterInputs, inferRouterOutputs } from "@trpc/server";
import { readToken } from "./lib/authToken.js";
import { checkedFetch } from "./lib/errors.js";

export const trpc = createTRPCReact<AppRouter>();

export type RouterInputs = inferRouterInputs<AppRouter>;
export type RouterOutputs = inferRouterOutputs<AppRouter>;

/**
 * Subscriptions go over SSE (one EventSource each); everything else is batched HTTP, but for an import: it goes
 * alone to its own route, whose body limit is MAX_IMPORT_BYTES (a batch has MAX_BODY_BYTES).
 * Browsers cannot set headers on an EventSource, so the token travels as tRPC connectionParams there. A proxy's own
 * error page (not JSON) fails as an HttpStatusError, which the error bar can put in words (lib/errors.ts).
 */
function authHeaders(): Record<string, string> {
  const token = readToken();
  return token ? { Authorization: `Bearer ${token}` } : {};
}

export function createTrpcClient(baseUrl = "/trpc") {
  return trpc.createClient({
    links: [
      splitLink({
        condition: (op) => op.type === "subscription",
        true: httpSubscriptionLink({
          url: baseUrl,
          connectionParams: () => {
            const token = readToken();
            return token ? { token } : null;
          },
        }),
        false: splitLink({
          condition: (op) => op.path === "conversations.import",
          true: httpLink({ url: baseUrl, headers: authHeaders, fetch: checkedFetch }),
          // The API runs at most 32 calls per batch (apps/api trpc-http.ts maxBatchSize).
          false: httpBatchLink({ url: baseUrl, headers: authHeaders, maxItems: 32, fetch: checkedFetch }),
        }),
      }),
    ],
  });
}
