import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { TRPCClientError } from "@trpc/client";
import { observable } from "@trpc/server/observable";
import type { ReactNode } from "react";
import type { ErrorCode } from "@streamchat/core/browser";
import { trpc } from "../trpc.js";

const rpcCodes = {
  NOT_FOUND: -32004,
  BAD_REQUEST: -32600,
  CONFLICT: -32009,
  INTERNAL_SERVER_ERROR: -32603,
  SERVICE_UNAVAILABLE: -32603,
  TIMEOUT: -32008,
  TOO_MANY_REQUESTS: -32029,
  UNAUTHORIZED: -32001,
} as const;
const httpStatuses = {
  NOT_FOUND: 404,
  BAD_REQUEST: 400,
  CONFLICT: 409,
  INTERNAL_SERVER_ERROR: 500,
  SERVICE_UNAVAILABLE: 503,
  TIMEOUT: 408,
  TOO_MANY_REQUESTS: 429,
  UNAUTHORIZED: 401,
} as const;

/** A refusal as the API sends it (apps/api's errorFormatter): throw it from an `answer` to fail that call. */
export function serverError(code: keyof typeof rpcCodes, message: string, appCode: ErrorCode | null = null) {
  return { error: { code: rpcCodes[code], message, data: { code, httpStatus: httpStatuses[code], appCode } } };
}

/**
 * A tRPC provider for components under test (jsdom): each query and mutation is answered by `answer` from its path and
 * input, no server involved. An answer may be a promise (the test decides when the call ends); a thrown or rejected one
 * fails the call (`serverError` for the API's shape, any Error for the network). Subscriptions stay open and say nothing,
 * unless `events` is given: it hears of each one, with a way to send it tracked events (what chat.events sends).
 * `staleTime`: how long an answer stays fresh (0 by default; the page's own client keeps them 5 s, main.tsx).
 */
export function trpcWrapper(
  answer: (path: string, input: unknown) => unknown,
  events?: (path: string, input: unknown, send: (id: string, data: unknown) => void) => void,
  { staleTime = 0 }: { staleTime?: number } = {},
): (props: { children: ReactNode }) => ReactNode {
  const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false, staleTime } } });
  const client = trpc.createClient({
    links: [
      () =>
        ({ op }) =>
          observable((observer) => {
            if (op.type === "subscription") {
              // As httpSubscriptionLink gives a tracked event: its id, and the envelope as the data.
              events?.(op.path, op.input, (id, data) => observer.next({ result: { id, data: { id, data } } }));
              return () => {};
            }
            const succeed = (data: unknown) => {
              observer.next({ result: { type: "data", data } });
              observer.complete();
            };
            const fail = (error: unknown) => observer.error(TRPCClientError.from(error instanceof Error ? error : (error as object)));
            // Later, like a server: what the component does before the answer arrives is part of what is tested.
            void Promise.resolve().then(() => {
              let data: unknown;
              try {
                data = answer(op.path, op.input);
              } catch (error) {
                return fail(error);
              }
              if (data instanceof Promise) data.then(succeed, fail);
              else succeed(data);
            });
            return () => {};
          }),
    ],
  });
  return ({ children }) => (
    <trpc.Provider client={client} queryClient={queryClient}>
      <QueryClientProvider client={queryClient}>{children}</QueryClientProvider>
    </trpc.Provider>
  );
}
