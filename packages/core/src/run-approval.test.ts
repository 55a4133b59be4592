import { startSimulator, type SimChatRequest, type SimChunk, type Simulator } from "@streamchat/ollama-sim";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import type { ApprovalDecision, ApprovalRequest, ApproveHook } from "./approval.js";
import type { ChatEvent, EventOf } from "./events.js";
import type { ChatMessage } from "./model.js";
import { createOllamaModel } from "./providers/ollama.js";
import { runChat, type RunOptions } from "./run.js";
import { collect, RunRecorder, shape } from "./test-support/recorder.js";
import { defineTool, type AnyTool } from "./tools.js";
import { calculatorTool } from "./tools/builtin.js";

let sim: Simulator;
let runCount = 0;

beforeAll(async () => {
  sim = await startSimulator({ tokenDelayMs: 0 });
});
afterEach(() => sim.clearScenarios());
afterAll(async () => {
  await sim.close();
});

const question: ChatMessage[] = [
  { role: "system", content: "You are helpful." },
  { role: "user", content: "Save a note saying hi." },
];
const head = ["run-start", "status:Processing your question…"];
const responding = "status:Responding…";

/** An MCP-like tool: from server "files", needs approval, counts its runs. */
function writeTool() {
  const runs: unknown[] = [];
  const tool = defineTool({
    name: "files__write",
    description: "Writes a note to a file.",
    input: z.object({ path: z.string(), text: z.string().default("") }),
    source: "files",
    requiresApproval: true,
    execute: (args) => {
      runs.push(args);
      return `wrote ${args.path}`;
    },
  });
  return { tool, runs };
}

/** A tool without approval that counts its runs. */
function lookupTool() {
  const runs: unknown[] = [];
  const tool = defineTool({
    name: "lookup",
    description: "Looks a word up.",
    input: z.object({ word: z.string() }),
    execute: (args) => {
      runs.push(args);
      return { word: args.word, meaning: "a greeting" };
    },
  });
  return { tool, runs };
}

/**
 * An approve hook the test decides: each call's request is recorded with the events seen when it was
 * asked, and `decide(callId, decision)` answers it.
 */
function approver() {
  const asked: Array<{ request: ApprovalRequest; signal: AbortSignal }> = [];
  const waiting = new Map<string, (d: ApprovalDecision) => void>();
  const listeners: Array<() => void> = [];
  const hook: ApproveHook = (request, { signal }) =>
    new Promise((resolve) => {
      asked.push({ request, signal });
      waiting.set(request.callId, resolve);
      for (const l of listeners.splice(0)) l();
    });
  return {
    hook,
    asked,
    decide(callId: string, decision: ApprovalDecision) {
      const resolve = waiting.get(callId);
      if (!resolve) throw new Error(`no pending approval for ${callId}`);
      waiting.delete(callId);
      resolve(decision);
    },
    /** Resolves once `n` requests were asked. */
    async askedCount(n: number) {
      while (asked.length < n) await new Promise<void>((r) => listeners.push(r));
    },
  };
}

function scenario(model: string, respond: (req: SimChatRequest) => SimChunk[]): void {
  sim.addScenario({ name: model, match: { model }, respond });
}

/** Round 1: the given calls; once the last message is a tool result: "Done: <its content>". */
function callsThenEcho(calls: Array<{ id: string; name: string; arguments: Record<string, unknown> }>) {
  return (req: SimChatRequest): SimChunk[] => {
    const last = req.messages.at(-1);
    if (last?.["role"] === "tool") return [{ content: "Done: " }, { content: String(last["content"]) }, { done: true }];
    return [{ toolCalls: calls }, { done: true }];
  };
}

function bodiesOf(model: string): Array<{ messages: Array<Record<string, unknown>> }> {
  return sim
    .chatRequests()
    .filter((r) => (r.body as { model?: string }).model === model)
    .map((r) => r.body as { messages: Array<Record<string, unknown>> });
}

