import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { observable } from "@trpc/server/observable";
import type { ReactNode } from "react";
import { trpc } from "../trpc.js";

/**
 * A tRPC provider for components under test (jsdom): each query and mutation is answered by `answer` from its path and
 * input, no server involved; subscriptions stay open and say nothing.
 */
export function trpcWrapper(answer: (path: string, input: unknown) => unknown): (props: { children: ReactNode }) => ReactNode {
  const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  const client = trpc.createClient({
    links: [
      () =>
        ({ op }) =>
          observable((observer) => {
            if (op.type === "subscription") return () => {};
            // Later, like a server: what the component does before the answer arrives is part of what is tested.
            void Promise.resolve().then(() => {
              observer.next({ result: { type: "data", data: answer(op.path, op.input) } });
              observer.complete();
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
