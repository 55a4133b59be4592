import { describe, expect, it } from "vitest";
import { capabilitySupport, capabilityWords, modelNote } from "./ModelPicker.js";

describe("capabilitySupport", () => {
  it("says no only when the server listed capabilities without this one", () => {
    expect(capabilitySupport(["completion"], "tools")).toBe("no");
    expect(capabilitySupport(["completion"], "thinking")).toBe("no");
    expect(capabilitySupport(["completion", "tools"], "tools")).toBe("yes");
    expect(capabilitySupport(["completion", "tools", "thinking"], "thinking")).toBe("yes");
  });

  it("is unknown when the server reported nothing (OpenAI-compatible servers, a failed /api/show)", () => {
    expect(capabilitySupport([], "tools")).toBe("unknown");
    expect(capabilitySupport(undefined, "tools")).toBe("unknown");
  });
});

describe("capabilities in words", () => {
  it("describes each model in the list", () => {
    expect(capabilityWords(["completion", "tools", "thinking"])).toBe("Uses tools, can think first");
    expect(capabilityWords(["completion", "tools"])).toBe("Uses tools");
    expect(capabilityWords(["completion"])).toBe("No tools");
    expect(capabilityWords([])).toBe("Capabilities not reported by the server");
  });

  it("explains the chosen model under the composer, and says when tools are off", () => {
    expect(modelNote("gemma3", ["completion"])).toEqual({
      text: "Tools are off for gemma3: it cannot call them, so it answers without the clock, the calculator or the conversation search.",
      toolsOff: true,
    });
    expect(modelNote("demo", ["completion", "tools", "thinking"]).text).toBe(
      "demo can check the clock, calculate and search your conversations, and think before it answers.",
    );
    expect(modelNote("gpt", []).toolsOff).toBe(false);
  });
});
