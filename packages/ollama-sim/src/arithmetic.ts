/** Finding and evaluating arithmetic in a user message, for the demo model (no eval, a tiny parser). */

const asks = /\b(calculate|compute|evaluate|solve|what(?:'s| is)|how much is)\b/i;

/** The arithmetic expression a message asks about ("what is 12*7?" → "12*7"), or undefined. */
export function extractExpression(text: string): string | undefined {
  const normalized = text
    .replace(/×/g, "*")
    .replace(/÷/g, "/")
    .replace(/\bplus\b/gi, "+")
    .replace(/\bminus\b/gi, "-")
    .replace(/\b(?:times|multiplied by)\b/gi, "*")
    .replace(/\bdivided by\b/gi, "/")
    .replace(/(\d)\s*x\s*(?=\d)/gi, "$1*");
  const candidates = normalized.match(/[-+*/^%().\d\s]+/g) ?? [];
  const expr = candidates
    .map((c) => c.trim())
    .filter((c) => /\d\s*[-+*/^%]\s*[-(.\d]/.test(c))
    .sort((a, b) => b.length - a.length)[0];
  if (!expr) return undefined;
  const rest = normalized.replace(expr, "").replace(/[?!.=\s]/g, "");
  // a bare expression, or one the user asks to work out; "meet at 10-12" is not a question about arithmetic
  if (rest.length > 0 && !asks.test(text)) return undefined;
  return evaluate(expr) === undefined ? undefined : expr;
}

/** Evaluates + - * / % ^ and parentheses; undefined for anything malformed or non-finite. */
export function evaluate(expression: string): number | undefined {
  const tokens = expression.match(/\d+(?:\.\d+)?|\.\d+|[-+*/^%()]/g);
  if (!tokens || tokens.join("") !== expression.replace(/\s+/g, "")) return undefined;
  let pos = 0;
  const peek = () => tokens[pos];
  const next = () => tokens[pos++];

  function primary(): number {
    const t = next();
    if (t === "(") {
      const v = sum();
      if (next() !== ")") throw new Error("missing )");
      return v;
    }
    if (t === "-") return -primary();
    if (t === "+") return primary();
    if (t === undefined || !/^[\d.]/.test(t)) throw new Error("number expected");
    return Number(t);
  }
  function power(): number {
    const base = primary();
    if (peek() === "^") {
      next();
      return base ** power();
    }
    return base;
  }
  function product(): number {
    let v = power();
    for (let op = peek(); op === "*" || op === "/" || op === "%"; op = peek()) {
      next();
      const r = power();
      v = op === "*" ? v * r : op === "/" ? v / r : v % r;
    }
    return v;
  }
  function sum(): number {
    let v = product();
    for (let op = peek(); op === "+" || op === "-"; op = peek()) {
      next();
      const r = product();
      v = op === "+" ? v + r : v - r;
    }
    return v;
  }

  try {
    const v = sum();
    return pos === tokens.length && Number.isFinite(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

export function formatNumber(n: number): string {
  return Number.isInteger(n) ? String(n) : String(Number(n.toPrecision(12)));
}
