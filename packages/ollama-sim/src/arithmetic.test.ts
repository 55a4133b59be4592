import { describe, expect, it } from "vitest";
import { evaluate, extractExpression, formatNumber } from "./arithmetic.js";

describe("extractExpression", () => {
  it.each([
    ["what is 12*7", "12*7"],
    ["What's 12 * (3 + 4)?", "12 * (3 + 4)"],
    ["calculate 2^10 / 4", "2^10 / 4"],
    ["how much is 3 times 4", "3 * 4"],
    ["compute 10 divided by 4", "10 / 4"],
    ["12 x 7", "12*7"],
    ["1.5+2.25", "1.5+2.25"],
  ])("%s → %s", (text, expression) => {
    expect(extractExpression(text)).toBe(expression);
  });

  it.each([["meet me at 10-12 tomorrow"], ["what is the capital of France"], ["calculate (1+"], ["what is 5/0"]])("%s → none", (text) => {
    expect(extractExpression(text)).toBeUndefined();
  });
});

describe("evaluate", () => {
  it("follows precedence, right-associative powers and unary minus", () => {
    expect(evaluate("2+3*4")).toBe(14);
    expect(evaluate("(2+3)*4")).toBe(20);
    expect(evaluate("2^3^2")).toBe(512);
    expect(evaluate("-3 + 5 % 3")).toBe(-1);
    expect(evaluate("7/2")).toBe(3.5);
  });

  it("rejects malformed or non-finite input instead of guessing", () => {
    expect(evaluate("2 +")).toBeUndefined();
    expect(evaluate("2 3")).toBeUndefined();
    expect(evaluate("1/0")).toBeUndefined();
    expect(evaluate("process.exit()")).toBeUndefined();
  });

  it("formats floating-point noise away", () => {
    expect(formatNumber(0.1 + 0.2)).toBe("0.3");
    expect(formatNumber(84)).toBe("84");
  });
});
