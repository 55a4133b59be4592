/**
 * The one Node built-in @streamchat/core's entry reaches (providers/call-id.ts uses randomBytes).
 * The page never calls it, but Vite's dev server loads modules unbundled, so the import must resolve
 * in a browser. Remove once core uses globalThis.crypto (same API in Node ≥ 19 and browsers).
 */
export function randomBytes(size: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(size));
}
