import type { ModelInfo } from "@streamchat/core";

/** "128K", "40K", "8K", "2048": how people write context sizes. */
export function tokensInWords(tokens: number): string {
  return tokens >= 1024 && tokens % 1024 === 0 ? `${tokens / 1024}K` : tokens >= 10_000 ? `${Math.round(tokens / 1000)}K` : String(tokens);
}

/**
 * A model's capabilities as short phrases for the picker ("sees images", "thinks (low, medium, high)",
 * "128K context"), in a fixed order. Ollama's own names stay in `capabilities`; unknown names are left out
 * here rather than shown raw.
 */
export function capabilitiesInWords(info: Pick<ModelInfo, "capabilities" | "contextLength" | "thinkLevels">): string[] {
  const has = (name: string) => info.capabilities.includes(name);
  const words: string[] = [];
  if (has("vision")) words.push("sees images");
  if (has("tools")) words.push("uses tools");
  if (has("thinking")) words.push(info.thinkLevels?.length ? `thinks (${info.thinkLevels.join(", ")})` : "thinks");
  if (has("embedding")) words.push("embeddings");
  if (info.contextLength !== undefined) words.push(`${tokensInWords(info.contextLength)} context`);
  return words;
}
