import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { defineTool } from "@streamchat/core";
import { createChatClient, type ChatClient } from "./client.js";
import { ChatClientError } from "./errors.js";
import { isApprovalRequest, isApprovalResult, isToolResult } from "./guards.js";
import { startApi, type TestApi } from "./test-support/api.js";
import { startOlderApi } from "./test-support/older-api.js";

// The typed client's side of approval: approval-request / approval-result arrive as typed events, approve() decides
// from this or another client, and tools.list shows which tools ask.

const archived: string[] = [];
const archive = defineTool({
  name: "archive_file",
  description: "Archives a file",
  input: z.object({ path: z.string() }),
  requiresApproval: true,
  execute: async ({ path }) => {
    archived.push(path);
    return { archived: path };
  },
});

let api: TestApi;
let client: ChatClient;

beforeAll(async () => {
  api = await startApi({ AUTH_TOKENS: "alice:alice-secret-token" }, { extraTools: [archive] });
  client = createChatClient({ url: api.url, token: "alice-secret-token" });
});
afterAll(() => api?.close());

describe("approve()", () => {
  it("approves from a second client while the first streams; the stream shows the decision and the tool's result", async () => {
    const other = createChatClient({ url: api.url, token: "alice-secret-token" });
    const seen: string[] = [];
    let decided: unknown;
    for await (const event of client.stream('use the archive_file tool with {"path":"a.txt"}')) {
      seen.push(event.type);
      if (isApprovalRequest(event)) {
        expect(event).toMatchObject({ name: "archive_file", source: "builtin", args: { path: "a.txt" }, description: "Archives a file" });
        decided = await other.approve(event.runId, event.callId, true);
      }
      if (isApprovalResult(event)) expect(event).toMatchObject({ approved: true, timedOut: false });
      if (isToolResult(event)) expect(event).toMatchObject({ ok: true, result: { archived: "a.txt" } });
    }
    expect(decided).toMatchObject({ approved: true });
    expect(seen).toEqual(expect.arrayContaining(["approval-request", "approval-result", "tool-result", "done"]));
    expect(archived).toEqual(["a.txt"]);
  });

  it("denies with a reason: the model gets tool_denied and the answer continues; a conflicting decision fails typed", async () => {
    let callId = "";
    let runId = "";
    const results = [];
    let answer = "";
    for await (const event of client.stream('use the archive_file tool with {"path":"b.txt"}')) {
      if (isApprovalRequest(event)) {
        ({ callId, runId } = event);
        await client.approve(runId, callId, false, { reason: "not now" });
      }
      if (isToolResult(event)) results.push(event);
      if (event.type === "token") answer += event.text;
    }
    expect(results).toEqual([expect.objectContaining({ ok: false, error: expect.objectContaining({ code: "tool_denied" }) })]);
    expect(answer).toContain("I did not use archive_file");
    expect(archived).not.toContain("b.txt");
    const conflict = await client.approve(runId, callId, true).catch((e: unknown) => e);
    expect(conflict).toBeInstanceOf(ChatClientError);
    expect(conflict).toMatchObject({ trpcCode: "CONFLICT", message: "This call was already denied.", conflict: "denied" });
  });

  it("a decision that loses to another's says which won in `conflict`", async () => {
    const other = createChatClient({ url: api.url, token: "alice-secret-token" });
    let lost: unknown;
    for await (const event of client.stream('use the archive_file tool with {"path":"c.txt"}')) {
      if (isApprovalRequest(event)) {
        await other.approve(event.runId, event.callId, true);
        lost = await client.approve(event.runId, event.callId, false).catch((e: unknown) => e);
      }
    }
    expect(lost).toBeInstanceOf(ChatClientError);
    expect(lost).toMatchObject({ code: "bad_request", trpcCode: "CONFLICT", status: 409, conflict: "approved" });
    expect(archived).toContain("c.txt");
  });

  it("has no `conflict` on other errors, nor when the server does not send a reason it knows", async () => {
    const missing = await client.approve("no-such-run", "no-such-call", true).catch((e: unknown) => e);
    expect(missing).toMatchObject({ trpcCode: "NOT_FOUND" });
    expect(Object.hasOwn(missing as object, "conflict")).toBe(false);
    // A server older than the field, then a newer one with a reason this client does not know: today's error all the same.
    for (const data of [{}, { conflict: "vetoed" }]) {
      const older = await startOlderApi(data);
      try {
        const error = await createChatClient({ url: older.url }).approve("r", "c", false).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(ChatClientError);
        expect(error).toMatchObject({ trpcCode: "CONFLICT", message: "This call was already approved." });
        expect(Object.hasOwn(error as object, "conflict")).toBe(false);
      } finally {
        await older.close();
      }
    }
  });

  it("lists the tools with their source and whether they need approval", async () => {
    const { tools, servers } = await client.tools.list();
    expect(tools).toContainEqual(expect.objectContaining({ name: "archive_file", source: "builtin", requiresApproval: true }));
    expect(tools).toContainEqual(expect.objectContaining({ name: "calculator", source: "builtin", requiresApproval: false }));
    expect(servers).toEqual([]);
  });
});
