import type { IncomingHttpHeaders, IncomingMessage } from "node:http";

/** The lean routes' shared reading of a request, as tRPC's fetch adapter reads it. */

export const isObject = (value: unknown): value is Record<string, unknown> =>
  !!value && !Array.isArray(value) && typeof value === "object";

/** A header as the fetch `Headers` of tRPC's adapter gives it: repeated values joined by ", ". */
export const header = (headers: IncomingHttpHeaders, name: string): string | null => {
  const value = headers[name];
  return value === undefined ? null : Array.isArray(value) ? value.join(", ") : value;
};

/** tRPC's getAcceptHeader: `trpc-accept`, else `application/jsonl` when `accept` lists it. */
export function acceptOf(headers: IncomingHttpHeaders): "application/jsonl" | null {
  const trpcAccept = header(headers, "trpc-accept");
  if (trpcAccept !== null) return trpcAccept as "application/jsonl";
  return header(headers, "accept")?.split(",").some((t) => t.trim() === "application/jsonl") ? "application/jsonl" : null;
}

/** The request's URL as tRPC's adapter builds it (incomingMessageToRequest.ts createURL); throws when it cannot. */
export function requestUrl(raw: IncomingMessage): URL {
  const encrypted = (raw.socket as { encrypted?: boolean } | null)?.encrypted === true;
  return new URL(raw.url ?? "/", `${encrypted ? "https:" : "http:"}//${raw.headers.host ?? "localhost"}`);
}
