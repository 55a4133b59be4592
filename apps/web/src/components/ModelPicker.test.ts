import { describe, expect, it } from "vitest";
import { capabilitySupport } from "./ModelPicker.js";

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
