export {
  createChatClient,
  type ChatClient,
  type ChatClientOptions,
  type ChatStream,
  type StreamOptions,
  type CompleteOptions,
  type ContinueOptions,
  type EventsOptions,
  type SendResult,
  type CompleteResult,
  type ConversationSummary,
  type ConversationDetail,
  type ExportedConversation,
  type ExportFormat,
  type SearchHit,
  type ModelList,
  type Health,
  type ApproveResult,
  type CancelResult,
  type ToolsList,
  type ToolServerView,
  type UserSettings,
  type ConversationSettings,
  type ConversationInstructions,
  type ConversationSampling,
  type ConversationSamplingChange,
  type UserSamplingChange,
  type Attachments,
  type ThinkSetting,
} from "./client.js";
export type { ExportAllOptions, ExportLines } from "./export-all.js";
export { readImageAttachment } from "./image-file.js";
export { readTextFileAttachment } from "./text-file.js";
export { ChatClientError, isChatClientError, type ApprovalConflict, type ClientErrorCode } from "./errors.js";
export { eventIdOf } from "./follow.js";
export {
  collectText,
  isRunStart,
  isStatus,
  isReasoning,
  isToken,
  isToolCall,
  isToolResult,
  isApprovalRequest,
  isApprovalResult,
  isErrorEvent,
  isDone,
} from "./guards.js";
export type { EventSourceConstructor } from "./transport.js";
export type { ChatEvent, ChatEventType, EventOf, ErrorCode, FileAttachment, Usage } from "@streamchat/core";