function run(model: string, extra: Partial<RunOptions>) {
  runCount += 1;
  return runChat({
    model: createOllamaModel({ baseUrl: sim.url }),
    modelName: model,
    conversationId: "conv-1",
    runId: `run-a${runCount}`,
    messages: question,
    ...extra,
  });
}

const writeCall = { id: "call_write001", name: "files__write", arguments: { path: "notes/hi.txt", text: "hi" } };

describe("tools that need approval (runChat against the simulator)", () => {
  it("emits approval-request and waits; once approved the tool runs and the model continues", async () => {
    const { tool, runs } = writeTool();
    const approve = approver();
    scenario("m-approve", callsThenEcho([{ ...writeCall, arguments: { path: "notes/hi.txt" } }]));
    const rec = new RunRecorder(run("m-approve", { tools: [tool], approve: approve.hook, approvalTimeoutMs: 120_000 }));
    const request = (await rec.until((e) => e.type === "approval-request")) as EventOf<"approval-request">;
    await rec.until((e) => e.type === "status" && e.phase === "waiting");
    await approve.askedCount(1);

    // The event carries what an approval card shows; args are the validated ones (default filled in).
    expect(request).toMatchObject({
      callId: "call_write001",
      name: "files__write",
      args: { path: "notes/hi.txt", text: "" },
      source: "files",
      description: "Writes a note to a file.",
      expiresAt: request.at + 120_000,
    });
    const [{ request: asked, signal }] = approve.asked as [{ request: ApprovalRequest; signal: AbortSignal }];
    expect(asked).toMatchObject({ callId: "call_write001", name: "files__write", args: { path: "notes/hi.txt", text: "" }, source: "files", expiresAt: request.expiresAt, resumed: false });
    expect(asked.tool).toBe(tool);
    // Waiting: nothing ran, the model was asked once.
    expect(runs).toEqual([]);
    expect(signal.aborted).toBe(false);
    expect(bodiesOf("m-approve")).toHaveLength(1);
    expect(rec.shapes()).toEqual([...head, "tool-call:files__write", "approval-request:files__write", "status:Waiting for your approval to use files__write…"]);

    approve.decide("call_write001", { approved: true });
    const { result } = await rec.finished;
    expect(rec.shapes()).toEqual([
      ...head,
      "tool-call:files__write",
      "approval-request:files__write",
      "status:Waiting for your approval to use files__write…",
      "approval-result:files__write:approved",
      "status:Using tool: files__write…",
      "tool-result:files__write:ok",
      responding,
      "token:Done: wrote notes/hi.txt",
      "done:stop",
    ]);
    expect(rec.events.find((e) => e.type === "approval-result")).toMatchObject({ callId: "call_write001", approved: true, timedOut: false });
    expect(rec.events.find((e) => e.type === "approval-result")).not.toHaveProperty("reason");
    expect(runs).toEqual([{ path: "notes/hi.txt", text: "" }]);
    expect(bodiesOf("m-approve")[1]?.messages.at(-1)).toEqual({ role: "tool", content: "wrote notes/hi.txt", tool_name: "files__write", tool_call_id: "call_write001" });
    expect(result).toMatchObject({ reason: "stop", text: "Done: wrote notes/hi.txt" });
  });

  it("a denial with a reason goes back to the model as tool_denied, the tool never runs, the run ends normally", async () => {
    const { tool, runs } = writeTool();
    const approve = approver();
    scenario("m-deny", callsThenEcho([writeCall]));
    const rec = new RunRecorder(run("m-deny", { tools: [tool], approve: approve.hook }));
    await approve.askedCount(1);
    approve.decide("call_write001", { approved: false, reason: "  Not in that folder.  " });
    const { result, events } = await rec.finished;
    expect(rec.shapes()).toEqual([
      ...head,
      "tool-call:files__write",
      "approval-request:files__write",
      "status:Waiting for your approval to use files__write…",
      "approval-result:files__write:denied",
      "tool-result:files__write:tool_denied",
      responding,
      expect.stringMatching(/^token:Done: /),
      "done:stop",
    ]);
    expect(runs).toEqual([]);
    expect(events.find((e) => e.type === "approval-result")).toMatchObject({ approved: false, reason: "Not in that folder.", timedOut: false });
    const denial = { code: "tool_denied", message: "The user denied the call to files__write: it was not run. Reason: Not in that folder." };
    expect(events.find((e) => e.type === "tool-result")).toMatchObject({ ok: false, error: denial, durationMs: 0 });
    // The model reads the denial and its reason as the tool's result.
    const sent = bodiesOf("m-deny")[1]?.messages.at(-1);
    expect(sent).toMatchObject({ role: "tool", tool_call_id: "call_write001" });
    expect(JSON.parse(String(sent?.["content"]))).toEqual({ error: denial });
    expect(result.reason).toBe("stop");
    expect(result.messages.map((m) => m.role)).toEqual(["assistant", "tool", "assistant"]);
  });

  it("an unanswered request times out: tool_denied (timed out), the hook's signal is aborted, the model continues", async () => {
    const { tool, runs } = writeTool();
    const approve = approver();
    scenario("m-timeout", callsThenEcho([writeCall]));
    const { shapes, events, result } = await collect(run("m-timeout", { tools: [tool], approve: approve.hook, approvalTimeoutMs: 150 }));
    expect(shapes.slice(2, 7)).toEqual([
      "tool-call:files__write",
      "approval-request:files__write",
      "status:Waiting for your approval to use files__write…",
      "approval-result:files__write:timed-out",
      "tool-result:files__write:tool_denied",
    ]);
    expect(shapes.at(-1)).toBe("done:stop");
    expect(runs).toEqual([]);
    expect(approve.asked[0]?.signal.aborted).toBe(true);
    expect(events.find((e) => e.type === "approval-result")).toMatchObject({ approved: false, timedOut: true });
    expect(events.find((e) => e.type === "tool-result")).toMatchObject({
      error: { code: "tool_denied", message: "Approval for files__write timed out after 0.2 s: the call was not run." },
    });
    expect(String(bodiesOf("m-timeout")[1]?.messages.at(-1)?.["content"])).toContain("timed out");
    expect(result.reason).toBe("stop");
  });

  it("a cancel while waiting ends the run with done{cancelled} at once; the hook's signal is aborted", async () => {
    const { tool, runs } = writeTool();
    const approve = approver();
    scenario("m-cancel-wait", callsThenEcho([writeCall]));
    const abort = new AbortController();
    const rec = new RunRecorder(run("m-cancel-wait", { tools: [tool], approve: approve.hook, signal: abort.signal }));
    await rec.until((e) => e.type === "status" && e.phase === "waiting");
    abort.abort();
    const { result } = await rec.finished;
    expect(rec.shapes()).toEqual([...head, "tool-call:files__write", "approval-request:files__write", "status:Waiting for your approval to use files__write…", "done:cancelled"]);
    expect(approve.asked[0]?.signal.aborted).toBe(true);
    expect(runs).toEqual([]);
    // The history stays valid: the call is answered as cancelled.
    expect(result.messages.at(-1)).toMatchObject({ role: "tool", toolCallId: "call_write001", content: expect.stringContaining('"cancelled"') });
    // A decision arriving late changes nothing.
    approve.decide("call_write001", { approved: true });
    expect(runs).toEqual([]);
  });

  it("in one round, a call without approval runs at once while the other waits; the approved one starts when approved", async () => {
    const { tool, runs } = writeTool();
    const lookup = lookupTool();
    const approve = approver();
    scenario("m-mixed", (req) => {
      const last = req.messages.at(-1);
      if (last?.["role"] === "tool") return [{ content: "All done." }, { done: true }];
      return [{ toolCalls: [writeCall, { id: "call_look0001", name: "lookup", arguments: { word: "hi" } }] }, { done: true }];
    });
    const rec = new RunRecorder(run("m-mixed", { tools: [tool, lookup.tool], approve: approve.hook }));
    // The lookup finishes while the write still waits.
    await rec.until((e) => e.type === "tool-result" && e.name === "lookup");
    expect(runs).toEqual([]);
    expect(rec.shapes()).toEqual([
      ...head,
      "tool-call:files__write",
      "tool-call:lookup",
      "approval-request:files__write",
      "status:Waiting for your approval to use files__write…",
      "status:Using tool: lookup…",
      "tool-result:lookup:ok",
    ]);
    approve.decide("call_write001", { approved: true });
    await rec.finished;
    expect(rec.shapes().slice(8)).toEqual([
      "approval-result:files__write:approved",
      "status:Using tool: files__write…",
      "tool-result:files__write:ok",
      responding,
      "token:All done.",
      "done:stop",
    ]);
    // Tool messages go back in call order.
    expect(bodiesOf("m-mixed")[1]?.messages.slice(3).map((m) => m["tool_call_id"])).toEqual(["call_write001", "call_look0001"]);
    expect(lookup.runs).toEqual([{ word: "hi" }]);
  });

  it("asks the hook before the request reaches the consumer, so a decision can be taken as soon as a client sees it", async () => {
    const { tool } = writeTool();
    const seenWhenAsked: string[][] = [];
    const events: ChatEvent[] = [];
    scenario("m-order", callsThenEcho([writeCall]));
    const gen = run("m-order", {
      tools: [tool],
      approve: async () => {
        seenWhenAsked.push(events.map(shape));
        return { approved: true };
      },
    });
    for await (const e of gen) events.push(e);
    expect(seenWhenAsked).toEqual([[...head, "tool-call:files__write"]]);
    expect(events.map(shape)).toContain("approval-request:files__write");
  });

  it("without an approve hook a call that needs approval is refused (tool_denied) and never asked about", async () => {
    const { tool, runs } = writeTool();
    scenario("m-nohook", callsThenEcho([writeCall]));
    const { shapes, events } = await collect(run("m-nohook", { tools: [tool] }));
    expect(shapes).toEqual([...head, "tool-call:files__write", "tool-result:files__write:tool_denied", responding, expect.stringMatching(/^token:Done: /), "done:stop"]);
    expect(events.find((e) => e.type === "tool-result")).toMatchObject({
      error: { code: "tool_denied", message: "Tool files__write needs a person's approval, and this run has no way to ask for it: the call was not run." },
    });
    expect(runs).toEqual([]);
  });

  it("a hook that throws denies the call (never runs it unasked)", async () => {
    const { tool, runs } = writeTool();
    scenario("m-hook-throws", callsThenEcho([writeCall]));
    const { shapes, events } = await collect(
      run("m-hook-throws", {
        tools: [tool],
        approve: () => Promise.reject(new Error("store is down")),
      }),
    );
    expect(shapes).toContain("approval-result:files__write:denied");
    expect(events.find((e) => e.type === "tool-result")).toMatchObject({ error: { code: "tool_denied", message: expect.stringContaining("The approval could not be obtained.") } });
    expect(JSON.stringify(events)).not.toContain("store is down");
    expect(runs).toEqual([]);
    expect(shapes.at(-1)).toBe("done:stop");
  });

  it("the run's requiresApproval policy overrides the tools' own flags", async () => {
    const { tool, runs } = writeTool();
    const approve = approver();
    scenario("m-policy", (req) => {
      const last = req.messages.at(-1);
      if (last?.["role"] === "tool") return [{ content: "ok" }, { done: true }];
      return [{ toolCalls: [writeCall, { id: "call_calc0001", name: "calculator", arguments: { expression: "6*7" } }] }, { done: true }];
    });
    // Per-server config: approval for calculator (and its args are passed), none for the file tool.
    const policyArgs: unknown[] = [];
    const rec = new RunRecorder(
      run("m-policy", {
        tools: [tool, calculatorTool],
        approve: approve.hook,
        requiresApproval: (t: AnyTool, args) => {
          policyArgs.push([t.name, args]);
          return t.name === "calculator";
        },
      }),
    );
    await rec.until((e) => e.type === "tool-result" && e.name === "files__write");
    await approve.askedCount(1);
    expect(approve.asked.map((a) => [a.request.name, a.request.source])).toEqual([["calculator", "builtin"]]);
    expect(rec.events.find((e) => e.type === "approval-request")).toMatchObject({ source: "builtin", args: { expression: "6*7" } });
    approve.decide("call_calc0001", { approved: true });
    await rec.finished;
    expect(rec.shapes()).toContain("tool-result:calculator:ok");
    expect(runs).toHaveLength(1);
    expect(policyArgs).toEqual([
      ["files__write", { path: "notes/hi.txt", text: "hi" }],
      ["calculator", { expression: "6*7" }],
    ]);
  });

  it("invalid arguments are answered without asking anyone", async () => {
    const { tool } = writeTool();
    const approve = approver();
    scenario("m-invalid", callsThenEcho([{ id: "call_bad00001", name: "files__write", arguments: { text: "no path" } }]));
    const { shapes } = await collect(run("m-invalid", { tools: [tool], approve: approve.hook }));
    expect(shapes.slice(2, 5)).toEqual(["tool-call:files__write", "status:Using tool: files__write…", "tool-result:files__write:invalid_tool_args"]);
    expect(approve.asked).toEqual([]);
  });
});

