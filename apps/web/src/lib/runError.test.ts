import { errorCodeMessages } from "@streamchat/core/browser";
import { describe, expect, it } from "vitest";
import { runErrorText } from "./runError.js";

describe("runErrorText", () => {
  it("gives a short title, without the server's restatement of it", () => {
    expect(runErrorText({ code: "provider_unavailable", message: "Cannot reach the model server (ECONNREFUSED). Is it running?" }, "error")).toEqual({
      title: "The model server is not reachable.",
      detail: null,
    });
    expect(runErrorText({ code: "stream_truncated", message: "The connection to the model server broke mid-answer (terminated)." }, "error").detail).toBeNull();
    expect(runErrorText({ code: "interrupted", message: errorCodeMessages.interrupted }, "interrupted")).toEqual({
      title: errorCodeMessages.interrupted,
      detail: null,
    });
  });

  it("keeps what the model server or a tool said in its own words", () => {
    expect(runErrorText({ code: "provider_error", message: "an error was encountered while running the model" }, "error")).toEqual({
      title: errorCodeMessages.provider_error,
      detail: "an error was encountered while running the model",
    });
    expect(runErrorText({ code: "model_not_found", message: 'model "x" not found, try pulling it first' }, "error").detail).toBe(
      'model "x" not found, try pulling it first',
    );
    // The code's own words again (from core's table) are no detail.
    expect(runErrorText({ code: "model_not_found", message: errorCodeMessages.model_not_found }, "error").detail).toBeNull();
  });

  it("has words for a run that ended with an error and sent none", () => {
    expect(runErrorText(null, "interrupted").title).toBe(errorCodeMessages.interrupted);
    expect(runErrorText(null, "error")).toEqual({ title: "This answer ended with an error.", detail: null });
  });
});
