import { z } from "zod";
import { ChatError } from "./errors.js";
import type { ErrorCode } from "./events.js";
import type { ToolCall, ToolSpec } from "./model.js";
import { timerDelay } from "./timers.js";

export interface ToolContext {
  /** Aborted when the run is cancelled or the tool's timeout passes. */
  signal: AbortSignal;
}

export interface Tool<I = unknown, O = unknown> {
  name: string;
  description: string;
  input: z.ZodType<I>;
  /** Overrides the run's per-call timeout. */
  timeoutMs?: number;
  execute(args: I, ctx: ToolContext): Promise<O> | O;
  /**
   * JSON Schema offered to the model as is, instead of one converted from `input` (an MCP server's own
   * `inputSchema`). `input` still validates the arguments.
   */
  parameters?: Record<string, unknown>;
  /** Where the tool comes from: the MCP server's name; absent for built-in tools. */
  source?: string;
  /** Each call waits for a person's approval before it runs. */
  requiresApproval?: boolean;
  /** The text the model reads back for a result; without it, the result as JSON (strings as is). */
  toModelContent?(result: O): string;
  /**
   * Starts what the tool needs ahead of its first call (the calculator's worker), so that call does not wait for
   * it. Called by whoever offers the tool when it is registered (the API at start-up, `prepareTools`); must
   * return at once (a promise of being ready, at most), not throw, and be cheap to call again. Optional: a tool
   * works without it being called.
   */
  prepare?(): void | Promise<void>;
}

// Tool<any, ...>: a list of tools with different inputs; callers never see `any` (args are validated first).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyTool = Tool<any, unknown>;

export function defineTool<S extends z.ZodType, O>(
  def: {
    name: string;
    description: string;
    input: S;
    timeoutMs?: number;
    execute(args: z.infer<S>, ctx: ToolContext): Promise<O> | O;
  } & Pick<Tool<z.infer<S>, O>, "parameters" | "source" | "requiresApproval" | "toModelContent" | "prepare">,
): Tool<z.infer<S>, O> {
  if (!/^[a-zA-Z0-9_-]{1,64}$/.test(def.name)) {
    // The limits OpenAI enforces on function names; Ollama models cope badly with others too.
    throw new Error(`Tool name "${def.name}" must be 1-64 letters, digits, "_" or "-".`);
  }
  return def as Tool<z.infer<S>, O>;
}

/**
 * Calls each tool's `prepare` (see Tool.prepare): where tools are registered, so their first calls do not pay a
 * start-up. A prepare that throws is skipped: preparing is an optimisation, the call would start it anyway. The
 * promise: every tool ready (a caller may ignore it).
 */
export function prepareTools(tools: Iterable<AnyTool>): Promise<void> {
  const preparing: Array<void | Promise<void>> = [];
  for (const tool of tools) {
    try {
      preparing.push(tool.prepare?.());
    } catch {
      // The tool's first call starts what it needs instead (and reports a failure there, to the model).
    }
  }
  // Resolves once every tool is ready (or failed to get ready: not an error here, either).
  return Promise.allSettled(preparing).then(() => undefined);
}

/** The tool as the model sees it: name, description and the input's JSON Schema (zod 4 toJSONSchema). */
export function toolSpec(tool: Tool): ToolSpec {
  if (tool.parameters) return { name: tool.name, description: tool.description, parameters: tool.parameters };
  let parameters = jsonSchemas.get(tool.input);
  if (!parameters) {
    // io "input": fields with defaults are optional for the caller; unrepresentable parts (refinements,
    // transforms) become "any" instead of throwing.
    const { $schema: _ignored, ...converted } = z.toJSONSchema(tool.input, { io: "input", unrepresentable: "any" }) as Record<string, unknown>;
    parameters = converted;
    jsonSchemas.set(tool.input, parameters);
  }
  return { name: tool.name, description: tool.description, parameters };
}

/**
 * Converting a schema costs about as much as a short run; every run asks again for the same few tool
 * schemas. Keyed by the (immutable) zod schema object; the JSON Schema is only ever serialized, never
 * changed, so runs share it.
 */
const jsonSchemas = new WeakMap<object, Record<string, unknown>>();

export type ToolFailure = { code: ErrorCode; message: string };
/** `content`: the tool's own text for the model (Tool.toModelContent), when it has one. */
export type ToolOutcome = ({ ok: true; result: unknown; content?: string } | { ok: false; error: ToolFailure }) & { durationMs: number };

/**
 * Checks a model's tool call against the tool's schema. Fails with invalid_tool_args (naming every zod
 * issue, so the model can correct itself) or tool_failed for a tool that does not exist.
 */
