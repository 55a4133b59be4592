const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";

/** A tool-call id in Ollama's own shape (`call_` + 8 chars), for servers that send none (Ollama < 0.12.10). */
export function newCallId(): string {
  let id = "call_";
  // Web Crypto, not node:crypto: core is also bundled for the browser (types flow to apps/web).
  for (const byte of globalThis.crypto.getRandomValues(new Uint8Array(8))) id += alphabet[byte % alphabet.length];
  return id;
}

/**
 * Tool-call arguments as sent: Ollama sends an object; some servers send a JSON string. A string that does
 * not parse is kept raw with `argsError` set, so the run loop can tell the model (invalid_tool_args).
 */
export function parseToolArgs(raw: unknown): { args: unknown; argsError?: string } {
  if (raw === undefined || raw === null) return { args: {} };
  if (typeof raw !== "string") return { args: raw };
  if (raw.trim() === "") return { args: {} };
  try {
    return { args: JSON.parse(raw) as unknown };
  } catch (error) {
    return { args: raw, argsError: `arguments are not valid JSON (${error instanceof Error ? error.message : "parse error"})` };
  }
}
