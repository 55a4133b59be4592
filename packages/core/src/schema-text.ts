/**
 * A tool's JSON Schema as JSON text, by schema object: made once for the request bodies (providers/body-json.ts)
 * and the token estimate (tokens.ts) alike. A run's tools are new objects, but their schemas are the same few
 * objects run after run (toolSpec's cache, an MCP server's listing), and they are never changed once made.
 */
const texts = new WeakMap<object, string>();

export function schemaText(parameters: object): string {
  let text = texts.get(parameters);
  if (text === undefined) {
    text = JSON.stringify(parameters);
    texts.set(parameters, text);
  }
  return text;
}
