import { describe, expect, it } from "vitest";
import { defaultUrl, parseCliArgs } from "./args.js";

describe("parseCliArgs", () => {
  it("joins positionals into the question and reads defaults from the environment", () => {
    expect(parseCliArgs(["what", "is", "2+2"], { CHAT_URL: "http://127.0.0.1:4000", CHAT_TOKEN: "tok" })).toEqual({
      kind: "run",
      options: {
        question: "what is 2+2",
        model: undefined,
        conversationId: undefined,
        url: "http://127.0.0.1:4000",
        token: "tok",
        json: false,
        autoDeny: false,
      },
    });
  });

  it("prefers flags over the environment", () => {
    const parsed = parseCliArgs(
      ["-m", "qwen3", "--conversation", "c1", "--url", "http://127.0.0.1:5000/", "--token", "flag", "--json", "--auto-deny", "hi"],
      { CHAT_URL: "http://127.0.0.1:4000", CHAT_TOKEN: "env" },
    );
    expect(parsed).toEqual({
      kind: "run",
      options: { question: "hi", model: "qwen3", conversationId: "c1", url: "http://127.0.0.1:5000/", token: "flag", json: true, autoDeny: true },
    });
  });

  it("has no question in interactive mode and uses the default URL", () => {
    expect(parseCliArgs([], {})).toMatchObject({ kind: "run", options: { question: undefined, url: defaultUrl } });
  });

  it("reports usage errors", () => {
    expect(parseCliArgs(["--modle", "x", "hi"], {})).toMatchObject({ kind: "usage-error", message: expect.stringContaining("--modle") });
    expect(parseCliArgs(["--model"], {})).toMatchObject({ kind: "usage-error" });
    expect(parseCliArgs(["--url", "ftp://x", "hi"], {})).toMatchObject({ kind: "usage-error", message: expect.stringContaining("--url") });
    expect(parseCliArgs(["  "], {})).toMatchObject({ kind: "usage-error", message: "the question is empty" });
    expect(parseCliArgs(["--model", "", "hi"], {})).toMatchObject({ kind: "usage-error", message: "--model needs a value" });
  });

  it("shows help", () => {
    expect(parseCliArgs(["--help", "--bogus-ignored-after"], {})).toMatchObject({ kind: "usage-error" });
    expect(parseCliArgs(["-h"], {})).toEqual({ kind: "help" });
  });
});
