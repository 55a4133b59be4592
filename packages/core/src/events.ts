import { z } from "zod";

/** Every typed failure the stack reports. One list, shared by engine, API, client and UI. */
export const errorCodes = [
  "provider_unavailable",
  "model_not_found",
  "model_unsupported",
  "provider_error",
  "stream_truncated",
  "tool_failed",
  "tool_timeout",
  "invalid_tool_args",
  "tool_denied",
  "cancelled",
  "interrupted",
  "rate_limited",
  "bad_request",
  "unauthorized",
  "internal",
] as const;
export const errorCodeSchema = z.enum(errorCodes);
export type ErrorCode = z.infer<typeof errorCodeSchema>;

/** `waiting`: a tool call waits for a person's approval (addition, see approval-request). */
export const statusPhaseSchema = z.enum(["thinking", "loading-model", "tool", "waiting", "responding"]);
export type StatusPhase = z.infer<typeof statusPhaseSchema>;

export const doneReasonSchema = z.enum(["stop", "length", "cancelled", "max-steps", "error", "interrupted"]);
export type DoneReason = z.infer<typeof doneReasonSchema>;

/**
 * How full the model's context is after a run (its last model round), for a meter near the composer:
 * (promptTokens + completionTokens) / limitTokens is what the next turn starts from. Present when the
 * limit is known or history was left out.
 */
export const contextUsageSchema = z.object({
  /** The model's context length as the server reports it. */
  contextLength: z.number().int().positive().optional(),
  /** Tokens a request may fill: contextLength capped by maxContextTokens (the meter's denominator). */
  limitTokens: z.number().int().positive().optional(),
  /** The context window sent to Ollama (`options.num_ctx`) in the last round, when one was sent. */
  numCtx: z.number().int().positive().optional(),
  /** The last round's prompt tokens: reported by the server, else estimated (then promptTokensEstimated). */
  promptTokens: z.number().int().nonnegative(),
  promptTokensEstimated: z.boolean(),
  /** The last round's answer tokens. */
  completionTokens: z.number().int().nonnegative(),
  /** Older history messages left out of the request to fit the limit (and MAX_CONTEXT_MESSAGES). */
  droppedMessages: z.number().int().nonnegative(),
  /** The server evaluated far fewer prompt tokens than were sent: it cut the prompt (Ollama does so silently). */
  truncated: z.boolean(),
});
export type ContextUsage = z.infer<typeof contextUsageSchema>;

/** Usage of a whole run (summed over its model rounds). Times in milliseconds. */
export const usageSchema = z.object({
  promptTokens: z.number().int().nonnegative(),
  completionTokens: z.number().int().nonnegative(),
  /** Time from run start to the first answer or reasoning token; null when none arrived. */
  ttftMs: z.number().nonnegative().nullable(),
  durationMs: z.number().nonnegative(),
  /** Model load time reported by Ollama (load_duration); null when not reported. */
  loadMs: z.number().nonnegative().nullable(),
  /** eval_count / eval_duration where the provider reports them, else measured by the engine. */
  tokensPerSecond: z.number().nonnegative().nullable(),
  /** Addition (optional): context window use of the last round. */
  context: contextUsageSchema.optional(),
});
export type Usage = z.infer<typeof usageSchema>;

const base = {
  runId: z.string().min(1),
  /** Server timestamp, ms since the epoch. */
  at: z.number(),
};

