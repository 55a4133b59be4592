import type { IncomingHttpHeaders, IncomingMessage } from "node:http";
import { parseConnectionParamsFromString } from "@trpc/server/http";
import { TRPC_ERROR_CODES_BY_KEY, type TRPC_ERROR_CODE_KEY } from "@trpc/server/rpc";
import type { ErrorCode } from "@streamchat/core";

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

/**
 * The most calls one tRPC batch (`?batch=1`, procedure paths joined by commas) may hold. Without a bound one request
 * could run thousands of procedures (as many as fit in the URL), each with its own context, database reads and
 * answer. The clients of this repo send far fewer at a time (one tick's calls, a handful); a client that batches
 * more sets httpBatchLink's `maxItems` to this.
 */
export const maxBatchSize = 32;

/** The message of a batch over maxBatchSize: how many it had, the limit, and what to do instead. */
export const batchTooLargeMessage = (calls: number) =>
  `Too many calls in one batch (${calls}, at most ${maxBatchSize}): split them into several requests (httpBatchLink's maxItems).`;

/** A tRPC call's request: the procedure paths of its URL (a batch's, or the one) and its query string. */
export interface TrpcCall {
  paths: string[];
  batch: boolean;
  /** The URL's query, undecoded (read only by the requests that need it: every stream's URL passes here). */
  search: string;
}

/**
 * The call a `/trpc/<path>` URL makes, or undefined for another URL or a path that is not procedure names (tRPC
 * percent-decodes the path a second time, so `/trpc/%25` threw a URIError inside its adapter: only plain names,
 * joined by commas in a batch, are procedures).
 */
export function trpcCallOf(url: string): TrpcCall | undefined {
  const queryAt = url.indexOf("?");
  const path = queryAt < 0 ? url : url.slice(0, queryAt);
  const search = queryAt < 0 ? "" : url.slice(queryAt + 1);
  if (!path.startsWith("/trpc/")) return undefined;
  let procedures = "";
  try {
    procedures = decodeURIComponent(path.slice("/trpc/".length));
  } catch {
    return undefined;
  }
  if (!/^[A-Za-z0-9_.,]+$/.test(procedures)) return undefined;
  // As tRPC reads it (contentType.ts): only `batch=1` splits the path. Most URLs have no batch parameter at all.
  const batch = search.includes("batch") && new URLSearchParams(search).get("batch") === "1";
  return { paths: batch ? procedures.split(",") : [procedures], batch, search };
}

/**
 * The token a request's `connectionParams` query parameter carries (browsers' SSE, which cannot set headers), as
 * tRPC's context gets it; null when the parameter does not parse (tRPC answers that itself).
 */
export function connectionParamsToken(search: string): { token: unknown } | null {
  const params = search.includes("connectionParams") ? new URLSearchParams(search).get("connectionParams") : null;
  if (params === null) return { token: undefined };
  try {
    return { token: parseConnectionParamsFromString(params)?.["token"] };
  } catch {
    return null;
  }
}

/** An error in tRPC's shape (as its errorFormatter makes them), for answers given before tRPC runs. */
export function trpcErrorBody(code: TRPC_ERROR_CODE_KEY, httpStatus: number, message: string, appCode: ErrorCode | null, path?: string) {
  const data = { code, httpStatus, ...(path === undefined ? {} : { path }), appCode };
  return { error: { code: TRPC_ERROR_CODES_BY_KEY[code], message, data } };
}
