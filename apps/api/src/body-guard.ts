import type { IncomingHttpHeaders } from "node:http";

/** The message of every 415: what was wrong and what to send instead. */
export const jsonOnlyMessage = "Unsupported content type: send the request body as JSON (Content-Type: application/json).";

/** True when the request carries a body (chunked, or a non-zero Content-Length). */
export function hasBody(headers: IncomingHttpHeaders): boolean {
  if (headers["transfer-encoding"] !== undefined) return true;
  const length = headers["content-length"];
  return length !== undefined && length.trim() !== "0";
}

/** application/json, with or without parameters (charset), any case. */
export function isJsonContentType(value: string | undefined): boolean {
  return (value?.split(";", 1)[0] ?? "").trim().toLowerCase() === "application/json";
}

/**
 * Whether a request must be refused with 415 before its body is read: it has a body that is not JSON.
 *
 * Why before reading: every route takes JSON only, and some body parsers have no size limit at all. The
 * tRPC Fastify adapter registers a multipart/form-data parser that hands the raw stream to tRPC, whose
 * `req.formData()` buffers the whole body whatever MAX_BODY_BYTES says (a 200 MB upload cost ~900 MB of
 * memory before the 400). Refusing on the headers means no such parser ever runs.
 */
export function refuseBody(headers: IncomingHttpHeaders): boolean {
  return hasBody(headers) && !isJsonContentType(headers["content-type"]);
}