export const runStartEventSchema = z.object({
  type: z.literal("run-start"),
  ...base,
  conversationId: z.string().min(1),
  model: z.string(),
  provider: z.string(),
  /**
   * Addition (optional): the run writes on from an earlier answer (RunOptions.continueAnswer): what follows up to its
   * first status is that answer so far. Kept in the log, so a client can tell a failed continuation (to be continued
   * again) from a failed answer (to be retried) after a reload too.
   */
  continues: z.literal(true).optional(),
  /**
   * Addition (optional): the sampling its conversation chose (RunOptions.sampling), the settings chosen only; absent
   * when every one is the model's. Kept in the log and its exports, so an answer says how it was made (a seed is of
   * use only to whoever knows it).
   */
  sampling: z.object({ temperature: z.number().optional(), topP: z.number().optional(), seed: z.number().optional() }).strict().optional(),
});
export const statusEventSchema = z.object({
  type: z.literal("status"),
  ...base,
  phase: statusPhaseSchema,
  message: z.string(),
  /**
   * Addition (optional): set on the status that tells the user older messages were left out to fit the
   * context window (phase "thinking", before the model request).
   */
  contextTrimmed: z.object({ droppedMessages: z.number().int().positive() }).optional(),
  /**
   * Addition (optional): set on the status that tells the user the model server refused a feature for this
   * model and the run goes on without it (phase "thinking"). Only "tools" so far: a model whose capabilities
   * were unknown refused them, and the question is answered without tools.
   */
  unsupportedFeature: z.enum(["tools"]).optional(),
});
export const reasoningEventSchema = z.object({ type: z.literal("reasoning"), ...base, text: z.string() });
export const tokenEventSchema = z.object({ type: z.literal("token"), ...base, text: z.string() });
export const toolCallEventSchema = z.object({
  type: z.literal("tool-call"),
  ...base,
  callId: z.string(),
  name: z.string(),
  args: z.unknown(),
});
export const toolResultEventSchema = z.object({
  type: z.literal("tool-result"),
  ...base,
  callId: z.string(),
  name: z.string(),
  ok: z.boolean(),
  result: z.unknown().optional(),
  error: z.object({ code: errorCodeSchema, message: z.string() }).optional(),
  durationMs: z.number().nonnegative(),
});
/**
 * Addition (DESIGN §10): a validated call of a tool that needs approval; the call waits until a person
 * decides (approval-result) or `expiresAt` passes. Follows the round's `tool-call` events.
 */
export const approvalRequestEventSchema = z.object({
  type: z.literal("approval-request"),
  ...base,
  callId: z.string(),
  name: z.string(),
  /** The validated arguments the tool would run with. */
  args: z.unknown(),
  /** "builtin", or the MCP server the tool comes from. */
  source: z.string(),
  /** The tool's description, for the approval card. */
  description: z.string().optional(),
  /** When the call is denied as timed out, ms since the epoch (at + the run's approval timeout). */
  expiresAt: z.number(),
});
/**
 * Addition: the decision on an approval-request, as soon as it is made (before an approved tool has
 * finished), so a client that reloads knows the card was decided. Denied and timed-out calls are
 * followed by their `tool-result` (ok:false, tool_denied); approved ones by the tool's own result.
 */
export const approvalResultEventSchema = z.object({
  type: z.literal("approval-result"),
  ...base,
  callId: z.string(),
  name: z.string(),
  approved: z.boolean(),
  /** The person's reason, as given (denials); absent when none was given. */
  reason: z.string().optional(),
  /** No one decided before expiresAt (approved is false). */
  timedOut: z.boolean(),
});
export const errorEventSchema = z.object({
  type: z.literal("error"),
  ...base,
  code: errorCodeSchema,
  message: z.string(),
  retryable: z.boolean(),
});
export const doneEventSchema = z.object({
  type: z.literal("done"),
  ...base,
  reason: doneReasonSchema,
  usage: usageSchema,
});

export const chatEventSchema = z.discriminatedUnion("type", [
  runStartEventSchema,
  statusEventSchema,
  reasoningEventSchema,
  tokenEventSchema,
  toolCallEventSchema,
  toolResultEventSchema,
  approvalRequestEventSchema,
  approvalResultEventSchema,
  errorEventSchema,
  doneEventSchema,
]);

export type ChatEvent = z.infer<typeof chatEventSchema>;
export type ChatEventType = ChatEvent["type"];
/** The event of one type: `EventOf<"token">`. */
export type EventOf<T extends ChatEventType> = Extract<ChatEvent, { type: T }>;

export const chatEventTypes = chatEventSchema.options.map((o) => o.shape.type.value) as ChatEventType[];

export function isEventOf<T extends ChatEventType>(type: T) {
  return (event: ChatEvent): event is EventOf<T> => event.type === type;
}

export function emptyUsage(): Usage {
  return { promptTokens: 0, completionTokens: 0, ttftMs: null, durationMs: 0, loadMs: null, tokensPerSecond: null };
}
