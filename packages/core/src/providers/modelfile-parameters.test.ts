import { describe, expect, it } from "vitest";
import { modelfileSampling } from "./modelfile-parameters.js";

describe("modelfileSampling", () => {
  it("reads temperature, top P and seed from Ollama's parameters text, padded as /api/show pads them", () => {
    const parameters = [
      'stop                           "<|im_start|>"',
      'stop                           "<|im_end|>"',
      "temperature                    0.6",
      "top_k                          20",
      "top_p                          0.95",
      "num_ctx                        8192",
    ].join("\n");
    expect(modelfileSampling(parameters)).toEqual({ temperature: 0.6, topP: 0.95 });
    expect(modelfileSampling("seed 42\ntemperature 0")).toEqual({ seed: 42, temperature: 0 });
  });

  it("knows nothing from no parameters, and leaves out a value a conversation could not set", () => {
    expect(modelfileSampling(undefined)).toEqual({});
    expect(modelfileSampling(null)).toEqual({});
    expect(modelfileSampling("")).toEqual({});
    // Out of range (top P 0, a temperature above 2, a fractional or negative seed), not a number, or two values.
    expect(modelfileSampling("top_p 0\ntemperature 2.5\nseed 1.5\nseed -1")).toEqual({});
    expect(modelfileSampling("temperature warm\ntop_p 0.9 0.8\ntemperature 1e400")).toEqual({});
  });
});
