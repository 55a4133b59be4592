import type { ContextUsage } from "@streamchat/core/browser";

/** 32768 → "32K", 1234 → "1.2K", 900 → "900". */
export function tokensShort(tokens: number): string {
  if (tokens >= 1024 && tokens % 1024 === 0) return `${tokens / 1024}K`;
  return tokens >= 1000 ? `${(tokens / 1000).toFixed(1).replace(/\.0$/, "")}K` : String(tokens);
}

/** How full the model's context is after the last answer: what the next question starts from. */
export function contextFullness(context: ContextUsage): { used: number; limit: number; percent: number } | null {
  if (context.limitTokens === undefined) return null;
  const used = context.promptTokens + context.completionTokens;
  return { used, limit: context.limitTokens, percent: Math.min(100, Math.round((used / context.limitTokens) * 100)) };
}

export function leftOutNotice(context: ContextUsage): string | null {
  if (context.truncated) return "The model server cut the prompt to fit its context: the answer may have missed the start of the conversation.";
  if (context.droppedMessages > 0) {
    const n = context.droppedMessages;
    return `${n} older message${n === 1 ? " was" : "s were"} left out to fit the model's context.`;
  }
  return null;
}

/** A small meter near the composer (last prompt + answer tokens / the context limit), and the left-out notice. */
export function ContextMeter({ context }: { context: ContextUsage | null | undefined }) {
  if (!context) return null;
  const full = contextFullness(context);
  const notice = leftOutNotice(context);
  if (!full && !notice) return null;
  const level = full ? (full.percent >= 90 ? "high" : full.percent >= 70 ? "medium" : "low") : undefined;
  return (
    <div className="context-meter" data-testid="context-meter" data-level={level}>
      {full && (
        <span
          className="context-meter__gauge"
          role="meter"
          aria-label="Context used"
          aria-valuemin={0}
          aria-valuemax={full.limit}
          aria-valuenow={Math.min(full.used, full.limit)}
          aria-valuetext={`${full.percent}% of the context (${tokensShort(full.used)} of ${tokensShort(full.limit)} tokens)`}
          title={`${full.used} of ${full.limit} tokens${context.promptTokensEstimated ? " (estimated)" : ""}`}
        >
          <span className="context-meter__bar" aria-hidden="true">
            <span className="context-meter__fill" style={{ width: `${full.percent}%` }} />
          </span>
          <span className="context-meter__text">
            {tokensShort(full.used)} / {tokensShort(full.limit)} context
          </span>
        </span>
      )}
      {notice && (
        <span className="context-meter__notice" data-testid="context-notice">
          {notice}
        </span>
      )}
    </div>
  );
}
