export * from "./events.js";
export * from "./errors.js";
export type * from "./model.js";
export { decodeNdjson, type NdjsonOptions } from "./ndjson.js";
export { createOllamaModel, type OllamaModelOptions } from "./providers/ollama.js";
export { createOpenAIModel, type OpenAIModelOptions } from "./providers/openai.js";
export type { UnreachableFailure } from "./providers/request.js";
export {
  defineTool,
  toolSpec,
  validateToolCall,
  executeTool,
  toolResultContent,
  type Tool,
  type AnyTool,
  type ToolContext,
  type ToolOutcome,
  type ToolFailure,
  type ExecuteToolOptions,
} from "./tools.js";
export { currentTimeTool, calculatorTool, builtinTools, createCurrentTimeTool, isTimeZone, type CurrentTime } from "./tools/builtin.js";
export { trimContext, type TrimOptions } from "./context.js";
export { runChat, processingMessage, usingToolMessage, respondingMessage, type RunOptions, type RunResult } from "./run.js";
