import { beforeAll, describe, expect, it, vi } from "vitest";
import { executeTool, prepareTools, toolSpec, validateToolCall } from "../tools.js";
import { builtinTools, calculatorTool, createCurrentTimeTool } from "./builtin.js";
import { calculatorPoolState } from "./calculator.js";

const signal = new AbortController().signal;
const fixed = Date.UTC(2026, 10, 29, 12, 5, 9); // 2026-11-29T12:05:09Z, a Sunday

async function call(name: string, args: unknown, tools = builtinTools) {
  const check = validateToolCall(tools, { id: "c", name, args });
  if (!check.ok) return { ok: false as const, error: check.error };
  return executeTool(check.tool, check.args, { signal, timeoutMs: 5000 });
}

describe("current_time", () => {
  const tools = [createCurrentTimeTool({ now: () => fixed })];

  it("gives the local time with offset in the requested zone", async () => {
    expect(await call("current_time", { timeZone: "Asia/Tokyo" }, tools)).toMatchObject({
      ok: true,
      result: { timeZone: "Asia/Tokyo", iso: "2026-11-29T21:05:09+09:00", formatted: expect.stringContaining("9:05:09 PM") },
    });
    expect(await call("current_time", { timeZone: "UTC" }, tools)).toMatchObject({
      ok: true,
      result: { timeZone: "UTC", iso: "2026-11-29T12:05:09+00:00" },
    });
    expect(await call("current_time", { timeZone: "America/St_Johns" }, tools)).toMatchObject({
      result: { iso: "2026-11-29T08:35:09-03:30" },
    });
  });

  it("defaults to the server's zone", async () => {
    const zone = new Intl.DateTimeFormat().resolvedOptions().timeZone;
    expect(await call("current_time", {}, tools)).toMatchObject({ ok: true, result: { timeZone: zone } });
  });

  it("rejects an unknown zone with a clear invalid-args message", async () => {
    expect(await call("current_time", { timeZone: "Mars/Olympus" }, tools)).toMatchObject({
      ok: false,
      error: { code: "invalid_tool_args", message: expect.stringMatching(/timeZone: Unknown time zone "Mars\/Olympus"; use an IANA name/) },
    });
  });

  it("advertises an optional timeZone string", () => {
    expect(toolSpec(tools[0]!).parameters).toMatchObject({ type: "object", properties: { timeZone: { type: "string" } } });
    expect(toolSpec(tools[0]!).parameters["required"]).toBeUndefined();
  });
});

describe("calculator", () => {
  // As a server does when it registers the tool: the calls below (5 s each) then do not include a worker's start,
  // which a loaded machine (the whole suite in parallel) can stretch past that.
  beforeAll(async () => {
    prepareTools([calculatorTool]);
    await vi.waitFor(() => expect(calculatorPoolState().ready).toBe(1), { timeout: 60_000 });
  }, 90_000);

  const ok = async (expression: string) => {
    const outcome = await call("calculator", { expression });
    if (!outcome.ok) throw new Error(`${expression}: ${outcome.error.message}`);
    return (outcome.result as { result: string }).result;
  };
  const fail = async (expression: string) => {
    const outcome = await call("calculator", { expression });
    if (outcome.ok) throw new Error(`${expression} should fail`);
    return outcome.error;
  };

  it("evaluates arithmetic, units, complex numbers and multi-statement expressions", async () => {
    expect(await ok("12*7")).toBe("84");
    expect(await ok("0.1 + 0.2")).toBe("0.3");
    expect(await ok("sqrt(-4)")).toBe("2i");
    expect(await ok("5 cm to inch")).toBe("1.9685039370079 inch");
    expect(await ok("a = 3; a ^ 2")).toBe("9");
    expect(await ok("sum(1:4)")).toBe("10");
    expect(await ok("det([1, 2; 3, 4])")).toBe("-2");
    expect(await call("calculator", { expression: "2+2" })).toMatchObject({ ok: true, result: { expression: "2+2", result: "4" } });
  });

  it("explains bad expressions", async () => {
    expect(await fail("1 +")).toEqual({ code: "invalid_tool_args", message: 'Cannot evaluate "1 +": Unexpected end of expression (char 4)' });
    expect((await fail("foo * 2")).message).toContain("Undefined symbol foo");
    expect((await fail("f(x) = x^2")).message).toBe('Cannot evaluate "f(x) = x^2": defining functions is not supported in this calculator.');
    expect((await fail("")).code).toBe("invalid_tool_args");
  });

  it("disables functions that change the instance, parse new code or allocate without bound", async () => {
    for (const expression of [
      "import({pi: 3})",
      'createUnit("foo")',
      'config({number: "BigNumber"})',
      'evaluate("1+1")',
      'parse("1+1")',
      'compile("1+1")',
      'simplify("2x+x")',
      'derivative("x^2", "x")',
      "ones(100000, 100000)",
      "zeros(100000, 100000)",
      "1:1e9",
      'range("1:1e9")',
    ]) {
      expect((await fail(expression)).code, expression).toBe("invalid_tool_args");
    }
    // The instance stays intact after the attempts.
    expect(await ok("pi")).toBe("3.1415926535898");
    expect(await ok("1/3")).toBe("0.33333333333333");
  });

  it("caps the expression length", async () => {
    expect((await fail("1+".repeat(300) + "1")).message).toMatch(/expression/);
  });

  it("is exported in builtinTools", () => {
    expect(builtinTools.map((t) => t.name)).toEqual(["current_time", "calculator"]);
    expect(builtinTools[1]).toBe(calculatorTool);
  });
});
