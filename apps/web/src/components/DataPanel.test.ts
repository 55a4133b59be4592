import { describe, expect, it } from "vitest";
import { exportFilename } from "./DataPanel.js";

describe("exportFilename", () => {
  it("is the name the server gives, else one of the same kind for the day", () => {
    expect(exportFilename('attachment; filename="streamchat-conversations-2026-12-06.jsonl"')).toBe("streamchat-conversations-2026-12-06.jsonl");
    expect(exportFilename(null, Date.UTC(2026, 0, 2))).toBe("streamchat-conversations-2026-01-02.jsonl");
    expect(exportFilename("attachment", Date.UTC(2026, 0, 2))).toBe("streamchat-conversations-2026-01-02.jsonl");
  });
});
