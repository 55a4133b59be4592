/**
 * What a paced level's tokens cost without their streams' own cost. A paced level's CPU per token is its whole CPU over
 * its tokens, so each stream's start and end (chat.send, the run, the subscription, teardown) are spread over the
 * level's answers: over 30 tokens in quick's C = 100 level, 60 in the default's. The same streams run twice more, once
 * with answers a few tokens long and once with answers 100 tokens longer, cost the same starts and ends; the difference
 * between the two, over the tokens between them, is what one further token costs at that pace (the bench's `--count`
 * reads promises per token the same way). 100 more tokens a stream: the difference of two runs carries both runs'
 * noise, which the level's own 30 tokens left larger than the figure (a quick run read the stack 3.5× and the same
 * stack on PostgreSQL 1.3× from them).
 */

/** The answers' lengths of a level's split (PacedLevel.split). */
export interface SplitLengths {
  shortTokensPerStream: number;
  longTokensPerStream: number;
}

/** One paced run of a split: its answers' length, the server's CPU over it, its failed streams. */
export interface SplitRun {
  tokensPerStream: number;
  serverCpuMs: number | null;
  errors: number;
}

export interface PacedSplit {
  streams: number;
  short: SplitRun;
  long: SplitRun;
  /** Server CPU ms per 1,000 tokens beyond the short answers' (furtherTokensCpuMsPer1k); null when it cannot be read. */
  cpuMsPer1kFurtherTokens: number | null;
}

/**
 * Server CPU ms per 1,000 tokens of the long answers beyond the short ones', or null when it cannot be read: a run
 * with errors (its token count is not what was asked), a CPU figure missing, no more tokens in the long answers, or a
 * difference at or under zero (the machine's noise larger than the tokens' cost: a figure that would mean nothing).
 */
export function furtherTokensCpuMsPer1k(streams: number, short: SplitRun, long: SplitRun): number | null {
  if (long.errors > 0 || short.errors > 0) return null;
  if (long.serverCpuMs === null || short.serverCpuMs === null) return null;
  const furtherTokens = streams * (long.tokensPerStream - short.tokensPerStream);
  const cpuMs = long.serverCpuMs - short.serverCpuMs;
  if (furtherTokens <= 0 || cpuMs <= 0) return null;
  return (cpuMs / furtherTokens) * 1000;
}

/** A split of two runs, its figure worked out. */
export function pacedSplit(streams: number, short: SplitRun, long: SplitRun): PacedSplit {
  return { streams, short, long, cpuMsPer1kFurtherTokens: furtherTokensCpuMsPer1k(streams, short, long) };
}
