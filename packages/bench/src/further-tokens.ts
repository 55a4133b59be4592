/**
 * What a paced level's tokens cost without their streams' own cost. A paced level's CPU per token is its whole CPU over
 * its tokens, so each stream's start and end (chat.send, the run, the subscription, teardown) are spread over the
 * level's answers: over 30 tokens in quick's C = 100 level, 60 in the default's. The same level run again with answers
 * a few tokens long costs the same streams and fewer tokens; the difference between the two, over the tokens between
 * them, is what one further token costs at that pace (the bench's `--count` reads promises per token the same way).
 */

/** One paced run's figures that the split needs (a PacedResult has them). */
export interface PacedCpu {
  streams: number;
  tokensPerStream: number;
  serverCpuMs: number | null;
  errors: number;
}

/** The same level with shorter answers, as recorded beside the level's row. */
export interface ShortAnswers {
  tokensPerStream: number;
  serverCpuMs: number | null;
  errors: number;
}

/**
 * Server CPU ms per 1,000 tokens beyond the short answers', or null when it cannot be read: a run with errors (its
 * token count is not what was asked), a CPU figure missing, no more tokens in the long answers, or a difference at or
 * under zero (the machine's noise larger than the tokens' cost: a figure that would mean nothing).
 */
export function furtherTokensCpuMsPer1k(long: PacedCpu, short: ShortAnswers | null | undefined): number | null {
  if (!short || long.errors > 0 || short.errors > 0) return null;
  if (long.serverCpuMs === null || short.serverCpuMs === null) return null;
  const furtherTokens = long.streams * (long.tokensPerStream - short.tokensPerStream);
  const cpuMs = long.serverCpuMs - short.serverCpuMs;
  if (furtherTokens <= 0 || cpuMs <= 0) return null;
  return (cpuMs / furtherTokens) * 1000;
}
