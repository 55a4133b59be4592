import { describe, expect, it } from "vitest";
import { furtherTokensCpuMsPer1k } from "./further-tokens.js";

const long = { streams: 100, tokensPerStream: 30, serverCpuMs: 400, errors: 0 };

describe("furtherTokensCpuMsPer1k", () => {
  it("is the CPU the longer answers took beyond the short ones, per 1,000 of the tokens between them", () => {
    // 100 streams × 25 more tokens cost 150 ms more: 60 ms per 1,000; the level's own figure (400 / 3,000) reads 133.
    expect(furtherTokensCpuMsPer1k(long, { tokensPerStream: 5, serverCpuMs: 250, errors: 0 })).toBeCloseTo(60, 9);
  });

  it("is not read from runs with errors, a missing CPU figure, no tokens between them or a negative difference", () => {
    const short = { tokensPerStream: 5, serverCpuMs: 250, errors: 0 };
    expect(furtherTokensCpuMsPer1k(long, undefined)).toBeNull();
    expect(furtherTokensCpuMsPer1k(long, null)).toBeNull();
    expect(furtherTokensCpuMsPer1k({ ...long, errors: 1 }, short)).toBeNull();
    expect(furtherTokensCpuMsPer1k(long, { ...short, errors: 2 })).toBeNull();
    expect(furtherTokensCpuMsPer1k({ ...long, serverCpuMs: null }, short)).toBeNull();
    expect(furtherTokensCpuMsPer1k(long, { ...short, serverCpuMs: null })).toBeNull();
    expect(furtherTokensCpuMsPer1k(long, { ...short, tokensPerStream: 30 })).toBeNull();
    expect(furtherTokensCpuMsPer1k(long, { ...short, serverCpuMs: 420 })).toBeNull();
  });
});
