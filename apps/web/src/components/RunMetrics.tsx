import { liveTtftMs, type MessageState } from "../chat/reducer.js";
import { formatMs, formatRate } from "../lib/format.js";

/** The run's numbers, in words: model, time to first token, speed, tokens, model load, total. */
export function metricsOf(state: MessageState): Array<[string, string]> {
  const ttft = liveTtftMs(state);
  const usage = state.done?.usage;
  const items: Array<[string, string]> = [];
  if (state.model) items.push(["Model", state.model]);
  if (ttft !== null) items.push(["Time to first token", formatMs(ttft)]);
  if (usage?.tokensPerSecond != null && usage.tokensPerSecond > 0) items.push(["Speed", formatRate(usage.tokensPerSecond)]);
  if (usage?.completionTokens) items.push(["Tokens", String(usage.completionTokens)]);
  if (usage?.loadMs != null && usage.loadMs > 0) items.push(["Model load", formatMs(usage.loadMs)]);
  if (usage?.durationMs) items.push(["Total", formatMs(usage.durationMs)]);
  return items;
}

export function RunMetrics({ items }: { items: Array<[string, string]> }) {
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
