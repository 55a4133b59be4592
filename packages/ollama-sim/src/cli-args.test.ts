import { describe, expect, it } from "vitest";
import { parseCliArgs } from "./cli-args.js";

describe("parseCliArgs", () => {
  it("defaults to Ollama's port on loopback with a 20 ms token delay", () => {
    expect(parseCliArgs([])).toEqual({ port: 11434, host: "127.0.0.1", tokenDelayMs: 20, loadDelayMs: 0, help: false });
  });

  it("reads --port, --host and --token-delay-ms (0 allowed)", () => {
    expect(parseCliArgs(["--port", "0", "--host", "::1", "--token-delay-ms", "0"])).toEqual({ port: 0, host: "::1", tokenDelayMs: 0, loadDelayMs: 0, help: false });
    expect(parseCliArgs(["--load-delay-ms", "1500"])).toMatchObject({ loadDelayMs: 1500 });
    expect(parseCliArgs(["--port=8080", "-h"])).toMatchObject({ port: 8080, help: true });
  });

  it("fails loudly on bad values and unknown flags", () => {
    expect(() => parseCliArgs(["--port", "abc"])).toThrow('--port must be an integer from 0 to 65535, got "abc"');
    expect(() => parseCliArgs(["--port", "70000"])).toThrow(/--port/);
    expect(() => parseCliArgs(["--token-delay-ms", "-5"])).toThrow();
    expect(() => parseCliArgs(["--prot", "1"])).toThrow(/Unknown option/);
  });
});
