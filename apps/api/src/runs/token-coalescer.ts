import type { ChatEvent, EventOf } from "@streamchat/core";

/** Longest text one coalesced token event carries before it is sent anyway. */
const maxPendingChars = 16 * 1024;

/**
 * Merges the token events that arrive within one turn of the event loop into one event.
 *
 * Why: every event costs a log append and an SSE frame per subscriber, and a model server writing fast
 * delivers dozens of NDJSON lines per socket read. Merging what arrived together cuts that cost by the
 * batch size while adding no waiting: the merged event goes out in the same loop turn (setImmediate runs
 * right after the I/O that produced the tokens). A slow model (one token per read) still gets one event
 * per token. Any other event flushes the pending text first, so order is kept; the concatenation of the
 * token events is unchanged.
 */
export class TokenCoalescer {
  private pending: EventOf<"token"> | undefined;
  private timer: NodeJS.Immediate | undefined;

  constructor(private readonly emit: (event: ChatEvent) => void) {}

  push(event: ChatEvent): void {
    if (event.type !== "token") {
      this.flush();
      this.emit(event);
      return;
    }
    if (this.pending) {
      this.pending.text += event.text;
      if (this.pending.text.length >= maxPendingChars) this.flush();
      return;
    }
    this.pending = { ...event };
    this.timer = setImmediate(() => this.flush());
  }

  /** Sends the pending text now; call before emitting anything that does not go through push. */
  flush(): void {
    if (this.timer) clearImmediate(this.timer);
    this.timer = undefined;
    const pending = this.pending;
    this.pending = undefined;
    if (pending) this.emit(pending);
  }
}
