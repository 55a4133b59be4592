import { describe, expect, it } from "vitest";
import type { ChatEvent } from "@streamchat/core";
import type { StoredEvent } from "@streamchat/store";
import { mergeHistory } from "./redis-streams.js";

/** History of a run from its Redis stream and its durable log (RedisRunStreams.read), as pure data. */

const at = (seq: number): StoredEvent => ({ seq, event: { type: "token", runId: "r", at: 0, text: String(seq) } satisfies ChatEvent });
const seqs = (events: StoredEvent[]) => events.map((e) => e.seq);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => at(from + i));

describe("mergeHistory", () => {
  it("holds back stream events after a gap the log has not filled yet (the owner still commits them)", () => {
    // The stream lost 4..6 (Redis restarted); the log has committed up to 3 so far.
    expect(seqs(mergeHistory(0, range(1, 3), range(7, 9), 256))).toEqual([1, 2, 3]);
  });

  it("fills a hole in the stream from the log (events the owner could not add while Redis was out of reach)", () => {
    expect(seqs(mergeHistory(0, range(1, 8), [...range(1, 5), at(7), at(8)], 256))).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it("a gap below a seq the log has is final: the stream's events after it come, then the log's (a dead owner's lost tail)", () => {
    // The log: 1..3, then the run's closing events far above; the stream kept 7..9 (4..6 died with the owner).
    const log = [...range(1, 3), at(10_004), at(10_005)];
    expect(seqs(mergeHistory(0, log, [...range(7, 9), at(10_004), at(10_005)], 256))).toEqual([1, 2, 3, 7, 8, 9, 10_004, 10_005]);
    expect(seqs(mergeHistory(3, [at(10_004)], range(7, 7), 1))).toEqual([7]);
  });

  it("at most `limit` events", () => {
    expect(seqs(mergeHistory(0, range(1, 10), range(1, 10), 4))).toEqual([1, 2, 3, 4]);
  });
});
