import { all, create, type MathJsInstance } from "mathjs";
import { ChatError } from "../errors.js";

/** Largest range (`1:n`) an expression may build: the parser allocates it whole, synchronously. */
const maxRangeLength = 100_000;

/**
 * A mathjs instance whose expressions cannot change or escape the calculator (mathjs "security" docs):
 * functions that alter the instance (import, createUnit, config), parse text into new expressions
 * (evaluate, parse, compile, simplify, derivative…) or allocate arbitrarily large matrices throw instead.
 */
function createRestrictedMath(): { evaluate: (expression: string) => unknown; format: MathJsInstance["format"] } {
  const math: MathJsInstance = create(all!, {}); // `all` is typed optional, it is always there
  // Captured before the overrides below replace them in the expression namespace.
  const evaluate = math.evaluate.bind(math);
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
  return { evaluate: (expression) => evaluate(expression, {}), format: math.format.bind(math) };
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

let restricted: ReturnType<typeof createRestrictedMath> | undefined;

/**
 * Evaluates an arithmetic expression (units, complex numbers, matrices, trigonometry…) and formats the
 * result to 14 significant digits. Bad expressions throw ChatError("invalid_tool_args") with mathjs' reason.
 */
export function calculate(expression: string): string {
  restricted ??= createRestrictedMath(); // lazily: building a mathjs instance takes a while
  let value: unknown;
  try {
    value = restricted.evaluate(expression);
  } catch (error) {
    const reason = error instanceof Error ? error.message : "unknown error";
    throw new ChatError("invalid_tool_args", `Cannot evaluate "${expression}": ${reason}`);
  }
  // "a = 2; a * 3" yields a ResultSet: the last value is the answer.
  if (isResultSet(value)) value = value.entries.at(-1);
  if (value === undefined || value === null || typeof value === "function") {
    throw new ChatError("invalid_tool_args", `"${expression}" does not compute a value.`);
  }
  return restricted.format(value, { precision: 14 });
}

function isResultSet(value: unknown): value is { entries: unknown[] } {
  return typeof value === "object" && value !== null && (value as { type?: unknown }).type === "ResultSet";
}
