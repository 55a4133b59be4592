import { constants, createBrotliDecompress, createGunzip, createInflate } from "node:zlib";
import type { Transform } from "node:stream";

/** The codings asked for (`accept-encoding`) and decoded: what fetch asked for before this client used node:http. */
export const acceptEncoding = "gzip, deflate, br";

/** Most codings one body may stack ("gzip, br"), as fetch (undici) allows: each is another decoder to run. */
const maxCodings = 5;

// Output for every chunk that comes, not only at the end: an event stream's events are read as they arrive, and a
// stream the server ends without the coding's trailer still gives what it held (as fetch does).
const zlibOptions = { flush: constants.Z_SYNC_FLUSH, finishFlush: constants.Z_SYNC_FLUSH };
const brotliOptions = { flush: constants.BROTLI_OPERATION_FLUSH, finishFlush: constants.BROTLI_OPERATION_FLUSH };

/**
 * The streaming decoders for a body with this `content-encoding`, in the order to pipe it through (the last coding
 * applied is undone first). `[]`: nothing to decode. undefined: a coding this client does not know (or too many); the
 * body is passed on as it came, as fetch does, and will not read as an MCP answer.
 */
export function decodersFor(contentEncoding: string | null): Transform[] | undefined {
  const codings = (contentEncoding ?? "")
    .split(",")
    .map((coding) => coding.trim().toLowerCase())
    .filter((coding) => coding !== "" && coding !== "identity");
  if (codings.length > maxCodings) return undefined;
  const decoders: Transform[] = [];
  for (const coding of codings.reverse()) {
    if (coding === "gzip" || coding === "x-gzip") decoders.push(createGunzip(zlibOptions));
    else if (coding === "deflate") decoders.push(createInflate(zlibOptions));
    else if (coding === "br") decoders.push(createBrotliDecompress(brotliOptions));
    else {
      for (const decoder of decoders) decoder.destroy();
      return undefined;
    }
  }
  return decoders;
}
