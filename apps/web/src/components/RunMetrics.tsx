import { liveTtftMs, type MessageState } from "../chat/reducer.js";
import { formatMs, formatRate } from "../lib/format.js";

/** TTFT (live as soon as the first token arrives), tokens/s and model load time when reported. */
export function RunMetrics({ state }: { state: MessageState }) {
  const ttft = liveTtftMs(state);
  const usage = state.done?.usage;
  const items: Array<[string, string]> = [];
  if (state.model) items.push(["model", state.model]);
  if (ttft !== null) items.push(["TTFT", formatMs(ttft)]);
  if (usage?.tokensPerSecond != null && usage.tokensPerSecond > 0) items.push(["speed", formatRate(usage.tokensPerSecond)]);
  if (usage?.completionTokens) items.push(["tokens", String(usage.completionTokens)]);
  if (usage?.loadMs != null && usage.loadMs > 0) items.push(["load", formatMs(usage.loadMs)]);
  if (usage?.durationMs) items.push(["total", formatMs(usage.durationMs)]);
  if (items.length === 0) return null;
  return (
    <dl className="metrics" data-testid="metrics">
      {items.map(([label, value]) => (
        <div key={label} className="metrics__item">
          <dt>{label}</dt>
          <dd>{value}</dd>
        </div>
      ))}
    </dl>
  );
}
