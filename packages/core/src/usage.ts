import type { Usage } from "./events.js";
import type { ModelMetrics } from "./model.js";

interface RoundStats {
  /** Answer and reasoning chunks the engine received. */
  chunks: number;
  firstChunkAt: number | undefined;
  endedAt: number;
  metrics: ModelMetrics;
}

/**
 * Sums a run's usage over its model rounds. Token counts and speed come from the provider's metrics
 * (Ollama eval_count / eval_duration) where reported; otherwise they are measured from the chunks seen.
 */
export class UsageMeter {
  private readonly rounds: RoundStats[] = [];
  private firstTokenAt: number | undefined;
  private current: { chunks: number; firstChunkAt: number | undefined } | undefined;

  constructor(
    private readonly startedAt: number,
    private readonly now: () => number,
  ) {}

  startRound(): void {
    this.current = { chunks: 0, firstChunkAt: undefined };
  }

  /** An answer or reasoning chunk arrived. */
  chunk(pieces = 1): void {
    const at = this.now();
    this.firstTokenAt ??= at;
    if (!this.current) this.startRound();
    const current = this.current!;
    current.chunks += pieces;
    current.firstChunkAt ??= at;
  }

  /** The round ended (with the provider's metrics, or {} when it failed). */
  endRound(metrics: ModelMetrics = {}): void {
    if (!this.current) return;
    this.rounds.push({ ...this.current, endedAt: this.now(), metrics });
    this.current = undefined;
  }

  snapshot(): Usage {
    let promptTokens = 0;
    let completionTokens = 0;
    let loadMs: number | null = null;
    let reportedTokens = 0;
    let evalMs = 0;
    let allReported = this.rounds.length > 0;
    let measuredChunks = 0;
    let measuredMs = 0;
    for (const round of this.rounds) {
      const m = round.metrics;
      promptTokens += m.promptTokens ?? 0;
      // Without a reported count, each chunk counts as one token (Ollama streams one token per chunk).
      completionTokens += m.completionTokens ?? round.chunks;
      if (m.loadMs !== undefined) loadMs = (loadMs ?? 0) + m.loadMs;
      if (m.completionTokens !== undefined && m.evalMs !== undefined && m.evalMs > 0) {
        reportedTokens += m.completionTokens;
        evalMs += m.evalMs;
      } else if (round.chunks > 0) {
        allReported = false;
      }
      if (round.firstChunkAt !== undefined) {
        measuredChunks += round.chunks;
        measuredMs += round.endedAt - round.firstChunkAt;
      }
    }
    let tokensPerSecond: number | null = null;
    if (allReported && evalMs > 0) tokensPerSecond = (reportedTokens / evalMs) * 1000;
    else if (measuredMs > 0) tokensPerSecond = (measuredChunks / measuredMs) * 1000;
    return {
      promptTokens,
      completionTokens,
      ttftMs: this.firstTokenAt === undefined ? null : Math.max(0, this.firstTokenAt - this.startedAt),
      durationMs: Math.max(0, this.now() - this.startedAt),
      loadMs,
      tokensPerSecond,
    };
  }
}
