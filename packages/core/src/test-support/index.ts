/**
 * Test helpers other packages' tests use. Exported as "@streamchat/core/test-support" for tests only: TypeScript
 * source under every condition, never built (like "@streamchat/store/test-support").
 */
export { collectGarbage, heapUsedAfterGc, isFlatString } from "./heap.js";
export { startTcpRelay, type TcpRelay } from "./tcp-relay.js";
export { foreignExportSample, foreignExportSamples } from "./foreign-exports.js";
