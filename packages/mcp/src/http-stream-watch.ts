import type { FetchLike } from "@modelcontextprotocol/sdk/shared/transport.js";
import { createParser } from "eventsource-parser";
import { isRecord } from "./records.js";

export type RequestId = string | number;

/**
 * A fetch for the SDK's Streamable HTTP client transport that notices a POST's event stream ending before it carried
 * the answer to a request it was opened for: a proxy's or load balancer's idle timeout, a server restarted or crashed
 * mid-call. The SDK resumes such a stream only when the server gave its events ids; otherwise it drops the stream,
 * and the call waited for its timeout (15 s by default) and then read as "timed out". `onUnanswered` gets the ids of
 * those requests, at the moment the stream ends, and the error it ended with, if any.
 */
export function watchedFetch(onUnanswered: (ids: RequestId[], cause?: unknown) => void, base: FetchLike = fetch): FetchLike {
  // Requests this client cancelled itself (notifications/cancelled): the server need not answer them, and the SDK has
  // already forgotten them.
  const cancelled = new Set<RequestId>();
  return async (url, init) => {
    const sent = typeof init?.body === "string" && init.method === "POST" ? parseMessages(init.body) : [];
    for (const message of sent) {
      if (message["method"] === "notifications/cancelled" && isRecord(message["params"]) && isId(message["params"]["requestId"])) {
        cancelled.add(message["params"]["requestId"]);
        // Bounded: an id whose stream ended before its cancellation was sent would otherwise stay forever.
        if (cancelled.size > 1000) cancelled.delete(cancelled.values().next().value!);
      }
    }
    const response = await base(url, init);
    const ids = sent.flatMap((message) => (typeof message["method"] === "string" && isId(message["id"]) ? [message["id"]] : []));
    const contentType = response.headers.get("content-type")?.toLowerCase() ?? "";
    if (ids.length === 0 || !response.ok || !response.body || !contentType.startsWith("text/event-stream")) return response;

    const signal = init?.signal;
    const scan = new SseScan();
    const reader = response.body.getReader();
    let ended = false;
    const end = (cause?: unknown) => {
      if (ended) return;
      ended = true;
      // Aborted: the transport is closing. Resumable: the SDK reconnects with Last-Event-ID and gets the answer then.
      if (signal?.aborted || scan.resumable) return;
      const unanswered = ids.filter((id) => !scan.answered.has(id) && !cancelled.delete(id));
      if (unanswered.length > 0) onUnanswered(unanswered, cause);
    };
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        let chunk: Awaited<ReturnType<typeof reader.read>>;
        try {
          chunk = await reader.read();
        } catch (error) {
          end(error);
          controller.error(error);
          return;
        }
        if (chunk.done) {
          scan.finish();
          end();
          controller.close();
          return;
        }
        scan.push(chunk.value);
        controller.enqueue(chunk.value);
      },
      cancel(reason) {
        ended = true;
        return reader.cancel(reason);
      },
    });
    return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
  };
}

/** Reads just enough of an event stream to know which requests it answered and whether its events have ids. */
class SseScan {
  readonly answered = new Set<RequestId>();
  /** An event carried an id: the SDK resumes the stream after a disconnect (and so gets the answer itself). */
  resumable = false;
  private readonly decoder = new TextDecoder();
  private readonly parser = createParser({
    onEvent: (event) => {
      if (event.id) this.resumable = true;
      for (const message of parseMessages(event.data)) {
        if (("result" in message || "error" in message) && isId(message["id"])) this.answered.add(message["id"]);
      }
    },
  });

  push(chunk: Uint8Array): void {
    this.parser.feed(this.decoder.decode(chunk, { stream: true }));
  }

  /** The stream ended: a last event without its blank line counts too (the parser keeps it until one comes). */
  finish(): void {
    this.parser.feed(`${this.decoder.decode()}\n\n`);
  }
}

function parseMessages(text: string): Array<Record<string, unknown>> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return [];
  }
  return (Array.isArray(parsed) ? parsed : [parsed]).filter(isRecord);
}

function isId(value: unknown): value is RequestId {
  return typeof value === "string" || typeof value === "number";
}
