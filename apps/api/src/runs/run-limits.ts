import type { Config } from "../config.js";

/** The configuration a RunManager works with. */
export type RunLimits = Pick<
  Config,
  | "systemPrompt"
  | "coalesceTokens"
  | "maxMessageChars"
  | "maxRunsPerUser"
  | "toolTimeoutMs"
  | "toolApprovalTimeoutMs"
  | "maxSteps"
  | "maxContextMessages"
  | "maxContextTokens"
  | "keepAlive"
  | "chatIdleTimeoutMs"
  | "chatLoadTimeoutMs"
  | "chatMaxAnswerTokens"
>;
