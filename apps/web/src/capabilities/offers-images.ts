/**
 * Whether the composer offers pictures for a model: one that lists vision, and one whose server does not say whether
 * it sees (OpenAI-compatible servers: `unknownCapabilities`), since the server decides. Once a server refused images
 * for a model, its list says so and the picture button goes.
 */
export function offersImages(model: { capabilities: readonly string[]; unknownCapabilities?: readonly string[] | undefined } | undefined): boolean {
  if (!model) return false;
  return model.capabilities.includes("vision") || (model.unknownCapabilities?.includes("vision") ?? false);
}
