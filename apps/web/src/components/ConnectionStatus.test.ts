import { describe, expect, it } from "vitest";
import { connectionMessage } from "./ConnectionStatus.js";

describe("connectionMessage", () => {
  it("says nothing while all is well", () => {
    for (const state of ["idle", "connecting", "live", "caught-up"] as const) expect(connectionMessage(state, true)).toBeNull();
  });

  it("names trouble in plain words", () => {
    expect(connectionMessage("reconnecting", true)).toBe("Reconnecting…");
    expect(connectionMessage("error", true)).toBe("Offline — retrying");
    expect(connectionMessage("lost", true)).toBe("Connection lost");
    expect(connectionMessage("live", false)).toBe("Offline — retrying");
  });
});
