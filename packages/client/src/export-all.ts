import { ChatClientError, restAnswerError, restErrorBodyOf, toChatClientError } from "./errors.js";

/** The lines of `GET /api/export`: each one conversation's JSON export (what `import` reads), without its newline. */
export type ExportLines = AsyncGenerator<string, void, undefined>;

export interface ExportAllOptions {
  /** Aborting stops the download and makes the iteration throw the abort reason. */
  signal?: AbortSignal | undefined;
}

/** `<url>/api/export`, from the client's base URL (which may end with `/trpc`, as the tRPC endpoint's does). */
export function exportAllUrl(url: string): string {
  return `${url.replace(/\/+$/, "").replace(/\/trpc$/, "")}/api/export`;
}

// The API answers application/x-ndjson; anything else with a 200 (the web app's page at a wrong path) is not the API.
const jsonLinesType = /\b(x-)?(ndjson|jsonl|json-lines)\b/i;

/** At most this much of an error answer is read (the API's REST error body is a short JSON object). */
const errorBodyLimit = 64 * 1024;

/**
 * `GET <url>/api/export` through `fetchImpl` (the client's fetch, with its Bearer token), yielding each line as it
 * arrives: the body is read chunk by chunk, one line held at a time. A refusal throws the ChatClientError a tRPC call
 * gets for that status (restAnswerError), nothing answering the one toChatClientError gives. The API ends every line
 * with "\n", so a body that ends after text without one, or a connection that breaks before the end, is an export
 * cut short: ChatClientError `stream_truncated`, after the lines that were whole (never an end that looks complete).
 * Leaving the loop early cancels the download.
 */
export async function* exportAllLines(
  fetchImpl: typeof globalThis.fetch,
  url: string,
  token: string | undefined,
  signal: AbortSignal | undefined,
): ExportLines {
  signal?.throwIfAborted();
  const headers: Record<string, string> = { Accept: "application/x-ndjson" };
  if (token !== undefined) headers.Authorization = `Bearer ${token}`;
  let response: Response;
  try {
    response = await fetchImpl(exportAllUrl(url), { headers, ...(signal === undefined ? {} : { signal }) });
  } catch (error) {
    if (signal?.aborted) throw signal.reason;
    throw toChatClientError(error);
  }
  const contentType = response.headers.get("content-type") ?? "";
  if (response.status !== 200 || !jsonLinesType.test(contentType)) {
    const body = await shortBody(response);
    signal?.throwIfAborted();
    if (response.status === 404 && body !== undefined && restErrorBodyOf(body)?.code === "not_found") {
      // The API's own 404 for a path it does not serve: a wrong base URL, or an API older than this endpoint.
      throw new ChatClientError(
        "bad_request",
        "The server answered 404 to GET /api/export: is the URL right? (An API older than this client has no export of every conversation.)",
        { status: 404 },
      );
    }
    throw restAnswerError(response.status, contentType, body);
  }
  if (response.body === null) return;
  const reader = response.body.getReader();
  // fatal: bytes that are not UTF-8 are a broken transfer, not text to pass on with U+FFFD in it.
  const decoder = new TextDecoder("utf-8", { fatal: true });
  /** The text after the last newline, in the pieces it arrived in (a long line is joined once, when it ends). */
  let pending: string[] = [];
  let complete = false;
  try {
    for (;;) {
      let chunk: Awaited<ReturnType<typeof reader.read>>;
      try {
        chunk = await reader.read();
      } catch (error) {
        if (signal?.aborted) throw signal.reason;
        throw new ChatClientError("stream_truncated", "The export was cut short: the connection to the server broke before its end.", {
          cause: error,
        });
      }
      if (chunk.done) break;
      const text = decode(decoder, chunk.value);
      let start = 0;
      for (let newline = text.indexOf("\n"); newline !== -1; newline = text.indexOf("\n", start)) {
        pending.push(text.slice(start, newline));
        const line = pending.join("");
        pending = [];
        start = newline + 1;
        yield line;
      }
      if (start < text.length) pending.push(text.slice(start));
    }
    const rest = decode(decoder, undefined);
    if (rest !== "" || pending.length > 0) {
      throw new ChatClientError("stream_truncated", "The export was cut short: it ended in the middle of a conversation (its last line has no end).");
    }
    complete = true;
  } finally {
    // Stops the download when the caller left the loop early, or a line was broken.
    if (!complete) await reader.cancel().catch(() => {});
  }
}

function decode(decoder: InstanceType<typeof TextDecoder>, bytes: Uint8Array | undefined): string {
  try {
    return bytes === undefined ? decoder.decode() : decoder.decode(bytes, { stream: true });
  } catch (cause) {
    // Also the end of a body cut inside a character: an export cut short as well.
    throw new ChatClientError("stream_truncated", "The export was cut short or damaged: it holds bytes that are not UTF-8 text.", { cause });
  }
}

/** The first `errorBodyLimit` bytes of an answer, as text; undefined when they cannot be read. */
async function shortBody(response: Response): Promise<string | undefined> {
  if (response.body === null) return "";
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < errorBodyLimit) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } catch {
    return undefined;
  } finally {
    await reader.cancel().catch(() => {});
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return new TextDecoder().decode(bytes);
}
