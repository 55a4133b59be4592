import { describe, expect, it } from "vitest";
import { answerReserve, chooseNumCtx, ContextMemory, promptWasTruncated } from "./context-window.js";
import { estimateMessageTokens, estimatePromptTokens, estimateTextTokens, imageTokenEstimate } from "./tokens.js";

describe("token estimate", () => {
  it("counts ASCII at 4 characters a token and other characters at one each", () => {
    expect(estimateTextTokens("abcd".repeat(10))).toBe(10);
    expect(estimateTextTokens("日本語")).toBe(3);
    expect(estimateTextTokens("🎉")).toBe(1); // one character, two UTF-16 units
  });

  it("adds the template overhead per message, a fixed cost per image, and tools as text", () => {
    expect(estimateMessageTokens({ role: "user", content: "abcd" })).toBe(5);
    const image = { type: "image" as const, mimeType: "image/png" as const, data: "AAAA" };
    expect(estimateMessageTokens({ role: "user", content: "abcd", images: [image, image] })).toBe(5 + 2 * imageTokenEstimate);
    // A calibration ratio scales the text only.
    expect(estimateMessageTokens({ role: "user", content: "abcd".repeat(24), images: [image] }, 0.5)).toBe(14 + imageTokenEstimate);
    const tool = { name: "t", description: "d", parameters: { type: "object" } };
    expect(estimatePromptTokens([], [tool])).toBe(Math.ceil(JSON.stringify([tool]).length / 4));
  });
});

describe("chooseNumCtx", () => {
  const base = { defaultTokens: 2048, limit: 32_768, sticky: undefined, loadedTokens: undefined };

  it("sends nothing while the prompt and answer room fit the server's default window", () => {
    expect(chooseNumCtx({ ...base, need: 2048 })).toBeUndefined();
  });

  it("sends the next power of two from 4096 up, capped at the limit", () => {
    expect(chooseNumCtx({ ...base, need: 2049 })).toBe(4096);
    expect(chooseNumCtx({ ...base, need: 5000 })).toBe(8192);
    expect(chooseNumCtx({ ...base, need: 100_000 })).toBe(32_768);
    expect(chooseNumCtx({ ...base, need: 9000, limit: 8192 })).toBe(8192);
  });

  it("keeps the window the model is loaded with when it is big enough (no reload)", () => {
    expect(chooseNumCtx({ ...base, need: 5000, loadedTokens: 16_384 })).toBe(16_384);
    expect(chooseNumCtx({ ...base, need: 5000, loadedTokens: 4096 })).toBe(8192);
  });

  it("never sends less than it sent before for the model, even for a short prompt", () => {
    expect(chooseNumCtx({ ...base, need: 100, sticky: 8192 })).toBe(8192);
    expect(chooseNumCtx({ ...base, need: 9000, sticky: 8192 })).toBe(16_384);
  });

  it("keeps a quarter of the window (256–4096 tokens) for the answer", () => {
    expect([answerReserve(512), answerReserve(8192), answerReserve(131_072)]).toEqual([256, 2048, 4096]);
  });
});

describe("promptWasTruncated", () => {
  it("flags a prompt the server evaluated far less of than was sent", () => {
    // Did not fit, and the server evaluated less than 90% of it.
    expect(promptWasTruncated({ expected: 6000, window: 4096, reported: 4000 })).toBe(true);
    expect(promptWasTruncated({ expected: 4200, window: 4096, reported: 4000 })).toBe(false); // estimate a bit high
    // Fit by the estimate, yet less than half of a big prompt was evaluated.
    expect(promptWasTruncated({ expected: 3000, window: 4096, reported: 1200 })).toBe(true);
    expect(promptWasTruncated({ expected: 3000, window: 4096, reported: 2400 })).toBe(false);
    // The window was bigger than the server really had: a big prompt evaluated less than half.
    expect(promptWasTruncated({ expected: 10_000, window: 32_768, reported: 3500 })).toBe(true);
    // A small prompt cannot have been cut; unknowns say nothing.
    expect(promptWasTruncated({ expected: 500, window: 4096, reported: 50 })).toBe(false);
    expect(promptWasTruncated({ expected: 6000, window: 4096, reported: undefined })).toBe(false);
    expect(promptWasTruncated({ expected: 6000, window: undefined, reported: 10 })).toBe(false);
  });
});

describe("ContextMemory", () => {
  it("learns a smoothed per-model ratio, ignoring tiny and suspicious samples", () => {
    const memory = new ContextMemory();
    expect(memory.ratio("m")).toBe(1);
    memory.calibrate("m", 1000, 1500);
    expect(memory.ratio("m")).toBe(1.5);
    memory.calibrate("m", 1000, 1300);
    expect(memory.ratio("m")).toBe(1.4);
    memory.calibrate("m", 1000, 100); // truncated or cached: not a tokenizer fact
    memory.calibrate("m", 10, 40); // too small to tell
    expect(memory.ratio("m")).toBe(1.4);
    expect(memory.ratio("other")).toBe(1);
  });

  it("remembers the largest num_ctx sent per model", () => {
    const memory = new ContextMemory();
    memory.sentNumCtx("m", 8192);
    memory.sentNumCtx("m", 4096);
    expect(memory.stickyNumCtx("m")).toBe(8192);
    expect(memory.stickyNumCtx("n")).toBeUndefined();
  });
});
