import { describe, expect, it } from "vitest";
import { defaultSampling, isDefaultSampling, samplingOptions, samplingSchema } from "./sampling.js";

describe("sampling", () => {
  it("takes each setting within the range every server accepts, or null for the model's default", () => {
    expect(samplingSchema.parse({ temperature: 0, topP: 1, seed: 0 })).toEqual({ temperature: 0, topP: 1, seed: 0 });
    expect(samplingSchema.parse(defaultSampling)).toEqual(defaultSampling);
    expect(samplingSchema.safeParse({ temperature: 2.01, topP: null, seed: null }).success).toBe(false);
    expect(samplingSchema.safeParse({ temperature: -0.1, topP: null, seed: null }).success).toBe(false);
    expect(samplingSchema.safeParse({ temperature: null, topP: 0, seed: null }).success).toBe(false);
    expect(samplingSchema.safeParse({ temperature: null, topP: 1.5, seed: null }).success).toBe(false);
    expect(samplingSchema.safeParse({ temperature: null, topP: null, seed: 1.5 }).success).toBe(false);
    expect(samplingSchema.safeParse({ temperature: null, topP: null, seed: 2 ** 31 }).success).toBe(false);
    expect(samplingSchema.safeParse({ temperature: Number.NaN, topP: null, seed: null }).success).toBe(false);
    expect(samplingSchema.safeParse({ temperature: null, topP: null }).success).toBe(false);
    expect(samplingSchema.safeParse({ ...defaultSampling, topK: 40 }).success).toBe(false);
  });

  it("sends only the settings chosen", () => {
    expect(isDefaultSampling(defaultSampling)).toBe(true);
    expect(isDefaultSampling({ temperature: null, topP: null, seed: 0 })).toBe(false);
    expect(samplingOptions(defaultSampling)).toEqual({});
    expect(samplingOptions({ temperature: 0, topP: null, seed: 7 })).toEqual({ temperature: 0, seed: 7 });
    expect(samplingOptions({ temperature: 0.7, topP: 0.9, seed: null })).toEqual({ temperature: 0.7, topP: 0.9 });
  });
});
