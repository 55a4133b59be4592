import { describe, expect, it } from "vitest";
import { z } from "zod";
import { ChatError } from "./errors.js";
import { defineTool, executeTool, toolResultContent, toolSpec, validateToolCall } from "./tools.js";

const add = defineTool({
  name: "add",
  description: "Adds two numbers",
  input: z.object({ a: z.number().describe("first"), b: z.number().default(1) }),
  execute: ({ a, b }) => a + b,
});

describe("toolSpec", () => {
  it("describes the input as JSON Schema for the model, defaults optional", () => {
    expect(toolSpec(add)).toEqual({
      name: "add",
      description: "Adds two numbers",
      parameters: {
        type: "object",
        properties: { a: { type: "number", description: "first" }, b: { type: "number", default: 1 } },
        required: ["a"],
      },
    });
  });

  it("converts a schema once and keeps each tool's own name and description", () => {
    const twin = defineTool({ name: "add_again", description: "Same input", input: add.input, execute: () => 0 });
    expect(toolSpec(twin).parameters).toBe(toolSpec(add).parameters);
    expect(toolSpec(twin)).toMatchObject({ name: "add_again", description: "Same input" });
  });

  it("offers a tool's own JSON Schema as is instead of converting its input", () => {
    const parameters = { type: "object", properties: { q: { type: "string", format: "uri" } }, required: ["q"], additionalProperties: false };
    const external = defineTool({ name: "srv__fetch", description: "From a server", input: z.unknown(), parameters, execute: () => "" });
    expect(toolSpec(external)).toEqual({ name: "srv__fetch", description: "From a server", parameters });
    expect(toolSpec(external).parameters).toBe(parameters);
  });

  it("rejects names providers refuse", () => {
    expect(() => defineTool({ name: "bad name!", description: "", input: z.object({}), execute: () => 1 })).toThrow(/must be/);
  });
});

describe("validateToolCall", () => {
  it("parses valid arguments (applying defaults)", () => {
    expect(validateToolCall([add], { id: "c1", name: "add", args: { a: 2 } })).toMatchObject({ ok: true, args: { a: 2, b: 1 } });
  });

  it("lists every zod issue for invalid arguments", () => {
    const check = validateToolCall([add], { id: "c1", name: "add", args: { a: "two", b: "x" } });
    expect(check.ok).toBe(false);
    if (check.ok) return;
    expect(check.error.code).toBe("invalid_tool_args");
    expect(check.error.message).toMatch(/^Invalid arguments for add: a: .*expected number.*; b: .*expected number/);
  });

  it("reports arguments that were not JSON", () => {
    const check = validateToolCall([add], { id: "c1", name: "add", args: '{"a":', argsError: "arguments are not valid JSON (x)" });
    expect(check).toMatchObject({ ok: false, error: { code: "invalid_tool_args", message: "Invalid arguments for add: arguments are not valid JSON (x)" } });
  });

  it("names the available tools for an unknown one", () => {
    expect(validateToolCall([add], { id: "c1", name: "nope", args: {} })).toMatchObject({
      ok: false,
      error: { code: "tool_failed", message: 'Unknown tool "nope". Available tools: add.' },
    });
  });
});

describe("executeTool", () => {
  const run = new AbortController().signal;

  it("returns the result", async () => {
    await expect(executeTool(add, { a: 1, b: 2 }, { signal: run, timeoutMs: 1000 })).resolves.toMatchObject({ ok: true, result: 3 });
  });

  it("turns a throw into tool_failed with the message and no stack", async () => {
    const boom = defineTool({
      name: "boom",
      description: "",
      input: z.object({}),
      execute: () => {
        throw new Error("disk on fire");
      },
    });
    const outcome = await executeTool(boom, {}, { signal: run, timeoutMs: 1000 });
    expect(outcome).toMatchObject({ ok: false, error: { code: "tool_failed", message: "Tool boom failed: disk on fire" } });
    expect(JSON.stringify(outcome)).not.toContain("at ");
  });

  it("keeps a tool's own ChatError code", async () => {
    const picky = defineTool({
      name: "picky",
      description: "",
      input: z.object({}),
      execute: async () => {
        throw new ChatError("invalid_tool_args", "needs more");
      },
    });
    await expect(executeTool(picky, {}, { signal: run, timeoutMs: 1000 })).resolves.toMatchObject({
      ok: false,
      error: { code: "invalid_tool_args", message: "needs more" },
    });
  });

  it("times out a tool that never settles and aborts its signal", async () => {
    let toolSignal: AbortSignal | undefined;
    const hang = defineTool({
      name: "hang",
      description: "",
      input: z.object({}),
      timeoutMs: 30,
      execute: (_args, ctx) => {
        toolSignal = ctx.signal;
        return new Promise<never>(() => undefined);
      },
    });
    const outcome = await executeTool(hang, {}, { signal: run, timeoutMs: 60_000 });
    expect(outcome).toMatchObject({ ok: false, error: { code: "tool_timeout", message: "Tool hang timed out after 30 ms." } });
    expect(toolSignal?.aborted).toBe(true);
  });

  it("rejects with cancelled at once when the run aborts, even if the tool ignores its signal", async () => {
    const controller = new AbortController();
    let started!: () => void;
    const startedP = new Promise<void>((r) => (started = r));
    const deaf = defineTool({
      name: "deaf",
      description: "",
      input: z.object({}),
      execute: () => {
        started();
        return new Promise<never>(() => undefined);
      },
    });
    const outcome = executeTool(deaf, {}, { signal: controller.signal, timeoutMs: 60_000 });
    await startedP;
    controller.abort();
    await expect(outcome).rejects.toMatchObject({ code: "cancelled" });
  });

  it("keeps the tool's own text for the model beside the result", async () => {
    const shot = defineTool({
      name: "shot",
      description: "",
      input: z.object({}),
      execute: () => ({ text: "A cat.", image: "iVBOR…" }),
      toModelContent: (result) => `${result.text}\n[image]`,
    });
    const outcome = await executeTool(shot, {}, { signal: run, timeoutMs: 1000 });
    expect(outcome).toMatchObject({ ok: true, result: { text: "A cat.", image: "iVBOR…" }, content: "A cat.\n[image]" });
    expect(toolResultContent(outcome)).toBe("A cat.\n[image]");
  });

  it("turns a throw of toModelContent into tool_failed", async () => {
    const odd = defineTool({
      name: "odd",
      description: "",
      input: z.object({}),
      execute: () => 1,
      toModelContent: () => {
        throw new Error("cannot describe");
      },
    });
    await expect(executeTool(odd, {}, { signal: run, timeoutMs: 1000 })).resolves.toMatchObject({
      ok: false,
      error: { code: "tool_failed", message: "Tool odd failed: cannot describe" },
    });
  });

  it("refuses results that are not JSON", async () => {
    const big = defineTool({ name: "big", description: "", input: z.object({}), execute: () => ({ n: 1n }) });
    await expect(executeTool(big, {}, { signal: run, timeoutMs: 1000 })).resolves.toMatchObject({ ok: false, error: { code: "tool_failed" } });
  });
});

describe("toolResultContent", () => {
  it("sends strings as is, values as JSON, failures as an error object", () => {
    expect(toolResultContent({ ok: true, result: "22°C", durationMs: 1 })).toBe("22°C");
    expect(toolResultContent({ ok: true, result: { a: 1 }, durationMs: 1 })).toBe('{"a":1}');
    expect(toolResultContent({ ok: false, error: { code: "tool_timeout", message: "slow" }, durationMs: 1 })).toBe(
      '{"error":{"code":"tool_timeout","message":"slow"}}',
    );
  });
});
