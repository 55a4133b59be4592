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
        images: [],
        think: undefined,
        usage: undefined,
      },
    });
  });

  it("prefers flags over the environment", () => {
    const parsed = parseCliArgs(
      ["-m", "qwen3", "--conversation", "c1", "--url", "http://127.0.0.1:5000/", "--token", "flag", "--json", "hi"],
      { CHAT_URL: "http://127.0.0.1:4000", CHAT_TOKEN: "env" },
    );
    expect(parsed).toEqual({
      kind: "run",
      options: { question: "hi", model: "qwen3", conversationId: "c1", url: "http://127.0.0.1:5000/", token: "flag", json: true, images: [], think: undefined, usage: undefined },
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

  it("takes repeated --image paths and --think levels or on/off", () => {
    const parsed = parseCliArgs(["--image", "a.png", "-i", "b.jpg", "--think", "High", "--usage", "what is this?"], {});
    expect(parsed).toMatchObject({ kind: "run", options: { images: ["a.png", "b.jpg"], think: "high", usage: true } });
    expect(parseCliArgs(["--think", "on", "x"], {})).toMatchObject({ options: { think: true } });
    expect(parseCliArgs(["--think", "off", "x"], {})).toMatchObject({ options: { think: false } });
    expect(parseCliArgs(["--think", "max", "x"], {})).toEqual({ kind: "usage-error", message: '--think must be low, medium, high, on or off (got "max")' });
    expect(parseCliArgs(["--image", " ", "x"], {})).toEqual({ kind: "usage-error", message: "--image needs a file path" });
  });
});
