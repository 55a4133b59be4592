import { isEventOf, type ChatEvent } from "@streamchat/core";

// One guard per event type, derived from the union so a renamed type breaks here at compile time.
export const isRunStart = isEventOf("run-start");
export const isStatus = isEventOf("status");
export const isReasoning = isEventOf("reasoning");
export const isToken = isEventOf("token");
export const isToolCall = isEventOf("tool-call");
export const isToolResult = isEventOf("tool-result");
export const isApprovalRequest = isEventOf("approval-request");
export const isApprovalResult = isEventOf("approval-result");
export const isErrorEvent = isEventOf("error");
export const isDone = isEventOf("done");

/** The answer text of a run: all token texts, in order. */
export async function collectText(events: AsyncIterable<ChatEvent>): Promise<string> {
  let text = "";
  for await (const event of events) if (isToken(event)) text += event.text;
  return text;
}
