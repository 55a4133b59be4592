/**
 * The calculator's evaluation, run inside a worker thread (see calculator.ts): an expression that
 * allocates without bound or computes for minutes exhausts this worker's heap or is terminated, never
 * the server's main thread.
 *
 * Self-contained on purpose: it imports only mathjs and node built-ins, and uses only type syntax Node
 * can strip, so the same file runs as `calculator-worker.ts` from source (Node's type stripping, under
 * vitest or tsx) and as `calculator-worker.js` from dist.
 */
import { parentPort } from "node:worker_threads";
import { all, create, type MathCollection, type MathJsInstance, type MathNode } from "mathjs";

/** Largest range (`1:n`) an expression may build: the parser allocates it whole. */
const maxRangeLength = 100_000;
/** Largest matrix result: an answer the model reads back, not a data dump. */
const maxResultElements = 1_000;
/** Largest formatted result, in characters. */
const maxResultChars = 4_000;

export type CalculatorRequest = { id: number; expression: string };
/** Posted once, when the worker has built its mathjs instance and takes requests without delay. */
export type CalculatorReady = { ready: true };
export type CalculatorReply =
  | { id: number; ok: true; result: string }
  /** invalid: the expression is at fault (syntax, unknown symbol, refused construct); failed: it is valid but its result is not usable. */
  | { id: number; ok: false; kind: "invalid" | "failed"; message: string };

interface RestrictedMath {
  parse: (expression: string) => MathNode;
  format: MathJsInstance["format"];
  /** Number of elements of a matrix or array. */
  count: (value: MathCollection) => number;
}

/**
 * A mathjs instance whose expressions cannot change or escape the calculator (mathjs "security" docs):
 * functions that alter the instance (import, createUnit, config), parse text into new expressions
 * (evaluate, parse, compile, simplify, derivative…) or allocate arbitrarily large matrices throw instead.
 */
function createRestrictedMath(): RestrictedMath {
  const math: MathJsInstance = create(all!, {}); // `all` is typed optional, it is always there
  // Captured before the overrides below replace them in the expression namespace.
  const parse = math.parse.bind(math);
  const rangeInExpressions = (math.expression as unknown as { mathWithTransform: { range: (...args: unknown[]) => unknown } })
    .mathWithTransform.range;

  const disabled = (name: string) => () => {
    throw new Error(`Function ${name} is disabled in this calculator`);
  };
  const names = [
    // alter the instance
    "import", "createUnit", "config", "reviver", "replacer",
    // parse or transform arbitrary expressions
    "evaluate", "parse", "compile", "parser", "chain", "resolve", "simplify", "simplifyConstant", "simplifyCore",
    "derivative", "rationalize", "leafCount", "symbolicEqual", "help",
    // allocate matrices of any size from a few characters
    "zeros", "ones", "identity", "resize", "matrixFromFunction", "kron", "random", "randomInt", "pickRandom",
  ];
  const overrides: Record<string, unknown> = Object.fromEntries(names.map((n) => [n, disabled(n)]));
  // `a:b` and range(a, b) are useful; only their size is limited.
  overrides["range"] = (...args: unknown[]) => {
    checkRangeSize(args);
    return rangeInExpressions(...args);
  };
  math.import(overrides, { override: true });
  const count = (value: MathCollection) => {
    const size = math.size(value);
    const dims: unknown[] = Array.isArray(size) ? size : size.toArray();
    return dims.reduce((product: number, d) => product * Number(d), 1);
  };
  return { parse, format: math.format.bind(math), count };
}

function checkRangeSize(args: unknown[]): void {
  const numbers = args.filter((a) => typeof a !== "boolean").map(toNumber);
  if (numbers.length < 2 || numbers.some((n) => n === undefined)) {
    throw new Error("range needs numbers: write start:end or start:step:end");
  }
  const [start, end, step = 1] = numbers as number[];
  const length = step === 0 ? Infinity : Math.floor(Math.abs((end! - start!) / step)) + 1;
  if (!(length <= maxRangeLength)) throw new Error(`range is limited to ${maxRangeLength} elements`);
}

function toNumber(value: unknown): number | undefined {
  if (typeof value === "number") return value;
  if (typeof value === "bigint") return Number(value);
  if (typeof value === "object" && value !== null && "toNumber" in value && typeof value.toNumber === "function") {
    const n: unknown = value.toNumber();
    return typeof n === "number" ? n : undefined;
  }
  return undefined;
}

/** Why the expression is not evaluated at all, or undefined when it may be. */
function refusal(node: MathNode): string | undefined {
  let reason: string | undefined;
  node.traverse((child) => {
    // A user-defined function can recurse (`f(n) = f(n-1) + f(n-1)`): unbounded work from a few characters.
    if (child.type === "FunctionAssignmentNode") reason ??= "defining functions is not supported in this calculator";
  });
  return reason;
}

function isResultSet(value: unknown): value is { entries: unknown[] } {
  return typeof value === "object" && value !== null && (value as { type?: unknown }).type === "ResultSet";
}

function isCollection(value: unknown): value is MathCollection {
  return Array.isArray(value) || (typeof value === "object" && value !== null && (value as { isMatrix?: unknown }).isMatrix === true);
}

type Outcome = { ok: true; result: string } | { ok: false; kind: "invalid" | "failed"; message: string };

function evaluateExpression(math: RestrictedMath, expression: string): Outcome {
  let value: unknown;
  try {
    const node = math.parse(expression);
    const refused = refusal(node);
    if (refused) return { ok: false, kind: "invalid", message: `Cannot evaluate "${expression}": ${refused}.` };
    value = node.compile().evaluate({});
  } catch (error) {
    const reason = error instanceof Error ? error.message : "unknown error";
    return { ok: false, kind: "invalid", message: `Cannot evaluate "${expression}": ${reason}` };
  }
  // "a = 2; a * 3" yields a ResultSet: the last value is the answer.
  if (isResultSet(value)) value = value.entries.at(-1);
  if (value === undefined || value === null || typeof value === "function") {
    return { ok: false, kind: "invalid", message: `"${expression}" does not compute a value.` };
  }
  if (isCollection(value)) {
    const elements = math.count(value);
    if (elements > maxResultElements) {
      return {
        ok: false,
        kind: "failed",
        message: `The result of "${expression}" has ${elements} elements, more than the ${maxResultElements} the calculator returns. Ask for a summary instead (e.g. size, sum, max or a single element).`,
      };
    }
  }
  const result = math.format(value, { precision: 14 });
  if (result.length > maxResultChars) {
    return {
      ok: false,
      kind: "failed",
      message: `The result of "${expression}" is ${result.length} characters long, more than the ${maxResultChars} the calculator returns. Ask for a summary instead.`,
    };
  }
  return { ok: true, result };
}

if (parentPort) {
  const port = parentPort;
  const math = createRestrictedMath(); // before the first request: building the instance takes a while
  port.on("message", ({ id, expression }: CalculatorRequest) => {
    const reply: CalculatorReply = { id, ...evaluateExpression(math, expression) };
    port.postMessage(reply);
  });
  const ready: CalculatorReady = { ready: true };
  port.postMessage(ready);
}
