import { describe, expect, it } from "vitest";
import { furtherTokensCpuMsPer1k, pacedSplit } from "./further-tokens.js";

const short = { tokensPerStream: 5, serverCpuMs: 250, errors: 0 };
const long = { tokensPerStream: 105, serverCpuMs: 850, errors: 0 };

describe("furtherTokensCpuMsPer1k", () => {
  it("is the CPU the longer answers took beyond the short ones, per 1,000 of the tokens between them", () => {
    // 100 streams × 100 more tokens cost 600 ms more: 60 ms per 1,000; the long run's own figure (850 / 10,500) reads 81.
    expect(furtherTokensCpuMsPer1k(100, short, long)).toBeCloseTo(60, 9);
    expect(pacedSplit(100, short, long)).toEqual({ streams: 100, short, long, cpuMsPer1kFurtherTokens: 60 });
  });

  it("is not read from runs with errors, a missing CPU figure, no tokens between them or a negative difference", () => {
    expect(furtherTokensCpuMsPer1k(100, short, { ...long, errors: 1 })).toBeNull();
    expect(furtherTokensCpuMsPer1k(100, { ...short, errors: 2 }, long)).toBeNull();
    expect(furtherTokensCpuMsPer1k(100, short, { ...long, serverCpuMs: null })).toBeNull();
    expect(furtherTokensCpuMsPer1k(100, { ...short, serverCpuMs: null }, long)).toBeNull();
    expect(furtherTokensCpuMsPer1k(100, short, { ...long, tokensPerStream: 5 })).toBeNull();
    expect(furtherTokensCpuMsPer1k(100, short, { ...long, serverCpuMs: 240 })).toBeNull();
    expect(pacedSplit(100, short, { ...long, errors: 1 }).cpuMsPer1kFurtherTokens).toBeNull();
  });
});
