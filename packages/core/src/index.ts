// The browser-safe part (events, error codes, image and think-level rules), then what needs Node.
export * from "./browser.js";
export type * from "./model.js";
export { decodeNdjson, NdjsonDecoder, type NdjsonOptions } from "./ndjson.js";
export { createOllamaModel, type OllamaModelOptions } from "./providers/ollama.js";
export { createOpenAIModel, type OpenAIModelOptions } from "./providers/openai.js";
export type { UnreachableFailure } from "./providers/request.js";
export { modelKey as ollamaModelKey } from "./providers/capability-cache.js";
export {
  defineTool,
  toolSpec,
  validateToolCall,
  executeTool,
  toolResultContent,
  prepareTools,
  type Tool,
  type AnyTool,
  type ToolContext,
  type ToolOutcome,
  type ToolFailure,
  type ExecuteToolOptions,
} from "./tools.js";
export { currentTimeTool, calculatorTool, builtinTools, createCurrentTimeTool, isTimeZone, type CurrentTime } from "./tools/builtin.js";
export {
  approvalDecisionSchema,
  askApproval,
  defaultApprovalTimeoutMs,
  maxApprovalReasonChars,
  waitingForApprovalMessage,
  type ApprovalDecision,
  type ApprovalRequest,
  type ApprovalHookContext,
  type ApproveHook,
  type ApprovalOutcome,
  type ApprovalPolicy,
} from "./approval.js";
export { runSnapshotOf, type RunSnapshot } from "./resume.js";
export { continuedAnswerOf, nothingToContinueMessage, type ContinuedAnswer } from "./continue-answer.js";
export { RunSummaryFold, type RunSummary, type ToolCallSummary } from "./summary.js";
export { closingEvents, interruptedEnding, type RunEnding } from "./closing.js";
export { trimContext, fitContext, type TrimOptions, type TrimResult } from "./context.js";
export {
  runChat,
  processingMessage,
  continuingMessage,
  usingToolMessage,
  respondingMessage,
  loadingModelMessage,
  contextTrimmedMessage,
  toolsRefusedMessage,
  type RunOptions,
  type RunResult,
} from "./run.js";
export { parseKeepAlive, keepAliveSchema, type KeepAlive } from "./keep-alive.js";
export { checkModelSupport, thinkToSend } from "./capabilities.js";
export {
  estimateTextTokens,
  estimateMessageTokens,
  estimateToolTokens,
  estimatePromptTokens,
  imageTokenEstimate,
  messageOverheadTokens,
} from "./tokens.js";
export { defaultMaxContextTokens, answerReserve, chooseNumCtx, promptWasTruncated } from "./context-window.js";
export { promptRoom, type PromptRoom, type PromptRoomInput } from "./prompt-room.js";
export { compactHead } from "./providers/node-transport.js";
export { isStorableText, toStorableText } from "./storable-text.js";
export { formatFileSize, notAnExportMessage, tooLargeToImportMessage } from "./file-size.js";
export { linkedController } from "./abort.js";
export { maxTimerMs, timerDelay } from "./timers.js";
