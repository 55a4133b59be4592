// Compile-time contract of the client's types. `pnpm test` runs `tsc -p tsconfig.json --noEmit` first, so an
// unused `@ts-expect-error` below (a switch that should not compile but does) fails the build.
import { describe, expect, expectTypeOf, it } from "vitest";
import type { ChatEvent, EventOf } from "@streamchat/core";
import {
  createChatClient,
  isDone,
  isErrorEvent,
  isReasoning,
  isRunStart,
  isStatus,
  isToken,
  isToolCall,
  isToolResult,
  isApprovalRequest,
  isApprovalResult,
  readImageAttachment,
  readTextFileAttachment,
  type ApprovalConflict,
  type Attachments,
  type ChatClient,
  type FileAttachment,
  type ChatClientError,
  type ClientErrorCode,
} from "./index.js";

function describeEvent(event: ChatEvent): string {
  switch (event.type) {
    case "run-start":
      return `run ${event.runId} in ${event.conversationId}`;
    case "status":
      return event.message;
    case "reasoning":
    case "token":
      return event.text;
    case "tool-call":
      return event.name;
    case "tool-result":
      return event.ok ? "ok" : "failed";
    case "approval-request":
      return `${event.name} from ${event.source}`;
    case "approval-result":
      return event.approved ? "approved" : "denied";
    case "error":
      return event.code;
    case "done":
      return event.reason;
    default: {
      const _exhaustive: never = event;
      return _exhaustive;
    }
  }
}

// Forgetting a case must not compile: `event` is still `EventOf<"done">` in the default branch.
export function describeEventWithoutDone(event: ChatEvent): string {
  switch (event.type) {
    case "run-start":
    case "status":
    case "reasoning":
    case "token":
    case "tool-call":
    case "tool-result":
    case "approval-request":
    case "approval-result":
    case "error":
      return event.type;
    default: {
      // @ts-expect-error -- "done" is not handled
      const _exhaustive: never = event;
      return String(_exhaustive);
    }
  }
}

describe("types", () => {
  it("streams the core's event union", () => {
    // Types only: nothing is called (stream() would not send before iteration anyway).
    expectTypeOf(createChatClient).returns.toEqualTypeOf<ChatClient>();
    expectTypeOf<ReturnType<ChatClient["stream"]>>().toExtend<AsyncIterable<ChatEvent>>();
    expectTypeOf<ReturnType<ChatClient["events"]>>().toExtend<AsyncIterable<ChatEvent>>();
    expectTypeOf<ReturnType<ChatClient["complete"]>>().resolves.toHaveProperty("text").toEqualTypeOf<string>();
    expectTypeOf<ReturnType<ChatClient["complete"]>>().resolves.toHaveProperty("runId").toEqualTypeOf<string>();
    expectTypeOf<ChatClientError["code"]>().toEqualTypeOf<ClientErrorCode>();
    // Inferred from the API's error shape: the reasons chat.approve's CONFLICT gives, optional on every error.
    expectTypeOf<ApprovalConflict>().toEqualTypeOf<"approved" | "denied" | "timed_out" | "ended" | "answered">();
    expectTypeOf<ChatClientError["conflict"]>().toEqualTypeOf<ApprovalConflict | undefined>();
  });

  it("takes what the attachment readers return as chat.send's attachments", () => {
    expectTypeOf(readTextFileAttachment).returns.resolves.toEqualTypeOf<FileAttachment>();
    expectTypeOf<FileAttachment>().toEqualTypeOf<{ type: "file"; name: string; text: string }>();
    expectTypeOf<FileAttachment>().toExtend<Attachments[number]>();
    expectTypeOf(readImageAttachment).returns.resolves.toExtend<Attachments[number]>();
    // A file is no image: the union tells them apart by `type`.
    expectTypeOf<Extract<Attachments[number], { type: "file" }>>().toEqualTypeOf<FileAttachment>();
  });

  it("narrows with one guard per event type", () => {
    expectTypeOf(isRunStart).guards.toEqualTypeOf<EventOf<"run-start">>();
    expectTypeOf(isStatus).guards.toEqualTypeOf<EventOf<"status">>();
    expectTypeOf(isReasoning).guards.toEqualTypeOf<EventOf<"reasoning">>();
    expectTypeOf(isToken).guards.toEqualTypeOf<EventOf<"token">>();
    expectTypeOf(isToolCall).guards.toEqualTypeOf<EventOf<"tool-call">>();
    expectTypeOf(isToolResult).guards.toEqualTypeOf<EventOf<"tool-result">>();
    expectTypeOf(isApprovalRequest).guards.toEqualTypeOf<EventOf<"approval-request">>();
    expectTypeOf(isApprovalResult).guards.toEqualTypeOf<EventOf<"approval-result">>();
    expectTypeOf(isErrorEvent).guards.toEqualTypeOf<EventOf<"error">>();
    expectTypeOf(isDone).guards.toEqualTypeOf<EventOf<"done">>();
  });

  it("the exhaustive switch handles every event at run time too", () => {
    const base = { runId: "r1", at: 0 };
    expect(describeEvent({ type: "token", ...base, text: "hi" })).toBe("hi");
    expect(describeEvent({ type: "error", ...base, code: "tool_failed", message: "x", retryable: false })).toBe(
      "tool_failed",
    );
  });
});
