import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { startSimulator, type SimChatRequest, type Simulator } from "@streamchat/ollama-sim";
import ts from "typescript";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { ChatError } from "../errors.js";
import { createOllamaModel } from "../providers/ollama.js";
import { runChat } from "../run.js";
import { startHttpServer, type TestServer } from "../test-support/http.js";
import { collect } from "../test-support/recorder.js";
import { executeTool, validateToolCall, type ToolOutcome } from "../tools.js";
import { calculatorTool } from "./builtin.js";
import { calculatorWorkers } from "./calculator.js";

/**
 * The calculator must not let a tool call crash, freeze or fill the server: every case here ran on the
 * main thread before (OOM abort of the process, a blocked event loop, a 12 MB answer, a never-ending
 * recursion). Each runs through executeTool, the way the run loop calls tools.
 */

// Seconds of mathjs work in a worker (O(n³) on a 1000×1000 matrix), far beyond any wait below.
const cpuBomb = "inv(diag(1:1000) + 1)";
const memoryBomb = "size(diag(1:30000))";

function calc(expression: string, opts: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<ToolOutcome> {
  const check = validateToolCall([calculatorTool], { id: "c", name: "calculator", args: { expression } });
  if (!check.ok) throw new Error(check.error.message);
  return executeTool(check.tool, check.args, { signal: opts.signal ?? new AbortController().signal, timeoutMs: opts.timeoutMs ?? 60_000 });
}

async function result(expression: string): Promise<string> {
  const outcome = await calc(expression);
  if (!outcome.ok) throw new Error(`${expression}: ${outcome.error.message}`);
  return (outcome.result as { result: string }).result;
}

describe("calculator off the main thread", () => {
  it("refuses user-defined functions, so a recursion bomb never starts", async () => {
    expect(await calc("f(n) = n > 0 ? f(n-1) + f(n-1) : 1; f(40)")).toMatchObject({
      ok: false,
      error: { code: "invalid_tool_args", message: expect.stringContaining("defining functions is not supported") },
    });
    expect(await result("a = 3; a ^ 2")).toBe("9"); // variables still work
  });

  it("refuses results too large to hand back to the model, with a clear message", async () => {
    expect(await calc("diag(1:2000)")).toMatchObject({
      ok: false,
      error: { code: "tool_failed", message: expect.stringMatching(/has 4000000 elements, more than the 1000/) },
    });
    expect(await calc("1:1000")).toMatchObject({
      ok: false,
      error: { code: "tool_failed", message: expect.stringMatching(/characters long, more than the 4000/) },
    });
    expect(await result("size(diag(1:2000))")).toBe("[2000, 2000]");
    expect(await result("sum(1:100)")).toBe("5050");
  });

  it("a calculation that exhausts its heap fails the call; the process lives on and the next call works", { timeout: 60_000 }, async () => {
    expect(await calc(memoryBomb)).toMatchObject({
      ok: false,
      error: { code: "tool_failed", message: expect.stringContaining("needs more memory than the calculator allows") },
    });
    expect(await result("12 * 7")).toBe("84");
  });

  it("the tool timeout stops a long calculation (tool_timeout) and the next call gets a fresh worker", async () => {
    expect(await calc(cpuBomb, { timeoutMs: 200 })).toMatchObject({ ok: false, error: { code: "tool_timeout" } });
    expect(await result("2 ^ 10")).toBe("1024");
  });

  it("other requests are served while a calculation runs; cancelling the run stops it", async () => {
    const server: TestServer = await startHttpServer((_req, res) => {
      res.end("pong");
    });
    try {
      const cancel = new AbortController();
      let settled = false;
      const bomb = calc(cpuBomb, { signal: cancel.signal }).then(
        (outcome) => outcome,
        (error: unknown) => error,
      );
      void bomb.finally(() => (settled = true));
      // A real socket round trip needs the event loop: on the main thread the bomb would hold it for minutes.
      for (let i = 0; i < 3; i++) expect(await (await fetch(server.url)).text()).toBe("pong");
      expect(settled).toBe(false);
      cancel.abort();
      const error = await bomb;
      expect(error).toBeInstanceOf(ChatError);
      expect((error as ChatError).code).toBe("cancelled");
      expect(await result("1 + 1")).toBe("2");
    } finally {
      await server.close();
    }
  });

  it("concurrent calculations beyond the pool wait for a worker within their own timeout", async () => {
    const stopFirst = new AbortController();
    const first = calc(cpuBomb, { signal: stopFirst.signal }).catch((e: unknown) => e);
    try {
      const stopSecond = new AbortController();
      const second = calc(cpuBomb, { signal: stopSecond.signal }).catch((e: unknown) => e);
      // Both workers busy: a third call queues and times out as a tool_timeout, not a hang.
      expect(await calc("1 + 2", { timeoutMs: 300 })).toMatchObject({ ok: false, error: { code: "tool_timeout" } });
      stopSecond.abort();
      expect(await second).toBeInstanceOf(ChatError);
      // The slot freed by the cancelled call serves the next one while the first bomb still runs.
      expect(await result("3 * 3")).toBe("9");
    } finally {
      stopFirst.abort();
    }
    expect(await first).toMatchObject({ code: "cancelled" });
    // Idle, one worker stays warm; the cancelled ones are gone.
    await vi.waitFor(() => expect(calculatorWorkers()).toBe(1), { timeout: 10_000 });
    await Promise.all([result("1 + 1"), result("2 + 2")]);
    await vi.waitFor(() => expect(calculatorWorkers()).toBe(1), { timeout: 10_000 });
  });
});

describe("calculator in a run against the simulator", () => {
  let sim: Simulator;
  beforeAll(async () => {
    sim = await startSimulator({ tokenDelayMs: 0 });
  });
  afterAll(() => sim?.close());

  it("a bomb becomes a failed tool result and the model answers after it", { timeout: 60_000 }, async () => {
    sim.addScenario({
      name: "calc-bomb",
      match: { model: "calc-bomb" },
      respond: (req: SimChatRequest) =>
        req.messages.at(-1)?.["role"] === "tool"
          ? [{ content: "That was too big to compute." }, { done: true }]
          : [{ toolCalls: [{ name: "calculator", arguments: { expression: memoryBomb } }] }, { done: true }],
    });
    const { events, result: run } = await collect(
      runChat({
        model: createOllamaModel({ baseUrl: sim.url }),
        modelName: "calc-bomb",
        conversationId: "c",
        runId: "r",
        messages: [{ role: "user", content: "how big is diag(1:30000)?" }],
        tools: [calculatorTool],
      }),
    );
    expect(events.find((e) => e.type === "tool-result")).toMatchObject({
      name: "calculator",
      ok: false,
      error: { code: "tool_failed", message: expect.stringContaining("more memory") },
    });
    expect(run.reason).toBe("stop");
    expect(run.text).toBe("That was too big to compute.");
    // The model read the failure back as the tool's result.
    const second = sim.chatRequests().at(-1)?.body as { messages: Array<{ role: string; content: string }> };
    expect(second.messages.at(-1)).toMatchObject({ role: "tool", content: expect.stringContaining("tool_failed") });
  });

  it("the demo model's arithmetic goes through the worker", async () => {
    const { events, result: run } = await collect(
      runChat({
        model: createOllamaModel({ baseUrl: sim.url }),
        modelName: "demo",
        conversationId: "c",
        runId: "r2",
        messages: [{ role: "user", content: "What is 12 * 7?" }],
        tools: [calculatorTool],
      }),
    );
    expect(events.find((e) => e.type === "tool-result")).toMatchObject({ name: "calculator", ok: true, result: { result: "84" } });
    expect(run.text).toContain("84");
  });
});

describe("calculator from the built JavaScript", () => {
  const srcDir = fileURLToPath(new URL("..", import.meta.url));
  const packageDir = dirname(srcDir);
  let outDir: string;

  beforeAll(() => {
    // What `tsc -p tsconfig.build.json` emits (per-file transpilation is the same JavaScript, minus type
    // checking), next to a node_modules link so `mathjs` resolves as it does from dist/.
    outDir = mkdtempSync(join(tmpdir(), "calc-dist-"));
    symlinkSync(join(packageDir, "node_modules"), join(outDir, "node_modules"), "dir");
    writeFileSync(join(outDir, "package.json"), JSON.stringify({ type: "module" }));
    const files = (readdirSync(srcDir, { recursive: true }) as string[]).filter(
      (f) => f.endsWith(".ts") && !f.endsWith(".test.ts") && !f.startsWith("test-support"),
    );
    for (const file of files) {
      const { outputText } = ts.transpileModule(readFileSync(join(srcDir, file), "utf8"), {
        compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true },
        fileName: file,
      });
      const target = join(outDir, "dist", file.replace(/\.ts$/, ".js"));
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, outputText);
    }
  });
  afterAll(() => {
    if (outDir) rmSync(outDir, { recursive: true, force: true });
  });

  it("plain node runs the worker from dist: results, a refused function and a heap bomb that does not kill it", { timeout: 90_000 }, async () => {
    const script = `
      import { calculatorTool } from "./dist/index.js";
      const signal = new AbortController().signal;
      const out = [];
      for (const expression of ["12 * 7", "f(x) = x; f(2)", ${JSON.stringify(memoryBomb)}, "sqrt(16)"]) {
        try { out.push({ ok: true, result: (await calculatorTool.execute({ expression }, { signal })).result }); }
        catch (error) { out.push({ ok: false, code: error.code }); }
      }
      console.log(JSON.stringify(out));
    `;
    const { stdout } = await promisify(execFile)(process.execPath, ["--input-type=module", "-e", script], { cwd: outDir });
    expect(JSON.parse(stdout)).toEqual([
      { ok: true, result: "84" },
      { ok: false, code: "invalid_tool_args" },
      { ok: false, code: "tool_failed" },
      { ok: true, result: "4" },
    ]);
    // Only JavaScript there: the worker that ran was calculator-worker.js.
    expect((readdirSync(outDir, { recursive: true }) as string[]).filter((f) => f.startsWith("dist") && f.endsWith(".ts"))).toEqual([]);
  });
});
