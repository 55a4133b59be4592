/**
 * A model that only embeds (it cannot chat), by the capabilities a provider lists for it: Ollama's "embedding" without
 * "completion" (nomic-embed-text), the OpenAI-compatible provider's ["embedding"] for LM Studio's embedding models.
 */
export function embedsOnly(capabilities: readonly string[]): boolean {
  return capabilities.includes("embedding") && !capabilities.includes("completion");
}
