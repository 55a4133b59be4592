import { describe, expect, it } from "vitest";
import { ImportError } from "./errors.js";
import { parseConversationExport } from "./import.js";

describe("the words of a refused import", () => {
  it("refuses a file over the limit saying how large it is and what the server takes", () => {
    const refused = (() => {
      try {
        parseConversationExport(" ".repeat(2048), { maxBytes: 1024 });
      } catch (error) {
        return error;
      }
    })();
    expect(refused).toBeInstanceOf(ImportError);
    expect(refused).toMatchObject({ reason: "too_large", message: "This file is 2 KB; the server imports files of at most 1 KB." });
  });

  it("says a file that is no export of this app is not one, and what it looks like", () => {
    const reasonAndMessage = (content: string) => {
      try {
        parseConversationExport(content);
      } catch (error) {
        return error instanceof ImportError ? [error.reason, error.message] : error;
      }
      return null;
    };
    expect(reasonAndMessage("name,age\nAda,36\n")).toEqual(["not_json", "This file is not a conversation exported from this app (it is not JSON)."]);
    expect(reasonAndMessage(" \n")).toEqual(["not_json", "This file is not a conversation exported from this app (it is empty)."]);
    expect(reasonAndMessage('{"messages":[]}')).toEqual([
      "wrong_format",
      "This file is not a conversation exported from this app (it is JSON, but not in the format this app exports).",
    ]);
    expect(reasonAndMessage('{"format":"librechat.conversation"}')).toEqual([
      "wrong_format",
      'This file is not a conversation exported from this app (it is JSON in another format, "librechat.conversation").',
    ]);
    expect(reasonAndMessage('{"format":"streamchat.conversation","version":3}')).toEqual([
      "unsupported_version",
      "This file was exported by a newer version of this app (export version 3); this server imports version 1.",
    ]);
  });
});