describe("resuming a run that waited for approval (after an API restart)", () => {
  /**
   * Starts a run that calls files__write (approval) and lookup (none) in one round, lets lookup finish
   * and stops the "process" while files__write waits: returns the log so far, as the API stored it.
   */
  async function runUntilWaiting(model: string, extra: Partial<RunOptions> = {}) {
    const { tool, runs } = writeTool();
    const lookup = lookupTool();
    const approve = approver();
    scenario(model, (req) => {
      const last = req.messages.at(-1);
      if (last?.["role"] === "tool") return [{ content: "Finished after " }, { content: `${req.messages.filter((m) => m["role"] === "tool").length} results.` }, { done: true }];
      return [{ content: "Let me do that. " }, { toolCalls: [writeCall, { id: "call_look0001", name: "lookup", arguments: { word: "hi" } }] }, { done: true }];
    });
    const gen = run(model, { tools: [tool, lookup.tool], approve: approve.hook, ...extra });
    const log: ChatEvent[] = [];
    for (;;) {
      const next = await gen.next();
      if (next.done) throw new Error("the run ended before waiting");
      log.push(next.value);
      if (next.value.type === "tool-result") break; // lookup's; the write still waits
    }
    // The process dies: nothing more is logged (return() stands in for the lost process).
    await gen.return(undefined as never);
    return { log, tool, runs, lookup, first: approve };
  }

  it("continues with the same call: asks again without a second request event, runs it when approved, and the next round sees the whole transcript", async () => {
    const { log, tool, runs, lookup, first } = await runUntilWaiting("m-resume");
    expect(log.map(shape)).toEqual([
      ...head,
      responding,
      "token:Let me do that. ",
      "tool-call:files__write",
      "tool-call:lookup",
      "approval-request:files__write",
      "status:Waiting for your approval to use files__write…",
      "status:Using tool: lookup…",
      "tool-result:lookup:ok",
    ]);
    expect(first.asked[0]?.signal.aborted).toBe(true);
    const requested = log.find((e) => e.type === "approval-request") as EventOf<"approval-request">;
    const requestsBefore = bodiesOf("m-resume").length;

    const approve = approver();
    const rec = new RunRecorder(run("m-resume", { runId: log[0]!.runId, tools: [tool, lookup.tool], approve: approve.hook, resume: { events: log } }));
    await approve.askedCount(1);
    expect(approve.asked[0]?.request).toMatchObject({ callId: "call_write001", args: { path: "notes/hi.txt", text: "hi" }, expiresAt: requested.expiresAt, resumed: true });
    await rec.until((e) => e.type === "status" && e.phase === "waiting");
    approve.decide("call_write001", { approved: true });
    const { result, events } = await rec.finished;

    // Only what is new: no run-start, tool-call or approval-request again.
    expect(rec.shapes()).toEqual([
      "status:Waiting for your approval to use files__write…",
      "approval-result:files__write:approved",
      "status:Using tool: files__write…",
      "tool-result:files__write:ok",
      responding,
      "token:Finished after 2 results.",
      "done:stop",
    ]);
    expect(new Set(events.map((e) => e.runId))).toEqual(new Set([log[0]!.runId]));
    expect(runs).toEqual([{ path: "notes/hi.txt", text: "hi" }]);
    expect(lookup.runs).toHaveLength(1); // lookup's result was logged: it does not run again

    // The model's next round: the context, the round's assistant message and both results.
    const bodies = bodiesOf("m-resume");
    expect(bodies).toHaveLength(requestsBefore + 1);
    expect(bodies.at(-1)?.messages).toEqual([
      { role: "system", content: "You are helpful." },
      { role: "user", content: "Save a note saying hi." },
      {
        role: "assistant",
        content: "Let me do that. ",
        tool_calls: [
          { id: "call_write001", function: { name: "files__write", arguments: { path: "notes/hi.txt", text: "hi" } } },
          { id: "call_look0001", function: { name: "lookup", arguments: { word: "hi" } } },
        ],
      },
      { role: "tool", content: "wrote notes/hi.txt", tool_name: "files__write", tool_call_id: "call_write001" },
      { role: "tool", content: JSON.stringify({ word: "hi", meaning: "a greeting" }), tool_name: "lookup", tool_call_id: "call_look0001" },
    ]);
    // The run's whole answer, to be stored as a normal run's.
    expect(result.text).toBe("Let me do that. Finished after 2 results.");
    expect(result.messages.map((m) => m.role)).toEqual(["assistant", "tool", "tool", "assistant"]);
  });

  it("a decision logged before the restart is not asked again: approved runs, denied is answered", async () => {
    for (const approved of [true, false]) {
      const model = `m-resume-decided-${approved}`;
      const { log, tool, runs, lookup } = await runUntilWaiting(model);
      const requested = log.find((e) => e.type === "approval-request") as EventOf<"approval-request">;
      const decision: ChatEvent = {
        type: "approval-result",
        runId: requested.runId,
        at: requested.at + 1,
        callId: "call_write001",
        name: "files__write",
        approved,
        ...(approved ? {} : { reason: "No." }),
        timedOut: false,
      };
      const approve = approver();
      const { shapes, events } = await collect(run(model, { tools: [tool, lookup.tool], approve: approve.hook, resume: { events: [...log, decision] } }));
      expect(approve.asked).toEqual([]);
      expect(shapes.slice(0, 2)).toEqual(approved ? ["status:Using tool: files__write…", "tool-result:files__write:ok"] : ["tool-result:files__write:tool_denied", responding]);
      expect(shapes).not.toContain("approval-result:files__write:approved");
      expect(shapes.at(-1)).toBe("done:stop");
      expect(runs).toHaveLength(approved ? 1 : 0);
      if (!approved) {
        expect(events.find((e) => e.type === "tool-result")).toMatchObject({ error: { message: "The user denied the call to files__write: it was not run. Reason: No." } });
      }
    }
  });

  it("a call asked before the restart keeps needing its decision when the policy no longer asks for one: a logged denial is not run, an open request is asked again", async () => {
    const noApproval = () => false;
    // Denied before the restart (its approval-result logged), its denial result not yet: still not run.
    const denied = await runUntilWaiting("m-resume-policy-denied");
    const requested = denied.log.find((e) => e.type === "approval-request") as EventOf<"approval-request">;
    const denial: ChatEvent = { type: "approval-result", runId: requested.runId, at: requested.at + 1, callId: "call_write001", name: "files__write", approved: false, timedOut: false };
    const afterDenial = await collect(
      run("m-resume-policy-denied", { tools: [denied.tool, denied.lookup.tool], approve: approver().hook, requiresApproval: noApproval, resume: { events: [...denied.log, denial] } }),
    );
    expect(afterDenial.shapes.slice(0, 1)).toEqual(["tool-result:files__write:tool_denied"]);
    expect(denied.runs).toEqual([]);

    // Asked and not decided: the person who saw the request decides it, also under the new policy.
    const open = await runUntilWaiting("m-resume-policy-open");
    const approve = approver();
    const rec = new RunRecorder(
      run("m-resume-policy-open", { tools: [open.tool, open.lookup.tool], approve: approve.hook, requiresApproval: noApproval, resume: { events: open.log } }),
    );
    await approve.askedCount(1);
    expect(open.runs).toEqual([]);
    approve.decide("call_write001", { approved: false });
    await rec.finished;
    expect(rec.shapes()).toContain("tool-result:files__write:tool_denied");
    expect(open.runs).toEqual([]);
  });

  it("a request whose deadline passed while the API was down times out at once", async () => {
    const { log, tool, runs, lookup } = await runUntilWaiting("m-resume-expired", { approvalTimeoutMs: 60_000 });
    // The request was made two minutes ago (its deadline one minute ago).
    const expired = log.map((e) => (e.type === "approval-request" ? { ...e, at: e.at - 120_000, expiresAt: e.expiresAt - 120_000 } : e));
    const approve = approver();
    const { shapes, events } = await collect(run("m-resume-expired", { tools: [tool, lookup.tool], approve: approve.hook, resume: { events: expired } }));
    expect(shapes.slice(0, 3)).toEqual(["status:Waiting for your approval to use files__write…", "approval-result:files__write:timed-out", "tool-result:files__write:tool_denied"]);
    expect(events.find((e) => e.type === "tool-result")).toMatchObject({ error: { message: "Approval for files__write timed out after 60 s: the call was not run." } });
    expect(runs).toEqual([]);
    expect(shapes.at(-1)).toBe("done:stop");
  });

  it("counts the rounds before the restart against maxSteps", async () => {
    const { log, tool, lookup } = await runUntilWaiting("m-resume-steps", { maxSteps: 1 });
    const approve = approver();
    const requestsBefore = bodiesOf("m-resume-steps").length;
    const rec = new RunRecorder(run("m-resume-steps", { tools: [tool, lookup.tool], approve: approve.hook, maxSteps: 1, resume: { events: log } }));
    await approve.askedCount(1);
    approve.decide("call_write001", { approved: true });
    await rec.finished;
    expect(rec.shapes().slice(-2)).toEqual(["tool-result:files__write:ok", "done:max-steps"]);
    expect(bodiesOf("m-resume-steps")).toHaveLength(requestsBefore);
  });

  it("refuses to continue a finished run or one that was answering (bad_request), without asking the model", async () => {
    scenario("m-resume-done", () => [{ content: "Hello." }, { done: true }]);
    const { events: finished } = await collect(run("m-resume-done", {}));
    const answering = finished.filter((e) => e.type !== "done");
    for (const events of [finished, answering]) {
      const before = bodiesOf("m-resume-done").length;
      const { shapes, result } = await collect(run("m-resume-done", { resume: { events } }));
      expect(shapes).toEqual(["error:bad_request", "done:error"]);
      expect(result.error?.code).toBe("bad_request");
      expect(bodiesOf("m-resume-done")).toHaveLength(before);
    }
  });
});
