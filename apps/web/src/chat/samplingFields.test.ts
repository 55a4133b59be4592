import { defaultSampling } from "@streamchat/core/browser";
import { describe, expect, it } from "vitest";
import { changedSettings, emptyFields, emptyPlaceholder, readSamplingFields, sameSampling, samplingFields, samplingSummary } from "./samplingFields.js";

const fields = (temperature: string, topP: string, seed: string) => ({ temperature, topP, seed });

describe("samplingFields / readSamplingFields", () => {
  it("shows the model's defaults as empty fields, and reads empty fields back as null", () => {
    expect(samplingFields(defaultSampling)).toEqual(fields("", "", ""));
    expect(samplingFields({ temperature: 0.7, topP: null, seed: 0 })).toEqual(fields("0.7", "", "0"));
    expect(readSamplingFields(fields("", " ", ""))).toEqual({ sampling: defaultSampling, problems: {} });
  });

  it("reads numbers as typed, around spaces, at the ends of each range", () => {
    expect(readSamplingFields(fields(" 0.2 ", "0.95", "42"))).toEqual({ sampling: { temperature: 0.2, topP: 0.95, seed: 42 }, problems: {} });
    expect(readSamplingFields(fields("0", "1", "0")).sampling).toEqual({ temperature: 0, topP: 1, seed: 0 });
    expect(readSamplingFields(fields("2", "0.01", "2147483647")).sampling).toEqual({ temperature: 2, topP: 0.01, seed: 2147483647 });
    // Between the arrows' steps is fine: the step is for the arrows only.
    expect(readSamplingFields(fields("0.123", "", "")).sampling?.temperature).toBe(0.123);
  });

  it("names what is out of range in words, from core's limits, and gives no sampling to save", () => {
    const temperature = "Temperature is a number from 0 to 2.";
    const topP = "Top P is a number above 0, up to 1.";
    const seed = "Seed is a whole number from 0 to 2,147,483,647.";
    expect(readSamplingFields(fields("2.01", "", ""))).toEqual({ sampling: null, problems: { temperature } });
    expect(readSamplingFields(fields("-0.1", "0", "4.5"))).toEqual({ sampling: null, problems: { temperature, topP, seed } });
    expect(readSamplingFields(fields("", "1.01", "-1")).problems).toEqual({ topP, seed });
    expect(readSamplingFields(fields("", "", "2147483648")).problems).toEqual({ seed });
    expect(readSamplingFields(fields("warm", "Infinity", "NaN")).problems).toEqual({ temperature, topP, seed });
  });

  it("compares samplings setting by setting", () => {
    expect(sameSampling({ temperature: 0.7, topP: null, seed: 1 }, { temperature: 0.7, topP: null, seed: 1 })).toBe(true);
    expect(sameSampling({ temperature: 0.7, topP: null, seed: 1 }, { temperature: 0.7, topP: null, seed: null })).toBe(false);
  });
});

describe("samplingSummary", () => {
  it("names the settings chosen, in the dialog's order, and nothing when all are the model's", () => {
    expect(samplingSummary({ temperature: 0.2, topP: null, seed: 42 })).toBe("Temperature 0.2 · Seed 42");
    expect(samplingSummary({ temperature: null, topP: 0.9, seed: null })).toBe("Top P 0.9");
    expect(samplingSummary({ temperature: 0, topP: 1, seed: 0 })).toBe("Temperature 0 · Top P 1 · Seed 0");
    expect(samplingSummary(defaultSampling)).toBe("");
  });
});

describe("changedSettings", () => {
  it("names the settings that differ, with their new values (null: back to the model's), and nothing else", () => {
    const from = { temperature: 0.7, topP: null, seed: 42 };
    expect(changedSettings(from, { temperature: 0.7, topP: 0.5, seed: null })).toEqual({ topP: 0.5, seed: null });
    expect(changedSettings(from, from)).toEqual({});
    expect(changedSettings(defaultSampling, from)).toEqual({ temperature: 0.7, seed: 42 });
  });
});

describe("emptyFields / emptyPlaceholder", () => {
  it("leaves each empty field to the user's default where they set one (0 too), else to the model's own value where known", () => {
    const empty = emptyFields({ temperature: 0.3, topP: null, seed: 0 }, { temperature: 0.7, topP: 0.95 });
    expect(empty).toEqual({
      temperature: { from: "yours", value: 0.3 },
      topP: { from: "model", value: 0.95 },
      seed: { from: "yours", value: 0 },
    });
    expect([empty.temperature, empty.topP, empty.seed].map(emptyPlaceholder)).toEqual(["Your default: 0.3", "Model default: 0.95", "Your default: 0"]);
  });

  it("is the model's alone without the user's sampling (the user's own settings), and says so without a value when it is not known", () => {
    const empty = emptyFields(null, { temperature: 0.7 });
    expect([empty.temperature, empty.topP, empty.seed].map(emptyPlaceholder)).toEqual(["Model default: 0.7", "Model default", "Model default"]);
    expect(emptyPlaceholder(emptyFields(defaultSampling, undefined).temperature)).toBe("Model default");
  });
});
