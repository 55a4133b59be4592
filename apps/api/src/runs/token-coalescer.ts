import type { ChatEvent, EventOf } from "@streamchat/core";

/** Longest text one coalesced token event carries before it is sent anyway. */
const maxPendingChars = 16 * 1024;

/**
 * Merges the token events that arrive within one turn of the event loop into one event.
 *
 * Why: every event costs a log append and an SSE frame per subscriber. The built-in providers already join what
 * one read of the model's socket brought into one chunk (core `providers/joined-chunks.ts`); this catches the chunks
 * that still come several per turn: text past a joined chunk's 16 K limit, a provider given its own `fetch`, any other
 * ChatModel. Merging them adds no waiting: the merged event goes out in the same loop turn (setImmediate runs
 * right after the I/O that produced the tokens). A slow model (one token per read) still gets one event
 * per token. Any other event flushes the pending text first, so order is kept; the concatenation of the
 * token events is unchanged.
 *
 * The first token of a run in each loop turn is sent at once: after any other event (the run's start, a status, a tool
 * result) it is what the user waits for (time to first token), and at a model's pace (one token per read) every token
 * is one. Waiting for the end of the turn cost the first the I/O of every other answer in that turn (0.2–0.6 ms of
 * added TTFT at 100 concurrent answers on the bench), and each of the others an immediate of its own. Only the tokens
 * after it in the same turn are merged, so a flood still becomes a few events: one immediate per turn flushes every
 * run's merged text (endOfTurn), in the order it became pending.
 */
export class TokenCoalescer {
  private pending: EventOf<"token"> | undefined;
  /** The turn (endOfTurn.turn) in which this run last sent a token; -1 after any other event. */
  private sentInTurn = -1;
  /** Listed for this turn's flush. */
  private listed = false;

  constructor(private readonly emit: (event: ChatEvent) => void) {}

  push(event: ChatEvent): void {
    if (event.type !== "token") {
      this.flush();
      this.sentInTurn = -1;
      this.emit(event);
      return;
    }
    if (this.pending) {
      this.pending.text += event.text;
      if (this.pending.text.length >= maxPendingChars) this.flush();
      return;
    }
    if (this.sentInTurn !== endOfTurn.turn) {
      this.sentInTurn = endOfTurn.turn;
      endOfTurn.schedule();
      this.emit(event);
      return;
    }
    this.pending = { ...event };
    if (!this.listed) {
      this.listed = true;
      endOfTurn.list(this);
    }
  }

  /** Sends the pending text now; call before emitting anything that does not go through push. */
  flush(): void {
    const pending = this.pending;
    this.pending = undefined;
    if (pending) this.emit(pending);
  }

  /** endOfTurn's flush. */
  endTurn(): void {
    this.listed = false;
    this.flush();
  }
}

/**
 * The process's loop turns, as the coalescers see them: a turn in which a token was sent ends with one immediate (for
 * every run), which numbers the next turn and flushes the text merged in this one. Text pushed during that flush
 * belongs to the next turn.
 */
class TurnEnds {
  turn = 0;
  private scheduled = false;
  private listed: TokenCoalescer[] = [];
  private readonly end = () => {
    this.scheduled = false;
    this.turn++;
    const listed = this.listed;
    this.listed = [];
    for (const coalescer of listed) coalescer.endTurn();
  };

  schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(this.end);
  }

  list(coalescer: TokenCoalescer): void {
    this.listed.push(coalescer);
  }
}

const endOfTurn = new TurnEnds();