export function validateToolCall(
  tools: readonly AnyTool[],
  call: ToolCall,
): { ok: true; tool: AnyTool; args: unknown } | { ok: false; error: ToolFailure } {
  const tool = tools.find((t) => t.name === call.name);
  if (!tool) {
    const names = tools.map((t) => t.name).join(", ") || "none";
    return { ok: false, error: { code: "tool_failed", message: `Unknown tool "${call.name}". Available tools: ${names}.` } };
  }
  if (call.argsError !== undefined) {
    return { ok: false, error: { code: "invalid_tool_args", message: `Invalid arguments for ${tool.name}: ${call.argsError}` } };
  }
  const parsed = tool.input.safeParse(call.args);
  if (!parsed.success) {
    return { ok: false, error: { code: "invalid_tool_args", message: `Invalid arguments for ${tool.name}: ${describeIssues(parsed.error)}` } };
  }
  return { ok: true, tool, args: parsed.data };
}

function describeIssues(error: z.ZodError): string {
  return error.issues.map((issue) => (issue.path.length > 0 ? `${issue.path.join(".")}: ${issue.message}` : issue.message)).join("; ");
}

export interface ExecuteToolOptions {
  /** The run's signal: aborting it rejects with ChatError("cancelled") at once, even if the tool ignores it. */
  signal: AbortSignal;
  /** Used when the tool has no timeoutMs of its own. */
  timeoutMs: number;
  now?: () => number;
}

/**
 * Runs an already validated call with a timeout and the run's abort signal. Every failure of the tool
 * becomes an outcome (tool_timeout, tool_failed with the error's message, never its stack), which goes
 * back to the model as a tool result. Only a cancelled run rejects.
 */
export async function executeTool(tool: AnyTool, args: unknown, opts: ExecuteToolOptions): Promise<ToolOutcome> {
  const now = opts.now ?? Date.now;
  const started = now();
  const elapsed = () => Math.max(0, now() - started);
  const timeoutMs = tool.timeoutMs ?? opts.timeoutMs;

  const timeout = new AbortController();
  const timer = setTimeout(() => timeout.abort(new ChatError("tool_timeout", `Tool ${tool.name} timed out after ${timeoutMs} ms.`)), timerDelay(timeoutMs));
  const signal = AbortSignal.any([opts.signal, timeout.signal]);
  let onAbort: (() => void) | undefined;
  // Settles when the run is cancelled or the timeout passes, whether or not the tool listens to the signal.
  const stopped = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
  });
  stopped.catch(() => undefined);

  try {
    if (opts.signal.aborted) throw cancelled();
    const result = await Promise.race([Promise.resolve().then(() => tool.execute(args, { signal })), stopped]);
    if (opts.signal.aborted) throw cancelled();
    if (!isJsonSafe(result)) {
      return { ok: false, error: { code: "tool_failed", message: `Tool ${tool.name} returned a value that is not JSON.` }, durationMs: elapsed() };
    }
    if (tool.toModelContent) return { ok: true, result, content: tool.toModelContent(result), durationMs: elapsed() };
    return { ok: true, result, durationMs: elapsed() };
  } catch (error) {
    if (opts.signal.aborted) throw cancelled();
    if (timeout.signal.aborted) {
      return { ok: false, error: { code: "tool_timeout", message: `Tool ${tool.name} timed out after ${timeoutMs} ms.` }, durationMs: elapsed() };
    }
    return { ok: false, error: failureOf(tool.name, error), durationMs: elapsed() };
  } finally {
    clearTimeout(timer);
    if (onAbort) signal.removeEventListener("abort", onAbort);
  }
}

/** What the model reads back: the result as JSON (strings as is), or an error object it can act on. */
export function toolResultContent(outcome: ToolOutcome): string {
  if (outcome.ok && outcome.content !== undefined) return outcome.content;
  if (outcome.ok) return typeof outcome.result === "string" ? outcome.result : JSON.stringify(outcome.result ?? null);
  return JSON.stringify({ error: outcome.error });
}

const toolCodes: ReadonlySet<ErrorCode> = new Set<ErrorCode>(["tool_failed", "tool_timeout", "invalid_tool_args"]);

function failureOf(name: string, error: unknown): ToolFailure {
  // A tool may throw ChatError("invalid_tool_args", ...) for checks its schema cannot express.
  if (error instanceof ChatError && toolCodes.has(error.code)) return { code: error.code, message: clip(error.message) };
  const raw = error instanceof Error ? error.message : typeof error === "string" ? error : "";
  return { code: "tool_failed", message: `Tool ${name} failed: ${clip(raw) || "unknown error"}` };
}

function clip(text: string): string {
  return text.length > 500 ? `${text.slice(0, 500)}…` : text;
}

function cancelled(): ChatError {
  return new ChatError("cancelled", "The answer was stopped.");
}

function isJsonSafe(value: unknown): boolean {
  try {
    JSON.stringify(value);
    return true;
  } catch {
    return false;
  }
}
